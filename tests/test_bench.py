"""``python -m refopt.bench``: its report's structure and its bandwidth floor's byte count.

No wall-clock number is asserted here: timings depend on the machine, the benchmark reports them.
"""

import json
import math

import numpy as np
import pytest

import refopt
from refopt.bench import main, rules
from refopt.registry import SPECS


def test_quick_run_reports_every_plain_gradient_rule(tmp_path):
    out = tmp_path / "bench.json"
    result = main(["--quick", "--rules", "all", "--json", str(out)])
    data = json.loads(out.read_text())
    assert data == json.loads(json.dumps(result))          # the file holds what main returned
    assert {"date", "hardware", "versions", "settings"} <= set(data)
    assert data["hardware"]["cpu"] and data["versions"]["numpy"] == np.__version__
    assert data["rule_errors"] == []
    (block,) = data["rules"]
    n, itemsize = block["n"], block["itemsize"]
    assert (n, block["dtype"], itemsize) == (1000, "float64", 8)
    measured = [r["rule"] for r in block["rows"]]
    skipped = {s["rule"]: s["reason"] for s in data["skipped_rules"]}
    # every registry rule is measured or skipped with a reason, never both, never silently
    assert sorted(measured + list(skipped)) == sorted(SPECS)
    oracle_rules = {name for name, spec in SPECS.items()
                    if {"grad_fn", "objective"} & spec.build(**spec.configs[0]).extra_args}
    assert set(skipped) == oracle_rules and "nag" in oracle_rules and "adam" in measured
    assert all("grad_fn" in why or "objective" in why for why in skipped.values())
    for row in block["rows"]:
        times = [row["fused_ms"], row["readable_ms"], row["floor_ms"]]
        assert all(math.isfinite(t) and t > 0 for t in times), row
        assert row["fused_fraction_of_floor"] == pytest.approx(row["floor_ms"] / row["fused_ms"])
        assert row["fused_speedup"] == pytest.approx(row["readable_ms"] / row["fused_ms"])
        # reads exceed writes by exactly the gradient: θ and the state are read and written
        assert row["bytes_read"] - row["bytes_written"] == n * itemsize
    (peers,) = data["peers"]
    names = [p["name"] for p in peers["peers"]]
    assert "numpy in-place (hand-written)" in names
    for p in peers["peers"]:
        assert p["refopt_fused_over_peer"] == pytest.approx(peers["refopt_fused_ms"] / p["ms"])
    assert {s["name"] for s in peers["skipped"]} >= {"torch.optim.Adam fused"}  # CUDA only
    assert peers["hyper"] == {"lr": SPECS["adam"].configs[0]["lr"], "beta1": 0.9, "beta2": 0.999,
                              "eps": 1e-8}
    (many,) = data["many_leaves"]
    assert many["leaves"] == 50 and set(many) >= {"fused", "readable"}
    # the CPU targets this run measured, each the ratio it reports above
    by_name = {t["target"].split(",")[0]: t for t in data["targets"]}
    for p in peers["peers"]:
        if p["name"] == "torch.optim.Adam foreach":   # torch is in the oracles extra
            assert by_name["Adam fused / torch foreach"]["measured"] == p["refopt_fused_over_peer"]
    assert by_name["50 leaves / 1 leaf (fused)"]["measured"] == many["fused"]["ratio"]
    assert all(t["met"] == (t["measured"] <= t["limit"]) for t in data["targets"])
    mlp = data["mlp"]
    if "torch_loss0" in mlp:
        # same weights, same function, float64: only summation order differs
        assert mlp["torch_loss0"] == pytest.approx(mlp["refopt_loss0"], rel=1e-12)


class _CountingBackend:
    """Times nothing; records the byte count the floor's copy is asked to move."""

    on_gpu = False

    def __init__(self):
        self.copied = []

    def time(self, fn, repeat):
        fn()
        return 1.0

    def free(self):
        pass

    def copy_time(self, nbytes, repeat):
        self.copied.append(nbytes)
        return 1.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1000,), (10, 7)])
def test_adam_floor_moves_seven_arrays(dtype, shape):
    """Adam reads θ, g, m, v and writes θ, m, v: 7 · n · itemsize bytes; the floor's copy of
    B bytes reads and writes B, so it copies half of that."""
    p = np.ones(shape, dtype=dtype)
    n, itemsize = p.size, np.dtype(dtype).itemsize
    read, written = rules.traffic_bytes(p, p, refopt.adam().init(p))
    assert (read, written) == (4 * n * itemsize, 3 * n * itemsize)
    backend = _CountingBackend()
    rules.bench_rule(backend, SPECS["adam"], p, p, 1, rules.FloorCache(backend, 1))
    assert backend.copied == [7 * n * itemsize // 2]


def test_floor_counts_every_leaf_of_a_tree():
    params = [{"W": np.ones((4, 3)), "b": np.ones(3)} for _ in range(25)]
    read, written = rules.traffic_bytes(params, params, refopt.adam().init(params))
    assert read + written == 7 * 25 * (12 + 3) * 8


@pytest.mark.parametrize("argv, message", [
    (["--n", "0"], "--n must be a positive integer"),
    (["--n", "1.5e3x"], "--n must be a positive integer"),
    (["--rules", "adam,nope"], "--rules must be a comma-separated subset"),
    (["--dtype", "float16"], "--dtype must be a comma-separated subset"),
    (["--repeat", "0"], "--repeat must be a positive integer"),
])
def test_bad_arguments_are_refused_before_any_measurement(argv, message, capsys):
    with pytest.raises(SystemExit) as err:
        main(argv)
    assert message in str(err.value) + capsys.readouterr().err
