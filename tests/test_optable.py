"""The operator table (DESIGN principle 1): every record is complete, so no stage can
meet an operator it does not know how to handle."""

from __future__ import annotations

import pytest

import matrixcalc as mc
from matrixcalc.ops import FUNCTIONS, REGISTRY
from matrixcalc.ops.spec import ATOM, DOMAINS, SUM

RESOLVED = sorted(name for name, spec in REGISTRY.items() if not spec.syntax_only)
SYNTAX_ONLY = sorted(name for name, spec in REGISTRY.items() if spec.syntax_only)


def test_the_table_is_populated():
    # the built-in operators are registered on import
    assert len(RESOLVED) >= 30 and {"product", "caret", "bars", "diag"} <= set(SYNTAX_ONLY)


@pytest.mark.parametrize("name", RESOLVED)
def test_resolved_operator_record_is_complete(name):
    # a resolved operator has text, latex, shape, evaluate, a precedence and a source
    spec = REGISTRY[name]
    missing = [piece for piece in ("text", "latex", "shape")
               if not callable(getattr(spec, piece))]
    if not (callable(spec.evaluate) or spec.definition):  # or evaluated by its definition
        missing.append("evaluate")
    assert not missing, f"`{name}` lacks {missing}"
    assert isinstance(spec.prec, int) and SUM <= spec.prec <= ATOM, f"`{name}` prec"
    assert isinstance(spec.source, str) and spec.source.strip(), f"`{name}` has no source"


@pytest.mark.parametrize("name", RESOLVED)
def test_resolved_operator_domains_are_valid(name):
    # domains name sampling domains the checker knows, one for all or one per argument
    spec = REGISTRY[name]
    assert set(spec.domains) <= DOMAINS, f"`{name}`: unknown {set(spec.domains) - DOMAINS}"
    if spec.arity is None:
        # one domain for all arguments, or one for the first and one for the rest, as
        # OpSpec.domain_of reads them (dlogm(X, E1, …, Ek): X's, then the directions')
        assert len(spec.domains) <= 1 or (len(spec.domains) == 2 and spec.call_names), \
            f"`{name}` takes any number of arguments"
    else:
        assert len(spec.domains) in (0, 1, spec.arity), f"`{name}`: {spec.domains}"
        assert spec.arity >= 1 or (spec.arity == 0 and not spec.domains)  # π takes none


@pytest.mark.parametrize("name", SYNTAX_ONLY)
def test_syntax_only_record_elaborates(name):
    # a syntax form (product, caret, bars, ...) says how it becomes a resolved operator
    spec = REGISTRY[name]
    assert callable(spec.elaborate), f"`{name}` has no elaborate hook"
    assert spec.source.strip(), f"`{name}` has no source"


@pytest.mark.parametrize("call_name", sorted(FUNCTIONS))
def test_each_call_name_maps_back_to_its_record(call_name):
    # FUNCTIONS[name] is the record that lists name among its call spellings
    spec = FUNCTIONS[call_name]
    assert REGISTRY[spec.name] is spec
    assert call_name in spec.call_names


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_record_name_is_its_key(name):
    # REGISTRY is keyed by each record's own name
    assert REGISTRY[name].name == name


def test_register_refuses_a_clash():
    # registering a second operator under a taken name fails
    from matrixcalc.ops import register
    with pytest.raises(ValueError):
        register(REGISTRY["tr"])


def test_lookup_of_an_unknown_operator_is_a_typed_error():
    # no silent default: an unknown operator name raises UnsupportedError
    from matrixcalc.ops import lookup
    with pytest.raises(mc.UnsupportedError):
        lookup("no-such-operator")


@pytest.mark.parametrize("name", RESOLVED)
def test_every_resolved_operator_can_be_parsed_and_printed(name):
    # each resolved operator occurs in some parsed text, which prints back to itself
    text, where = SAMPLES.get(name, REGISTRY[name].example), REGISTRY[name].example_where
    e = mc.parse(text, where if name not in SAMPLES else None)
    assert name in {n.op for n in mc.language.expr.walk(e) if isinstance(n, mc.Apply)}
    assert mc.parse(str(e), where if name not in SAMPLES else None) == e
    assert e.latex()


SAMPLES = {
    "add": "x + y", "neg": "-x", "mul": "2 x", "matmul": "A x", "div": "x / 2",
    "hadamard": "x ⊙ y", "ediv": "x ./ y", "kron": "A ⊗ B", "transpose": "x^T",
    "tr": "tr(A)", "sum": "sum(x)", "mean": "mean(x)", "vec": "vec(X)",
    "commutation": "commutation(2, 3)", "unvec": "unvec(v, 2, 3)",
    "diag_matrix": "diag(x)", "diag_vector": "diag(X)", "bracket": "[α, β]",
    "inv": "X^-1", "matpow": "X^2", "power": "α^2", "det": "det(X)", "logdet": "logdet(X)",
    "norm2": "||x||", "norm1": "||x||_1", "normF": "||X||_F", "epow": "x.^2",
    "softmax": "softmax(z)", "logsumexp": "logsumexp(z)",
    **{f: f"{f}(x)" for f in ("exp", "log", "sin", "cos", "tanh", "sigmoid", "softplus",
                              "sqrt", "abs", "sign", "relu", "step")},
}


def test_samples_cover_the_table():
    # a new resolved operator needs a sample: above, or its record's example
    missing = [n for n in RESOLVED if n not in SAMPLES and not REGISTRY[n].example]
    assert not missing, missing
