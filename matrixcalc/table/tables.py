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
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from ..errors import MatrixCalcError, ShapeError, TableError, UsageError
from ..language.expr import substituted, untyped
from ..language.parse import Statement, parse_quietly, parse_statement
from ..numbers.check import check, verify
from ..numbers.reports import Verdict
from ..resources import identities_folder
from ..guard import public
from .functions import Function, _load_function, _registrations, unchecked_functions
from ..language.declarations import NAME_PATTERN
from .yaml_nodes import _compose, _Mapping, _parse_field, _Source, _where_dict

TOP_KEYS = ("table", "source", "description", "where", "identities", "functions")
ENTRY_KEYS = ("id", "derivative", "hessian", "lhs", "wrt", "equals", "where", "ref",
              "source", "note", "structured")
FORMS = ("derivative", "hessian", "lhs")
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*\Z")
DEFAULT_TRIALS = 3
# Scalar operators that act entry by entry when their operands are arrays.


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
    unchecked: tuple[str, ...] = ()  # user functions it uses whose rule was never checked

    @property
    def note(self) -> str:
        """What a reader of the verdict should know: an unchecked rule it rests on."""
        if not self.unchecked:
            return ""
        names = ", ".join(f"`{n}`" for n in self.unchecked)
        return (f"rests on the rule of {names}, unchecked: its table gives no "
                "`definition`")

    @property
    def status(self) -> str:
        """"symbolic" (two derivations count as symbolic), "numeric", "fails" or "error"."""
        if self.error:
            return "error"
        if not self.verdict.holds:
            return "fails"
        return "symbolic" if self.verdict.how == "two derivations" else self.verdict.how

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

    @property
    def unchecked(self) -> list[str]:
        """Its functions whose rule is unchecked (no `definition` to check it against)."""
        return [f.name for f in self.functions if not f.checked]

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

    @public
    def verify(self, trials: int = DEFAULT_TRIALS, seed: int | None = None) -> list[Verdict]:
        """One Verdict per entry, in order (SPEC section 5)."""
        return [r.verdict for r in self.results(trials, seed)]


# -- verification --------------------------------------------------------------------------

def _entry_seed(entry: Entry, seed: int | None) -> int:
    base = zlib.crc32(entry.id.encode()) % (2**31 - 2**16)
    return base if seed is None else (base + seed) % (2**31 - 2**16)


def _canonical_match(entry: Entry, stmt: Statement) -> tuple[bool, str]:
    """(left and right have identical canonical forms, what the engine managed)."""
    from ..calculus.derive import derive, hessian, simplify
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
    unchecked = unchecked_functions(stmt.lhs, stmt.rhs)
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
        return Result(entry, verdict, engine, f"{error.kind}: {error.message}", unchecked)
    if verdict.holds and symbolic and verdict.how not in ("symbolic", "two derivations"):
        verdict = replace(verdict, how="symbolic")
    return Result(entry, verdict, engine, unchecked=unchecked)


def _structured_claim(entry: Entry) -> str:
    """The structured claim S as an unstructured one autograd can judge: at a symmetric X,
    the gradient of f((X + X^T)/2) is sym(G) = (G + G^T)/2, and S = G + G^T - I ⊙ G
    (Matrix Cookbook section 2.8.2) is sym(G) doubled off the diagonal: sym(G) =
    (S + S ⊙ I)/2."""
    from ..calculus.derive import retype
    f = parse_quietly(entry.expr, entry.where)
    (x,) = [s for s in f.symbols() if s.name == entry.wrt]
    half = parse_quietly(f"1/2 ({entry.wrt} + {entry.wrt}^T)", {**entry.where, entry.wrt: "matrix"})
    half = replace(half, ty=None)
    symmetrized = retype(substituted(untyped(f), {entry.wrt: untyped(half)}), dict(f.shapes))
    return f"d/d{entry.wrt} {symmetrized} = 1/2 ({entry.equals}) + 1/2 ({entry.equals}) ⊙ I"


def _typed_statement(entry: Entry, where: dict[str, str] | None = None) -> Statement:
    where = entry.where if where is None else where
    if entry.structured:
        return replace(parse_statement(f"d/d{entry.wrt} {entry.expr} = {entry.equals}",
                                       where, warn=False), text=entry.statement)
    if entry.kind == "hessian":
        stmt = parse_statement(f"d/d{entry.wrt} {entry.expr} = {entry.equals}", where,
                               warn=False)
        return replace(stmt, kind="hessian", text=entry.statement)
    return parse_statement(entry.statement, where, warn=False)  # a table's kinds are its own


def _shape_check(entry: Entry, where: dict[str, str]) -> None:
    """Both sides typed together; a derivative's claim shaped as SPEC section 3 says."""
    from ..numbers.claims import _build_claim, _equality
    stmt = _typed_statement(entry, where)
    if entry.kind == "equality":
        _equality(stmt)
    else:
        _build_claim(stmt.lhs, [stmt.wrt], [stmt.rhs], 2 if entry.kind == "hessian" else 1,
                     stmt.text, shared=True)


# -- finding tables ------------------------------------------------------------------------

@public
def tables() -> list[str]:
    """The names of the built-in tables (the files in identities/), sorted."""
    folder = identities_folder()
    return sorted(item.name[:-5] for item in folder.iterdir()
                  if item.name.endswith(".yaml"))


@public
def load_table(name_or_path: str | Path) -> Table:
    """A built-in table by name (`mc.tables()`), or a YAML file by path."""
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix in (".yaml", ".yml") or path.exists() or "/" in text_name:
        if not path.is_file():
            raise UsageError(f"no table file `{text_name}`")
        return load_text(_utf8(path), str(path))
    if text_name not in tables():
        raise UsageError(f"no built-in table `{text_name}`",
                         hint=f"the built-in tables are: {', '.join(tables())}")
    resource = identities_folder().joinpath(f"{text_name}.yaml")
    return load_text(resource.read_text(encoding="utf-8"), f"identities/{text_name}.yaml")


def _utf8(path: Path) -> str:
    """A table file's text; a file that is not UTF-8 is a TableError naming the byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise TableError(f"{path}:{line}: the table, field `(file)`: not UTF-8 text (byte "
                         f"0x{data[error.start]:02x} at offset {error.start})",
                         hint="save the table as UTF-8") from None


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








__all__ = ["Entry", "Function", "Result", "Table", "load_table", "load_text", "tables",
           "verify_entry"]
