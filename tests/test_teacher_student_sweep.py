"""tools/teacher_student_sweep.py: the class it draws, the protocol it runs, the summary it prints."""

import numpy as np
import pytest

import refopt
from refopt.nn.mlp import MLP
from refopt.problems import MLPObjective
from refopt.testing._drive import step_on
from tools.teacher_student_sweep import BUDGET, draws, main, run, summary, sweep


def test_draws_are_the_protocol_class_and_repeatable():
    first, again = list(draws(30, 2)), list(draws(30, 2))
    assert [d["key"] for d in first] == [d["key"] for d in again]
    for d in first:
        dim, h, n, prob_seed, start_seed, f = d["key"]
        assert 1 <= dim <= 3 and 1 <= h <= 3 and 4 <= n <= 24 and 0.5 <= f <= 2
        assert float(d["prob"].value(d["x0"])) >= 1e-2
        # the strategy's construction, written out: Gaussian inputs seeded by the problem's seed,
        # targets from the architecture's initialisation at seed + 1 (so ℓ = 0 there)
        net = MLP([dim, h, 1], activation="tanh", loss="mse")
        X = np.random.default_rng(prob_seed).standard_normal((n, dim))
        assert np.array_equal(d["prob"].X, X)
        assert float(d["prob"].value(net.init(seed=prob_seed + 1))) == 0.0
        assert d["teacher_weight"] == float(np.abs(net.init(seed=prob_seed + 1)[1]["W"]).min())
        assert all(np.array_equal(a[k], b[k]) for a, b in zip(d["x0"], net.init(seed=start_seed)) for k in a)


def test_run_is_the_claims_protocol_on_the_plateau_counterexample():
    """The ninth thorough run's Big Batch instance (d = 3, h = 2, N = 4, seed 3, start 112, f = 1):
    first at or below 10⁻¹ℓ₀ at iteration 206: a miss at the old budget of 150 iterations, a hit at
    the claim's 500; the run equals a hand loop of refopt.bigbatch with Armijo steps and batch 2."""
    net = MLP([3, 2, 1], activation="tanh", loss="mse")
    X = np.random.default_rng(3).standard_normal((4, 3))
    prob = MLPObjective(net, X, net.forward(net.init(seed=4), X))
    x0 = net.init(seed=112)
    assert run(1.0, prob, x0, 1.0, 150)["first"] is None
    assert BUDGET == 500 and run(1.0, prob, x0, 1.0, stop_at_target=True)["first"] == 206
    full = run(1.0, prob, x0, 1.0, 250)
    stopped = run(1.0, prob, x0, 1.0, 250, stop_at_target=True)
    assert full["first"] == stopped["first"] == 206 and full["final"] < stopped["final"] <= 0.1
    opt = refopt.bigbatch(lr=1.0, batch_size=2, step_rule="armijo")
    x, state = x0, opt.init(x0)
    for _ in range(250):
        x, state = step_on(opt, prob, x, state)
    assert full["final"] == float(prob.value(x)) / float(prob.value(x0))


def test_summary_counts_misses():
    rec = lambda first, final, w: {"key": (1, 1, 4, 0, 0, 1.0), "teacher_weight": w,  # noqa: E731
                                    "first": first, "final": final}
    # a run that met the target and ended above it is a hit, as the claim counts it
    records = [rec(3, 1e-4, 0.5), rec(None, 0.3, 0.1), rec(120, 0.05, 0.9), rec(40, 0.2, 0.4)]
    lines = summary(records).splitlines()
    assert lines[0] == "draws 4, budget 500: 1 miss, latest first hit 120"
    assert lines[1].endswith("ℓ/ℓ₀ = 0.3, min |a_j| = 0.1") and len(lines) == 2


def test_sweep_smoke_and_bad_arguments(capsys):
    records = sweep(1.0, 2, 0, budget=50, progress=False)
    assert len(records) == 2 and set(records[0]) == {"key", "teacher_weight", "first", "final"}
    for argv, message in ((["--draws", "0"], "--draws must be a positive integer"),
                          (["--budget", "0"], "--budget must be a positive integer"),
                          (["--base", "0"], "--base must be positive")):
        with pytest.raises(SystemExit):
            main(argv)
        assert message in capsys.readouterr().err
