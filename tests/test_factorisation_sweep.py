"""tools/factorisation_sweep.py: the class it draws, the protocol it runs, the table it prints."""

import numpy as np
import pytest

import refopt
from tools.factorisation_sweep import draws, main, run, summary, sweep


def test_draws_are_the_protocol_class_and_repeatable():
    first, again = list(draws(40, 3)), list(draws(40, 3))
    assert [d["key"] for d in first] == [d["key"] for d in again]
    for d in first:
        prob, x0 = d["prob"], d["x0"]
        m, n, r, _, _, f = d["key"]
        sv = np.linalg.svd(prob.M, compute_uv=False)
        assert 2 <= m <= 4 and 2 <= n <= 4 and r <= 2 and 0.5 <= f <= 2
        assert abs(sv[0] - 1) < 1e-12 and sv[0] / sv[r - 1] <= 2 and float(prob.value(x0)) >= 1e-2


def test_rank_filter_keeps_the_sequence():
    """--rank keeps the draws of that rank, in the order of the unfiltered sequence."""
    every = [d["key"] for d in draws(200, 7)]
    ranked = [d["key"] for d in draws(10, 7, rank=2)]
    assert all(k[2] == 2 for k in ranked) and ranked == [k for k in every if k[2] == 2][:10]


def test_run_is_the_claims_protocol_on_the_lamb_counterexample():
    """The decayed schedule reproduces test_convergence's LAMB counterexample (3×2, seed 591,
    start 2, f = 0.5): best 0.216ℓ₀, the layer norm dipping to 0.118."""
    from refopt.problems import MatrixFactorisation
    prob = MatrixFactorisation(3, 2, 1, seed=591)
    prob.M = prob.M / float(np.linalg.norm(prob.M, 2))
    out = run("lamb", 0.03, "decayed", prob, prob.random_point(2, 0.5), 0.5)
    assert 0.21 < out["best"] == out["final"] < 0.22
    assert 0.117 < out["smallest_layer_norm"] < 0.119
    # the same run by hand, from refopt.lamb and the cosine schedule
    opt, x = refopt.lamb(lr=refopt.cosine_decay(0.015, 500)), prob.random_point(2, 0.5)
    state, f0 = opt.init(x), float(prob.value(x))
    for _ in range(500):
        x, state = opt.update(prob.grad(x), state, x)
    assert out["final"] == float(prob.value(x)) / f0


def test_summary_counts_misses_per_rank_and_alignment():
    rec = lambda r, a, best: {"key": (2, 2, r, 0, 0, 1.0), "alignment": a,  # noqa: E731
                              "decayed": {"best": best}}
    table = summary([rec(1, -0.5, 0.3), rec(1, -0.1, 1e-5), rec(1, 0.2, 1e-8), rec(2, -0.3, 2e-8)],
                    kinds=("decayed",))
    lines = table.splitlines()
    assert lines[1].split()[:5] == ["1", "anti", "2", "1", "miss,"] and "3.00e-01" in lines[1]
    assert lines[2].split()[:4] == ["1", "aligned", "1", "0"]
    assert lines[3].split()[:4] == ["2", "anti", "1", "0"] and len(lines) == 4


def test_a_diverging_run_is_a_miss():
    """Fixed-step L-BFGS on the fourth thorough run's counterexample (2×2, rank 1, seed 1, start 0,
    η = 0.5·1.5) overflows: its best finite loss is reported, the run is marked diverged, and the
    summary counts it as a miss."""
    from refopt.problems import MatrixFactorisation
    prob = MatrixFactorisation(2, 2, 1, seed=1)
    prob.M = prob.M / float(np.linalg.norm(prob.M, 2))
    with np.errstate(over="ignore", invalid="ignore"):
        out = run("lbfgs", 0.5, "constant", prob, prob.random_point(0, 0.5), 1.5)
    assert out["diverged"] and np.isfinite(out["best"]) and out["best"] > 1e-2
    table = summary([{"key": (2, 2, 1, 1, 0, 1.5), "alignment": -1e-3, "constant": out}], kinds=("constant",))
    assert table.splitlines()[1].split()[3:5] == ["1", "miss,"] and "1 diverged" in table


def test_sweep_smoke_and_bad_arguments(capsys):
    records = sweep("sgd", 0.03, 2, 0, kinds=("constant",), progress=False)
    assert len(records) == 2 and set(records[0]) == {"key", "alignment", "constant"}
    with pytest.raises(SystemExit):
        main(["--draws", "0"])
    assert "--draws must be a positive integer" in capsys.readouterr().err


def test_options_reach_the_rule_and_bad_options_are_named(capsys):
    """--set passes a hyperparameter through: adaptive clipping with λ = 0.1 bounds each layer's
    growth by (1 + ηλ) per update, so from the same start it reaches less than with λ = 1."""
    from refopt.problems import MatrixFactorisation
    prob = MatrixFactorisation(2, 2, 1, seed=1)
    prob.M = prob.M / float(np.linalg.norm(prob.M, 2))
    x0 = prob.random_point(0, 0.5)
    tight = run("adaptive_grad_clip", 0.1, "constant", prob, x0, 0.5, {"clipping": 0.1})
    loose = run("adaptive_grad_clip", 0.1, "constant", prob, x0, 0.5, {"clipping": 1.0})
    assert tight["best"] > 1e-2 > 1e-10 > loose["best"]
    for bad, message in ((["--schedules", "linear"], "--schedules takes names from"),
                         (["--set", "clipping"], "--set takes NAME=FLOAT")):
        with pytest.raises(SystemExit):
            main(bad)
        assert message in capsys.readouterr().err


def test_budget_and_imbalance_on_the_lion_counterexample(capsys):
    """--budget sets K for the run and its schedule: Lion on the fourth thorough run's counterexample
    (3×4, rank 2, seed 2, start 170, f = 1) misses at K = 500 (best 0.031ℓ₀) with ‖UᵀU − VᵀV‖_F
    grown from 0.77 to 180, and meets the target at K = 2000 (2e-12ℓ₀)."""
    from refopt.problems import MatrixFactorisation
    prob = MatrixFactorisation(3, 4, 2, seed=2)
    prob.M = prob.M / float(np.linalg.norm(prob.M, 2))
    x0 = prob.random_point(170, 0.5)
    short = run("lion", 0.03, "decayed", prob, x0, 1.0)
    long = run("lion", 0.03, "decayed", prob, x0, 1.0, budget=2000)
    assert 0.03 < short["best"] < 0.032 and long["best"] < 1e-10
    assert 0.7 < short["imbalance_start"] < 0.8 < 100 < short["imbalance_end"]
    assert short["imbalance_start"] == float(np.linalg.norm(x0["U"].T @ x0["U"] - x0["V"].T @ x0["V"]))
    with pytest.raises(SystemExit):
        main(["--budget", "0"])
    assert "--budget must be a positive integer" in capsys.readouterr().err
