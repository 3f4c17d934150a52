"""Derivatives the engine must get right: the lesson's and the Matrix Cookbook's (2012).

Each case: (id, expression, wrt, where, canonical result, textbook form). The canonical
result is asserted as text; both it and the textbook form are checked numerically
against torch.autograd. Equation numbers are those of the Matrix Cookbook, 2012 edition.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    expr: str
    wrt: str
    expected: str
    textbook: str
    where: str | None = None

    def __str__(self) -> str:
        return self.id


LESSON = [
    Case("1.2 example 1", "a^T x", "x", "a", "a"),
    Case("1.2 example 2", "x^T x", "x", "2 x", "2 x"),
    Case("1.2 example 3", "x^T A x", "x", "(A + A^T) x", "(A + A^T) x"),
    Case("1.2 example 3, symmetric", "x^T A x", "x", "2 A x", "2 A x", "A: symmetric"),
    Case("4.1 a^T X b", "a^T X b", "X", "a b^T", "a b^T"),
    Case("4.1 tr(AB)", "tr(A B)", "A", "B^T", "B^T"),
    Case("4.1 log|A|", "log(|A|)", "A", "A^-T", "A^-T"),
    Case("4.1 x^T A^-1 x", "x^T A^-1 x", "A", "-A^-1 x x^T A^-1",
         "-A^-1 x x^T A^-1", "A: symmetric"),
    Case("4.1 x^T A^-1 x, general", "x^T A^-1 x", "A", "-A^-T x x^T A^-T",
         "-A^-T x x^T A^-T"),
    Case("5.1 MSE", "1/(2n) ||y - X w||^2", "w", "-1/n X^T (y - X w)",
         "-1/n X^T (y - X w)"),
    Case("problem 5 ridge", "1/(2n) ||y - X w||^2 + λ/2 ||w||^2", "w",
         "λ w - 1/n X^T (y - X w)", "-1/n X^T (y - X w) + λ w"),
    Case("5.6 linear layer dW", "g^T (W x + b)", "W", "g x^T", "g x^T"),
    Case("5.6 linear layer db", "g^T (W x + b)", "b", "g", "g"),
    Case("5.6 linear layer dx", "g^T (W x + b)", "x", "W^T g", "W^T g"),
    Case("3.3 Newton gradient", "1/2 x^T A x - b^T x", "x", "1/2 (A + A^T) x - b",
         "1/2 (A + A^T) x - b"),
    Case("5.3 softmax cross-entropy", "-y^T log(softmax(z))", "z", "sum(y) softmax(z) - y",
         "softmax(z) sum(y) - y"),
    Case("5.3 softmax cross-entropy, distribution", "-y^T log(softmax(z))", "z",
         "softmax(z) - y", "softmax(z) - y", "y: distribution"),
    Case("problem 2 logistic", "-1/n (y^T log(sigmoid(X w)) + (ones - y)^T log(ones - "
         "sigmoid(X w)))", "w", "1/n X^T (sigmoid(X w) - y)", "1/n X^T (sigmoid(X w) - y)"),
]

COOKBOOK = [
    # 2.1 determinants
    Case("(49)", "det(X)", "X", "det(X) X^-T", "det(X) X^-T"),
    Case("(51)", "det(A X B)", "X", "det(A X B) X^-T", "det(A X B) X^-T",
         "A, B: invertible"),
    Case("(52)", "det(X^T A X)", "X", "2 det(X^T A X) X^-T", "2 det(X^T A X) X^-T",
         "X: invertible; A: symmetric"),
    Case("(53)", "det(X^T A X)", "X", "2 det(X^T A X) A X (X^T A X)^-1",
         "2 det(X^T A X) A X (X^T A X)^-1", "A: symmetric"),
    Case("(57)", "logdet(X)", "X", "X^-T", "X^-T"),
    Case("(58)", "det(X^3)", "X", "3 det(X^3) X^-T", "3 det(X^3) X^-T"),
    # 2.2 inverses
    Case("(61)", "a^T X^-1 b", "X", "-X^-T a b^T X^-T", "-X^-T a b^T X^-T"),
    Case("(62)", "det(X^-1)", "X", "-det(X^-1) X^-T", "-det(X^-1) X^-T"),
    Case("(63)", "tr(A X^-1 B)", "X", "-X^-T A^T B^T X^-T", "-(X^-1 B A X^-1)^T"),
    Case("(64)", "tr((X + A)^-1)", "X", "-(A^T + X^T)^-1 (A^T + X^T)^-1",
         "-((X + A)^-1 (X + A)^-1)^T"),
    # 2.4 scalar forms
    Case("(69)", "x^T a", "x", "a", "a"),
    Case("(70)", "a^T X b", "X", "a b^T", "a b^T"),
    Case("(71)", "a^T X^T b", "X", "b a^T", "b a^T"),
    Case("(72)", "a^T X a", "X", "a a^T", "a a^T"),
    Case("(78)", "b^T X^T X c", "X", "X (b c^T + c b^T)", "X (b c^T + c b^T)"),
    Case("(79)", "(B x + b)^T C (D x + d)", "x", "B^T C (D x + d) + D^T C^T (B x + b)",
         "B^T C (D x + d) + D^T C^T (B x + b)"),
    Case("(84)", "x^T B x", "x", "(B + B^T) x", "(B + B^T) x"),
    Case("(85)", "b^T X^T D X c", "X", "D X c b^T + D^T X b c^T",
         "D^T X b c^T + D X c b^T"),
    Case("(86)", "(X b + c)^T D (X b + c)", "X", "(D + D^T) (X b + c) b^T",
         "(D + D^T) (X b + c) b^T"),
    Case("(87)", "(x - A s)^T W (x - A s)", "s", "-2 A^T W (x - A s)",
         "-2 A^T W (x - A s)", "W: symmetric"),
    Case("(88)", "(x - s)^T W (x - s)", "x", "2 W (x - s)", "2 W (x - s)", "W: symmetric"),
    Case("(89)", "(x - s)^T W (x - s)", "s", "-2 W (x - s)", "-2 W (x - s)",
         "W: symmetric"),
    Case("(90)", "(x - A s)^T W (x - A s)", "A", "-2 W (x - A s) s^T",
         "-2 W (x - A s) s^T", "W: symmetric"),
    Case("(91) n=2", "a^T X^2 b", "X", "X^T a b^T + a b^T X^T", "X^T a b^T + a b^T X^T"),
    # 2.5 traces
    Case("(99)", "tr(X)", "X", "I", "I"),
    Case("(100)", "tr(X A)", "X", "A^T", "A^T"),
    Case("(101)", "tr(A X B)", "X", "A^T B^T", "A^T B^T"),
    Case("(102)", "tr(A X^T B)", "X", "B A", "B A"),
    Case("(103)", "tr(X^T A)", "X", "A", "A"),
    Case("(104)", "tr(A X^T)", "X", "A", "A"),
    Case("(106)", "tr(X^2)", "X", "2 X^T", "2 X^T"),
    Case("(107)", "tr(X^2 B)", "X", "B^T X^T + X^T B^T", "(X B + B X)^T"),
    Case("(108)", "tr(X^T B X)", "X", "(B + B^T) X", "B X + B^T X"),
    Case("(109)", "tr(B X X^T)", "X", "(B + B^T) X", "B X + B^T X"),
    Case("(110)", "tr(X X^T B)", "X", "(B + B^T) X", "B X + B^T X"),
    Case("(111)", "tr(X B X^T)", "X", "X (B + B^T)", "X B^T + X B"),
    Case("(112)", "tr(B X^T X)", "X", "X (B + B^T)", "X B^T + X B"),
    Case("(113)", "tr(X^T X B)", "X", "X (B + B^T)", "X B^T + X B"),
    Case("(114)", "tr(A X B X)", "X", "A^T X^T B^T + B^T X^T A^T",
         "A^T X^T B^T + B^T X^T A^T"),
    Case("(115)", "tr(X^T X)", "X", "2 X", "2 X"),
    Case("(116)", "tr(B^T X^T C X B)", "X", "(C + C^T) X B B^T", "C^T X B B^T + C X B B^T"),
    Case("(117)", "tr(X^T B X C)", "X", "B X C + B^T X C^T", "B X C + B^T X C^T"),
    Case("(118)", "tr(A X B X^T C)", "X", "A^T C^T X B^T + C A X B",
         "A^T C^T X B^T + C A X B"),
    Case("(119)", "tr((A X B + C) (A X B + C)^T)", "X", "2 A^T (A X B + C) B^T",
         "2 A^T (A X B + C) B^T"),
    Case("(120)", "tr(X) tr(X)", "X", "2 tr(X) I", "2 tr(X) I"),
    Case("(105) Kronecker", "tr(A ⊗ X)", "X", "tr(A) I", "tr(A) I", "A, X: invertible"),
    Case("(120) Kronecker", "tr(X ⊗ X)", "X", "2 tr(X) I", "2 tr(X) I", "X: invertible"),
    Case("tr(sin(X)), elementwise", "tr(sin(X))", "X", "diag(diag(cos(X)))",
         "I ⊙ cos(X)"),
    Case("(121) k=3", "tr(X^3)", "X", "3 X^T X^T", "3 (X^2)^T"),
    Case("(124)", "tr(A X^-1 B)", "X", "-X^-T A^T B^T X^-T", "-X^-T A^T B^T X^-T"),
    # 2.6 norms
    Case("(129)", "||x - a||", "x", "(x - a)/||x - a||", "(x - a)/||x - a||"),
    Case("(131)", "||x||^2", "x", "2 x", "2 x"),
    Case("(132)", "||X||_F^2", "X", "2 X", "2 X"),
    Case("||X||_F", "||X||_F", "X", "X/||X||_F", "X/||X||_F"),
]

# Found by the property tests (tests/test_derive_property.py): each once broke the engine.
FOUND_BY_FUZZING = [
    # a scalar product times I is a matrix: the identity must not be dropped
    Case("fuzz: vector times x^T x, by the vector", "(y + x) (x^T x)", "y", "x^T x I",
         "(x^T x) I"),
    Case("fuzz: (x + ones) x^T x", "(x + ones) (x^T x)", "x", "2 (1 + x) x^T + x^T x I",
         "2 (x + ones) x^T + (x^T x) I"),
    # ones + ones is 2 ones, not the number 2
    Case("fuzz: ones + ones under ⊙", "||(ones^T + ones^T) ⊙ (x^T + ones^T)||", "x",
         "4 (1 + x)/||2 ones^T ⊙ (1 + x)^T||", "2 (x + ones)/||x + ones||"),
    Case("fuzz: a broadcast number left alone", "a^T (x + 2 ones - x) x^T b", "x",
         "2 sum(a) b", "2 (ones^T a) b"),
]
FOUND_BY_FUZZING += [
    # torch.kron of a transposed (non-contiguous) operand: the checker copies it first
    Case("fuzz: sum(Y^T ⊗ A) scaled", "sum(Y^T ⊗ (A + A)) ((X + X) + X α)", "α",
         "2 ones^T A ones ones^T Y ones X", "2 sum(A) sum(Y) X"),
    # ones (n) and ones (m) are equal trees: remembered results must not confuse them
    Case("fuzz: ones ones^T + Y, transposed", "a^T (ones ones^T + Y)^T b", "Y",
         "b a^T", "b a^T"),
]
FOUND_BY_FUZZING += [
    # a coefficient whose sign SymPy cannot decide (relu(2)) is not compared with 0
    Case("fuzz: relu of a number as a coefficient", "(α X) relu(2)", "α", "relu(2) X",
         "relu(2) X"),
    # x^T x scaling a vector stays one factor when a matrix is put in front of it
    Case("fuzz: matrix times (vector times x^T x)", "(exp(X) + X) ((u + ones) (x^T x))", "u",
         "x^T x (exp(X) + X)", "(x^T x) (exp(X) + X)"),
]
FOUND_BY_FUZZING += [
    # tr(A ⊗ B) = tr(A) tr(B) needs square factors; a column ⊗ a row is an outer product
    Case("fuzz: trace of a column ⊗ a row", "tr(x ⊗ y^T)", "x", "y", "y"),
    Case("fuzz: a row ⊗ a column", "a^T (y^T ⊗ x) b", "x", "b^T y a", "(y^T b) a"),
]

# What the index form with copy and pair tensors and dimensions as numbers makes possible
# (issue 11): batch layers, masks, means, Kronecker products and vec.
MLP = "||relu(X W1) W2 - Y||_F^2"
TANH = "||tanh(X W1 + ones b^T) W2 - Y||_F^2"
LN_C = "(x - mean(x) ones)"
LN_S = f"sqrt(mean({LN_C}.^2) + eps)"
INDEX_FORM = [
    # batch MLP, rows as samples
    Case("batch MLP by W1", MLP, "W1", "2 X^T (step(X W1) ⊙ ((relu(X W1) W2 - Y) W2^T))",
         "2 X^T (step(X W1) ⊙ (2 (relu(X W1) W2 - Y) W2^T)) / 2"),
    Case("batch MLP by W2", MLP, "W2", "2 relu(X W1)^T (relu(X W1) W2 - Y)",
         "2 relu(X W1)^T (relu(X W1) W2 - Y)"),
    Case("batch MLP by X", MLP, "X", "2 (step(X W1) ⊙ ((relu(X W1) W2 - Y) W2^T)) W1^T",
         "2 (step(X W1) ⊙ ((relu(X W1) W2 - Y) W2^T)) W1^T"),
    Case("tanh layer with bias by W1", TANH, "W1",
         "2 X^T ((1 - tanh(X W1 + ones b^T).^2) ⊙ ((tanh(X W1 + ones b^T) W2 - Y) W2^T))",
         "2 X^T ((ones ones^T - tanh(X W1 + ones b^T) ⊙ tanh(X W1 + ones b^T)) ⊙ "
         "((tanh(X W1 + ones b^T) W2 - Y) W2^T))"),
    # the bias gradient sums the rows: diag(P^T Q) = ((P ⊙ Q)^T ones)
    Case("tanh layer with bias by b", TANH, "b",
         "2 diag((1 - tanh(X W1 + ones b^T).^2^T) (tanh(X W1 + ones b^T) W2 - Y) W2^T)",
         "2 ((1 - tanh(X W1 + ones b^T).^2) ⊙ ((tanh(X W1 + ones b^T) W2 - Y) W2^T))^T ones"),
    Case("squared relu by W", "sum(relu(X W + ones b^T).^2)", "W",
         "2 X^T (relu(X W + ones b^T) ⊙ step(X W + ones b^T))",
         "2 X^T relu(X W + ones b^T)"),
    # masked matrix factorization
    Case("masked factorization by U", "||M ⊙ (X - U V^T)||_F^2", "U",
         "-2 (M ⊙ M ⊙ (X - U V^T)) V", "-2 (M ⊙ M ⊙ (X - U V^T)) V"),
    Case("masked factorization by V", "||M ⊙ (X - U V^T)||_F^2", "V",
         "-2 (M^T ⊙ M^T ⊙ (X^T - V U^T)) U", "-2 (M ⊙ M ⊙ (X - U V^T))^T U"),
    Case("trace of a Hadamard square", "tr(A (X ⊙ X) B)", "X", "2 (X ⊙ (A^T B^T))",
         "2 X ⊙ (B A)^T"),
    Case("Hadamard in a bilinear form", "x^T (A ⊙ B) y", "A", "diag(x) B diag(y)",
         "(x y^T) ⊙ B"),
    # means: dimensions as numbers
    Case("mean", "mean(x)", "x", "1/n ones", "ones/n", "x: vector(n)"),
    Case("centering Jacobian", "x - mean(x) ones", "x", "I - 1/n ones ones^T",
         "I - ones ones^T/n", "x: vector(n)"),
    Case("layer norm Jacobian", f"{LN_C} / {LN_S}", "x",
         f"1/n {LN_S}^-3 (mean(x) ones - x) (x - mean(x) ones)^T + I/{LN_S} - "
         f"1/n ones/{LN_S} ones^T",
         f"(I - 1/n ones ones^T - 1/n {LN_C} {LN_C}^T / (mean({LN_C}.^2) + eps)) / {LN_S}",
         "x: vector(n)"),
    Case("RMS norm Jacobian", "x / sqrt(mean(x.^2) + eps)", "x",
         "I/sqrt(mean(x.^2) + eps) - 1/n sqrt(mean(x.^2) + eps)^-3 x x^T",
         "(I - 1/n x x^T / (mean(x.^2) + eps)) / sqrt(mean(x.^2) + eps)", "x: vector(n)"),
    Case("mean squared relu regression", "mean((y - relu(X w + b ones)).^2)", "w",
         "-2/n X^T (step(X w + b ones) ⊙ (y - relu(X w + b ones)))",
         "-2/n X^T ((y - relu(X w + b ones)) ⊙ step(X w + b ones))", "X: matrix(n, d)"),
    Case("MSE with declared dimensions", "1/(2n) ||y - X w||^2", "w", "-1/n X^T (y - X w)",
         "-X^T (y - X w)/n", "X: matrix(n, d)"),
    # Kronecker products and vec, lowered
    Case("(39) Kronecker of two lines", "kron(A + t B, C + t D)", "t",
         "2 t (B ⊗ D) + A ⊗ D + B ⊗ C", "B ⊗ (C + t D) + (A + t B) ⊗ D", "t: scalar"),
    Case("quadratic form in vec(X)", "vec(X)^T A vec(X)", "X",
         "unvec((A + A^T) vec(X), m, n)", "unvec(A vec(X) + A^T vec(X), m, n)",
         "X: matrix(m, n)"),
]
