"""Hypothesis strategies: random well-formed expression TEXT in matrixcalc's language.

`expressions(kind=..., ops=...)` draws text that parses (with no `where=`) and whose
shapes are valid, over every operator and spelling of SPEC section 1. Generation is
type-directed: each subexpression is drawn for a target shape (rows, cols), where a
dimension is 1, one of the symbolic sizes "n" and "m", or a concrete 2 or 3 (bracket
literals only). Symbols carry their kind by the naming convention (SPEC section 2):
Greek names are scalars, lower-case names vectors, upper-case names matrices, and each
name always has the same shape, so inference never needs rule 3 or a declaration:

    scalars   α β λ σ θ mu eta gamma eps tau
    n-vectors x y z x_hat w1          m-vectors u v b_2
    n×n       A B W_1 Σ               m×m       C Λ
    n×m       X W                     m×n       Y V_2

`ops` restricts the operators used, by their resolved names in `matrixcalc.ops.REGISTRY`
(`add`, `neg`, `mul`, `matmul`, `div`, `hadamard`, `ediv`, `kron`, `transpose`, `inv`,
`matpow`, `power`, `epow`, `tr`, `det`, `logdet`, `sum`, `mean`, `norm1`, `norm2`,
`normF`, `diag_matrix`, `diag_vector`, `vec`, `bracket`, the elementwise functions,
`softmax`, `logsumexp`, `commutation`, `unvec`, the matrix functions `expm`, `logm`, `sqrtm`,
`chol`, `lowerhalf`, `dexpm`, `dlogm`, `sylvester`, `pinv`, `eigmax`, `eigmin`,
`eigvecmax`, `eigvecmin`, `normspec`, `normnuc`) plus the constants `I` and `ones`. A
spelling that yields several operators (`X^-T` is inv of a transpose; `log(|X|)` is log
of det) needs all of them.
Numeric property tests can pass a subset that avoids partial domains, e.g.
`expressions(kind="scalar", ops=SAFE_OPS)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from hypothesis import strategies as st

from matrixcalc.ops import REGISTRY

SUM, PRODUCT, PREFIX, POSTFIX, ATOM = 1, 2, 3, 4, 5  # as in matrixcalc.ops.spec

SCALARS = ("α", "β", "λ", "σ", "θ", "mu", "eta", "gamma", "eps", "tau")
VECTORS = {"n": ("x", "y", "z", "x_hat", "w1"), "m": ("u", "v", "b_2")}
MATRICES = {("n", "n"): ("A", "B", "W_1", "Σ"), ("m", "m"): ("C", "Λ"),
            ("n", "m"): ("X", "W"), ("m", "n"): ("Y", "V_2")}
NUMBERS = ("2", "3", "0.5", "1e-3", "10", "0.25", "1.5e2", "0", "1", "7")
EXPONENTS = ("2", "3", "0.5", "-1", "-2", "-0.5", "{1/2}", "{2}", "{-1}", "1e-3")
# Every elementwise function of the operator table, read from it: a function added by one
# record is drawn too.
ELEMENTWISE = tuple(sorted(name for name, spec in REGISTRY.items()
                           if "elementwise" in spec.flags and spec.call_names == (name,)))
# Functions of a square matrix, shaped like it; with their linear maps, the operators of
# the matrix functions (tests/test_matrix_functions.py draws them): partial domains, and a
# Jacobian through a Fréchet derivative has no matrix form.
MATRIX_FUNCTIONS = ("expm", "logm", "sqrtm", "chol", "lowerhalf")
MATRIX_FUNCTION_OPS = frozenset({
    *MATRIX_FUNCTIONS, "dexpm", "dlogm", "sylvester", "pinv", "eigmax", "eigmin",
    "eigvecmax", "eigvecmin", "normspec", "normnuc"})
ALL_OPS = frozenset({
    "add", "neg", "mul", "matmul", "div", "hadamard", "ediv", "kron", "transpose", "inv",
    "matpow", "power", "epow", "tr", "det", "logdet", "sum", "mean", "norm1", "norm2",
    "normF", "diag_matrix", "diag_vector", "vec", "bracket", "softmax", "logsumexp", "I",
    "ones", "commutation", "unvec", "pi", *ELEMENTWISE, *MATRIX_FUNCTION_OPS})
# Operators defined on all real inputs of any size (no log, sqrt, inverse, division, no
# function whose record samples its argument from the positive numbers, no matrix function).
SAFE_OPS = ALL_OPS - {"inv", "logdet", "div", "ediv", "power", "epow"} - {
    name for name in ELEMENTWISE if REGISTRY[name].domains == ("positive",)} - \
    MATRIX_FUNCTION_OPS
KIND_SHAPES = {"scalar": (1, 1), "vector": ("n", 1), "row vector": (1, "n"),
               "matrix": ("n", "m"), "square matrix": ("n", "n")}

Shape = tuple  # (rows, cols), each 1, "n", "m", 2 or 3


def expressions(kind: str | None = None, ops: Iterable[str] | None = None,
                max_depth: int = 4) -> st.SearchStrategy[str]:
    """Text of a random well-formed expression.

    kind: "scalar", "vector", "row vector", "matrix", "square matrix" or None (any).
    ops: the operators allowed (see the module docstring); None allows every one.
    max_depth: how deeply operators nest.
    """
    allowed = ALL_OPS if ops is None else frozenset(ops)
    unknown = allowed - ALL_OPS
    if unknown:
        raise ValueError(f"unknown operators for expressions(): {sorted(unknown)}")
    if kind is not None and kind not in KIND_SHAPES:
        raise ValueError(f"kind is one of {sorted(KIND_SHAPES)} or None, not {kind!r}")

    @st.composite
    def build(draw):
        generator = _Generator(draw, allowed)
        shapes = [KIND_SHAPES[kind]] if kind else [
            s for s in KIND_SHAPES.values() if generator.can(s)]
        shape = draw(st.sampled_from(shapes))
        depth = draw(st.integers(0, max_depth))
        text, _ = generator.gen(shape, depth)
        return text

    return build()


def _wrap(item: tuple[str, int], min_prec: int) -> str:
    text, prec = item
    return f"({text})" if prec < min_prec else text


def _bar_safe(text: str) -> str:
    """Inside |…| or ||…||, a bar of the content could close the outer delimiter early."""
    return f"({text})" if "|" in text else text


class _Generator:
    def __init__(self, draw, ops: frozenset[str]) -> None:
        self.draw = draw
        self.ops = ops
        self.dims: tuple = ("n", "m", 2, 3) if "bracket" in ops else ("n", "m")

    # -- what can be drawn ------------------------------------------------------------
    def has(self, *names: str) -> bool:
        return all(name in self.ops for name in names)

    def can(self, shape: Shape) -> bool:
        """Whether some production of `shape` is allowed (at any depth)."""
        rows, cols = shape
        concrete = all(d in (1, 2, 3) for d in shape)
        if concrete and self.has("bracket"):
            return True
        if rows == 1 and cols == 1:
            return True
        if cols == 1:
            return rows in VECTORS or (self.has("ones") and rows in self.dims)
        if rows == 1:
            return self.has("transpose") and self.can((cols, 1))
        return (rows, cols) in MATRICES or (
            rows == cols and self.has("I") and rows in self.dims)

    # -- drawing ------------------------------------------------------------------------
    def pick(self, options):
        return self.draw(st.sampled_from(list(options)))

    def gen(self, shape: Shape, depth: int) -> tuple[str, int]:
        """(text, precedence) of a random expression of `shape`."""
        choices = self.leaves(shape)
        if depth > 0:
            choices += self.compounds(shape, depth - 1)
        if not choices:
            raise AssertionError(f"no production for {shape} under {sorted(self.ops)}")
        leaf = depth == 0 or self.draw(st.integers(0, 4)) == 4
        pool = [c for c in choices if (c[0] == "leaf") == leaf] or choices
        # each family (tag) is equally likely, whatever its number of spellings
        tag = self.pick(sorted({t for t, _ in pool}))
        _, make = self.pick([c for c in pool if c[0] == tag])
        text, prec = make()
        if prec < ATOM and self.draw(st.integers(0, 9)) == 0:
            return f"({text})", ATOM  # redundant parentheses now and then
        return text, prec

    def leaves(self, shape: Shape) -> list[tuple[str, Callable]]:
        rows, cols = shape
        out: list[tuple[str, Callable]] = []
        if shape == (1, 1):
            out.append(("leaf", lambda: (self.pick(SCALARS), ATOM)))
            out.append(("leaf", lambda: (self.pick(NUMBERS), ATOM)))
            if self.has("pi"):
                out.append(("leaf", lambda: ("pi", ATOM)))
        elif cols == 1 and rows in VECTORS:
            out.append(("leaf", lambda: (self.pick(VECTORS[rows]), ATOM)))
        elif rows == 1 and cols in VECTORS and self.has("transpose"):
            out.append(("leaf", lambda: (self.pick(VECTORS[cols]) + self.pick(("^T", "'")),
                                         POSTFIX)))
        elif (rows, cols) in MATRICES:
            out.append(("leaf", lambda: (self.pick(MATRICES[(rows, cols)]), ATOM)))
        if cols == 1 and rows != 1 and self.has("ones"):
            out.append(("leaf", lambda: ("ones", ATOM)))
        if rows == 1 and cols != 1 and self.has("ones", "transpose"):
            out.append(("leaf", lambda: ("ones^T", POSTFIX)))
        if rows == cols and rows != 1 and self.has("I"):
            out.append(("leaf", lambda: ("I", ATOM)))
        if shape != (1, 1) and all(d in (1, 2, 3) for d in shape) and self.has("bracket"):
            out.append(("leaf", lambda: self.bracket(shape, 0)))
        return out

    def bracket(self, shape: Shape, depth: int) -> tuple[str, int]:
        rows, cols = shape
        cells = [[self.gen((1, 1), depth)[0] for _ in range(cols)] for _ in range(rows)]
        return "[" + "; ".join(", ".join(row) for row in cells) + "]", ATOM

    # -- compound productions -------------------------------------------------------------
    def compounds(self, shape: Shape, depth: int) -> list[tuple[str, Callable]]:
        rows, cols = shape
        scalar = shape == (1, 1)
        square = rows == cols and rows != 1
        out: list[tuple[str, Callable]] = []

        def add(tag: str, make: Callable, *needs: str) -> None:
            if self.has(*needs):
                out.append((tag, make))

        g = lambda s=shape, d=depth: self.gen(s, d)  # noqa: E731
        add("add", lambda: (f"{_wrap(g(), SUM)} + {_wrap(g(), PRODUCT)}", SUM), "add")
        add("sub", lambda: (f"{_wrap(g(), SUM)} - {_wrap(g(), PRODUCT)}", SUM), "add", "neg")
        if not scalar:  # a number broadcasts in a sum: 1 - sigmoid(z)
            add("add-number", lambda: (f"{self.pick(NUMBERS)} - {_wrap(g(), PRODUCT)}",
                                       SUM), "add", "neg")
        add("neg", lambda: (f"-{_wrap(g(), PREFIX)}", PREFIX), "neg")
        add("scale", lambda: self.scale(shape, depth), "mul")
        add("div", lambda: (f"{_wrap(g(), PRODUCT)} / {_wrap(g((1, 1)), PREFIX)}", PRODUCT),
            "div")
        for token in ("⊙", ".*", "∘"):
            add("hadamard", lambda t=token: (f"{_wrap(g(), PRODUCT)} {t} {_wrap(g(), PREFIX)}",
                                             PRODUCT), "hadamard")
        add("ediv", lambda: (f"{_wrap(g(), PRODUCT)} ./ {_wrap(g(), PREFIX)}", PRODUCT), "ediv")
        add("matmul", lambda: self.matmul(shape, depth), "matmul")
        if self.can((cols, rows)):
            add("transpose", lambda: (_wrap(self.transposable((cols, rows), depth), POSTFIX)
                                      + self.pick(("^T", "'", "^{T}")), POSTFIX), "transpose")
        add("epow", lambda: (f"{_wrap(g(), POSTFIX)}.^{self.pick(EXPONENTS)}", POSTFIX),
            "epow")
        for name in ELEMENTWISE:
            add("elementwise", lambda n=name: (f"{n}({g()[0]})", ATOM), name)
        add("kron-scalar", lambda: self.kron_scalar(shape, depth), "kron")
        if rows != 1 and cols != 1 and self.can((rows, 1)) and self.can((1, cols)):
            add("kron-outer", lambda: self.kron_outer(shape, depth), "kron")
        if shape != (1, 1) and all(d in (1, 2, 3) for d in shape):
            add("bracket", lambda: self.bracket(shape, depth), "bracket")
        if square:
            add("inv", lambda: (self.pick((f"{_wrap(g(), POSTFIX)}^-1",
                                           f"{_wrap(g(), POSTFIX)}^{{-1}}",
                                           f"inv({g()[0]})")), POSTFIX), "inv")
            add("inv-T", lambda: (f"{_wrap(g(), POSTFIX)}" + self.pick(("^-T", "^{-T}")),
                                  POSTFIX), "inv", "transpose")
            add("matpow", lambda: (f"{_wrap(g(), POSTFIX)}^"
                                   + self.pick(("0", "1", "2", "3", "{2}", "-2")), POSTFIX),
                "matpow")
            if self.can((rows, 1)):
                add("diag", lambda: (f"diag({g((rows, 1))[0]})", ATOM), "diag_matrix")
            for name in MATRIX_FUNCTIONS:
                add("matrix-function", lambda n=name: (f"{n}({g()[0]})", ATOM), name)
            for name in ("dexpm", "dlogm"):  # one or two directions
                add("frechet", lambda n=name: self.frechet(n, shape, depth), name)
        if rows != 1 and cols != 1 and self.can((rows, rows)) and self.can((cols, cols)):
            add("sylvester", lambda: (f"sylvester({g((rows, rows))[0]}, {g((cols, cols))[0]}, "
                                      f"{g()[0]})", ATOM), "sylvester")
        if rows != 1 and cols != 1 and self.can((cols, rows)):
            add("pinv", lambda: (f"pinv({g((cols, rows))[0]})", ATOM), "pinv")
        if cols == 1 and rows != 1:
            if self.can((rows, rows)):
                add("diag", lambda: (f"diag({g((rows, rows))[0]})", ATOM), "diag_vector")
            add("vec", lambda: (f"vec({g()[0]})", ATOM), "vec")
            add("softmax", lambda: (f"softmax({g()[0]})", ATOM), "softmax")
            if self.can((rows, rows)):
                for name in ("eigvecmax", "eigvecmin"):
                    add("eigenvector", lambda n=name: (f"{n}({g((rows, rows))[0]})", ATOM),
                        name)
            other = "m" if rows == "n" else "n"  # the rows' values of a matrix
            if self.can((rows, other)):
                add("logsumexp-rows", lambda: (f"logsumexp({g((rows, other))[0]})", ATOM),
                    "logsumexp")
        if rows != 1 and cols != 1:  # of a matrix: row by row (SPEC section 1)
            add("softmax-rows", lambda: (f"softmax({g()[0]})", ATOM), "softmax")
        if scalar:
            out += self.scalar_compounds(depth)
        return out

    def transposable(self, shape: Shape, depth: int) -> tuple[str, int]:
        """An operand of a transpose: a scalar name stands for a bare number (`2^T` is a
        ParseError, SPEC section 1)."""
        item = self.gen(shape, depth)
        if item[0].strip("()") in NUMBERS:
            return self.pick(SCALARS), ATOM
        return item

    def scale(self, shape: Shape, depth: int) -> tuple[str, int]:
        s, t = self.gen((1, 1), depth), self.gen(shape, depth)
        left, right = (s, t) if self.draw(st.booleans()) else (t, s)
        return self.product(left, right)

    def product(self, left, right) -> tuple[str, int]:
        op = self.pick((" ", " * ", " @ "))
        return f"{_wrap(left, PRODUCT)}{op}{_wrap(right, POSTFIX if op == ' ' else PREFIX)}", \
            PRODUCT

    def matmul(self, shape: Shape, depth: int) -> tuple[str, int]:
        rows, cols = shape
        inner = [k for k in (1, *self.dims) if self.can((rows, k)) and self.can((k, cols))
                 and not (k == 1 and (rows == 1 or cols == 1))]
        if not inner:  # only scaling fits (a scalar target with no row vectors)
            return self.scale(shape, depth) if self.has("mul") else self.gen(shape, 0)
        k = self.pick(inner)
        return self.product(self.gen((rows, k), depth), self.gen((k, cols), depth))

    def kron_scalar(self, shape: Shape, depth: int) -> tuple[str, int]:
        s, t = self.gen((1, 1), depth), self.gen(shape, depth)
        left, right = (s, t) if self.draw(st.booleans()) else (t, s)
        if self.draw(st.booleans()):
            return f"kron({left[0]}, {right[0]})", ATOM
        return f"{_wrap(left, PRODUCT)} ⊗ {_wrap(right, PREFIX)}", PRODUCT

    def kron_outer(self, shape: Shape, depth: int) -> tuple[str, int]:
        rows, cols = shape
        left, right = self.gen((rows, 1), depth), self.gen((1, cols), depth)
        return f"{_wrap(left, PRODUCT)} ⊗ {_wrap(right, PREFIX)}", PRODUCT

    def opaque(self, depth: int) -> tuple[str, int]:
        """A Kronecker product or vec whose dimensions are products (n·m): only an
        operator that accepts any shape may consume it."""
        options = []
        if self.has("kron"):
            def kron():
                a = self.gen(self.pick([s for s in MATRICES]), depth)
                b = self.gen(self.pick([s for s in MATRICES]), depth)
                if self.draw(st.booleans()):
                    return f"kron({a[0]}, {b[0]})", ATOM
                return f"{_wrap(a, PRODUCT)} ⊗ {_wrap(b, PREFIX)}", PRODUCT
            options.append(kron)
        if self.has("vec"):
            options.append(lambda: (f"vec({self.gen(self.pick(list(MATRICES)), depth)[0]})",
                                    ATOM))
        if self.has("commutation", "mul"):  # a 6×6 constant, scaled
            options.append(lambda: (f"{_wrap(self.gen((1, 1), depth), PRODUCT)} "
                                    f"commutation({self.pick(('2, 3', '3, 2'))})", PRODUCT))
        if self.has("unvec", "ones", "mul"):  # a 2×3 constant, scaled
            options.append(lambda: (f"unvec({_wrap(self.gen((1, 1), depth), PRODUCT)} ones, "
                                    "2, 3)", ATOM))
        base = self.pick(options)()
        wrappers = [lambda t: t]
        if self.has("neg"):
            wrappers.append(lambda t: (f"-{_wrap(t, PREFIX)}", PREFIX))
        if self.has("transpose"):
            wrappers.append(lambda t: (f"{_wrap(t, POSTFIX)}^T", POSTFIX))
        for name in ("exp", "tanh", "sin"):
            if self.has(name):
                wrappers.append(lambda t, n=name: (f"{n}({t[0]})", ATOM))
        return self.pick(wrappers)(base)

    def scalar_compounds(self, depth: int) -> list[tuple[str, Callable]]:
        out: list[tuple[str, Callable]] = []
        g = self.gen
        shapes = [s for s in [(d, 1) for d in self.dims] + [(1, d) for d in self.dims]
                  + [(r, c) for r in self.dims for c in self.dims] if self.can(s)]
        squares = [(d, d) for d in self.dims if self.can((d, d))]
        vectors = [(d, 1) for d in self.dims if self.can((d, 1))]
        rows = [s for s in shapes if s[0] == 1]

        def add(make: Callable, *needs: str) -> None:
            if self.has(*needs):
                out.append((needs[0], make))

        add(lambda: (f"{_wrap(g((1, 1), depth), POSTFIX)}^{self.pick(EXPONENTS)}", POSTFIX),
            "power")
        add(lambda: (f"{_wrap(g((1, 1), depth), POSTFIX)}^{{{g((1, 1), depth)[0]}}}",
                     POSTFIX), "power")
        add(lambda: (self.pick((f"inv({g((1, 1), depth)[0]})",
                                f"{_wrap(g((1, 1), depth), POSTFIX)}^-T")), ATOM), "power")
        for name in ("tr", "det"):
            add(lambda n=name: (f"{n}({g(self.pick(squares + [(1, 1)]), depth)[0]})", ATOM),
                name)
        if squares:
            add(lambda: (f"logdet({g(self.pick(squares), depth)[0]})", ATOM), "logdet")
            add(lambda: (f"log(|{_bar_safe(g(self.pick(squares), depth)[0])}|)", ATOM),
                "log", "det")
            add(lambda: (f"|{_bar_safe(g(self.pick(squares), depth)[0])}|", ATOM), "det")
        add(lambda: (f"|{_bar_safe(g((1, 1), depth)[0])}|", ATOM), "abs")
        for name in ("sum", "mean"):
            add(lambda n=name: (f"{n}({g(self.pick(shapes + [(1, 1)]), depth)[0]})", ATOM),
                name)
            if self.has("kron") or self.has("vec") or self.has("commutation", "mul") \
                    or self.has("unvec", "ones", "mul"):
                add(lambda n=name: (f"{n}({self.opaque(depth)[0]})", ATOM), name)
        if vectors:
            add(lambda: (f"logsumexp({g(self.pick(vectors), depth)[0]})", ATOM), "logsumexp")
            add(lambda: self.norm2(self.pick(vectors + rows), depth), "norm2")
            add(lambda: self.norm1(self.pick(vectors + rows), depth), "norm1")
        add(lambda: self.normF(self.pick(shapes), depth), "normF")
        matrices = [s for s in shapes if 1 not in s]
        if matrices:
            add(lambda: self.matrix_norm("2", self.pick(matrices), depth), "normspec")
            add(lambda: self.matrix_norm("*", self.pick(matrices), depth), "normnuc")
        if squares:
            for name in ("eigmax", "eigmin"):
                add(lambda n=name: (f"{n}({g(self.pick(squares), depth)[0]})", ATOM), name)
        if self.has("kron") or self.has("vec") or self.has("commutation", "mul") \
                or self.has("unvec", "ones", "mul"):
            add(lambda: (f"||{_bar_safe(self.opaque(depth)[0])}||_F", ATOM), "normF")
        if rows:  # an inner product: row times vector
            add(lambda: self.matmul((1, 1), depth), "matmul")
        add(lambda: (f"vec({g((1, 1), depth)[0]})", ATOM), "vec")
        add(lambda: (f"[{g((1, 1), depth)[0]}]", ATOM), "bracket")
        return out

    def norm2(self, shape: Shape, depth: int) -> tuple[str, int]:
        inner = self.gen(shape, depth)[0]
        return self.pick((f"||{_bar_safe(inner)}||", f"||{_bar_safe(inner)}||_2",
                          f"||{_bar_safe(inner)}||_{{2}}", f"norm({inner})",
                          f"norm({inner}, 2)")), ATOM

    def norm1(self, shape: Shape, depth: int) -> tuple[str, int]:
        inner = self.gen(shape, depth)[0]
        return self.pick((f"||{_bar_safe(inner)}||_1", f"norm({inner}, 1)")), ATOM

    def frechet(self, name: str, shape: Shape, depth: int) -> tuple[str, int]:
        arguments = [self.gen(shape, depth)[0] for _ in range(self.draw(st.integers(2, 3)))]
        return f"{name}({', '.join(arguments)})", ATOM

    def matrix_norm(self, order: str, shape: Shape, depth: int) -> tuple[str, int]:
        inner = self.gen(shape, depth)[0]
        call = "2" if order == "2" else '"nuc"'
        return self.pick((f"||{_bar_safe(inner)}||_{order}", f"||{_bar_safe(inner)}||_{{{order}}}",
                          f"norm({inner}, {call})")), ATOM

    def normF(self, shape: Shape, depth: int) -> tuple[str, int]:  # noqa: N802
        inner = self.gen(shape, depth)[0]
        return self.pick((f"||{_bar_safe(inner)}||_F", f'norm({inner}, "fro")')), ATOM


# -- expressions featuring one operator family ------------------------------------------------

FAMILIES = ("hadamard", "diag", "kron", "vec", "mean", "rowwise")
# The dimensions the generator means, declared: products of dimensions (kron, vec) then
# unify as meant (n·m = n·m), which inference alone cannot tell from p·q.
WHERE = "; ".join(
    [f"{', '.join(names)}: matrix({r}, {c})" for (r, c), names in MATRICES.items()]
    + [f"{', '.join(names)}: vector({d})" for d, names in VECTORS.items()])


def featuring(family: str, kind: str, ops: Iterable[str] | None = None,
              max_depth: int = 2) -> st.SearchStrategy[str]:
    """Text of `kind` ("scalar", "vector" or "matrix") built around one use of `family`:
    a Hadamard product of matrices, diag (either way), a Kronecker product, vec or mean,
    with random operands over `ops` (default: the total operators) and a random consumer
    that brings it to `kind`; so that every draw exercises that family. Parse it with
    `where=WHERE`, which declares the dimensions the generator means."""
    if family not in FAMILIES:
        raise ValueError(f"family is one of {FAMILIES}, not {family!r}")
    allowed = SAFE_OPS if ops is None else frozenset(ops)
    if family in ("kron", "vec"):  # the size of an I or ones inside would be a guess
        allowed = allowed - {"I", "ones", "commutation", "unvec"}

    @st.composite
    def build(draw):
        g = _Generator(draw, allowed | {"transpose", "matmul", "mul", "add", "neg"})
        depth = draw(st.integers(0, max_depth))
        return _FAMILY_BUILDERS[family](g, draw, kind, depth)

    return build()


def _p(item: tuple[str, int]) -> str:
    return _wrap(item, ATOM)


def _consume_matrix(g: _Generator, draw, m: str, shape: Shape, kind: str, depth: int) -> str:
    """A matrix-valued text `m` of `shape` turned into `kind`."""
    rows, cols = shape
    if kind == "matrix":
        options = [m, f"{m} {_p(g.gen((cols, cols), depth))}",
                   f"{_p(g.gen((rows, rows), depth))} {m}"]
    elif kind == "vector":
        options = [f"{m} {_p(g.gen((cols, 1), depth))}",
                   f"{m}^T {_p(g.gen((rows, 1), depth))}"]
    else:
        options = [f"sum({m})", f"||{m}||_F^2",
                   f"{_p(g.gen((1, rows), depth))} {m} {_p(g.gen((cols, 1), depth))}"]
        if rows == cols:
            options.append(f"tr({m})")
        else:
            options.append(f"tr({m} {_p(g.gen((cols, rows), depth))})")
    return draw(st.sampled_from(options))


def _consume_vector(g: _Generator, draw, v: str, rows: str, kind: str, depth: int) -> str:
    if kind == "vector":
        return draw(st.sampled_from([v, f"{v} ⊙ {_p(g.gen((rows, 1), depth))}",
                                     f"{_p(g.gen((rows, rows), depth))} {v}"]))
    if kind == "matrix":
        return f"{v} {_p(g.gen((1, rows), depth))}"
    return draw(st.sampled_from([f"sum({v})", f"||{v}||^2",
                                 f"{_p(g.gen((1, rows), depth))} {v}"]))


def _hadamard_family(g: _Generator, draw, kind: str, depth: int) -> str:
    shape = draw(st.sampled_from([("n", "m"), ("n", "n"), ("m", "n")]))
    m = f"({g.gen(shape, depth)[0]}) ⊙ ({g.gen(shape, depth)[0]})"
    return _consume_matrix(g, draw, f"({m})", shape, kind, depth)


def _diag_family(g: _Generator, draw, kind: str, depth: int) -> str:
    rows = draw(st.sampled_from(["n", "m"]))
    if draw(st.booleans()):  # a diagonal matrix
        d = f"diag({g.gen((rows, 1), depth)[0]})"
        return _consume_matrix(g, draw, d, (rows, rows), kind, depth)
    v = f"diag({g.gen((rows, rows), depth)[0]})"  # a diagonal, as a vector
    return _consume_vector(g, draw, v, rows, kind, depth)


def _kron_family(g: _Generator, draw, kind: str, depth: int) -> str:
    a_shape, b_shape = draw(st.sampled_from([(("n", "n"), ("m", "m")), (("n", "m"), ("m", "n")),
                                             (("m", "m"), ("n", "n"))]))
    a, b = g.gen(a_shape, depth)[0], g.gen(b_shape, depth)[0]
    k = draw(st.sampled_from([f"kron({a}, {b})", f"({a}) ⊗ ({b})"]))
    x_shape = (b_shape[1], a_shape[1])  # (A ⊗ B) vec(X) = vec(B X A^T)
    vx = f"vec({g.gen(x_shape, depth)[0]})"
    if kind == "matrix":
        return k
    if kind == "vector":
        return draw(st.sampled_from([f"({k}) {vx}",
                                     f"kron({g.gen(('n', 1), depth)[0]}, "
                                     f"{g.gen(('m', 1), depth)[0]})"]))
    y_shape = (b_shape[0], a_shape[0])
    vy = f"vec({g.gen(y_shape, depth)[0]})"
    options = [f"sum({k})", f"||{k}||_F", f"{vy}^T ({k}) {vx}"]
    if a_shape[0] == a_shape[1]:
        options.append(f"tr({k})")
    return draw(st.sampled_from(options))


def _vec_family(g: _Generator, draw, kind: str, depth: int) -> str:
    shape = draw(st.sampled_from([("n", "m"), ("n", "n"), ("m", "n")]))
    v, w = f"vec({g.gen(shape, depth)[0]})", f"vec({g.gen(shape, depth)[0]})"
    if draw(st.booleans()):  # vec of a Hadamard product, or of a transpose
        w = draw(st.sampled_from([f"vec(({g.gen(shape, depth)[0]}) ⊙ ({g.gen(shape, 0)[0]}))",
                                  f"vec(({g.gen(shape[::-1], depth)[0]})^T)"]))
    if kind == "vector":
        return draw(st.sampled_from([v, f"{v} ⊙ {w}", f"{v} - {w}"]))
    if kind == "matrix":
        return f"{v} {w}^T"
    return draw(st.sampled_from([f"{v}^T {w}", f"sum({v})", f"||{v}||^2",
                                 f"{v}^T ({v} ⊙ {w})"]))


def _mean_family(g: _Generator, draw, kind: str, depth: int) -> str:
    shape = draw(st.sampled_from([("n", 1), ("n", "m"), ("m", 1)]))
    inner = g.gen(shape, depth)[0]
    mean = f"mean({inner})"
    if kind == "scalar":
        return draw(st.sampled_from([mean, f"{mean}^2", f"mean(({inner}).^2)"]))
    if kind == "vector":
        rows = draw(st.sampled_from(["n", "m"]))
        x = g.gen((rows, 1), depth)[0]
        return draw(st.sampled_from([f"({x}) - mean({x}) ones", f"{mean} ({x})",
                                     f"({x}) / sqrt(mean(({x}).^2) + 1)"]))
    return f"{mean} ({g.gen(('n', 'm'), depth)[0]})"


def _rowwise_family(g: _Generator, draw, kind: str, depth: int) -> str:
    """softmax of a matrix (each row, as in attention: softmax(A M B)) or logsumexp of a
    matrix (the column of its rows' values), brought to `kind`."""
    shape = draw(st.sampled_from([("n", "m"), ("n", "n"), ("m", "n")]))
    inner = g.gen(shape, depth)[0]
    if draw(st.booleans()):
        return _consume_matrix(g, draw, f"softmax({inner})", shape, kind, depth)
    return _consume_vector(g, draw, f"logsumexp({inner})", shape[0], kind, depth)


_FAMILY_BUILDERS = {"hadamard": _hadamard_family, "diag": _diag_family, "kron": _kron_family,
                    "vec": _vec_family, "mean": _mean_family, "rowwise": _rowwise_family}


def network(depth: int) -> str:
    """The tanh network `depth` layers deep, ||W_k tanh(… tanh(W1 x)) - y||^2, as text
    (the tests of derivation cost and of shared forms use it)."""
    inner = "x"
    for i in range(1, depth + 1):
        inner = f"W{i} {inner}" if i == depth else f"tanh(W{i} {inner})"
    return f"||{inner} - y||^2"
