"""Generated numpy / torch / JAX code: `lambdify` and `value_and_grad` (SPEC section 5).

The source text is built from the expression tree alone (each operator's record holds
its template for each backend, `OpSpec.code`), then compiled; no user text is ever
evaluated: symbol names are checked to be Python identifiers (others are renamed),
numbers are printed from their exact values, and the expression's own text appears only
as a `repr` string literal. Helpers the code defines are named `_mc_…`, which no
parameter may be.

Invariants of the generated code:
- values are in the user forms of SPEC section 5 and stay so inside: scalars are floats
  (0-d tensors for torch), vectors AND row vectors 1-D, matrices 2-D; a row vector is
  reshaped to 1×n only when returned. No 2-D-everything detour as in `numbers/numeric.py`.
- common subexpressions are computed once: structurally equal subtrees (of equal shape
  where constants make the shape matter) get one temporary, across all outputs;
- matrix chains are multiplied in the cheapest order: nested `matmul` / scaling nodes
  that are used once are flattened, scalar factors are pulled out and applied to the
  smallest operand (or the result), and the order is the classic matrix-chain dynamic
  program over the operand shapes, a symbolic dimension counted as `BIG`, a vector's
  unit dimension as 1.

The modules, each importing only those listed after it:
- api: the public entry points `lambdify` and `value_and_grad`;
- source: one function's source assembled from a Generator (prologue, shape checks,
  body, return) and compiled;
- generator: the Generator, writing one line per operator with shared temporaries;
- products: how a product chain is flattened, ordered and multiplied;
- gram: M^T diag(v) M as a call to `_mc_gram`, a symmetric rank-k product (numpy);
- arrays: dimensions read from the inputs, constants, filled arrays and einsum tensors;
- checks: the helper sources the code defines and the input shape checks;
- operand: the code of one value (`Operand`) and when it needs no parentheses.
"""
