"""Registry-driven contracts (TESTING.md §4): every rule, every example config, every backend."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refopt
from refopt import tree
from refopt._xp import array_module_name
from refopt.registry import SPECS

from .helpers import (
    DiagonalQuadratic,
    assert_trees_equal,
    describe,
    run,
    step,
    tree_from_numpy,
    tree_to_numpy,
)

# ids describe the configuration (a failing id says what broke) and are the same in every process
CASES = [pytest.param(spec, cfg, id=f"{name}-{describe(cfg)}")
         for name, spec in SPECS.items() for cfg in spec.configs]
INVALID = [pytest.param(spec, bad, id=f"{name}-{describe(bad.kwargs)}")
           for name, spec in SPECS.items() for bad in spec.invalid]


def shapes():
    return st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple)


@st.composite
def pytrees(draw):
    """Nested dict/list/tuple of float64 arrays with small, possibly 0-d, shapes."""
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)

    def arr():
        return rng.uniform(-2.0, 2.0, draw(shapes()))

    kind = draw(st.sampled_from(["array", "dict", "list", "nested"]))
    if kind == "array":
        return arr()
    if kind == "dict":
        return {k: arr() for k in draw(st.sets(st.sampled_from("abcw"), min_size=1, max_size=3))}
    if kind == "list":
        return [arr() for _ in range(draw(st.integers(1, 3)))]
    return {"layer": [arr(), (arr(), arr())], "bias": arr()}


def _problem(xp, params_np, seed=0):
    quad = DiagonalQuadratic(params_np, seed)
    return tree_from_numpy(xp, params_np), quad.grad


@pytest.mark.parametrize("spec,cfg", CASES)
@given(params_np=pytrees())
def test_types_structure_and_purity(spec, cfg, params_np, xp):
    """Array type in = array type out, for params and state; inputs bit-identical afterwards."""
    opt = spec.build(**cfg)
    params, grad_fn = _problem(xp, params_np)
    state = opt.init(params)
    params, state = step(opt, spec, grad_fn, state, params)  # non-trivial state
    grads = grad_fn(params)
    before = tree_to_numpy((params, grads, state))
    state_copy = copy.copy(state)
    new_params, new_state = step(opt, spec, grad_fn, state, params)
    assert_trees_equal(tree_to_numpy((params, grads, state)), before)
    assert state == state_copy
    assert tree.structure(new_params) == tree.structure(params)
    assert tree.structure(new_state) == tree.structure(state)
    for old, new in zip(tree.leaves((params, state)), tree.leaves((new_params, new_state))):
        if hasattr(old, "shape"):
            assert array_module_name(new) == array_module_name(old)
            assert new.dtype == old.dtype and tuple(new.shape) == tuple(old.shape)
        else:
            assert type(new) is type(old)
    assert new_state.t == state.t + 1


@pytest.mark.parametrize("spec,cfg", CASES)
def test_zero_gradient_is_fixed_point(spec, cfg, xp):
    if not spec.zero_grad_fixed_point:
        pytest.skip(f"{spec.name} declares zero_grad_fixed_point=False")
    if cfg.get("weight_decay", 0.0) > 0:
        pytest.skip("weight decay moves parameters even when g = 0")
    params = tree_from_numpy(xp, {"a": np.array([1.5, -0.25]), "b": np.ones((2, 3))})
    opt = spec.build(**cfg)
    out, _ = run(opt, spec, lambda p: tree.map(xp.zeros_like, p), params, steps=5)
    assert_trees_equal(tree_to_numpy(out), tree_to_numpy(params))


@pytest.mark.parametrize("spec,cfg", CASES)
@given(seed=st.integers(0, 1000), split=st.integers(1, 5))
def test_per_leaf_and_per_coordinate_independence(spec, cfg, seed, split):
    """Elementwise rules: updating leaves (and slices of a leaf) separately changes nothing."""
    if not spec.elementwise:
        pytest.skip(f"{spec.name} is not elementwise")
    rng = np.random.default_rng(seed)
    whole = rng.uniform(-2, 2, 6)
    other = rng.uniform(-2, 2, (2, 2))
    quad = DiagonalQuadratic({"x": whole, "y": other}, seed)

    def g_whole(p):
        return quad.grad(p)

    opt = spec.build(**cfg)
    joint, _ = run(opt, spec, g_whole, {"x": whole, "y": other}, steps=4)

    def part(sl):
        d, b = quad.d["x"][sl], quad.b["x"][sl]
        p_out, _ = run(opt, spec, lambda p: d * p - b, whole[sl], steps=4)
        return p_out

    np.testing.assert_array_equal(joint["x"], np.concatenate([part(slice(0, split)),
                                                              part(slice(split, None))]))
    alone, _ = run(opt, spec, lambda p: quad.d["y"] * p - quad.b["y"], other, steps=4)
    np.testing.assert_array_equal(joint["y"], alone)


@pytest.mark.parametrize("spec,cfg", CASES)
def test_determinism_and_state_round_trip(spec, cfg, xp, tmp_path):
    """Same inputs ⇒ bitwise same run; save → load → continue ≡ uninterrupted, bitwise."""
    params0, grad_fn = _problem(xp, {"w": np.linspace(-1, 2, 5).reshape(5), "b": [np.ones(2)]})
    opt = spec.build(**cfg)
    straight, s1 = run(opt, spec, grad_fn, params0, steps=8)
    again, s2 = run(opt, spec, grad_fn, params0, steps=8)
    assert_trees_equal(tree_to_numpy((straight, s1)), tree_to_numpy((again, s2)))

    half, state = run(opt, spec, grad_fn, params0, steps=4)
    path = tmp_path / "state.npz"
    refopt.save_state(path, state)
    loaded = refopt.load_state(path)
    assert type(loaded) is type(state)
    resumed, s3 = run(opt, spec, grad_fn, half, steps=4, state=loaded)
    assert_trees_equal(tree_to_numpy((resumed, s3)), tree_to_numpy((straight, s1)))
    for a, b in zip(tree.leaves(loaded), tree.leaves(state)):
        if hasattr(a, "shape"):
            assert array_module_name(a) == array_module_name(b)


@pytest.mark.parametrize("spec,cfg", CASES)
def test_float32_follows_float64(spec, cfg):
    """20 steps in float32 stay within 1e-4 (relative to the path length) of float64.

    Tolerance: float32 has unit roundoff 6e-8; 20 steps with adaptive denominators amplify
    per-step rounding by at most ~1e2 on this well-conditioned problem (d ∈ [0.5, 2]).
    """
    p64 = {"w": np.linspace(-1.0, 2.0, 7)}
    quad = DiagonalQuadratic(p64, 1)
    opt = spec.build(**cfg)
    out64, _ = run(opt, spec, quad.grad, p64, steps=20)
    p32 = {"w": p64["w"].astype(np.float32)}
    quad32 = DiagonalQuadratic(p64, 1)
    out32, _ = run(opt, spec, quad32.grad, p32, steps=20)
    assert out32["w"].dtype == np.float32
    scale = np.max(np.abs(out64["w"] - p64["w"])) + 1e-12
    assert np.max(np.abs(out32["w"] - out64["w"])) <= 1e-4 * max(scale, 1.0)


@pytest.mark.parametrize("spec", [s for s in SPECS.values() if s.scale_invariant is not None],
                         ids=lambda s: s.name)
@pytest.mark.parametrize("c", [1e-3, 7.0])
def test_scale_invariance(spec, c):
    """With ε = 0, adaptive rules take the same steps for gradients c·g (c > 0).

    rtol 1e-13: scaling g by c changes only the rounding of g², √ and the division.
    """
    cfg = spec.scale_invariant
    rng = np.random.default_rng(5)
    grads = [rng.uniform(-1, 1, 4) for _ in range(6)]
    opt = spec.build(**cfg)

    def traj(scale):
        p, s = np.ones(4), opt.init(np.ones(4))
        for g in grads:
            p, s = opt.update(scale * g, s, p)
        return p

    np.testing.assert_allclose(traj(c), traj(1.0), rtol=1e-13, atol=0)


@pytest.mark.parametrize("spec,bad", INVALID)
def test_invalid_configs_raise_declared_error(spec, bad):
    base_cfg = dict(spec.configs[0])
    base_cfg.update(bad.kwargs)
    with pytest.raises(bad.error, match=bad.match):
        spec.build(**base_cfg)


@pytest.mark.parametrize("spec,cfg", CASES)
def test_bad_update_inputs_are_rejected_before_anything_changes(spec, cfg):
    opt = spec.build(**cfg)
    params = {"a": np.ones(3), "b": np.zeros(2)}
    state = opt.init(params)
    if "objective" in opt.extra_args:
        with pytest.raises(ValueError, match="objective is required"):
            opt.update(None, state, params)
        with pytest.raises(ValueError, match="grads must be None"):
            opt.update(params, state, params, objective=object())
        return
    kw = {"grad_fn": None} if "grad_fn" in opt.extra_args else {}
    if kw:
        bad_fns = {"shape": lambda p: {"a": np.ones(4), "b": np.zeros(2)},
                   "structure": lambda p: {"a": np.ones(3)},
                   "dtype": lambda p: {"a": np.ones(3, np.float32), "b": np.zeros(2)}}
        for problem, fn in bad_fns.items():
            with pytest.raises((ValueError, TypeError), match=problem if problem != "dtype" else "dtype"):
                opt.update(None, state, params, grad_fn=fn)
        return
    with pytest.raises(ValueError, match="structure mismatch"):
        opt.update({"a": np.ones(3)}, state, params)
    with pytest.raises(ValueError, match=r"shape mismatch at \['a'\]"):
        opt.update({"a": np.ones(4), "b": np.zeros(2)}, state, params)
    with pytest.raises(TypeError, match="dtype mismatch"):
        opt.update({"a": np.ones(3, np.float32), "b": np.zeros(2)}, state, params)
    with pytest.raises(TypeError, match="not an array"):
        opt.update({"a": 1.0, "b": np.zeros(2)}, state, params)
    with pytest.raises(TypeError, match="real floating"):
        opt.init({"a": np.arange(3)})


@pytest.mark.parametrize("spec,cfg", CASES)
def test_schedule_values_are_validated_each_step(spec, cfg):
    if "lr" not in cfg or not spec.lr_schedules:
        pytest.skip("config has no lr, or the rule takes a constant lr only")
    opt = spec.build(**{**cfg, "lr": lambda t: 0.01 if t < 3 else -1.0})
    params = np.ones(3)
    quad = DiagonalQuadratic(params)
    p, s = run(opt, spec, quad.grad, params, steps=2)
    with pytest.raises(ValueError, match="schedule lr returned an invalid value at t=3"):
        step(opt, spec, quad.grad, s, p)


@pytest.mark.parametrize("spec,cfg", CASES)
def test_backend_parity_numpy_vs_array_api_strict(spec, cfg):
    """The same 10 steps on NumPy and array-api-strict. Both run NumPy kernels on the CPU here,
    so any difference would come from a non-standard call path: bitwise equality is expected."""
    import array_api_strict as xs
    p_np = {"w": np.linspace(-1.0, 2.0, 5), "b": [np.ones((2, 2))]}
    quad = DiagonalQuadratic(p_np, 2)
    opt = spec.build(**cfg)
    out_np, _ = run(opt, spec, quad.grad, p_np, steps=10)
    out_xs, _ = run(opt, spec, quad.grad, tree_from_numpy(xs, p_np), steps=10)
    assert_trees_equal(tree_to_numpy(out_xs), out_np)
