"""What keeps derivation cost near the work (issue 19): shared subtrees are handled once.

Each shortcut is checked against the plain computation it stands for: the Hadamard
chain rule that reuses a chain's leading part against a sort of all the factors, the
remembered equality of trees against structural equality, the bit mask of what a tree
holds against a walk, the skipped re-inference against inference, the cheap sort key
against (text, structure). Deep nestings derive under the default limits, their results
checked against autograd.
"""

from __future__ import annotations

import pytest
import sympy
from derivative_cases import COOKBOOK, LESSON
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import network

import matrixcalc as mc
from matrixcalc.calculus import derive as derive_module
from matrixcalc.language import build
from matrixcalc.language.expr import Apply, Const, distinct_nodes, walk
from matrixcalc.language.printing import sort_key, to_text
from matrixcalc.rewrite.hadamard_chains import (
    hadamard_factors,
    hadamard_left_associate,
    order_key,
    remembering,
)

LEAVES = ["x", "y", "z", "exp(x)", "sin(y)", "x ⊙ y", "tanh(z)", "cos(z)", "2 x"]


def _leaf(text: str):
    return mc.parse(text, where="x, y, z: vector(n)")


@st.composite
def hadamard_trees(draw, depth: int = 4):
    """A product of vectors under ⊙, nested any way, built by the engine's constructors."""
    if depth == 0 or draw(st.booleans()):
        return _leaf(draw(st.sampled_from(LEAVES)))
    return build.apply("hadamard", draw(hadamard_trees(depth - 1)),
                       draw(hadamard_trees(depth - 1)))


def reference_chain(e):
    """The canonical chain by the plain method: every factor, sorted, nested left."""
    ordered = sorted(hadamard_factors(e), key=order_key)
    chain = ordered[0]
    for f in ordered[1:]:
        chain = build.apply("hadamard", chain, f)
    return chain


def canonical(e):
    """The rule to its fixpoint at the root (children first, as the simplifier does)."""
    if isinstance(e, Apply) and e.op == "hadamard":
        e = build.apply("hadamard", canonical(e.args[0]), canonical(e.args[1]))
        again = hadamard_left_associate(e)
        return canonical(again) if again is not None else e
    return e


@settings(max_examples=150)
@given(hadamard_trees(), st.booleans())
def test_hadamard_chain_is_the_sorted_chain(tree, remember):
    if remember:
        with remembering():
            got = canonical(tree)
    else:
        got = canonical(tree)
    want = reference_chain(tree) if len(hadamard_factors(tree)) > 2 else None
    if want is not None:
        assert to_text(got) == to_text(want)
        assert got == want


def test_a_chain_grown_one_factor_at_a_time_keeps_its_prefix():
    """The chain rule's pattern: c_k ⊙ (c_(k-1) ⊙ (… ⊙ c_1)); each level adds one node."""
    factors = [_leaf("sin(" * k + "x" + ")" * k) for k in range(1, 12)]
    with remembering():
        chain = build.apply("hadamard", factors[0], factors[1])  # two: in order as built
        for f in factors[2:]:
            grown = build.apply("hadamard", f, chain)
            before, chain = chain, hadamard_left_associate(grown)
            assert chain == reference_chain(grown)
            assert chain.args[0] is before  # the longest factor goes last: nothing rebuilt
    assert [to_text(f) for f in hadamard_factors(chain)] == \
        sorted((to_text(f) for f in factors), key=lambda t: (len(t), t))


@settings(max_examples=100)
@given(hadamard_trees(), hadamard_trees())
def test_remembered_equality_is_structural_equality(a, b):
    """Equal trees built apart compare equal, and keep doing so; unequal ones never do,
    whatever was compared before."""
    copy_a = build.apply(a.op, *a.args, attrs=a.attrs) if isinstance(a, Apply) else a
    assert (a == copy_a) and (copy_a == a)
    same = to_text(a) == to_text(b) and a.structure() == b.structure()
    assert (a == b) == same
    assert (copy_a == b) == same
    assert (b == copy_a) == same


@settings(max_examples=100)
@given(hadamard_trees())
def test_holds_is_what_a_walk_finds(tree):
    if not isinstance(tree, Apply):
        return
    names = {n.op for n in walk(tree) if isinstance(n, Apply)} | \
        {n.name for n in walk(tree) if isinstance(n, Const)}
    for name in ("hadamard", "exp", "sin", "tanh", "ones", "I", "mul", "kron", "inv"):
        assert tree.holds(name) == (name in names)


def test_distinct_nodes_visits_a_shared_subtree_once():
    inner = _leaf("sin(x)")
    tree = build.apply("hadamard", inner, build.apply("hadamard", inner, inner))
    assert sum(1 for n in distinct_nodes(tree) if n is inner) == 1
    assert sum(1 for n in walk(tree) if n is inner) == 3


@pytest.mark.parametrize("case", LESSON + COOKBOOK, ids=str)
def test_settled_results_need_no_inference(case):
    """Where retype skips inference (every node typed with named dimensions, every symbol
    as known), inference would have given the same tree, shapes and symbol facts."""
    f = mc.parse(case.expr, where=case.where)
    result = mc.derive(f, case.wrt, where=case.where)
    known = derive_module._known(f, next(s for s in f.symbols() if s.name == case.wrt))
    if not derive_module._settled(result, known):
        return
    again = derive_module.inferred(result, known)

    def facts(e):
        return [(type(n).__name__, getattr(n, "op", getattr(n, "name", None)), n.ty,
                 getattr(n, "info", None)) for n in walk(e)]
    assert facts(again) == facts(result)


@settings(max_examples=60)
@given(st.lists(st.sampled_from(LEAVES + ["x + y", "-z", "x ⊙ x"]), min_size=2, max_size=6))
def test_sort_key_orders_as_text_then_structure(texts):
    trees = [_leaf(t) for t in texts]
    by_key = sorted(trees, key=sort_key)
    by_pair = sorted(trees, key=lambda e: (to_text(e), e.structure()))
    assert [e.structure() for e in by_key] == [e.structure() for e in by_pair]


@pytest.mark.parametrize(("depth", "how"), [(24, "derive"), (12, "hessian")])
def test_deep_sin_nest_derives_under_default_limits(depth, how):
    """Its printed result grows as depth² (depth³ for the Hessian); what is built, once
    per shared part, grows as depth (depth²): the default limits let it through."""
    text = "sum(" + "sin(" * depth + "x" + ")" * depth + ")"
    result = getattr(mc, how)(text, "x")
    order = 2 if how == "hessian" else 1
    assert mc.check(text, "x", result=result, order=order, trials=2).ok


def test_softmax_nest_jacobian_under_default_limits():
    text = "softmax(" * 10 + "x" + ")" * 10
    result = mc.jacobian(text, "x")
    assert len(str(result)) > 20_000  # printed, it is large; built, it is not
    assert mc.check(text, "x", result=result, trials=2).ok


NEST = "softmax(" * 6 + "{}" + ")" * 6  # deep enough that inner Jacobians are folded
NEST_WHERE = "x, y, u: vector(n); X: matrix(m, n)"


@pytest.mark.parametrize(("expr", "wrt", "options"), [
    ("y^T " + NEST.format("x"), "x", {}),
    (NEST.format("x"), "x", {}),
    (NEST.format("X"), "X", {}),                    # a tensor of order 4
    (NEST.format("X"), "X", {"vec": True}),
    (NEST.format("X diag(x)"), "x", {}),            # order 3
])
def test_folded_jacobians_leave_the_engine_as_their_forms(expr, wrt, options):
    """A folded inner Jacobian stands as a symbol while the outer levels are derived;
    every result that leaves the engine holds its matrix form again."""
    result = mc.derive(expr, wrt, where=NEST_WHERE, **options)
    assert "∂#" not in str(result)
    assert mc.check(expr, wrt, result=result, where=NEST_WHERE, trials=2).ok


def test_folded_jacobians_in_products_with_a_direction():
    import numpy as np
    f = NEST.format("x")
    vjp = mc.vjp(f, "x", "u", where=NEST_WHERE)
    assert "∂#" not in str(vjp)
    assert mc.check("u^T " + f, "x", result=vjp, where=NEST_WHERE, trials=2).ok
    jvp = mc.jvp(f, "x", "u", where=NEST_WHERE)
    jacobian = mc.jacobian(f, "x", where=NEST_WHERE)
    values = {"x": np.random.default_rng(3).normal(size=5),
              "u": np.random.default_rng(4).normal(size=5)}
    assert "∂#" not in str(jvp)
    assert np.allclose(jvp.evaluate(values), jacobian.evaluate(values) @ values["u"])
    assert "∂#" not in str(mc.explain("y^T " + f, "x", where=NEST_WHERE))


LAYERS = ["softmax({})", "softmax(A {})", "tanh({})", "x ⊙ {}", "softmax({}) + {}"]


@settings(max_examples=8)
@given(layers=st.lists(st.sampled_from(LAYERS), min_size=5, max_size=7),
       top=st.sampled_from(["y^T {}", "sum({})", "{}"]), wrt=st.sampled_from(["x", "A"]))
def test_derivatives_through_folded_jacobians_agree_with_autograd(layers, top, wrt):
    """Compositions deep enough that inner Jacobians are folded (at least five levels of
    two terms each), differentiated by the vector inside or by a matrix in a layer."""
    text = "softmax(x)"
    for layer in layers:
        text = layer.replace("{}", f"({text})")
    text = top.format(f"({text})")
    if wrt not in text:
        wrt = "x"
    where = "x, y: vector(n); A: matrix(n, n)"
    result = mc.derive(text, wrt, where=where)
    assert "∂#" not in str(result)
    assert mc.check(text, wrt, result=result, where=where, trials=2).ok


WARM_LAYERS = LAYERS + ["exp({})", "log(1 + exp({}))", "A {}", "sin({}) ⊙ cos({})",
                        "sigmoid(A^T {})"]


@settings(max_examples=25, deadline=None)
@given(layers=st.lists(st.sampled_from(WARM_LAYERS), min_size=1, max_size=4),
       top=st.sampled_from(["y^T {}", "sum({})", "||{}||^2"]),
       how=st.sampled_from(["derive", "hessian"]), wrt=st.sampled_from(["x", "A"]))
def test_deriving_inner_levels_first_changes_no_result(layers, top, how, wrt):
    """The arguments of operators with rules are derived innermost first, before the
    rules ask for them (a deep nest then recurses a few frames deep): the results are
    those of deriving them when asked."""
    from matrixcalc.calculus.diff import Differentiator
    text = "x"
    for layer in layers:
        text = layer.replace("{}", f"({text})")
    text = top.format(f"({text})")
    if how == "hessian" and wrt == "A":
        how = "derive"
    where = "x, y: vector(n); A: matrix(n, n)"
    result = getattr(mc, how)(text, wrt, where=where)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Differentiator, "_warm", lambda self, root: None)
        assert str(getattr(mc, how)(text, wrt, where=where)) == str(result)
    order = 2 if how == "hessian" else 1
    assert mc.check(text, wrt, result=result, where=where, order=order, trials=1).ok


@pytest.mark.parametrize("text", ["sum(" + "sin(" * 150 + "x" + ")" * 150 + ")",
                                  "sum(" + "tanh(" * 150 + "A x" + ")" * 150 + ")"])
def test_nests_near_the_depth_limit_derive(text):
    """Nests 150 deep (the depth limit is 200) derive and agree with autograd; derived
    outermost first, each level's rule asking for the next, they met Python's recursion
    limit (a LimitError)."""
    result = mc.derive(text, "x", where="x: vector(n); A: matrix(n, n)")
    assert mc.check(text, "x", result=result, where="x: vector(n); A: matrix(n, n)",
                    trials=2).ok


@pytest.mark.parametrize("how", [mc.derive, mc.jacobian, mc.explain])
def test_a_symbol_named_as_the_engines_own_is_refused(how):
    """A tree built by hand could name a symbol `∂#1`, which unfolding would take for a
    folded Jacobian: it is refused, not differentiated into a wrong result."""
    e = mc.parse("y^T softmax(x)", where="x, y: vector(n)").subs({"y": mc.Symbol("∂#1")})
    with pytest.raises(mc.UsageError, match="keeps for its own symbols"):
        how(e, "x")


def _nodes_built(monkeypatch, how, text) -> int:
    from matrixcalc import budget
    built = []
    counted = budget.count_built
    monkeypatch.setattr(budget, "count_built", lambda size: (built.append(1), counted(size)))
    how(text, "x", where=NEST_WHERE)
    monkeypatch.setattr(budget, "count_built", counted)
    return len(built)


@pytest.mark.parametrize("how", [mc.jacobian, lambda t, x, where: mc.derive("y^T " + t, x,
                                                                           where=where)])
def test_softmax_nest_builds_in_proportion_to_its_depth(monkeypatch, how):
    """Each fold's matrix form is simplified once: a Jacobian folded before is a symbol
    to the next fold, not a tree to rewrite again (which cost depth² nodes: 29,000 at
    depth 32, 123,000 at 64)."""
    built = [_nodes_built(monkeypatch, how, "softmax(" * k + "x" + ")" * k)
             for k in (16, 32, 64)]
    assert built[1] < 2.4 * built[0] and built[2] < 2.4 * built[1], built


def test_nodes_limit_counts_what_a_call_builds():
    text = "sum(" + "sin(" * 24 + "x" + ")" * 24 + ")"
    with mc.limits(nodes=150), pytest.raises(mc.LimitError) as raised:
        mc.hessian(text, "x")
    assert "nodes the computation built" in str(raised.value)
    assert "mc.limits(nodes=" in str(raised.value)


def _copy(e):
    """The same tree built again, node by node (equal, not identical)."""
    if isinstance(e, Apply):
        return build.apply(e.op, *(_copy(a) for a in e.args), attrs=e.attrs)
    return e


def test_remembered_equality_holds_under_threads_and_makes_no_cycle():
    """Copies compared in every order from several threads: all equal, and every node's
    chain of remembered links ends (links go one way only, whatever the interleaving)."""
    from concurrent.futures import ThreadPoolExecutor

    from matrixcalc.language.expr import _representative
    tree = _leaf("exp(sin(x) ⊙ y) ⊙ tanh(z + x) ⊙ (x ⊙ y)")
    copies = [_copy(tree) for _ in range(8)]
    pairs = [(a, b) for a in copies for b in copies] * 3

    def compare(chunk):
        return all(a == b for a, b in chunk)
    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(compare, [pairs[k::4] for k in range(4)]))
    for copy in copies:
        assert _representative(copy) == tree
        for node in walk(copy):
            if isinstance(node, Apply):
                assert _representative(node).structure() == node.structure()
    different = _copy(_leaf("exp(sin(x) ⊙ y) ⊙ tanh(z + y) ⊙ (x ⊙ y)"))
    assert all(c != different for c in copies)


CHAIN_FACTORS = ["A", "B", "C", "A^T", "(2 B)", "diag(u)", "(-C)", "I", "(1/2 A)"]


@st.composite
def sums_of_chains(draw):
    """Sums of product chains that share runs of factors on the left and on the right
    (as a network's Hessian does, D W^T … W D), ending in a vector or a matrix."""
    left = draw(st.lists(st.sampled_from(CHAIN_FACTORS), min_size=0, max_size=3))
    right = draw(st.lists(st.sampled_from(CHAIN_FACTORS), min_size=0, max_size=3))
    middles = draw(st.lists(st.lists(st.sampled_from(CHAIN_FACTORS), min_size=1,
                                     max_size=3), min_size=2, max_size=4))
    signs = draw(st.lists(st.sampled_from(["+", "-"]), min_size=len(middles),
                          max_size=len(middles)))
    end = draw(st.sampled_from(["x", ""]))
    terms = [" ".join(left + middle + right + ([end] if end else []))
             for middle in middles]
    return "".join(f" {s} ({t})" for s, t in zip(signs, terms)).lstrip(" +")


@settings(max_examples=80, deadline=None)
@given(sums_of_chains())
def test_common_ends_pulled_at_once_as_one_at_a_time(text):
    """The sum rule pulls every factor that all the chains share at their ends in one
    step; one factor a step (each then shared by all the rests, so each pulled in turn)
    gives the same tree."""
    from matrixcalc.rewrite import sums
    where = "A, B, C: matrix(n, n); u, x: vector(n)"
    at_once = mc.simplify(text, where=where)

    def one_at_a_time(chains, side):
        return (1, 0) if side == 0 else (0, 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sums, "_common_ends", one_at_a_time)
        assert mc.simplify(text, where=where).structure() == at_once.structure()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["A", "2", "(x^T x)", "π", "B^T", "(1/2)", "(3 A)", "(x^T A x)",
                                 "diag(x)"]), min_size=1, max_size=7))
def test_constant_factors_counts_what_factors_of_lists(factors):
    """The count of a chain's factors that hold no symbol, from its parts' counts, is the
    count over `factors_of`, however the chain nests."""
    from matrixcalc.language.build import constant_factors, factors_of
    from matrixcalc.language.expr import names_in
    e = mc.parse(" ".join(factors), where="A, B: matrix(n, n); x: vector(n)")
    for node in walk(e):
        assert constant_factors(node) == sum(1 for f in factors_of(node) if not names_in(f))


@st.composite
def nested_sums_of_chains(draw):
    """Sums of chains nested as a network's Hessian is: a term reaching level d is
    L1 … Ld M Rd … R1, the runs Lj and Rj shared by every term that reaches level j."""
    run = st.lists(st.sampled_from(CHAIN_FACTORS), min_size=0, max_size=2)
    levels = draw(st.lists(st.tuples(run, run), min_size=1, max_size=4))
    end = draw(st.sampled_from([[], ["x"]]))
    terms = []
    for _ in range(draw(st.integers(2, 6))):
        depth = draw(st.integers(0, len(levels)))
        middle = draw(st.lists(st.sampled_from(CHAIN_FACTORS), min_size=1, max_size=2))
        left = [f for run, _ in levels[:depth] for f in run]
        right = [f for _, run in reversed(levels[:depth]) for f in run]
        sign = draw(st.sampled_from(["+", "-", "+ 2", "- 3"]))
        terms.append(f" {sign} (" + " ".join(left + middle + right + end) + ")")
    return "".join(terms).lstrip(" +")


@settings(max_examples=120, deadline=None)
@given(st.one_of(nested_sums_of_chains(), sums_of_chains()))
def test_rests_pulled_apart_as_built_and_simplified(text):
    """The sum rule pulls the ends its rests share again from the terms taken apart; the
    tree is the one that building each level's sum and simplifying it gives."""
    from matrixcalc.language import build
    from matrixcalc.rewrite import sums
    from matrixcalc.rewrite.patterns import simplified
    where = "A, B, C: matrix(n, n); u, x: vector(n)"
    pulled_apart = mc.simplify(text, where=where)

    def built_at_each_level(rests, shape):
        return simplified(build.total([sums.rebuild(m, shape) for m in rests], shape))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sums, "_sum_of_rests", built_at_each_level)
        assert mc.simplify(text, where=where).structure() == pulled_apart.structure()


def test_network_hessian_builds_in_proportion_to_its_depth_squared(monkeypatch):
    """Its nested products are pulled from terms taken apart, each built once: doubling
    the depth quadruples the nodes built (each level's rests built anew: 5.8 times,
    12,000 nodes at depth 16 and 69,000 at 32)."""
    built = [_nodes_built(monkeypatch, mc.hessian, network(k)) for k in (8, 16, 32)]
    assert built[1] < 4.3 * built[0] and built[2] < 4.3 * built[1], built


def test_hessian_of_a_deep_network_by_its_input():
    """The Hessian of a tanh network 64 layers deep by x, under the default limits
    (Python's recursion limit stopped it at 24 layers when the sum rule pulled one shared
    factor a step; its nodes at 48 while each level's rests were built anew)."""
    k, sizes = 64, ["a", "b", "c"]  # three sizes in turn: a missing transpose shows
    text = network(k)
    where = "; ".join([f"W{i}: matrix({sizes[i % 3]}, {sizes[(i - 1) % 3]})"
                       for i in range(1, k + 1)] + [f"x: vector(a); y: vector({sizes[k % 3]})"])
    result = mc.hessian(text, "x", where=where)
    assert mc.check(text, "x", result=result, where=where, order=2, trials=2).ok


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["A", "B^T", "(x^T x)", "2", "π", "diag(x)", "(A B)", "(-B)",
                                 "exp(x^T x)"]), min_size=1, max_size=5),
       st.sampled_from([1, 3, sympy.Rational(1, 2)]))
def test_a_negative_term_is_rebuilt_as_its_negated_chain(factors, coeff):
    """A term with a negative coefficient, rebuilt with the minus put on its leftmost
    factor at once, is the tree that negating the whole chain gives."""
    from matrixcalc.rewrite.sums import Monomial, monomial, rebuild
    e = mc.parse(" ".join(factors), where="A, B: matrix(n, n); x: vector(n)")
    m = monomial(e)
    one_way = rebuild(Monomial(-coeff * m.coeff, m.scalars, m.chain), e.ty)
    other_way = build.negate(rebuild(Monomial(coeff * m.coeff, m.scalars, m.chain), e.ty))
    assert one_way.structure() == other_way.structure()


@settings(max_examples=10, deadline=None)
@given(layers=st.lists(st.sampled_from(LAYERS), min_size=2, max_size=4),
       top=st.sampled_from(["y^T {}", "sum({})", "||{}||^2"]))
def test_hessians_through_folded_jacobians_agree_with_autograd(layers, top):
    """The Hessian's inner derivatives are folded from two terms on (the gradient is a sum
    of products whose factors' derivatives would otherwise be multiplied out)."""
    text = "softmax(x)"
    for layer in layers:
        text = layer.replace("{}", f"({text})")
    text = top.format(f"({text})")
    where = "x, y: vector(n); A: matrix(n, n)"
    result = mc.hessian(text, "x", where=where)
    assert "∂#" not in str(result)
    assert mc.check(text, "x", result=result, where=where, order=2, trials=2).ok


def test_hessian_of_a_deep_softmax_nest():
    """Softmax nested 8 deep: its Hessian went past the node limit at 6 deep when the
    factors' derivatives were multiplied out; folded, it built about 29,000 nodes, and
    level by level (calculus.layers, tests/test_layered_hessian.py) about 1,600."""
    import numpy as np
    import torch
    text = "y^T " + "softmax(" * 8 + "x" + ")" * 8
    result = mc.hessian(text, "x", where="x, y: vector(n)")
    rng = np.random.default_rng(7)
    x, y = 3 * rng.normal(size=5), rng.normal(size=5)

    def f(v):
        for _ in range(8):
            v = torch.softmax(v, dim=0)
        return torch.from_numpy(y) @ v
    expected = torch.autograd.functional.hessian(f, torch.from_numpy(x)).numpy()
    got = result.evaluate({"x": x, "y": y})
    scale = np.abs(expected).max()  # small (each softmax shrinks it): compared relatively
    assert scale > 0 and np.abs(got - expected).max() <= 1e-9 * scale


def test_hessian_vector_product_of_a_deep_softmax_nest():
    """hvp folds the gradient's inner derivatives as the Hessian does (it went past the
    node limit at 6 deep): H v for softmax nested 8 deep is the Hessian times v."""
    import numpy as np
    text = "y^T " + "softmax(" * 8 + "x" + ")" * 8
    where = "x, y, v: vector(n)"
    hv = mc.hvp(text, "x", "v", where=where)
    hessian = mc.hessian(text, "x", where=where)
    rng = np.random.default_rng(5)
    values = {name: 3 * rng.normal(size=4) for name in ("x", "y", "v")}
    assert np.allclose(hv.evaluate(values), hessian.evaluate(values) @ values["v"],
                       rtol=1e-9, atol=1e-30)
    assert np.abs(hv.evaluate(values)).max() > 0


def test_a_result_nested_deeper_than_the_recursion_prints():
    """Printing recurses once per level; a tree nested deeper than Python allows (the
    Hessian of softmax nested 100 deep is about 400 levels) is printed children first,
    to the same text."""
    from matrixcalc.language import build
    from matrixcalc.language.printing import Printer
    e = mc.parse("x", where="x: vector(n)")
    with mc.limits(nodes=10 ** 6):
        for _ in range(3000):
            e = build.apply("sin", e)
    assert str(e) == "sin(" * 3000 + "x" + ")" * 3000
    assert e.latex() == r"\sin\left(" * 3000 + "x" + r"\right)" * 3000
    r = mc.hessian("y^T " + "softmax(" * 6 + "x" + ")" * 6, "x")
    assert Printer("text").deep(r) == str(r) and Printer("latex").deep(r) == r.latex()
