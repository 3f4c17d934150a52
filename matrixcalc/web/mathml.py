"""LaTeX to MathML for the web page, sanitized: only MathML elements and presentation
attributes from an allow-list survive, and every text is escaped on output.

latex2mathml's `convert` pastes `\\text{...}` verbatim into its output (`\\text{<img
onerror=...>}` comes out as markup), so the tree is taken from `convert_to_element`, its
entity references decoded, filtered, and serialized by ElementTree, which escapes text.
Symbol names reach the LaTeX from the user; nothing they can write becomes markup.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

MATHML_NS = "http://www.w3.org/1998/Math/MathML"

ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup",
    "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose", "merror", "mmultiscripts", "mprescripts",
    "none",
})
ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "fence", "form", "separator", "lspace", "rspace",
    "accent", "accentunder", "movablelimits", "largeop", "symmetric", "minsize", "maxsize",
    "columnalign", "columnspacing", "columnlines", "rowalign", "rowspacing", "rowlines",
    "frame", "framespacing", "displaystyle", "scriptlevel", "width", "height", "depth",
    "linethickness", "notation", "linebreak", "voffset", "columnspan", "rowspan",
})
# Presentation values are words, numbers and lengths; nothing else passes (no URLs,
# no scripts, no CSS).
SAFE_VALUE = re.compile(r"[\w .%+-]{0,40}")


def to_mathml(latex: str, display: bool = False) -> str:
    """The MathML of `latex`, sanitized; a `<math>` with an `<merror>` where latex2mathml
    cannot read it (the page shows the LaTeX beside it anyway)."""
    from latex2mathml.converter import convert_to_element

    try:
        tree = convert_to_element(latex, display="block" if display else "inline")
    except Exception:  # latex2mathml's own errors are untyped; say so in the math
        tree = ET.Element("math")
        ET.SubElement(ET.SubElement(tree, "merror"), "mtext").text = latex
    return ET.tostring(sanitize(tree), encoding="unicode")


def sanitize(element: ET.Element) -> ET.Element:
    """A copy of `element` with only allowed elements (others become `mrow`, keeping
    their children) and attributes; entity references in texts decoded to characters."""
    tag = element.tag if element.tag in ELEMENTS else "mrow"
    clean = ET.Element(tag)
    if tag == "math":
        clean.set("xmlns", MATHML_NS)
    for name, value in element.attrib.items():
        if name in ATTRIBUTES and SAFE_VALUE.fullmatch(value):
            clean.set(name, value)
    clean.text = _decoded(element.text)
    for child in element:
        sub = sanitize(child)
        sub.tail = _decoded(child.tail)
        clean.append(sub)
    return clean


def _decoded(text: str | None) -> str | None:
    return None if text is None else html.unescape(text)
