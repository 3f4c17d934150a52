"""`autograd_function`: an expression as a `torch.autograd.Function` whose backward is
the derived closed form (SPEC section 5).

Forward is the generated torch code of the expression. Backward needs the
vector-Jacobian product for each input X: with a fresh symbol G for the incoming
gradient, shaped like the output F, it is the derivative with respect to X of the scalar

    G F          (F a scalar)      G^T F     (F a vector)
    F G          (F a row vector)  tr(G^T F) (F a matrix)

built as a tree and handed to `mc.derive`; all the inputs' closed forms are generated
into one torch function, so their common work is shared. Torch is imported only when a
Function is built.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from ..language import build
from ..language.expr import Expr, Symbol, SymbolInfo
from ..language.parse import as_expr
from ..language.shapes import ONE
from ..guard import public
from .codegen.api import engine_derive
from .codegen.source import Output, compile_source, generate


def _incoming(f: Expr, taken: set[str]) -> Symbol:
    """A fresh symbol for the gradient flowing in, shaped like F (a row vector's as a
    column: a symbol is never a row vector)."""
    kind = f.ty.kind
    name = {"scalar": "g_out", "vector": "g_out", "row vector": "g_out"}.get(kind, "G_out")
    while name in taken:
        name += "_"
    rows, cols = f.ty.rows, f.ty.cols
    if kind == "row vector":
        rows, cols = cols, ONE
    sym_kind = "matrix" if kind == "matrix" else ("scalar" if kind == "scalar" else "vector")
    info = SymbolInfo(name, sym_kind, rows, cols, origin="declared")
    return Symbol(name, info=info, ty=info.shape)


def vjp_scalar(f: Expr, g: Symbol) -> Expr:
    """The scalar whose gradient with respect to X is the vector-Jacobian product."""
    kind = f.ty.kind
    if kind == "scalar":
        return build.apply("mul", g, f)
    if kind == "vector":
        return build.apply("matmul", build.apply("transpose", g), f)
    if kind == "row vector":
        return build.apply("matmul", f, g)
    return build.apply("tr", build.apply("matmul", build.apply("transpose", g), f))


@public
def autograd_function(expr, inputs: Sequence[str], where=None):
    """A `torch.autograd.Function` subclass: `F.apply(*values)` takes the inputs in the
    order of `inputs` (tensors in SPEC section 5's forms: scalars 0-d, vectors 1-D,
    matrices 2-D) and returns the expression's value; its backward evaluates the derived
    vector-Jacobian products. `.source` holds the generated forward and backward code."""
    from ..optional import require
    torch = require("torch", "autograd_function")

    derive = engine_derive()
    e = as_expr(expr, where)
    if isinstance(inputs, (str, Symbol)) or not isinstance(inputs, (list, tuple)):
        raise UsageError(f"`inputs` is a list of the input symbols' names, not "
                         f"{type(inputs).__name__}", hint='inputs=["W", "x", "b"]')
    names = [i.name if isinstance(i, Symbol) else i for i in inputs]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise UsageError("`inputs` lists the input symbols' names, e.g. [\"W\", \"x\", \"b\"]")
    missing = [n for n in e.shapes if n not in names]
    if missing:
        raise UsageError(f"the expression also uses {', '.join(missing)}: list every symbol "
                         "in `inputs`")
    g = _incoming(e, set(e.shapes) | set(names))
    scalar = vjp_scalar(e, g)
    grads = derive(scalar, names)
    forward_source, forward_inputs, renamed = generate([Output(e, "value")], 0, "torch",
                                                       f"forward: {e}")
    forward = compile_source(forward_source, renamed)
    outputs = [Output(d, f"grad_{k}") for k, d in enumerate(grads)]
    backward_source, backward_inputs, renamed_b = generate(
        outputs, tuple(range(len(outputs))), "torch",
        f"backward: the derivatives of {scalar} with respect to {', '.join(names)}")
    backward_fn = compile_source(backward_source, renamed_b)
    g_name = g.name
    row_output = e.ty.kind == "row vector"  # its incoming gradient is 1×n; g is a vector

    def values_of(args) -> dict:
        if len(args) != len(names):
            raise UsageError(f"expected {len(names)} inputs ({', '.join(names)}), got "
                             f"{len(args)}")
        return dict(zip(names, args))

    class Function(torch.autograd.Function):
        # forward without ctx, setup_context apart, and a vmap rule torch generates: the
        # form torch.func's transforms (grad, jacrev, vmap) take
        generate_vmap_rule = True

        @staticmethod
        def forward(*args):
            return forward(**values_of(args))

        @staticmethod
        def setup_context(ctx, inputs, output):
            tensors = [a if isinstance(a, torch.Tensor) else None for a in inputs]
            ctx.save_for_backward(*tensors)
            ctx.plain = [None if isinstance(a, torch.Tensor) else a for a in inputs]

        @staticmethod
        def backward(ctx, grad_output):
            args = [t if t is not None else p for t, p in zip(ctx.saved_tensors, ctx.plain)]
            values = values_of(args)
            values[g_name] = grad_output.reshape(-1) if row_output else grad_output
            grads = backward_fn(**values)
            out = []
            for arg, grad, needed in zip(args, grads, ctx.needs_input_grad):
                if not needed or not isinstance(arg, torch.Tensor):
                    out.append(None)
                else:
                    out.append(grad.reshape(arg.shape).to(arg.dtype))
            return tuple(out)

    Function.__name__ = Function.__qualname__ = "MatrixcalcFunction"
    Function.source = forward_source + "\n\n" + backward_source
    Function.inputs = tuple(names)
    Function.expr = e
    Function.derivatives = tuple(grads)
    return Function


__all__ = ["autograd_function", "vjp_scalar"]
