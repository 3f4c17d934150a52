"""Reading identity tables' YAML with line numbers, through the safe composer only.

The node tree (`yaml.compose` with `SafeLoader`) keeps the line of every entry and field,
so errors can name them; nothing in a table is ever executed.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from ..errors import MatrixCalcError, ShapeError, TableError
from ..language.declarations import parse_where
from ..language.expr import Expr
from ..language.parse import parse_quietly


# -- reading the YAML with lines -----------------------------------------------------------

@dataclass
class _Source:
    path: str
    text: str
    where_node: yaml.Node | None = None

    def error(self, node: yaml.Node | None, entry_id: str | None, field_name: str,
              message: str, hint: str | None = None, offset: int = 0,
              width: int | None = None) -> TableError:
        """A TableError at `node`: `file:line: entry `id`, field `f`: message`."""
        if node is None:
            start = end = 0
            line = 1
        else:
            start = node.start_mark.index + offset
            line = self.text.count("\n", 0, start) + 1
            end = start + width if width else node.end_mark.index
            line_end = self.text.find("\n", start)
            end = min(end, len(self.text) if line_end == -1 else line_end)
        who = f"entry `{entry_id}`" if entry_id else "the table"
        error = TableError(f"{self.path}:{line}: {who}, field `{field_name}`: {message}",
                           self.text if node is not None else None,
                           (start, max(end, start + 1)) if node is not None else None, hint)
        error.file, error.entry_id, error.field, error.table_line = (
            self.path, entry_id, field_name, line)
        return error


class _Mapping:
    """A YAML mapping node: values by key, with the nodes for error positions."""

    def __init__(self, src: _Source, node: yaml.MappingNode, entry_id: str | None,
                 allowed: tuple[str, ...], what: str) -> None:
        self.src, self.node, self.entry_id = src, node, entry_id
        self.values: dict[str, yaml.Node] = {}
        self.keys: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise src.error(key_node, entry_id, "?", f"{what} keys are plain words")
            if key in self.values:
                raise src.error(key_node, entry_id, key, f"`{key}` is given twice")
            self.values[key], self.keys[key] = value_node, key_node
        for key, key_node in self.keys.items():
            if key not in allowed:
                raise src.error(key_node, entry_id, key,
                                f"unknown key `{key}` in {what}",
                                hint=f"{what} keys are: {', '.join(allowed)}")

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def node_of(self, key: str) -> yaml.Node:
        return self.values.get(key, self.node)

    def text(self, key: str, required: bool = False, expression: bool = False) -> str | None:
        """A scalar field as written (numbers and words alike); None if absent."""
        node = self.values.get(key)
        if node is None:
            if required:
                raise self.src.error(self.node, self.entry_id, key,
                                     f"missing `{key}`")
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            what = "an expression" if expression else "a single value"
            raise self.src.error(node, self.entry_id, key, f"`{key}` must be {what}",
                                 hint="quote an expression that starts with `[`, `{`, "
                                      "`|` or `-`, or contains `: ` or ` #`")
        if not node.value.strip():
            raise self.src.error(node, self.entry_id, key, f"`{key}` is empty")
        return node.value.strip()

    def boolean(self, key: str) -> bool:
        return self.flag(key)

    def flag(self, key: str) -> bool:
        node = self.values.get(key)
        if node is None:
            raise self.src.error(self.node, self.entry_id, key, f"missing `{key}`",
                                 hint=f"write `{key}: true` or `{key}: false`")
        if not (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool"):
            raise self.src.error(node, self.entry_id, key, f"`{key}` is true or false")
        return node.value.lower() in ("true", "yes", "on")


# A table nests a few levels (table, identities, entry, where); YAML's composer recurses
# once per level, so deeper text is refused before it is composed.
MAX_NESTING = 32
CORE_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in
                      ("str", "int", "float", "bool", "null", "seq", "map")) | {"!"}


def _compose(src: _Source) -> yaml.Node:
    """The node tree of a table, through a bounded reader: nesting past MAX_NESTING, a tag
    other than YAML's core ones (`!!python/object`, `!foo`) and aliases that expand past
    the file's own size are TableErrors, found before anything is built from them."""
    try:
        _check_events(src)
        root = yaml.compose(src.text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(filter(None, [error.context, error.problem]))
        err = TableError(f"{src.path}:{line}: the table, field `(yaml)`: not valid YAML: "
                         f"{problem}", src.text, (mark.index, mark.index + 1) if mark else None)
        err.file, err.entry_id, err.field, err.table_line = src.path, None, "(yaml)", line
        raise err from None
    except yaml.YAMLError as error:
        raise src.error(None, None, "(yaml)", f"not valid YAML: {error}") from None
    if not isinstance(root, yaml.MappingNode):
        raise src.error(root, None, "table", "a table is a mapping with `identities:`")
    _check_expansion(src, root)
    return root


def _check_events(src: _Source) -> None:
    """Nesting and tags, from YAML's event stream (read without recursion)."""
    depth = 0
    for event in yaml.parse(src.text, Loader=yaml.SafeLoader):
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in CORE_TAGS:
            raise _event_error(src, event, f"the tag `{tag}` is not read in a table: "
                                           "write plain YAML values")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise _event_error(src, event, f"the YAML is nested more than "
                                               f"{MAX_NESTING} levels deep")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _event_error(src: _Source, event, message: str) -> TableError:
    mark = event.start_mark
    node = yaml.ScalarNode("tag:yaml.org,2002:str", "", mark, event.end_mark)
    return src.error(node, None, "(yaml)", message, width=1)


def _check_expansion(src: _Source, root: yaml.Node) -> None:
    """Aliases share nodes; what reads the table walks them once per use. Refuse a tree
    whose nodes, counted once per use, outnumber the characters of the file."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if children_done or not children:
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[id(node)] > max(len(src.text), 1):
                raise src.error(root, None, "(yaml)", "its aliases expand past the file's "
                                                      "own size: write the entries out")
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _where_dict(src: _Source, node: yaml.Node, entry_id: str | None) -> dict[str, str]:
    """`{A: symmetric, "n, m": scalar}` or `"n, m: scalar; A: symmetric"` -> by name."""
    pairs: list[tuple[str, str]] = []
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(value_node, (yaml.ScalarNode, yaml.SequenceNode)):
                raise src.error(value_node, entry_id, "where", "a declaration is words")
            words = (value_node.value if isinstance(value_node, yaml.ScalarNode)
                     else " ".join(v.value for v in value_node.value))
            pairs.append((str(key_node.value), str(words)))
    elif isinstance(node, yaml.ScalarNode) and node.value.strip():
        for chunk in node.value.split(";"):
            if chunk.strip():
                if ":" not in chunk:
                    raise src.error(node, entry_id, "where",
                                    "a `where` entry is `names: words`, e.g. `A: symmetric`")
                names, words = chunk.split(":", 1)
                pairs.append((names, words))
    else:
        raise src.error(node, entry_id, "where",
                        "`where` is a mapping such as `{A: symmetric}` or a string")
    out: dict[str, str] = {}
    for names, words in pairs:
        for name in names.split(","):
            if name.strip():
                out[name.strip()] = words.strip()
    try:
        parse_where(out)
    except MatrixCalcError as error:
        raise src.error(node, entry_id, "where", error.message, hint=error.hint) from None
    return out


def _parse_field(src: _Source, fields: _Mapping, key: str, where: dict[str, str],
                 blame_where: bool = True) -> Expr:
    text = fields.text(key, required=True, expression=True)
    node = fields.values[key]
    try:
        return parse_quietly(text, where)
    except ShapeError as error:
        if where and blame_where:
            try:
                parse_quietly(text, None)
            except MatrixCalcError:
                pass
            else:
                blamed = fields.values.get("where") or src.where_node or node
                raise src.error(blamed, fields.entry_id, "where",
                                f"a declaration contradicts the shapes of `{key}`: "
                                f"{error.message}") from None
        raise _expression_error(src, node, fields.entry_id, key, error) from None
    except MatrixCalcError as error:
        raise _expression_error(src, node, fields.entry_id, key, error) from None


def _expression_error(src: _Source, node: yaml.Node, entry_id: str | None, key: str,
                      error: MatrixCalcError) -> TableError:
    """The inner error re-anchored in the YAML file, caret on the spot where possible."""
    offset, width = 0, None
    raw = src.text[node.start_mark.index:node.end_mark.index]
    if error.span is not None and "\n" not in raw:
        quote = 1 if node.style in ("'", '"') else 0
        if node.style in (None, "'", '"'):
            lead = len(raw) - len(raw.lstrip()) if quote == 0 else 0
            offset = quote + lead + error.span[0]
            width = max(1, error.span[1] - error.span[0])
    what = "does not parse" if error.kind == "parse error" else error.kind
    return src.error(node, entry_id, key, f"`{node.value.strip()}` {what}: {error.message}",
                     hint=error.hint, offset=offset, width=width)
