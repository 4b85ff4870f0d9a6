"""The conformance kit: adapters, probes, compare, diagnose, reports, assert_conforms and the CLI.

``diagnose`` must name the right configuration for every row of the conventions table from the
framework object alone, and ``compare`` must fail each deliberately wrong implementation at the
step where the mutation first acts (derived from the mutation, stated on each case).
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")   # before anything imports keras

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import refopt  # noqa: E402
from refopt.conformance import PROBES, compare, diagnose, from_step, mutants  # noqa: E402
from refopt.conformance.__main__ import main  # noqa: E402
from refopt.conformance.probes import BY_NAME  # noqa: E402
from refopt.conformance.space import minimal  # noqa: E402
from refopt.conformance.targets import from_target, import_numpy_ml_optimizers  # noqa: E402
from refopt.conventions import CONVENTIONS  # noqa: E402
from refopt.registry import SPECS  # noqa: E402
from refopt.testing import assert_conforms  # noqa: E402

# short diagnose runs: a probe per kind of convention, 4 steps (separates β's from step 2 on)
DIAG_PROBES = ("quadratic", "eps_sized", "weight_decay", "sign_alternating", "concave")
_MODULE = {"torch": "torch", "optax": "optax", "keras": "keras"}
# With a constant learning rate, lr inside or outside the momentum buffer, and a zero or g₁
# buffer start without dampening, give the same iterates; only a schedule tells them apart.
CONSTANT_LR_TIES = {"lr_in_buffer", "buffer_init"}
# Muon's step is its η on the matrix leaves plus its fallback rule's η on the others; diagnose
# ties the fallback's η to the fitted one (space.with_lr), as the frameworks do, and recovers
# both Muon rows (measured: 31 s and 6 s on this machine). That search spans every value of both
# rows (4608 configurations), too slow for every CI run, so here the first row is recovered from
# the space it spans alone (64 configurations; the second row's own space, 2048 configurations,
# was recovered by hand in 19 s); these probes hold no matrix, so the Muon tests add the pytree probe.
DIAGNOSED_WITH_ITS_OWN_ROW = {"muon"}


def _require(framework):
    if framework == "numpy-ml":
        try:
            import_numpy_ml_optimizers()
        except ImportError as err:
            pytest.skip(f"numpy-ml is not importable: {err}")
    else:
        pytest.importorskip(_MODULE[framework])


def _refopt(opt):
    return from_step(opt.init, opt.update, name="refopt")


@pytest.mark.parametrize("row", [pytest.param(r, id=f"{r.rule}-{r.target}-{i}") for i, r in enumerate(CONVENTIONS)])
def test_diagnose_recovers_every_table_row(row):
    _require(row.framework)
    # RAdam is momentum SGD while ρ_t ≤ threshold (t ≤ 6 at β2 = 0.999): its ε switches show
    # only once the rectified step starts
    # Rprop's bounds Δmin, Δmax bind only after several sign flips / agreements (Δ0 · 1.1^15 > 0.2)
    steps = {"radam": 8, "rprop": 20}.get(row.rule, 4)
    if row.rule in DIAGNOSED_WITH_ITS_OWN_ROW:
        pytest.skip(f"{row.rule}: searched with its own row's space below (see DIAGNOSED_WITH_ITS_OWN_ROW)")
    d = diagnose(from_target(row.target, **row.kwargs), row.rule, probes=DIAG_PROBES, steps=steps)
    assert d.match is not None, str(d)
    found, table = minimal(row.rule, d.match.kwargs), minimal(row.rule, row.refopt_kwargs)
    if found != table:   # only a documented tie, and then both must give the same trajectories
        differ = {k for k in found.keys() | table.keys() if found.get(k) != table.get(k)}
        assert differ <= CONSTANT_LR_TIES, (found, table)
        assert compare(_refopt(d.match.optimizer), SPECS[row.rule].build(**row.refopt_kwargs)).passed
    else:
        assert row.target in d.match.conventions


def test_diagnose_names_the_wrong_adams():
    eps_inside = diagnose(mutants.adam_eps_inside(lr=0.01), "adam", steps=6)
    assert eps_inside.match.call == "refopt.adam(lr=0.01, eps_root=1e-08, eps=0.0)"
    assert compare(mutants.adam_eps_inside(lr=0.01), eps_inside.match.optimizer).passed
    t_plus_1 = diagnose(mutants.adam_bias_t_plus_1(), "adam", steps=6)
    assert t_plus_1.match is None
    assert t_plus_1.candidates[0].call == "refopt.adam(lr=0.001)"
    assert t_plus_1.details == {"quantity": "bias correction", "probe": "growing", "step": 1}
    assert "t+1" in t_plus_1.explanation
    g1 = diagnose(mutants.adam_m_starts_at_g1(), "adam", steps=6)
    assert g1.match is None and g1.details["quantity"] == "first moment"
    assert "starts at m₁ = g₁" in g1.explanation
    lazy = diagnose(mutants.adam_lazy(), "adam", steps=10)
    assert lazy.match is None
    assert lazy.candidates[0].call == "refopt.adam(lr=0.001)"
    assert lazy.details == {"quantity": "zero gradients", "probe": "sparse", "step": 5}


def _off_by_one_schedule():
    """η evaluated at t instead of t − 1 inside a step decay: ⌊t/5⌋ vs ⌊(t−1)/5⌋, first differs at t = 5."""
    inner = refopt.adam(lr=lambda t: 0.01 * 0.5 ** (t // 5))
    return from_step(inner.init, inner.update, name="off-by-one step decay")


# (candidate, reference, probe, first failing step) — each step follows from the mutation
MUTANTS = {
    "bias-t+1": (mutants.adam_bias_t_plus_1, "quadratic", 1),       # m̂₁ already scaled wrongly
    "eps-inside": (mutants.adam_eps_inside, "eps_sized", 1),        # |g| ≈ ε from the first step
    "m-starts-at-g1": (mutants.adam_m_starts_at_g1, "quadratic", 1),  # m̂₁ = g₁/(1−β1)
    "lazy": (mutants.adam_lazy, "sparse", 5),                       # w[4] sleeps from t = 5
    "schedule": (_off_by_one_schedule, "growing", 5),               # ⌊5/5⌋ ≠ ⌊4/5⌋
}


@pytest.mark.parametrize("name", MUTANTS)
def test_compare_fails_each_mutant_at_the_right_step(name):
    make, probe, step = MUTANTS[name]
    lr = 0.01 if name == "schedule" else 1e-3
    reference = refopt.adam(lr=refopt.step_decay(lr, 0.5, 5) if name == "schedule" else lr)
    report = compare(make(), reference, probes=[probe], steps=8)
    assert not report.passed
    assert report.results[0].first_step == step
    if name == "lazy":
        assert report.results[0].first_coord == "w[4]"
        others = compare(make(), reference, probes=["quadratic", "growing", "eps_sized"], steps=8)
        assert others.passed   # lazy and eager agree wherever no gradient is exactly 0


def test_compare_passes_refopt_against_itself_in_both_dtypes():
    rule = refopt.rmsprop(lr=0.01, centered=True, momentum=0.5)
    assert compare(_refopt(rule), rule, steps=20).passed
    f32 = compare(_refopt(rule), rule, steps=20, dtype="float32")
    assert f32.passed and all(r.tolerance > 1e-7 for r in f32.results)
    # the float32 tolerance is 10 × refopt's own float32 drift (here: the candidate's error),
    # never below the floor 10·2⁻²³; on most probes the drift term is the larger one
    from refopt.conformance.compare import F32_FLOOR
    assert all(r.tolerance == pytest.approx(max(10 * r.max_rel_error, F32_FLOOR), rel=1e-12)
               for r in f32.results)
    assert sum(r.tolerance > F32_FLOOR for r in f32.results) >= 5
    # a float32 result is far outside the float64 tolerance
    assert compare(_refopt(rule), rule, steps=20, probes=["quadratic"]).results[0].tolerance == 1e-12


def test_float32_tolerance_catches_a_1e_4_error():
    """10 × refopt's own float32 drift on this probe is ≈ 1.4e-6. A relative lr error of 1e-4 moves
    θ (|θ| ≈ 1, Adam steps ≈ η = 0.01) by ≈ 1e-6 per step: within tolerance after step 1, over it
    after step 2."""
    report = compare(_refopt(refopt.adam(lr=0.01 * (1 + 1e-4))), refopt.adam(lr=0.01), dtype="float32",
                     probes=["quadratic"], steps=10)
    assert 1e-6 < report.results[0].tolerance < 2e-6
    assert not report.passed and report.results[0].first_step == 2


def test_report_and_diagnosis_print_and_serialise():
    rule = refopt.sgd(lr=0.1)
    report = compare(_refopt(refopt.sgd(lr=0.2)), rule, probes=["quadratic", "pytree"], steps=3)
    text = str(report)
    assert "FAIL" in text and "quadratic" in text and "pytree" in text
    data = json.loads(report.to_json())
    assert data["passed"] is False and data["results"][1]["first_coord"] == "s"
    d = diagnose(_refopt(refopt.sgd(lr=0.2)), "sgd", probes=["quadratic"], steps=3)
    assert json.loads(d.to_json())["match"]["call"] == "refopt.sgd(lr=0.2)"
    assert "reproduces refopt.sgd(lr=0.2)" in str(d)


def test_a_candidate_that_raises_fails_with_its_message():
    def step(g, s, p):
        if s >= 2:
            raise RuntimeError("kernel launch failed")
        return {k: p[k] - 0.1 * g[k] for k in p}, s + 1
    report = compare(from_step(lambda p: 0, step), refopt.sgd(lr=0.1), probes=["quadratic"], steps=5)
    r = report.results[0]
    assert not r.passed and r.first_step == 3 and "kernel launch failed" in r.error


def test_assert_conforms_raises_with_the_report():
    with pytest.raises(AssertionError, match="candidate does not conform") as info:
        assert_conforms(_refopt(refopt.adam(lr=0.02)), refopt.adam(lr=0.01), steps=3, probes=["quadratic"])
    assert info.value.report.results[0].first_step == 1


def test_bad_arguments_are_rejected():
    rule = refopt.sgd()
    with pytest.raises(ValueError, match="dtype must be one of"):
        compare(_refopt(rule), rule, dtype="float16")
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        compare(_refopt(rule), rule, steps=0)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):   # booleans are not integers
        compare(_refopt(rule), rule, steps=True)
    with pytest.raises(ValueError, match="probes must be Probe objects or names"):
        compare(_refopt(rule), rule, probes=["nope"])
    with pytest.raises(ValueError, match="rule must be one of"):
        diagnose(_refopt(rule), "adamm")
    with pytest.raises(ValueError, match="target must start with"):
        from_target("mxnet.optimizer.Adam")


def test_probes_are_deterministic_and_do_what_they_say():
    for p in PROBES:
        a, b = p.init(), p.init()
        assert all(np.array_equal(a[k], b[k]) for k in a) and p.separates
        assert all(np.array_equal(p.grad(a, 3)[k], p.grad(b, 3)[k]) for k in a)
    sparse = BY_NAME["sparse"]
    x = sparse.init()
    g = [np.concatenate([v.ravel() for v in sparse.grad(x, t).values()]) for t in range(1, 12)]
    assert all(np.all(gt[:4] == 0) for gt in g[:8]) and np.all(g[8][:3] != 0) and g[10][3] == 0
    assert g[3][4] != 0 and all(g[t][4] == 0 for t in range(4, 8))
    eps = np.concatenate([v.ravel() for v in BY_NAME["eps_sized"].grad(x, 1).values()])
    assert 1e-10 < np.median(np.abs(eps)) < 1e-7
    assert BY_NAME["pytree"].init()["s"].shape == ()
    assert BY_NAME["pytree"].init("float32")["m"].dtype == np.float32


def test_optax_adapter_adds_updates_to_params():
    optax = pytest.importorskip("optax")
    c = from_target("optax.sgd", learning_rate=0.5)
    p = {"w": np.array([1.0, 2.0])}
    new, _ = c.update({"w": np.array([1.0, -1.0])}, c.init(p), p)
    np.testing.assert_array_equal(new["w"], [0.5, 2.5])   # params + updates, not the updates
    assert optax is not None


def test_cli_prints_verdict_and_diagnosis(capsys):
    pytest.importorskip("torch")
    assert main(["torch.optim.Adam", "lr=1e-3", "--steps", "4"]) == 0
    out = capsys.readouterr().out
    assert "reproduces refopt.adam(lr=0.001)" in out and "PASS" in out
    pytest.importorskip("optax")
    assert main(["optax.adam", "learning_rate=1e-3", "--rule", "adam", "--steps", "4"]) == 0
    assert "(= optax.adam, torch.optim.Adam)" in capsys.readouterr().out


def test_gallery_example_names_each_adam():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "examples" / "conformance_wrong_adams.py"
    spec = importlib.util.spec_from_file_location("conformance_wrong_adams", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(["--steps", "4"])
    assert out["eps inside the root"].match.call == "refopt.adam(lr=0.001, eps_root=1e-08, eps=0.0)"
    assert out["bias correction at t+1"].details["quantity"] == "bias correction"
    assert out["m starts at g1"].details["quantity"] == "first moment"
    expected = {"torch.optim.Adam": "refopt.adam(lr=0.001)",
                "torch.optim.AdamW": "refopt.adam(lr=0.001, weight_decay=0.01, decay='decoupled')",
                "optax.adam": "refopt.adam(lr=0.001, eps_root=1e-06)",
                "keras.optimizers.Adam": "refopt.adam(lr=0.001, eps=1e-07, eps_hat=True)"}
    for target, call in expected.items():
        if target in out:   # present when the framework is installed
            assert out[target].match.call == call and target in out[target].match.conventions


def test_relative_error_treats_equal_infinities_and_nans_as_agreement():
    from refopt.conformance.compare import rel_error
    a = np.array([np.inf, np.nan, 1.0, np.nan, 3.0, 0.5])
    b = np.array([np.inf, np.nan, np.inf, 1.0, 2.0, 0.25])
    np.testing.assert_array_equal(rel_error(a, b), [0.0, 0.0, np.inf, np.inf, 0.5, 0.25])


def test_a_candidate_returning_wrong_shapes_fails_with_a_message():
    step = from_step(lambda p: 0, lambda g, s, p: ({k: np.ravel(p[k])[:1] for k in p}, s))
    r = compare(step, refopt.sgd(lr=0.1), probes=["quadratic"], steps=2).results[0]
    assert not r.passed and r.first_step == 1 and "expected (6,)" in r.error


def test_diagnose_of_a_candidate_that_always_raises_reports_no_match():
    def step(g, s, p):
        raise RuntimeError("not implemented")
    d = diagnose(from_step(lambda p: 0, step), "sgd", probes=["quadratic", "eps_sized"], steps=2)
    assert d.match is None and d.candidates == ()
    assert "no refopt.sgd configuration reproduces it" in str(d)
    assert json.loads(d.to_json())["match"] is None


MUON_PROBES = ("pytree", "sign_alternating", "concave")   # the pytree probe has a 2×3 matrix


def _muon_table_of_one_row(monkeypatch, index):
    """The conventions table with only the ``index``-th Muon row (diagnose's space for Muon is
    then the values of that row and the defaults); the cached stage-1 steps are cleared."""
    from refopt import conventions
    from refopt.conformance import space
    row = conventions.rows("muon")[index]
    monkeypatch.setattr(conventions, "CONVENTIONS",
                        tuple(c for c in CONVENTIONS if c.rule != "muon" or c is row))
    space.unit_steps.cache_clear()
    return row


@pytest.mark.oracle
def test_diagnose_recovers_a_muon_row_with_one_fitted_lr(monkeypatch):
    """optax.contrib.muon gives its fallback (NAdam) leaves the Muon η; diagnose fits one η and
    gives it to the fallback too, so the row is recovered at an η other than the row's (a
    fallback frozen at the row's η = 0.02 would not fit), its fallback built at that η."""
    _require("optax")
    from refopt.conformance import space
    from refopt.conventions import nested_rule
    row = _muon_table_of_one_row(monkeypatch, 0)
    try:
        for lr in (0.005,):
            d = diagnose(from_target(row.target, **{**row.kwargs, "learning_rate": lr}), "muon",
                         probes=MUON_PROBES, steps=4)
            assert d.match is not None, str(d)
            assert row.target in d.match.conventions and d.match.kwargs["lr"] == lr
            name, args = nested_rule(d.match.kwargs["fallback"])
            assert (name, args["lr"]) == (nested_rule(row.refopt_kwargs["fallback"])[0], lr)
            assert f"fallback=refopt.{name}(" in d.match.call
    finally:
        space.unit_steps.cache_clear()


def test_diagnose_does_not_recover_a_muon_fallback_with_an_lr_of_its_own(monkeypatch):
    """The stated limit of that tie: a fallback whose η differs from Muon's is not in the space,
    so nothing matches, and the nearest configuration splits at step 1 on the probe whose vector
    leaves the fallback moves."""
    from refopt.conformance import space
    from refopt.conventions import nested_rule
    row = _muon_table_of_one_row(monkeypatch, 0)
    name, args = nested_rule(row.refopt_kwargs["fallback"])
    secret = refopt.muon(**{**row.refopt_kwargs, "fallback": getattr(refopt, name)(**{**args, "lr": 0.005})})
    try:
        d = diagnose(_refopt(secret), "muon", probes=MUON_PROBES, steps=4)
    finally:
        space.unit_steps.cache_clear()
    assert d.match is None and d.candidates[0].first_step == 1
    # the matrix leaf alone is reproduced: the same secret with the fallback at Muon's η matches
    assert compare(_refopt(refopt.muon(**row.refopt_kwargs)), SPECS["muon"].build(**row.refopt_kwargs),
                   probes=MUON_PROBES, steps=4).passed
