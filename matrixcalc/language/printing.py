"""Printers: text in the input language, LaTeX, and the canonical sort key.

Each operator's record says how it is written; this module only supplies leaves and
parenthesization. Invariant: for every typed tree e, `parse(to_text(e)) == e`; so a
node is parenthesized when its printed form binds more loosely than its position
needs, and the right operand of a product always binds at least as tightly as a postfix.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from ..ops import lookup
from ..ops.spec import ATOM, POSTFIX, version
from .expr import SLOT, Apply, Const, Dimension, Expr, Number, Symbol

GREEK_LATEX = {name: "\\" + name for name in (
    "alpha", "beta", "gamma", "delta", "epsilon", "eta", "kappa", "lambda", "mu", "nu",
    "rho", "sigma", "tau", "omega", "theta", "phi", "psi", "xi", "zeta", "chi", "pi",
    "Gamma", "Delta", "Lambda", "Sigma", "Omega", "Theta", "Phi", "Psi", "Pi")}
GREEK_LATEX["eps"] = r"\epsilon"
UNICODE_GREEK = {chr(0x3b1 + i): n for i, n in enumerate(
    ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
     "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "varsigma", "sigma", "tau",
     "upsilon", "phi", "chi", "psi", "omega"])}
UNICODE_GREEK.update({"Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi",
                      "Π": "Pi", "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega"})


def number_text(value: Fraction) -> str:
    """Exact decimal where one exists (`0.5`, `1e-300`), else `p/q`."""
    if value.denominator == 1:
        return str(value.numerator)
    decimal = Decimal(value.numerator) / Decimal(value.denominator)
    if Fraction(decimal) == value:
        text = format(decimal.normalize(), "f")
        sci = format(decimal.normalize(), "e")
        return sci if len(text) > 12 and len(sci) < len(text) else text
    return f"{value.numerator}/{value.denominator}"


# The longest text remembered on a node. A longer one is made again from its parts' (a
# copy of its length, which its caller receives anyway): remembered at every node of a
# nested result, the texts held the whole tree once per level of nesting (the Hessian of
# softmax nested 64 deep, printed in 12 million characters, held 1.8 GB of them).
CACHED_TEXT = 16384


class Printer:
    """Shared walk for both printers; `style` is "text" or "latex"."""

    def __init__(self, style: str) -> None:
        self.style = style
        self.made: dict[int, str] = {}  # texts made children first (`deep`), by node id

    def prec(self, node: Expr) -> int:
        if isinstance(node, Apply):
            return lookup(node.op).prec
        if isinstance(node, Number) and "/" in number_text(node.value):
            return 2  # printed as p/q, a product-level form
        return ATOM

    def arg(self, node: Expr, min_prec: int) -> str:
        text = self.node(node)
        if self.prec(node) < min_prec:
            return f"\\left({text}\\right)" if self.style == "latex" else f"({text})"
        return text

    def base(self, node: Expr) -> str:
        """The operand of a postfix. In LaTeX a base that carries its own superscript is
        braced (`{X^{\\top}}^{-1}`): a double superscript does not compile. In text a
        power is parenthesized (`(X.^2)^T`, `(X^-1)^T`): `X.^2^T` reads as a power 2^T."""
        text = self.arg(node, POSTFIX)
        if isinstance(node, Apply) and self.prec(node) == POSTFIX:
            if self.style == "latex":
                return "{" + text + "}"
            if node.op != "transpose":
                return f"({text})"
        return text

    def right(self, node: Expr) -> str:
        """The right operand of a product: a product or a negation needs parentheses."""
        return self.arg(node, POSTFIX)

    def node(self, node: Expr) -> str:
        if isinstance(node, (Symbol, Dimension)):
            return node.name if self.style == "text" else symbol_latex(node.name)
        if isinstance(node, Number):
            text = number_text(node.value)
            if self.style == "latex" and "/" in text:
                return f"\\frac{{{node.value.numerator}}}{{{node.value.denominator}}}"
            return text
        if isinstance(node, Const):
            if self.style == "latex":
                return {"ones": r"\mathbf{1}", SLOT: r"\square"}.get(node.name, "I")
            return node.name
        if isinstance(node, Apply):
            # the text form is remembered on the node (rules that order factors by their
            # text print deep subtrees again and again); no extra frame per level, so a
            # deep tree prints as deep as before
            text = self.style == "text"
            now = version()
            if text and node._text is not None and node._text[0] == now:
                return node._text[1]
            if self.made:
                made = self.made.get(id(node))
                if made is not None:
                    return made
            spec = lookup(node.op)
            render = spec.text if text else spec.latex
            if render is None:
                raise TypeError(f"operator `{node.op}` has no {self.style} printer")
            shown = render(self, node)
            if text and len(shown) <= CACHED_TEXT:
                object.__setattr__(node, "_text", (now, shown))
            return shown
        raise TypeError(f"not an expression node: {node!r}")


    def deep(self, root: Expr) -> str:
        """root's text, its operator nodes printed children first with an explicit stack,
        so that each asks only for texts made already (a renderer may read a grandchild:
        `a - b` prints the term under its `neg`): a tree nested deeper than Python's
        recursion allows (the Hessian of softmax nested 100 deep is about 400 levels)
        prints too."""
        seen, order, stack = set(), [], [(root, False)]
        while stack:
            node, ready = stack.pop()
            if ready:
                order.append(node)
            elif isinstance(node, Apply) and id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((a, False) for a in node.args)
        for node in order:
            self.made[id(node)] = self.node(node)
        return self.made[id(root)] if isinstance(root, Apply) else self.node(root)


def symbol_latex(name: str) -> str:
    base, _, subscript = name.partition("_")
    if not subscript:
        stripped = base.rstrip("0123456789")
        if stripped and stripped != base:
            base, subscript = stripped, base[len(stripped):]
    base = GREEK_LATEX.get(base) or (
        "\\" + UNICODE_GREEK[base] if base in UNICODE_GREEK else base)
    if subscript in ("hat", "bar", "tilde"):
        return f"\\{subscript}{{{base}}}"
    if len(base) > 1 and not base.startswith("\\"):
        base = f"\\mathrm{{{base}}}"
    return f"{base}_{{{subscript}}}" if subscript else base


def to_text(expr: Expr) -> str:
    try:
        return Printer("text").node(expr)
    except RecursionError:  # nested deeper than the recursion allows: children first
        return Printer("text").deep(expr)


def to_latex(expr: Expr) -> str:
    try:
        return Printer("latex").node(expr)
    except RecursionError:
        return Printer("latex").deep(expr)


class SortKey:
    """A total, deterministic order on trees: by printed form, then, only between trees
    that print alike, by structure (spelled out only then: it is as long as the tree)."""

    __slots__ = ("expr", "text")

    def __init__(self, expr: Expr) -> None:
        self.text, self.expr = to_text(expr), expr

    def _pair(self) -> tuple:
        return (self.text, self.expr.structure())

    def __lt__(self, other: SortKey) -> bool:
        if self.text != other.text:
            return self.text < other.text
        if self.expr == other.expr:  # equal trees (the common tie): no structure spelled
            return False
        return self._pair() < other._pair()

    def __gt__(self, other: SortKey) -> bool:
        return other < self

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SortKey) and self.text == other.text and (
            self.expr == other.expr or self._pair() == other._pair())

    def __hash__(self) -> int:
        return hash(self.text)


def sort_key(expr: Expr) -> SortKey:
    return SortKey(expr)
