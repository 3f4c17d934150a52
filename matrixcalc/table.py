"""YAML identity tables (SPEC section 6): load, validate, verify, extend the engine.

A table is read with YAML's safe composer only (`yaml.compose` with `SafeLoader`): the
node tree carries the line of every entry and field, so a malformed table is refused
whole with a `TableError` naming the file, the line, the entry's id and the field. No
user text is ever passed to `eval` or `exec`: expressions go through `matrixcalc.parse`.

Schema (keys outside these sets are refused):
- top level: `table` (name; default the file's stem), `source`, `description`, `where`
  (defaults for every entry: a mapping `{A: symmetric, "n, m": scalar}` or a `where`
  string), `identities` (a list), `functions` (a list);
- an identity: `id` (unique), exactly one of `derivative` (with `wrt`), `hessian` (with
  `wrt`) or `lhs`, then `equals`; optional `where` (overrides the table's per symbol),
  `ref` (e.g. a Matrix Cookbook equation number), `source` (overrides the table's), `note`;
- a function: `name`, `elementwise` (true/false), `derivative`, optional `definition`,
  `argument` (`vector` or `matrix`, non-elementwise only; default `vector`), `domain`
  (`real`, `positive`, `nonzero`; where the checker samples its argument), `source`, `note`.
  An elementwise function's expressions are scalar expressions of `x`; `derivative` is
  f'(x). A non-elementwise function maps `x` (its `argument` kind) to a scalar, and its
  `derivative` is the gradient with respect to `x`, shaped like `x`. A `definition` is
  checked against the rule numerically on load (torch.autograd); without one the function
  can be differentiated but not evaluated.

Invariant: a table that fails validation leaves the operator table and the derivative
rules exactly as they were (registrations are rolled back).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sympy
import yaml

from . import build, diff
from .check import Verdict, check, verify
from .declarations import parse_where
from .errors import MatrixCalcError, ShapeError, TableError, UnsupportedError, UsageError
from .expr import Apply, Const, Expr, Number, Symbol, walk
from .ops import FUNCTIONS, REGISTRY, OpSpec, register
from .ops.elementwise import elementwise
from .ops.spec import ATOM, call_latex, call_text
from .parse import Statement, parse, parse_statement
from .resources import identities_folder
from .shapes import SCALAR

TOP_KEYS = ("table", "source", "description", "where", "identities", "functions")
ENTRY_KEYS = ("id", "derivative", "hessian", "lhs", "wrt", "equals", "where", "ref",
              "source", "note", "structured")
FUNCTION_KEYS = ("name", "elementwise", "argument", "definition", "derivative", "domain",
                 "source", "note")
FORMS = ("derivative", "hessian", "lhs")
ARGUMENT_KINDS = ("vector", "matrix")
FUNCTION_DOMAINS = ("real", "positive", "nonzero")
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*\Z")
NAME_PATTERN = re.compile(r"[A-Za-z\u0370-\u03ff][A-Za-z0-9_\u0370-\u03ff]*\Z")
DEFAULT_TRIALS = 3
RULE_TRIALS = 8  # points at which a user function's rule is checked on load
# Scalar operators that act entry by entry when their operands are arrays.
POINTWISE = frozenset({"add", "neg", "mul", "div", "power"})


# -- what a table holds --------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One identity: `kind` is "derivative", "hessian" or "equality"."""

    id: str
    kind: str
    expr: str
    equals: str
    wrt: str | None
    where: dict[str, str]
    ref: str
    source: str
    note: str
    line: int
    structured: bool = False  # the Matrix Cookbook's section 2.8 derivative

    @property
    def statement(self) -> str:
        """The claim as `mc.verify` reads it (a Hessian reads `d2/dx2 F = H`)."""
        if self.structured:
            return f"d/d{self.wrt} {self.expr} = {self.equals} (structured)"
        if self.kind == "derivative":
            return f"d/d{self.wrt} {self.expr} = {self.equals}"
        if self.kind == "hessian":
            return f"d2/d{self.wrt}2 {self.expr} = {self.equals}"
        return f"{self.expr} = {self.equals}"


@dataclass(frozen=True)
class Function:
    name: str
    elementwise: bool
    argument: str  # "scalar" for elementwise functions
    derivative: str
    definition: str | None
    domain: str
    source: str
    line: int


@dataclass(frozen=True)
class Result:
    """How one entry fared: its verdict, and whether the engine itself derived it.

    `engine` is "derived" when derive/simplify produced a canonical form for the left
    side (whether or not it matched the right one), else the engine's reason
    ("unsupported: ..."). `error` is set when the numeric check itself could not run.
    """

    entry: Entry
    verdict: Verdict
    engine: str
    error: str = ""

    @property
    def status(self) -> str:
        """"symbolic", "numeric", "fails" or "error"."""
        if self.error:
            return "error"
        if not self.verdict.holds:
            return "fails"
        return self.verdict.how

    @property
    def unsupported(self) -> bool:
        return self.engine != "derived"


@dataclass
class Table:
    name: str
    source: str
    path: str
    entries: list[Entry] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    description: str = ""

    def __len__(self) -> int:
        return len(self.entries)

    def results(self, trials: int = DEFAULT_TRIALS, seed: int | None = None,
                progress: Callable[[int, int, Entry], None] | None = None) -> list[Result]:
        """Verify every entry (symbolically where canonical forms agree, else
        numerically); `progress(done, total, entry)` is called before each one."""
        out = []
        for index, entry in enumerate(self.entries):
            if progress is not None:
                progress(index, len(self.entries), entry)
            out.append(verify_entry(entry, trials, seed))
        if progress is not None and self.entries:
            progress(len(self.entries), len(self.entries), self.entries[-1])
        return out

    def verify(self, trials: int = DEFAULT_TRIALS, seed: int | None = None) -> list[Verdict]:
        """One Verdict per entry, in order (SPEC section 5)."""
        return [r.verdict for r in self.results(trials, seed)]


# -- verification --------------------------------------------------------------------------

def _entry_seed(entry: Entry, seed: int | None) -> int:
    base = zlib.crc32(entry.id.encode()) % (2**31 - 2**16)
    return base if seed is None else (base + seed) % (2**31 - 2**16)


def _canonical_match(entry: Entry, stmt: Statement) -> tuple[bool, str]:
    """(left and right have identical canonical forms, what the engine managed)."""
    from .calculus import derive, hessian, simplify
    try:
        left = stmt.lhs
        if entry.kind == "derivative":
            left = derive(stmt.lhs, entry.wrt, where=entry.where, structured=entry.structured)
        elif entry.kind == "hessian":
            left = hessian(stmt.lhs, entry.wrt, where=entry.where)
        left = simplify(left, where=entry.where)
    except MatrixCalcError as error:
        return False, f"unsupported: {error.message}"
    try:
        return left == simplify(stmt.rhs, where=entry.where), "derived"
    except MatrixCalcError as error:
        return False, f"unsupported (right side): {error.message}"


def verify_entry(entry: Entry, trials: int = DEFAULT_TRIALS,
                 seed: int | None = None) -> Result:
    """The entry's verdict: numeric truth from `mc.verify` / `mc.check`, and "symbolic"
    when the engine's canonical forms of both sides agree."""
    point = _entry_seed(entry, seed)
    stmt = _typed_statement(entry)
    symbolic, engine = _canonical_match(entry, stmt)
    try:
        if entry.kind == "hessian":
            report = check(stmt.lhs, entry.wrt, result=stmt.rhs, where=entry.where,
                           trials=trials, order=2, seed=point)
            verdict = Verdict(report.ok, "numeric", report.counterexample, entry.statement,
                              report.trials, report.max_error, report.sizes, report.seed)
        elif entry.structured:
            verdict = verify(_structured_claim(entry), where=entry.where, trials=trials,
                             seed=point)
            verdict = replace(verdict, statement=entry.statement)
        else:
            verdict = verify(entry.statement, where=entry.where, trials=trials, seed=point)
    except MatrixCalcError as error:
        verdict = Verdict(False, "numeric", None, entry.statement, trials)
        return Result(entry, verdict, engine, f"{error.kind}: {error.message}")
    if verdict.holds and symbolic and verdict.how != "symbolic":
        verdict = replace(verdict, how="symbolic")
    return Result(entry, verdict, engine)


def _structured_claim(entry: Entry) -> str:
    """The structured claim S as an unstructured one autograd can judge: at a symmetric X,
    the gradient of f((X + X^T)/2) is sym(G) = (G + G^T)/2, and S = G + G^T - I ⊙ G
    (Matrix Cookbook section 2.8.2) is sym(G) doubled off the diagonal: sym(G) =
    (S + S ⊙ I)/2."""
    from .calculus import retype
    f = parse(entry.expr, entry.where)
    (x,) = [s for s in f.symbols() if s.name == entry.wrt]
    half = parse(f"1/2 ({entry.wrt} + {entry.wrt}^T)", {**entry.where, entry.wrt: "matrix"})
    half = replace(half, ty=None)
    symmetrized = retype(substitute(f, entry.wrt, _untyped(half)), dict(f.shapes))
    return f"d/d{entry.wrt} {symmetrized} = 1/2 ({entry.equals}) + 1/2 ({entry.equals}) ⊙ I"


def _typed_statement(entry: Entry, where: dict[str, str] | None = None) -> Statement:
    where = entry.where if where is None else where
    if entry.structured:
        return replace(parse_statement(f"d/d{entry.wrt} {entry.expr} = {entry.equals}",
                                       where), text=entry.statement)
    if entry.kind == "hessian":
        stmt = parse_statement(f"d/d{entry.wrt} {entry.expr} = {entry.equals}", where)
        return replace(stmt, kind="hessian", text=entry.statement)
    return parse_statement(entry.statement, where)


def _shape_check(entry: Entry, where: dict[str, str]) -> None:
    """Both sides typed together; a derivative's claim shaped as SPEC section 3 says."""
    from .check import _build_claim, _equality
    stmt = _typed_statement(entry, where)
    if entry.kind == "equality":
        _equality(stmt)
    else:
        _build_claim(stmt.lhs, [stmt.wrt], [stmt.rhs], 2 if entry.kind == "hessian" else 1,
                     stmt.text, shared=True)


# -- finding tables ------------------------------------------------------------------------

def tables() -> list[str]:
    """The names of the built-in tables (the files in identities/), sorted."""
    folder = identities_folder()
    return sorted(item.name[:-5] for item in folder.iterdir()
                  if item.name.endswith(".yaml"))


def load_table(name_or_path: str | Path) -> Table:
    """A built-in table by name (`mc.tables()`), or a YAML file by path."""
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix in (".yaml", ".yml") or path.exists() or "/" in text_name:
        if not path.is_file():
            raise UsageError(f"no table file `{text_name}`")
        return load_text(path.read_text(encoding="utf-8"), str(path))
    if text_name not in tables():
        raise UsageError(f"no built-in table `{text_name}`",
                         hint=f"the built-in tables are: {', '.join(tables())}")
    resource = identities_folder().joinpath(f"{text_name}.yaml")
    return load_text(resource.read_text(encoding="utf-8"), f"identities/{text_name}.yaml")


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


def _compose(src: _Source) -> yaml.Node:
    try:
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
    return root


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


# -- loading -------------------------------------------------------------------------------

def load_text(text: str, path: str = "<table>") -> Table:
    """Validate and load a table from its YAML text; register its functions."""
    src = _Source(path, text)
    top = _Mapping(src, _compose(src), None, TOP_KEYS, "a table")
    name = top.text("table") or Path(path).stem
    source = top.text("source") or ""
    table_where = {}
    if "where" in top:
        src.where_node = top.values["where"]
        table_where = _where_dict(src, src.where_node, None)
    table = Table(name, source, path, description=top.text("description") or "")
    with _registrations() as registry:
        if "functions" in top:
            for node in _items(src, top, "functions"):
                function = _load_function(src, node, source, registry)
                table.functions.append(function)
        if "identities" not in top and not table.functions:
            raise src.error(top.node, None, "identities", "missing `identities`")
        seen: dict[str, int] = {}
        if "identities" in top:
            for node in _items(src, top, "identities"):
                entry = _load_entry(src, node, table_where, source, seen)
                table.entries.append(entry)
    return table


def _items(src: _Source, top: _Mapping, key: str) -> list[yaml.MappingNode]:
    node = top.values[key]
    if not isinstance(node, yaml.SequenceNode):
        raise src.error(node, None, key, f"`{key}` is a list of entries (`- id: ...`)")
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            raise src.error(item, None, key, "each entry is a mapping of fields")
    return node.value


def _load_entry(src: _Source, node: yaml.MappingNode, table_where: dict[str, str],
                table_source: str, seen: dict[str, int]) -> Entry:
    id_node = next((v for k, v in node.value if getattr(k, "value", None) == "id"), None)
    entry_id = id_node.value if isinstance(id_node, yaml.ScalarNode) else None
    fields = _Mapping(src, node, entry_id, ENTRY_KEYS, "an identity")
    entry_id = fields.text("id", required=True)
    if not ID_PATTERN.match(entry_id):
        raise src.error(fields.node_of("id"), entry_id, "id",
                        "an id is letters, digits and `_ . + -`")
    line = fields.node_of("id").start_mark.line + 1
    if entry_id in seen:
        raise src.error(fields.node_of("id"), entry_id, "id",
                        f"duplicate id: `{entry_id}` is also the id on line {seen[entry_id]}")
    seen[entry_id] = line
    forms = [f for f in FORMS if f in fields]
    if len(forms) != 1:
        field_name = forms[1] if len(forms) > 1 else "derivative"
        raise src.error(fields.node_of(field_name), entry_id, field_name,
                        "an identity has exactly one of `derivative` (with `wrt`), "
                        "`hessian` (with `wrt`) or `lhs`")
    form = forms[0]
    expr = fields.text(form, required=True, expression=True)
    equals = fields.text("equals", required=True, expression=True)
    wrt = fields.text("wrt")
    if form == "lhs" and wrt is not None:
        raise src.error(fields.node_of("wrt"), entry_id, "wrt",
                        "`wrt` goes with `derivative` or `hessian`, not with `lhs`")
    if form != "lhs" and wrt is None:
        raise src.error(fields.node, entry_id, "wrt", f"missing `wrt` for `{form}`")
    where = dict(table_where)
    if "where" in fields:
        where.update(_where_dict(src, fields.values["where"], entry_id))
    structured = fields.boolean("structured") if "structured" in fields else False
    if structured and form != "derivative":
        raise src.error(fields.node_of("structured"), entry_id, "structured",
                        "`structured` goes with `derivative` only")
    entry = Entry(entry_id, "equality" if form == "lhs" else form, expr, equals, wrt, where,
                  fields.text("ref") or "", fields.text("source") or table_source,
                  fields.text("note") or "", line, structured)
    _validate_entry(src, fields, entry, form)
    return entry


def _validate_entry(src: _Source, fields: _Mapping, entry: Entry, form: str) -> None:
    """Each side parses; `wrt` occurs; the declarations fit; the sides' shapes agree."""
    typed = {}
    for key in (form, "equals"):
        typed[key] = _parse_field(src, fields, key, entry.where)
    if entry.wrt is not None:
        wrt_node = fields.node_of("wrt")
        if not NAME_PATTERN.match(entry.wrt) or entry.wrt in ("I", "ones"):
            raise src.error(wrt_node, entry.id, "wrt", f"`{entry.wrt}` is not a symbol name")
        if entry.wrt not in {s.name for s in typed[form].symbols()}:
            raise src.error(wrt_node, entry.id, "wrt",
                            f"`{entry.wrt}` does not occur in `{entry.expr}`")
    try:
        _shape_check(entry, entry.where)
    except ShapeError as error:
        if entry.where and _fits_without_declarations(entry):
            raise _where_error(src, fields, entry, error) from None
        raise src.error(fields.node_of("equals"), entry.id, "equals",
                        f"the two sides do not fit: {error.message}", hint=error.hint) from None
    except MatrixCalcError as error:
        raise src.error(fields.node_of("equals"), entry.id, "equals", error.message,
                        hint=error.hint) from None


def _fits_without_declarations(entry: Entry) -> bool:
    try:
        _shape_check(entry, {})
    except MatrixCalcError:
        return False
    return True


def _where_error(src: _Source, fields: _Mapping, entry: Entry,
                 error: MatrixCalcError) -> TableError:
    node = fields.values.get("where") or src.where_node or fields.node
    return src.error(node, entry.id, "where",
                     f"a declaration contradicts the expression's shapes: {error.message}",
                     hint="remove or change the declaration")


def _parse_field(src: _Source, fields: _Mapping, key: str, where: dict[str, str],
                 blame_where: bool = True) -> Expr:
    text = fields.text(key, required=True, expression=True)
    node = fields.values[key]
    try:
        return parse(text, where)
    except ShapeError as error:
        if where and blame_where:
            try:
                parse(text, None)
            except MatrixCalcError:
                pass
            else:
                raise src.error(fields.values.get("where") or src.where_node or node, fields.entry_id, "where",
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


# -- user functions ------------------------------------------------------------------------

_USER_FUNCTIONS: dict[str, Function] = {}  # registered by tables, by name


@contextmanager
def _registrations() -> Iterator[dict]:
    """Record every change to the operator table and the rules; undo them on failure."""
    from .index import lower
    saved = (dict(REGISTRY), dict(FUNCTIONS), dict(diff.RULES),
             dict(diff.ELEMENTWISE_DERIVATIVES), dict(_USER_FUNCTIONS))
    opaque = lower.OPAQUE
    record: dict = {}
    try:
        yield record
    except BaseException:
        lower.OPAQUE = opaque
        for live, old in zip((REGISTRY, FUNCTIONS, diff.RULES, diff.ELEMENTWISE_DERIVATIVES,
                              _USER_FUNCTIONS), saved):
            live.clear()
            live.update(old)
        raise


def _load_function(src: _Source, node: yaml.MappingNode, table_source: str,
                   registry: dict) -> Function:
    name_node = next((v for k, v in node.value if getattr(k, "value", None) == "name"), None)
    name = name_node.value if isinstance(name_node, yaml.ScalarNode) else None
    fields = _Mapping(src, node, name, FUNCTION_KEYS, "a function")
    name = fields.text("name", required=True)
    if not NAME_PATTERN.match(name):
        raise src.error(fields.node_of("name"), name, "name",
                        "a function name is a letter followed by letters, digits or `_`")
    if (name in REGISTRY or name in FUNCTIONS) and name not in _USER_FUNCTIONS:
        raise src.error(fields.node_of("name"), name, "name",
                        f"`{name}` is a built-in operator; choose another name")
    if name in registry:
        raise src.error(fields.node_of("name"), name, "name",
                        f"`{name}` is defined twice in this table")
    is_elementwise = fields.flag("elementwise")
    argument = "scalar"
    if "argument" in fields:
        argument = fields.text("argument")
        if is_elementwise or argument not in ARGUMENT_KINDS:
            raise src.error(fields.node_of("argument"), name, "argument",
                            "`argument` is `vector` or `matrix`, for a non-elementwise "
                            "function only")
    elif not is_elementwise:
        argument = "vector"
    domain = fields.text("domain") or "real"
    if domain not in FUNCTION_DOMAINS:
        raise src.error(fields.node_of("domain"), name, "domain",
                        f"`domain` is one of {', '.join(FUNCTION_DOMAINS)}")
    function = Function(name, is_elementwise, argument,
                        fields.text("derivative", required=True, expression=True),
                        fields.text("definition", expression=True), domain,
                        fields.text("source") or table_source or f"table {src.path}",
                        fields.node.start_mark.line + 1)
    where = {"x": argument}
    derivative = _function_expr(src, fields, function, "derivative", where)
    definition = (_function_expr(src, fields, function, "definition", where)
                  if function.definition else None)
    _check_function_shapes(src, fields, function, derivative, definition)
    if definition is not None:
        _check_rule(src, fields, function, derivative, definition)
    _register(function, derivative, definition)
    registry[name] = function
    return function


def _function_expr(src: _Source, fields: _Mapping, function: Function, key: str,
                   where: dict[str, str]) -> Expr:
    expr = _parse_field(src, fields, key, where, blame_where=False)
    node = fields.values[key]
    for sub in walk(expr):
        if isinstance(sub, Symbol) and sub.name != "x":
            raise src.error(node, function.name, key,
                            f"uses `{sub.name}`; a function's expressions use only its "
                            f"argument `x`")
        if function.elementwise and isinstance(sub, Const):
            raise src.error(node, function.name, key,
                            f"`{sub.name}` has no place in a scalar expression of `x`")
        if (function.elementwise and isinstance(sub, Apply) and sub.op == "power"
                and any(isinstance(n, Symbol) for n in walk(sub.args[1]))):
            raise src.error(node, function.name, key, "an exponent cannot depend on `x`")
        if function.elementwise and isinstance(sub, Apply) and not _pointwise(sub.op):
            raise src.error(node, function.name, key,
                            f"`{sub.op}` does not act entry by entry; an elementwise "
                            f"function's expressions use + - * / ^ and elementwise "
                            f"functions of `x`")
    return expr


def _pointwise(op: str) -> bool:
    spec = REGISTRY.get(op)
    return op in POINTWISE or (spec is not None and "elementwise" in spec.flags
                               and spec.arity == 1)


def _check_function_shapes(src: _Source, fields: _Mapping, function: Function,
                           derivative: Expr, definition: Expr | None) -> None:
    if definition is not None and not definition.ty.is_scalar:
        raise src.error(fields.node_of("definition"), function.name, "definition",
                        f"the definition is {definition.ty.describe()}; a table's "
                        f"function has a scalar value")
    expected = "a scalar (f'(x))" if function.elementwise else \
        f"shaped like x, a {function.argument} (the gradient)"
    try:
        combined = parse(f"x + ({function.derivative})", {"x": function.argument})
        fits = combined.ty.kind == function.argument
    except MatrixCalcError:
        fits = False
    if not fits:
        raise src.error(fields.node_of("derivative"), function.name, "derivative",
                        f"the derivative has the wrong shape: it is "
                        f"{derivative.ty.describe()}, expected {expected}")


def _check_rule(src: _Source, fields: _Mapping, function: Function, derivative: Expr,
                definition: Expr) -> None:
    """The rule against torch.autograd of the definition, at RULE_TRIALS points."""
    seed = zlib.crc32(function.name.encode()) % 2**30
    try:
        report = check(definition, "x", result=derivative, where={"x": function.argument},
                       trials=RULE_TRIALS, seed=seed)
    except MatrixCalcError as error:
        raise src.error(fields.node_of("derivative"), function.name, "derivative",
                        f"the rule could not be checked: {error.message}") from None
    if not report.ok:
        raise src.error(fields.node_of("derivative"), function.name, "derivative",
                        f"the derivative does not match the definition (autograd): "
                        f"{report.counterexample}")


def _register(function: Function, derivative: Expr, definition: Expr | None) -> None:
    from .index import lower
    name = function.name
    # lowering keeps the function whole as a factor; its rule is in diff.RULES
    lower.OPAQUE = lower.OPAQUE | {name}
    _USER_FUNCTIONS[name] = function
    evaluate = _evaluator(function, definition)
    source = f"{function.source}: {name}' = {function.derivative}"
    if function.elementwise:
        REGISTRY.pop(name, None)  # a table loaded again replaces its own function
        elementwise(name, lambda B, x: evaluate(B, x), domain=function.domain, source=source)
        diff.ELEMENTWISE_DERIVATIVES[name] = lambda m: _elementwise_derivative(derivative, m)
        diff.RULES[name] = diff.elementwise_rule
        return
    kind = function.argument

    def shape(ctx, node, types):
        if types[0].kind != kind:
            ctx.fail(f"{name} takes a {kind}, not {ctx.describe(types[0])}", node)
        return SCALAR

    register(OpSpec(name, 1, ATOM, text=call_text(name),
                    latex=call_latex(rf"\operatorname{{{name}}}"), shape=shape,
                    evaluate=lambda B, node, x: evaluate(B, x), call_names=(name,),
                    domains=(function.domain,), source=source), replace=True)
    diff.RULES[name] = _gradient_rule(derivative)


def _evaluator(function: Function, definition: Expr | None) -> Callable:
    if definition is None:
        def unsupported(B, x):
            raise UnsupportedError(f"`{function.name}` has no `definition` in its table, so "
                                   f"it cannot be evaluated",
                                   hint="add `definition:` to the function's entry")
        return unsupported
    if function.elementwise:
        untyped = _untyped(definition)  # scalar ops broadcast entry by entry
        return lambda B, x: _run(untyped, {"x": x}, B, lambda dim: 1)
    (x_symbol,) = [s for s in definition.symbols() if s.name == "x"] or [None]

    def evaluate(B, x):
        sizes: dict = {}
        if x_symbol is not None:
            for dim, size in zip((x_symbol.info.rows, x_symbol.info.cols), tuple(x.shape)):
                for atom in dim:
                    sizes[atom] = size
        size_of = lambda dim: _product(dim, sizes)  # noqa: E731
        return _run(definition, {"x": x}, B, size_of).reshape(1, 1)
    return evaluate


def _run(expr: Expr, env: dict, B, size_of) -> Any:
    from .numeric import run
    return run(expr, env, B, size_of)


def _product(dim, sizes: dict) -> int:
    total = 1
    for atom in dim:
        total *= atom if isinstance(atom, int) else sizes[atom]
    return total


def _untyped(e: Expr) -> Expr:
    if isinstance(e, Apply):
        return replace(e, args=tuple(_untyped(a) for a in e.args), ty=None)
    return replace(e, ty=None)


# -- substitution: x := an argument ----------------------------------------------------

def substitute(e: Expr, name: str, value: Expr) -> Expr:
    """e with the symbol `name` replaced by `value`, rebuilt bottom-up (shapes dropped:
    re-type with `matrixcalc.calculus.retype`)."""
    if isinstance(e, Symbol):
        return value if e.name == name else e
    if isinstance(e, Apply):
        return replace(e, args=tuple(substitute(a, name, value) for a in e.args), ty=None)
    return e


def lift(e: Expr, value: Expr) -> Expr:
    """A scalar expression of x as the elementwise expression of `value` (x := value):
    products of arrays become Hadamard products, quotients elementwise, powers `.^`."""
    if isinstance(e, Symbol):
        return value
    if not isinstance(e, Apply):
        return e
    args = [lift(a, value) for a in e.args]
    arrays = [not a.ty.is_scalar for a in args]
    if e.op == "mul" and all(arrays):
        return build.apply("hadamard", *args)
    if e.op == "mul":
        return build.product(*args)
    if e.op == "div" and arrays[1]:
        inverse = build.apply("epow", args[1], build.num(-1))
        if isinstance(args[0], Number) and args[0].value == 1:
            return inverse
        return build.apply("hadamard" if arrays[0] else "mul", args[0], inverse)
    if e.op == "power" and arrays[0]:
        return build.apply("epow", *args)
    return build.apply(e.op, *args, attrs=e.attrs)


def _elementwise_derivative(derivative: Expr, m: Expr):
    """f'(M) as (coefficient, factors multiplied elementwise), like the built-ins."""
    coeff: Any = sympy.Integer(1)
    factors = []
    for part in build.factors_of(derivative):
        sign, part = build.strip_sign(part) if part.ty.is_scalar else (1, part)
        coeff *= sign
        if isinstance(part, Number):
            coeff *= sympy.Rational(part.value.numerator, part.value.denominator)
        else:
            factors.append(lift(part, m))
    if not factors:
        return None if coeff == 0 else (coeff, [])
    return coeff, factors


def _gradient_rule(gradient: Expr):
    """d f(z) = g(z) : dz, with g the table's gradient expression and z the argument."""
    def rule(d, e, idx):
        from .calculus import retype
        from .index.ir import multiply
        from .index.lower import factor
        (z,) = e.args
        known = dict(z.shapes)
        g = retype(substitute(gradient, "x", z), known, z.ty)
        inner = (d.fresh() if z.ty.rows else None, d.fresh() if z.ty.cols else None)
        return multiply(diff.single(factor(g, inner)), d.expr(z, inner))
    return rule


__all__ = ["Entry", "Function", "Result", "Table", "lift", "load_table", "load_text",
           "substitute", "tables", "verify_entry"]
