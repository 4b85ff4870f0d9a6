"""``python -m refopt.bench``: its report's structure and its bandwidth floor's byte count.

No wall-clock number is asserted here: timings depend on the machine, the benchmark reports them.
"""

import importlib.util
import json
import math

import numpy as np
import pytest

import refopt
from refopt.bench import main, peers, rules
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
    (adam_block,) = data["peers"]
    names = [p["name"] for p in adam_block["peers"]]
    assert "numpy in-place (hand-written)" in names
    for p in adam_block["peers"]:
        assert p["refopt_fused_over_peer"] == pytest.approx(adam_block["refopt_fused_ms"] / p["ms"])
    assert {s["name"] for s in adam_block["skipped"]} >= {"torch.optim.Adam fused"}  # CUDA only
    # a peer is skipped only for not running here, never for breaking
    assert all(s["reason"].startswith(("ImportError", "RuntimeError")) for s in adam_block["skipped"])
    if importlib.util.find_spec("torch"):
        assert {"torch.optim.Adam single-tensor", "torch.optim.Adam foreach"} <= set(names)
    if importlib.util.find_spec("optax"):
        assert "optax.adam jit (cpu)" in names
    assert adam_block["hyper"] == {"lr": SPECS["adam"].configs[0]["lr"], "beta1": 0.9, "beta2": 0.999,
                              "eps": 1e-8}
    (many,) = data["many_leaves"]
    assert many["leaves"] == 50 and set(many) >= {"fused", "readable"}
    # the CPU targets this run measured, each the ratio it reports above
    by_name = {t["target"].split(",")[0]: t for t in data["targets"]}
    for p in adam_block["peers"]:
        if p["name"] == "torch.optim.Adam foreach":   # torch is in the oracles extra
            assert by_name["Adam fused / torch foreach"]["measured"] == p["refopt_fused_over_peer"]
    assert by_name["50 leaves / 1 leaf (fused)"]["measured"] == many["fused"]["ratio"]
    assert all(t["met"] == (t["measured"] <= t["limit"]) for t in data["targets"])
    mlp = data["mlp"]
    if "torch_loss0" in mlp:
        # same weights, same function, float64: only summation order differs
        assert mlp["torch_loss0"] == pytest.approx(mlp["refopt_loss0"], rel=1e-12)
        # [8, 16, 16, 4]: z = hW and dW = hᵀdz at 3 layers, dh = dz Wᵀ at the 2 upper ones
        assert mlp["gemms"]["products"] == 8
        assert mlp["gemms"]["refopt_over_torch"] == pytest.approx(
            mlp["gemms"]["refopt_ms"] / mlp["gemms"]["torch_ms"])
    # with Numba installed the compiled mode is measured beside fused and readable, everywhere
    compiled = importlib.util.find_spec("numba") is not None
    assert all(("compiled_ms" in row) == compiled for row in block["rows"])
    assert ("refopt_compiled+donated_ms" in adam_block) == compiled
    assert ("compiled" in many) == compiled and ("refopt_compiled_ms" in mlp) == compiled


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


def _refopt_adam_trajectory(p0, grads):
    h = peers.adam_hyper()
    opt = refopt.adam(lr=h.lr, beta1=h.beta1, beta2=h.beta2, eps=h.eps)
    p, s = p0, opt.init(p0)
    for g in grads:
        p, s = opt.update(g, s, p)
    return p


def _cpu_peers(p0, g):
    h = peers.adam_hyper()
    yield "numpy in-place", peers.numpy_inplace(p0, g, h)
    for impl in ("single-tensor", "foreach"):
        pytest.importorskip("torch")
        yield f"torch {impl}", peers.torch_adam(p0, g, h, impl, cuda=False)
    pytest.importorskip("optax")
    yield "optax", peers.optax_adam(p0, g, h, want_gpu=False)


def _drive(peer, grads):
    for g in grads:
        peer.set_grad(g)
        peer.step()
    return peer.params()


def _problem(dtype):
    """θ₀ and 5 different gradients: with one constant gradient m̂/√v̂ = sign(g) whatever β₁, β₂."""
    rng = np.random.default_rng(3)
    p0 = rng.standard_normal(64).astype(dtype)
    return p0, [rng.standard_normal(64).astype(dtype) for _ in range(5)]


# Same operations in another order over 5 steps: a few ulps of |θ| < 4 (ulp 4.4e-16 in float64,
# 2.4e-7 in float32); seen ≤ 1 ulp. ε = 1e-6 instead of 1e-8 already moves θ by 2.2e-6.
TRAJECTORY_ATOL = [("float64", 2e-15), ("float32", 6e-7)]


@pytest.mark.parametrize("dtype, atol", TRAJECTORY_ATOL)
def test_every_cpu_peer_takes_refopts_adam_steps(dtype, atol):
    p0, grads = _problem(dtype)
    expected = _refopt_adam_trajectory(p0, grads)
    for name, peer in _cpu_peers(p0, grads[0]):
        got = _drive(peer, grads)
        assert got.dtype == np.dtype(dtype), name             # no silent promotion
        np.testing.assert_allclose(got, expected, rtol=0, atol=atol, err_msg=name)


def _cupy_available() -> bool:
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no cupy, or no driver / GPU
        return False


@pytest.mark.gpu
@pytest.mark.skipif(not _cupy_available(), reason="CuPy with a GPU is not available")
@pytest.mark.parametrize("dtype, atol", TRAJECTORY_ATOL)
def test_gpu_peers_take_refopts_adam_steps(dtype, atol):
    """An FMA (a·b + c rounded once) in a kernel changes a rounding, not the count of them."""
    import cupy
    p0, grads = _problem(dtype)
    expected = _refopt_adam_trajectory(p0, grads)
    h = peers.adam_hyper()
    gpu_peers = [("cupy.fuse", peers.cupy_fuse(cupy.asarray(p0), cupy.asarray(grads[0]), h))]
    try:
        import torch
        if torch.cuda.is_available():
            gpu_peers += [(f"torch {impl}", peers.torch_adam(p0, grads[0], h, impl, cuda=True))
                          for impl in ("single-tensor", "foreach", "fused")]
    except ImportError:
        pass
    for name, peer in gpu_peers:
        got = _drive(peer, grads)
        assert got.dtype == np.dtype(dtype), name
        np.testing.assert_allclose(got, expected, rtol=0, atol=atol, err_msg=name)
