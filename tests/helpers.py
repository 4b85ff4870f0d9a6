"""Small test utilities: moving trees between backends, a diagonal quadratic, running a rule."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from refopt import tree, treemath


def to_numpy(x: Any) -> np.ndarray:
    if type(x).__module__.split(".")[0] == "cupy":
        return x.get()
    return np.asarray(x)


def tree_to_numpy(t: Any) -> Any:
    return tree.map(lambda a: to_numpy(a) if hasattr(a, "shape") else a, t)


def tree_from_numpy(xp: Any, t: Any) -> Any:
    return tree.map(lambda a: xp.asarray(a), t)


def assert_trees_equal(a: Any, b: Any) -> None:
    """Bitwise equality of two trees (same structure, dtype, shape, values; NaNs equal)."""
    assert tree.structure(a) == tree.structure(b), (tree.structure(a), tree.structure(b))
    for x, y in zip(tree.leaves(a), tree.leaves(b)):
        if hasattr(x, "shape"):
            x, y = to_numpy(x), to_numpy(y)
            assert x.dtype == y.dtype and x.shape == y.shape
            if x.dtype.kind in "fc":   # every bit of the numbers, so −0.0 ≠ +0.0; NaN = NaN
                nan_x, nan_y = np.isnan(x), np.isnan(y)
                np.testing.assert_array_equal(nan_x, nan_y)
                np.testing.assert_array_equal(x[~nan_x].view(np.uint8), y[~nan_y].view(np.uint8))
            else:
                np.testing.assert_array_equal(x, y)
        else:
            assert x == y or (x != x and y != y), (x, y)


class DiagonalQuadratic:
    """ℓ(θ) = Σ_leaves ½ Σ d θ² − b·θ with d > 0, so ∇ℓ = dθ − b elementwise."""

    def __init__(self, params_np: Any, seed: int = 0):
        rng = np.random.default_rng(seed)
        leaves, treedef = tree.flatten(params_np)
        self.d = tree.unflatten(treedef, [rng.uniform(0.5, 2.0, np.shape(p)) for p in leaves])
        self.b = tree.unflatten(treedef, [rng.uniform(-1.0, 1.0, np.shape(p)) for p in leaves])

    def grad(self, params: Any) -> Any:
        def leaf(p, d, b):
            xp = _ns(p)
            return xp.asarray(d, dtype=p.dtype) * p - xp.asarray(b, dtype=p.dtype)
        return tree.map(leaf, params, self.d, self.b)


def _ns(x: Any) -> Any:
    import array_api_compat
    return array_api_compat.array_namespace(x)


class GradFiniteSum:
    """A finite sum of 8 examples around a gradient oracle, for rules that sample batches.

    Example n's gradient is grad_fn(θ) + e_n with fixed e_n = ±0.1·ξ_k in pairs (so the full
    mean is grad_fn(θ)); the e_n are drawn in float64 and cast to each leaf's dtype.
    """

    n_examples = 8

    def __init__(self, grad_fn: Any, like: Any):
        rng = np.random.default_rng(1234)
        leaves, treedef = tree.flatten(tree_to_numpy(like))
        noise = []
        for leaf in leaves:
            half = 0.1 * rng.standard_normal((4, *np.shape(leaf)))
            noise.append(np.concatenate([half, -half]))
        self.grad_fn, self.noise, self.treedef = grad_fn, noise, treedef

    def example_grads(self, params: Any, idx: Any) -> Any:
        g, gdef = tree.flatten(self.grad_fn(params))
        if gdef != self.treedef:
            # a mis-structured oracle is passed through, in its own structure, for the rule to refuse
            return tree.unflatten(gdef, [_ns(gl).stack([gl] * len(idx)) for gl in g])
        out = []
        for gl, e in zip(g, self.noise):
            xp = _ns(gl)
            out.append(gl[None, ...] + xp.asarray(e[np.asarray(idx)], dtype=gl.dtype))
        return tree.unflatten(self.treedef, out)

    def value_and_grad(self, params: Any) -> tuple[float, Any]:
        """(ℓ(θ) − ℓ(0), ∇ℓ(θ)) of the full mean, for rules that evaluate the loss (a line search).

        ℓ(θ) − ℓ(0) = ∫₀¹⟨∇ℓ(τθ), θ⟩dτ = ⟨∇ℓ(θ/2), θ⟩: the midpoint rule, exact because the
        integrand is linear in τ when ∇ℓ is affine with a symmetric matrix — true of every
        gradient oracle of the contract tests (diagonal quadratics and zero). A gradient of
        another structure, shape or namespace gives NaN here and is passed on for the rule to refuse.
        """
        mid, p = tree_to_numpy(self.grad_fn(treemath.scale(0.5, params))), tree_to_numpy(params)
        (a, adef), (b, bdef) = tree.flatten(mid), tree.flatten(p)
        if adef != bdef or any(np.shape(x) != np.shape(y) for x, y in zip(a, b)):
            return math.nan, self.grad_fn(params)
        return float(sum(np.vdot(x, y) for x, y in zip(a, b))), self.grad_fn(params)

    def batch_grad(self, params: Any, idx: Any) -> Any:
        return tree.map(lambda a: _ns(a).mean(a, axis=0), self.example_grads(params, idx))

    def example_grad_sq_norms(self, params: Any, idx: Any) -> Any:
        total = None
        for leaf in tree.leaves(self.example_grads(params, idx)):
            xp = _ns(leaf)
            part = xp.sum(xp.reshape(leaf * leaf, (leaf.shape[0], -1)), axis=1)
            total = part if total is None else total + part
        return total


def step(opt: Any, spec: Any, grad_fn: Any, state: Any, params: Any) -> tuple[Any, Any]:
    """One update, supplying the extra arguments the optimizer declares (``opt.extra_args``)."""
    if "objective" in opt.extra_args:
        return opt.update(None, state, params, objective=GradFiniteSum(grad_fn, params))
    if "grad_fn" in opt.extra_args:
        return opt.update(None, state, params, grad_fn=grad_fn)
    if "value" in opt.extra_args:
        # the contract tests need a deterministic loss of θ; ½⟨g, θ⟩ is ℓ for ℓ = ½θᵀAθ and
        # flips sign with g, so "maximize ℓ ≡ minimize −ℓ" stays testable
        g = grad_fn(params)
        return opt.update(g, state, params, value=0.5 * treemath.vdot(g, params))
    return opt.update(grad_fn(params), state, params)


def run(opt: Any, spec: Any, grad_fn: Any, params: Any, steps: int, state: Any = None):
    state = opt.init(params) if state is None else state
    for _ in range(steps):
        params, state = step(opt, spec, grad_fn, state, params)
    return params, state


def describe(value: Any) -> str:
    """A test-id fragment that is the same in every process (for ``pytest -n``): functions print
    as their name, not as ``<function … at 0x…>``, whose address changes between processes."""
    if callable(value) and not isinstance(value, type):
        return getattr(value, "__name__", type(value).__name__)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={describe(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(describe(v) for v in value) + ")"
    if type(value).__repr__ is object.__repr__:   # <X object at 0x…>
        return type(value).__name__
    return repr(value)
