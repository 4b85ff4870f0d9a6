"""The fused execution path computes the readable per-leaf math bit for bit (issue 12).

For every element-wise registry rule and every registry configuration, a few updates run under
``refopt.execution("fused")`` and under ``"readable"`` from the same start must give identical
parameters and state (same dtype, same bits) in float64 and float32, on NumPy and — where a GPU
is present — on CuPy, whose generated kernels are compiled without FMA contraction so that
every operation rounds as the separate kernels of the readable path do. Each element-wise rule
must actually take the fused path (or be listed in ``NOT_FUSED`` with the reason).
"""

from __future__ import annotations

import numpy as np
import pytest

import refopt
from refopt import _compiled_numpy, elementwise, registry
from tests.conftest import _cupy_available
from tests.helpers import DiagonalQuadratic, assert_trees_equal, describe, run, tree_from_numpy

# element-wise rules whose update does not go through a fused kernel, and why
NOT_FUSED: dict[str, str] = {}

ELEMENTWISE = [s for s in registry.SPECS.values() if s.elementwise]
CASES = [pytest.param(spec, cfg, id=f"{spec.name}-{describe(cfg)}")
         for spec in ELEMENTWISE for cfg in spec.configs]


def _problem(xp, dtype):
    rng = np.random.default_rng(7)
    params = {"w": rng.standard_normal((7, 5)), "b": rng.standard_normal(5), "s": np.array(0.3)}
    params = {k: v.astype(dtype) for k, v in params.items()}
    quad = DiagonalQuadratic(params, seed=3)
    # some coordinates get exactly zero gradients: the 0/0 "no step" branch must agree too
    mask = {k: (rng.uniform(size=np.shape(v)) > 0.2).astype(dtype) for k, v in params.items()}
    mask_x = tree_from_numpy(xp, mask)

    def grad_fn(p):
        return refopt.tree.map(lambda g, m: g * m, quad.grad(p), mask_x)
    return tree_from_numpy(xp, params), grad_fn


def _compare(xp, spec, cfg, dtype, steps=6, mode="fused"):
    opt = spec.build(**cfg)
    params, grad_fn = _problem(xp, dtype)
    before = sum(elementwise.FUSED_LEAVES.values())
    with refopt.execution(mode):
        fused = run(opt, spec, grad_fn, params, steps)
    used_fused = sum(elementwise.FUSED_LEAVES.values()) > before
    with refopt.execution("readable"):
        readable = run(opt, spec, grad_fn, params, steps)
    assert_trees_equal(fused, readable)
    return used_fused


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("spec", "cfg"), CASES)
def test_fused_equals_readable_bit_for_bit_on_numpy(spec, cfg, dtype):
    used = _compare(np, spec, cfg, dtype)
    if spec.name not in NOT_FUSED:
        assert used, f"{spec.name} is element-wise but did not run a fused kernel"


@pytest.mark.skipif(not _compiled_numpy.available(), reason="Numba is not installed")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("spec", "cfg"), CASES)
def test_compiled_equals_readable_bit_for_bit_on_numpy(spec, cfg, dtype):
    """The Numba loop (execution "compiled") rounds every operation as NumPy's ufuncs do."""
    used = _compare(np, spec, cfg, dtype, mode="compiled")
    if spec.name not in NOT_FUSED:
        assert used, f"{spec.name} is element-wise but did not run a compiled kernel"


@pytest.mark.parametrize(("spec", "cfg"), CASES)
def test_donated_updates_equal_readable_ones(spec, cfg):
    """Buffer donation changes where results are written, never what they are — also for
    wrappers whose state holds the arrays they pass on as params (Lookahead, schedule-free)."""
    opt = spec.build(**cfg)
    params, grad_fn = _problem(np, np.float64)
    with refopt.execution("readable"):
        want = run(opt, spec, grad_fn, params, 6)
    mine = refopt.tree.map(np.copy, params)
    with refopt.execution("fused", donate=True):
        got = run(opt, spec, grad_fn, mine, 6)
    assert_trees_equal(got, want)


@pytest.mark.skipif(not _cupy_available(), reason="CuPy with a GPU is not available")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("spec", "cfg"), CASES)
def test_fused_equals_readable_bit_for_bit_on_cupy(spec, cfg, dtype):
    import cupy
    _compare(cupy, spec, cfg, getattr(np, dtype))


def test_inputs_are_not_written_by_the_fused_path():
    opt = refopt.adam(lr=0.1, weight_decay=0.1, decay="decoupled")
    p = {"a": np.linspace(-1, 1, 10_000), "b": np.array(2.0)}
    g = {"a": np.cos(np.arange(10_000.0)), "b": np.array(-1.0)}
    s = opt.init(p)
    copies = [np.copy(x) for x in refopt.tree.leaves((p, g, s))]
    with refopt.execution("fused"):
        p2, s2 = opt.update(g, s, p)
    for x, y in zip(refopt.tree.leaves((p, g, s)), copies):
        np.testing.assert_array_equal(x, y)
    assert p2["b"].shape == () and isinstance(p2["b"], np.ndarray)  # 0-d leaves stay arrays


def test_blocks_do_not_change_a_bit():
    """Leaves longer than one block, and a last partial block, give the readable result."""
    from refopt import _fused_numpy
    n = 3 * _fused_numpy.BLOCK + 17
    rng = np.random.default_rng(0)
    p, g = rng.standard_normal(n), rng.standard_normal(n)
    opt = refopt.adam(lr=0.01)
    with refopt.execution("fused"):
        a = opt.update(g, opt.init(p), p)
    with refopt.execution("readable"):
        b = opt.update(g, opt.init(p), p)
    assert_trees_equal(a, b)


def test_a_leaf_function_that_is_not_element_wise_is_refused_while_tracing():
    def reduces(xp, p, g, *, lr_t):
        return p - lr_t * xp.sum(g)

    def branches(xp, p, g, *, lr_t):
        return p - lr_t * g if g > 0 else p

    p = np.ones(3)
    for fn, message in ((reduces, "xp.sum is not an element-wise operation"),
                        (branches, "branched in Python")):
        kernel = elementwise.Kernel(fn, 1, "bad")
        with refopt.execution("fused"), pytest.raises(TypeError, match=message):
            kernel(np, (p, p), lr_t=0.1)
    # the readable path runs the same function as written (no tracing): the reduction works there
    with refopt.execution("readable"):
        (out,) = elementwise.Kernel(reduces, 1, "bad")(np, (p, p), lr_t=0.1)
    np.testing.assert_array_equal(out, p - 0.1 * 3.0)


def test_scalars_are_arguments_so_one_program_serves_every_step():
    opt = refopt.adam(lr=refopt.exponential_decay(0.1, 0.5))
    p = np.ones(4)
    s = opt.init(p)
    kernel = next(c.cell_contents for c in opt.update.__wrapped__.__closure__
                  if isinstance(c.cell_contents, elementwise.Kernel))
    with refopt.execution("fused"):
        for _ in range(5):
            p, s = opt.update(np.full(4, 0.5), s, p)
    assert len(kernel._programs) == 1  # η_t and the bias corrections changed; the program did not


def test_execution_mode_is_validated():
    with pytest.raises(ValueError, match=r"mode must be one of \['fused', 'readable', 'compiled'\]"):
        refopt.set_execution("fast")
    with pytest.raises(ValueError, match="mode must be one of"):
        with refopt.execution(None):
            pass


def test_donation_reuses_params_and_state_buffers_and_changes_no_bit():
    rng = np.random.default_rng(1)
    p = {"a": rng.standard_normal(50_000), "b": rng.standard_normal((30, 7))}
    g = {k: rng.standard_normal(v.shape) for k, v in p.items()}
    opt = refopt.adam(lr=0.01, weight_decay=0.1, decay="decoupled")
    s = opt.update(g, opt.init(p), p)[1]  # a state with non-zero moments
    g_copy = {k: v.copy() for k, v in g.items()}
    with refopt.execution("fused"):
        want = opt.update(g, s, p)
    p_in = {k: v.copy() for k, v in p.items()}
    s_in = s._replace(m=refopt.tree.map(np.copy, s.m), v=refopt.tree.map(np.copy, s.v))
    with refopt.execution("fused", donate=True):
        got = opt.update(g, s_in, p_in)
    assert_trees_equal(got, want)
    assert got[0]["a"] is p_in["a"] and got[1].m["b"] is s_in.m["b"]  # buffers reused
    assert_trees_equal(g, g_copy)  # grads are never written


def test_donation_is_refused_where_a_buffer_is_also_an_input():
    """opt.update(p, s, p) (the gradient is the parameter array itself): no reuse, same result."""
    opt = refopt.adam(lr=0.1)
    p = np.linspace(-1.0, 1.0, 1000)
    s = opt.init(p)
    with refopt.execution("readable"):
        want = opt.update(p.copy(), s, p.copy())
    mine = p.copy()
    with refopt.execution("fused", donate=True):
        got = opt.update(mine, s, mine)
    assert_trees_equal(got, want)
    assert got[0] is not mine


def test_donate_must_be_a_bool():
    with pytest.raises(TypeError, match="donate must be True or False"):
        with refopt.execution("fused", donate=1):
            pass


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("cfg", registry.SPECS["radam"].configs, ids=describe)
def test_radam_rectified_steps_are_fused_bit_for_bit(cfg, dtype):
    """RAdam has one kernel per answer of ρ_t > threshold; with β2 = 0.999 the first rectified
    step is t = 5 or 6, past the 4 steps above, so 8 steps reach both kernels."""
    from refopt.optim.radam import sma_length
    assert sma_length(8, 0.999) > 5.0 > sma_length(4, 0.999)  # steps 1–4 plain, the last rectified
    spec = registry.SPECS["radam"]
    before = elementwise.FUSED_LEAVES["radam"]
    assert _compare(np, spec, cfg, dtype, steps=8)
    assert elementwise.FUSED_LEAVES["radam"] - before == 8 * 3  # 8 fused updates of 3 leaves
