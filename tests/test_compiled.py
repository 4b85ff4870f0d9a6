"""execution("compiled"): the Numba loop rounds every operation as NumPy does, and the output
buffer pool never hands out memory that anyone can still see (issue 12).

tests/test_fused.py runs every element-wise rule and configuration compiled against readable;
here each operation the loop generator knows is checked on the values where implementations
differ (NaN, ±0, ±inf, subnormals, the float32 boundary), bit for bit.
"""

from __future__ import annotations

import array_api_compat.numpy
import numpy as np
import pytest

import refopt
from refopt import _buffers, _compiled_numpy, elementwise, registry
from refopt.execution_mode import update_scope
from tests.helpers import assert_trees_equal

needs_numba = pytest.mark.skipif(not _compiled_numpy.available(), reason="Numba is not installed")

SPECIALS = [np.nan, -np.nan, 0.0, -0.0, np.inf, -np.inf, 1.0, -1.0, 0.5, 3.0, -2.5, 1e-310,
            -1e-310, 1e-45, 3.4e38, 1e300, -7.0]


def every_operation(xp, a, b, *, s):
    """One output per operation the generator emits (and per way a scalar can enter)."""
    pos_a, pos_b = a > 0, b > 0
    return (a + b, a - b, a * b, a / b, -a, xp.abs(a), xp.sqrt(a), xp.square(a),
            xp.maximum(a, b), xp.minimum(a, b), xp.sign(a), xp.where(a < b, a, b),
            xp.where(pos_a, a, 0.0), xp.clip(a, -1.0, 2.0), xp.clip(a, None, 0.5),
            a == b, a != b, a < b, a <= b, a > b, a >= b,
            xp.logical_and(pos_a, pos_b), xp.logical_or(pos_a, pos_b), xp.logical_not(pos_a),
            pos_a & pos_b, pos_a | pos_b, ~pos_a, xp.isnan(a), xp.isfinite(a),
            a * s, s / a, a + 1, 2 - a, xp.zeros_like(a) + b, xp.ones_like(a) * s,
            # two bounds, where NumPy keeps x on a bound (clip(−0, 0, 1) = −0) and a NaN bound wins
            xp.clip(a, 0.0, 1.0), xp.clip(a, -0.0, 1.0), xp.clip(a, -1.0, -0.0), xp.clip(a, 0.0, 0.0),
            xp.clip(a, 1.0, 0.0), xp.clip(a, b, 2.0),
            # 0.0 and −0.0 are different constants
            a + 0.0, a + -0.0, xp.where(pos_a, a, -0.0), xp.where(pos_b, b, 0.0))


N_OUT = 45


def _assert_same_bits(x, y, message):
    """Equal bits, except that a NaN may carry another sign or payload: IEEE 754 leaves open
    which NaN operand's payload an operation passes on, and a compiler may commute a + b."""
    if x.dtype.kind != "f":
        np.testing.assert_array_equal(x, y, err_msg=message)
        return
    np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=message)
    keep = ~np.isnan(y)
    u = f"u{x.dtype.itemsize}"
    np.testing.assert_array_equal(x[keep].view(u), y[keep].view(u), err_msg=message)


def _pairs(dtype_a, dtype_b):
    with np.errstate(over="ignore"):
        v = np.array(SPECIALS)
        a, b = np.meshgrid(v, v)
        return a.ravel().astype(dtype_a), b.ravel().astype(dtype_b)


@pytest.mark.parametrize("mode", ["fused", pytest.param("compiled", marks=needs_numba)])
@pytest.mark.parametrize(("dtype_a", "dtype_b"), [("float64", "float64"), ("float32", "float32"),
                                                  ("float32", "float64")])
@pytest.mark.parametrize("s", [0.1, 1e-46, 1e39], ids=["s=0.1", "s=1e-46", "s=1e39"])
def test_every_operation_matches_numpy_bit_for_bit_on_special_values(dtype_a, dtype_b, s, mode):
    a, b = _pairs(dtype_a, dtype_b)
    kernel = elementwise.Kernel(every_operation, N_OUT, "every_operation")
    xp = array_api_compat.numpy   # the namespace rules receive (its clip casts bounds to x's dtype)
    with np.errstate(all="ignore"):
        with refopt.execution("readable"):
            want = kernel(xp, (a, b), s=s)
        with refopt.execution(mode):
            got = kernel(xp, (a, b), s=s)
    (prog,) = kernel._programs.values()
    if mode == "compiled":
        assert prog.reason is None, prog.reason   # the loop ran, not the blocked fallback
    for k, (x, y) in enumerate(zip(got, want)):
        assert x.dtype == y.dtype, (k, x.dtype, y.dtype)
        _assert_same_bits(x, y, f"output {k}")


@needs_numba
def test_operations_numpy_does_not_round_correctly_stay_on_numpy_ufuncs():
    """exp, log and power have NumPy's own SIMD implementations: such a graph runs on the blocked
    evaluator (NumPy's ufuncs), so compiled still equals readable bit for bit."""
    def leaf(xp, p, g, *, lr_t):
        return p - lr_t * xp.exp(g) * g ** 1.5 + xp.log(xp.abs(p) + 1.0)

    rng = np.random.default_rng(1)
    p, g = rng.standard_normal(1000), rng.uniform(0.1, 2.0, 1000)
    kernel = elementwise.Kernel(leaf, 1, "transcendental")
    with refopt.execution("readable"):
        want = kernel(np, (p, g), lr_t=0.01)
    with refopt.execution("compiled"):
        got = kernel(np, (p, g), lr_t=0.01)
    (prog,) = kernel._programs.values()
    assert prog.reason == "operation exp"
    np.testing.assert_array_equal(got[0], want[0])


@needs_numba
@pytest.mark.parametrize("name", ["adam", "lion", "schedule_free_sgd", "lookahead"])
def test_compiled_donation_changes_no_bit_and_never_writes_grads(name):
    from tests.helpers import run
    from tests.test_fused import _problem
    spec = registry.SPECS[name]
    opt = spec.build(**spec.configs[0])
    params, grad_fn = _problem(np, np.float64)
    with refopt.execution("readable"):
        want = run(opt, spec, grad_fn, params, 6)
    mine = refopt.tree.map(np.copy, params)
    with refopt.execution("compiled", donate=True):
        got = run(opt, spec, grad_fn, mine, 6)
    assert_trees_equal(got, want)


@needs_numba
def test_compiled_donation_writes_into_the_buffers_passed_in():
    opt = refopt.adam(lr=0.01)
    rng = np.random.default_rng(2)
    p, g = rng.standard_normal(5000), rng.standard_normal(5000)
    s = opt.init(p)
    s = s._replace(m=s.m.copy(), v=s.v.copy())   # init shares one zeros buffer for m and v
    g_copy = g.copy()
    with refopt.execution("readable"):
        want = opt.update(g, s, p)
    with refopt.execution("compiled", donate=True):
        got = opt.update(g, s, p)
    assert got[0] is p and got[1].m is s.m and got[1].v is s.v
    np.testing.assert_array_equal(g, g_copy)
    assert_trees_equal(got, want)


@needs_numba
@pytest.mark.parametrize("mode", ["fused", "compiled"])
def test_a_buffer_passed_as_two_inputs_is_donated_to_neither_output(mode):
    """Two outputs donated into one memory would leave only the second: the kernel refuses to
    donate a buffer that another input shares (the rule wrappers refuse earlier as well)."""
    def leaf(xp, p, g, m, *, lr_t):
        return p - lr_t * g * m, m + g

    kernel = elementwise.Kernel(leaf, 2, "two_outputs", donate=(0, 2))
    rng = np.random.default_rng(5)
    shared, g = rng.standard_normal(1000), rng.standard_normal(1000)
    with refopt.execution("readable"):
        want = kernel(np, (shared.copy(), g, shared.copy()), lr_t=0.1)
    with refopt.execution(mode, donate=True), update_scope(True):   # as inside a rule's update
        got = kernel(np, (shared, g, shared), lr_t=0.1)
    assert_trees_equal(got, want)
    # and a donation that is safe does happen, so the comparison above is not vacuous
    p, m = shared.copy(), shared.copy()
    with refopt.execution(mode, donate=True), update_scope(True):
        got = kernel(np, (p, g, m), lr_t=0.1)
    assert got[0] is p and got[1] is m
    assert_trees_equal(got, want)


@needs_numba
def test_pure_compiled_updates_do_not_write_their_inputs():
    opt = refopt.adamw(lr=0.1, weight_decay=0.1)
    rng = np.random.default_rng(3)
    p, g = rng.standard_normal(70_000), rng.standard_normal(70_000)
    s = opt.init(p)
    copies = [np.copy(x) for x in refopt.tree.leaves((p, g, s))]
    with refopt.execution("compiled"):
        for _ in range(3):
            p2, s2 = opt.update(g, s, p)
    for x, y in zip(refopt.tree.leaves((p, g, s)), copies):
        np.testing.assert_array_equal(x, y)


def test_compiled_without_numba_is_refused_with_the_extra_to_install(monkeypatch):
    monkeypatch.setattr(_compiled_numpy, "available", lambda: False)
    with pytest.raises(ImportError, match=r'needs Numba: pip install "refopt\[fast\]"'):
        refopt.set_execution("compiled")
    with pytest.raises(ImportError, match="needs Numba"):
        with refopt.execution("compiled"):
            pass
    assert refopt.get_execution() == "fused"   # nothing changed


# ---- the output buffer pool ---------------------------------------------------------------

BIG = _buffers.MIN_BYTES // 8 * 4   # float64 elements of a pooled array


def test_a_buffer_is_handed_out_again_only_when_nothing_refers_to_it():
    _buffers.release()
    a = _buffers.empty((BIG,), np.float64)
    address = a.__array_interface__["data"][0]
    view = a[::2]
    del a
    b = _buffers.empty((BIG,), np.float64)          # a's base is still seen through view
    assert b.__array_interface__["data"][0] != address
    held = memoryview(view)                          # a buffer-protocol holder keeps it too
    del view
    c = _buffers.empty((BIG,), np.float64)
    assert c.__array_interface__["data"][0] != address
    del held
    d = _buffers.empty((2, BIG // 2), np.float64)   # now unreachable: reused, any shape
    assert d.__array_interface__["data"][0] == address
    assert d.shape == (2, BIG // 2) and not np.shares_memory(d, b) and not np.shares_memory(d, c)


def test_small_arrays_are_not_pooled_and_stale_buffers_are_let_go():
    _buffers.release()
    small = _buffers.empty((10,), np.float64)
    assert small.base is None and _buffers.pooled_bytes() == 0
    x = _buffers.empty((BIG,), np.float32)
    assert _buffers.pooled_bytes() == x.nbytes
    del x
    for _ in range(2 * _buffers.STALE + 1):
        _buffers.tick()
    assert _buffers.pooled_bytes() == 0
    _ = _buffers.empty((BIG,), np.float32)
    refopt.release_buffers()
    assert _buffers.pooled_bytes() == 0


@pytest.mark.parametrize("mode", ["fused", pytest.param("compiled", marks=needs_numba)])
def test_a_training_loop_reuses_the_previous_steps_buffers_and_keeps_the_values(mode):
    """With the caller dropping step t − 1's arrays, step t + 1 writes into them — and every
    returned array is the readable result, including ones the caller chose to keep."""
    _buffers.release()
    opt = refopt.adam(lr=0.01)
    rng = np.random.default_rng(4)
    p0, g = rng.standard_normal(BIG), rng.standard_normal(BIG)
    kept = []
    with refopt.execution(mode):
        p, s = p0, opt.init(p0)
        for t in range(6):
            p, s = opt.update(g, s, p)
            if t == 2:
                kept.append((p, s))
        peak = _buffers.pooled_bytes()
    with refopt.execution("readable"):
        q, r = p0, opt.init(p0)
        for t in range(6):
            q, r = opt.update(g, r, q)
            if t == 2:
                snapshot = (q, r)
    assert_trees_equal((p, s), (q, r))
    assert_trees_equal(kept[0], snapshot)       # a kept step was never overwritten
    # steps 0..5: 3 outputs each, step 2's kept; without reuse 18 buffers would be pooled
    assert peak <= 12 * BIG * 8, peak


@pytest.mark.parametrize("name", sorted(registry.SPECS))
def test_an_update_leaves_no_reference_cycles(name):
    """A step's arrays are freed (or reused by the pool) as soon as the caller drops them: an
    update must not tie them into reference cycles that only the cyclic GC would break (a
    recursive closure in tree.flatten once did, keeping every step's params and state alive)."""
    import gc

    from tests.helpers import run
    from tests.test_fused import _problem
    spec = registry.SPECS[name]
    opt = spec.build(**spec.configs[0])
    params, grad_fn = _problem(np, np.float64)
    run(opt, spec, grad_fn, params, 2)   # first-use imports and caches
    gc.collect()
    gc.disable()
    try:
        run(opt, spec, grad_fn, params, 3)
        assert gc.collect() == 0
    finally:
        gc.enable()


@needs_numba
def test_compiled_leaves_other_namespaces_to_their_own_operators():
    """Only NumPy arrays are compiled: array-api-strict leaves run readable, as under "fused"."""
    xps = pytest.importorskip("array_api_strict")
    opt = refopt.adam(lr=0.1)
    p, g = xps.asarray([1.0, -2.0, 3.0]), xps.asarray([0.5, 0.25, -1.0])
    before = sum(elementwise.FUSED_LEAVES.values())
    with refopt.execution("compiled"):
        got, _ = opt.update(g, opt.init(p), p)
    assert sum(elementwise.FUSED_LEAVES.values()) == before
    assert type(got) is type(p)
    with refopt.execution("readable"):
        want, _ = opt.update(g, opt.init(p), p)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@needs_numba
def test_numpy_error_state_raise_is_honoured_as_on_the_readable_path():
    """Under np.errstate(over="raise") the readable path raises FloatingPointError; the compiled
    loop cannot see the overflow, so it hands the step to NumPy's ufuncs, which raise too."""
    opt = refopt.adam(lr=0.1)
    p, g = np.ones(1000), np.full(1000, 1e200)   # g·g overflows
    for mode in ("readable", "compiled"):
        with refopt.execution(mode), np.errstate(over="raise"):
            with pytest.raises(FloatingPointError, match="overflow"):
                opt.update(g, opt.init(p), p)
    with refopt.execution("compiled"), np.errstate(all="ignore"):
        got = opt.update(g, opt.init(p), p)
    with refopt.execution("readable"), np.errstate(all="ignore"):
        want = opt.update(g, opt.init(p), p)
    assert_trees_equal(got, want)


def test_networks_used_without_updates_age_their_pooled_buffers_out(monkeypatch):
    """The pool's clock also ticks per pooled product, so forward passes alone (say, over many
    batch sizes) do not keep every size's buffers for ever."""
    from refopt.nn import MLP
    monkeypatch.setattr(_buffers, "STALE", 4)
    _buffers.release()
    net = MLP([64, 256, 64], activation="relu")
    params = net.init(0)
    rng = np.random.default_rng(6)
    sizes = range(300, 500, 2)
    for n in sizes:
        net.forward(params, rng.standard_normal((n, 64)))
    largest = 500 * 256 * 8
    # a buffer is let go at most 2·STALE ticks after its last use, one tick per pooled array: at
    # most 2·STALE of them stay (without aging, all 100 sizes × (z, a) ≈ 160 MB would)
    assert _buffers.pooled_bytes() <= 2 * _buffers.STALE * largest, _buffers.pooled_bytes()
    _buffers.release()
