"""The example scripts and the demo run end to end (small settings) and report what they claim."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_integrator_orders_example(tmp_path):
    rows = load("integrator_orders").main(["--out", str(tmp_path / "orders.png")])
    for name, (_, _, order, measured, _) in rows.items():
        assert abs(measured - order) <= 0.15, name


def test_test_functions_example(capsys):
    load("test_functions").main(["--steps", "50"])
    out = capsys.readouterr().out
    assert "rosenbrock" in out and "adam" in out


def test_demo_runs(tmp_path):
    pytest.importorskip("sklearn", reason="the demo's digits need scikit-learn")
    from refopt.demo import SETTINGS, main
    results = main(["--epochs", "1", "--plot", str(tmp_path / "demo.png")])
    assert set(results) == set(SETTINGS) | {"bigbatch"}
    assert all(h["loss"][1] < h["loss"][0] for h in results.values())


def test_research_examples_run(tmp_path):
    rs = load("rsgd_teacher_student").main(["--epochs", "2", "--out", str(tmp_path / "a.png")])
    assert set(rs) >= {"sgd", "adam"} and all(len(h["loss"]) == 3 for h in rs.values())
    fr = load("agd_sgd_fraction").main(["--epochs", "1", "--out", str(tmp_path / "b.png")])
    # a larger δ never puts fewer coordinates in SGD mode at the first step
    firsts = [fr[d][0] for d in sorted(fr)]
    assert firsts == sorted(firsts)
    bb = load("bigbatch_trajectories").main(["--iters", "10", "--out", str(tmp_path / "c.png")])
    assert all(h["batch_size"] == sorted(h["batch_size"]) for h in bb.values())  # never shrinks
