"""Wrappers against optax's ``chain`` / ``lookahead`` / ``ema`` and torch's clip_grad_norm_.

The generic oracle test builds one framework optimizer from keyword arguments; a wrapper is a
composition, so each case here builds both sides by hand. Same problem and tolerance as
tests/test_oracles.py (60 float64 steps of a coupled noisy quadratic, each side taking
gradients at its own iterate; rtol = atol = 1e-12: a few ulps per step from the frameworks'
different order of products). Composition order is pinned by running the same wrappers in the
opposite order and checking that the trajectories then differ.
"""

from __future__ import annotations

import numpy as np
import pytest

import refopt
from tests.test_oracles import STEPS, CoupledNoisyQuadratic

pytestmark = pytest.mark.oracle
TOL = {"rtol": 1e-12, "atol": 1e-12}


@pytest.fixture(scope="module")
def optax():
    jax = pytest.importorskip("jax", reason="jax is not installed")
    optax = pytest.importorskip("optax", reason="optax is not installed")
    jax.config.update("jax_enable_x64", True)
    return optax


def run_refopt(opt, prob, read=lambda params, state: params):
    params = prob.split(prob.x0.copy())
    state = opt.init(params)
    out = []
    for t in range(STEPS):
        params, state = opt.update(prob.split(prob.grad(prob.join(params), t)), state, params)
        out.append(prob.join(read(params, state)))
    return np.array(out)


def run_optax(optax, tx, prob, params=None, fast=lambda p: p, read=lambda p: p):
    import jax.numpy as jnp
    params = params if params is not None else prob.split(prob.x0.copy())
    params = optax.tree.cast(params, jnp.float64) if hasattr(optax, "tree") else params
    state = tx.init(params)
    out = []
    for t in range(STEPS):
        g = {k: jnp.asarray(v) for k, v in prob.split(prob.grad(prob.join(fast(params)), t)).items()}
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)
        out.append(prob.join(read(params)))
    return np.array(out)


def chain_cases(optax):
    """(refopt optimizer, the optax chain it must equal, a contrast that must differ: the same
    wrappers in reverse order, or the rule without the part the wrapper adds)."""
    lr = 0.05
    mask = {"w": True, "b": False}
    return {
        "value-centralize-globalnorm-adam": (
            refopt.clip_by_value(refopt.centralize(refopt.clip_by_global_norm(refopt.adam(lr=lr), 1.0)), 0.4),
            optax.chain(optax.clip(0.4), optax.centralize(), optax.clip_by_global_norm(1.0),
                        optax.adam(lr)),
            refopt.clip_by_global_norm(refopt.centralize(refopt.clip_by_value(refopt.adam(lr=lr), 0.4)), 1.0)),
        "agc-momentum": (
            refopt.adaptive_grad_clip(refopt.momentum(lr=lr, momentum=0.9, lr_in_buffer=False), 0.1),
            optax.chain(optax.adaptive_grad_clip(0.1), optax.sgd(lr, momentum=0.9)),
            refopt.momentum(lr=lr, momentum=0.9, lr_in_buffer=False)),   # AGC is active
        "globalnorm-agc-sgd": (
            refopt.clip_by_global_norm(refopt.adaptive_grad_clip(refopt.sgd(lr=lr), 0.2), 0.8),
            optax.chain(optax.clip_by_global_norm(0.8), optax.adaptive_grad_clip(0.2), optax.sgd(lr)),
            refopt.adaptive_grad_clip(refopt.clip_by_global_norm(refopt.sgd(lr=lr), 0.8), 0.2)),
        "mask-decoupled-adam": (
            refopt.masked_weight_decay(refopt.adam(lr=lr), 0.3, mask, lr=lr),
            optax.adamw(lr, weight_decay=0.3, mask=mask),
            refopt.adam(lr=lr, weight_decay=0.3, decay="decoupled")),   # the mask matters
        "mask-l2-globalnorm-sgd": (
            refopt.masked_weight_decay(refopt.clip_by_global_norm(refopt.sgd(lr=lr), 1.0), 0.3, mask,
                                       decay="l2"),
            optax.chain(optax.add_decayed_weights(0.3, mask=mask), optax.clip_by_global_norm(1.0),
                        optax.sgd(lr)),
            refopt.clip_by_global_norm(refopt.masked_weight_decay(refopt.sgd(lr=lr), 0.3, mask,
                                                                  decay="l2"), 1.0)),
    }


@pytest.mark.parametrize("case", ["value-centralize-globalnorm-adam", "agc-momentum",
                                  "globalnorm-agc-sgd", "mask-decoupled-adam",
                                  "mask-l2-globalnorm-sgd"])
def test_wrappers_match_optax_chain_in_order(optax, case):
    ours, chain, contrast = chain_cases(optax)[case]
    prob = CoupledNoisyQuadratic(0)
    mine = run_refopt(ours, prob)
    np.testing.assert_allclose(mine, run_optax(optax, chain, prob), **TOL)
    assert np.max(np.abs(run_refopt(contrast, prob) - mine)) > 1e-6


@pytest.mark.parametrize("wrapper", ["global_norm", "mask"])
def test_wrappers_match_torch(wrapper):
    torch = pytest.importorskip("torch")
    prob = CoupledNoisyQuadratic(1)
    lr = 0.05
    if wrapper == "global_norm":
        ours = refopt.clip_by_global_norm(refopt.adam(lr=lr), 1.0, eps=1e-6)
    else:
        ours = refopt.masked_weight_decay(refopt.adam(lr=lr), 0.3, {"w": True, "b": False}, lr=lr)
    mine = run_refopt(ours, prob)
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in prob.split(prob.x0.copy()).items()}
    if wrapper == "global_norm":
        topt = torch.optim.Adam(list(tensors.values()), lr=lr)
    else:
        topt = torch.optim.AdamW([{"params": [tensors["w"]], "weight_decay": 0.3},
                                  {"params": [tensors["b"]], "weight_decay": 0.0}], lr=lr)
    theirs = []
    for t in range(STEPS):
        g = prob.split(prob.grad(prob.join({k: v.numpy() for k, v in tensors.items()}), t))
        for k, v in tensors.items():
            v.grad = torch.tensor(g[k], dtype=torch.float64)
        if wrapper == "global_norm":
            torch.nn.utils.clip_grad_norm_(list(tensors.values()), 1.0)
        topt.step()
        theirs.append(prob.join({k: v.detach().numpy() for k, v in tensors.items()}))
    np.testing.assert_allclose(mine, np.array(theirs), **TOL)
    assert not np.allclose(mine, run_refopt(refopt.adam(lr=lr), prob))   # the wrapper is active


@pytest.mark.parametrize("reset_state", [False, True])
def test_lookahead_matches_optax(optax, reset_state):
    prob = CoupledNoisyQuadratic(0)
    ours = refopt.lookahead(refopt.adam(lr=0.05), sync_period=4, slow_step_size=0.5,
                            reset_state=reset_state)
    fast = run_refopt(ours, prob)
    slow = run_refopt(ours, prob, read=lambda p, s: s.slow)
    tx = optax.lookahead(optax.adam(0.05), sync_period=4, slow_step_size=0.5, reset_state=reset_state)
    start = optax.LookaheadParams.init_synced(prob.split(prob.x0.copy()))
    np.testing.assert_allclose(fast, run_optax(optax, tx, prob, start, fast=lambda p: p.fast,
                                               read=lambda p: p.fast), **TOL)
    np.testing.assert_allclose(slow, run_optax(optax, tx, prob, start, fast=lambda p: p.fast,
                                               read=lambda p: p.slow), **TOL)
    assert not np.allclose(fast, run_refopt(refopt.adam(lr=0.05), prob))  # lookahead did something


@pytest.mark.parametrize("debias", [True, False])
def test_average_params_is_optax_ema_of_the_iterates(optax, debias):
    import jax.numpy as jnp
    prob = CoupledNoisyQuadratic(1)
    ours = refopt.average_params(refopt.momentum(lr=0.05, momentum=0.9), 0.9, debias=debias)
    iterates = run_refopt(ours, prob)
    averages = run_refopt(ours, prob, read=lambda p, s: s.average)
    ema = optax.ema(0.9, debias=debias)
    state = ema.init(jnp.zeros(iterates.shape[1]))
    theirs = []
    for theta in iterates:
        out, state = ema.update(jnp.asarray(theta), state)
        theirs.append(np.asarray(out))
    np.testing.assert_allclose(averages, np.array(theirs), **TOL)


@pytest.mark.parametrize("b1", [0.9, 0.5])
def test_schedule_free_wrapper_and_its_evaluation_point_match_optax(optax, b1):
    """y (returned, where gradients are taken) and x (state.x, where the model is evaluated)
    against optax.contrib.schedule_free around RMSprop and its schedule_free_eval_params.
    optax recovers x = (y − (1−β)z)/β, so it needs β > 0 (with β = 0 it returns NaN; refopt
    keeps x in its state: tests/test_wrappers.py checks β = 0)."""
    import jax.numpy as jnp
    prob = CoupledNoisyQuadratic(0)
    ours = refopt.schedule_free(refopt.rmsprop(lr=0.01), 0.01, b1=b1)
    ys = run_refopt(ours, prob)
    xs = run_refopt(ours, prob, read=lambda p, s: s.x)
    tx = optax.contrib.schedule_free(optax.rmsprop(0.01), 0.01, b1=b1)
    params = {k: jnp.asarray(v) for k, v in prob.split(prob.x0.copy()).items()}
    state, theirs_y, theirs_x = tx.init(params), [], []
    for t in range(STEPS):
        g = {k: jnp.asarray(v) for k, v in prob.split(prob.grad(prob.join(params), t)).items()}
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)
        theirs_y.append(prob.join(params))
        theirs_x.append(prob.join(optax.contrib.schedule_free_eval_params(state, params)))
    np.testing.assert_allclose(ys, np.array(theirs_y), **TOL)
    np.testing.assert_allclose(xs, np.array(theirs_x), **TOL)
    assert np.max(np.abs(xs - ys)) > 1e-3        # x and y are different points


@pytest.mark.parametrize("ascent_steps", [1, 2])
def test_sam_matches_optax_opaque_mode(optax, ascent_steps):
    """refopt.sam(adam, ρ) against optax.contrib.sam(adam, chain(normalize(), sgd(ρ)),
    sync_period=n + 1, opaque_mode=True); both sides call the step's gradient oracle at θ and
    at the ascent points."""
    import jax.numpy as jnp
    prob = CoupledNoisyQuadratic(1)
    ours = refopt.sam(refopt.adam(lr=0.05), rho=0.1, ascent_steps=ascent_steps)
    params = prob.split(prob.x0.copy())
    state, mine = ours.init(params), []
    for t in range(STEPS):
        params, state = ours.update(None, state, params,
                                    grad_fn=lambda p, t=t: prob.split(prob.grad(prob.join(p), t)))
        mine.append(prob.join(params))
    adv = optax.chain(optax.contrib.normalize(), optax.sgd(0.1))
    tx = optax.contrib.sam(optax.adam(0.05), adv, sync_period=ascent_steps + 1, opaque_mode=True)
    params = {k: jnp.asarray(v) for k, v in prob.split(prob.x0.copy()).items()}
    state, theirs = tx.init(params), []
    for t in range(STEPS):
        def grad(p, i, t=t):
            return {k: jnp.asarray(v) for k, v in prob.split(prob.grad(prob.join(p), t)).items()}
        updates, state = tx.update(grad(params, -1), state, params, grad_fn=grad)
        params = optax.apply_updates(params, updates)
        theirs.append(prob.join(params))
    np.testing.assert_allclose(np.array(mine), np.array(theirs), **TOL)
    assert not np.allclose(np.array(mine), run_refopt(refopt.adam(lr=0.05), prob))  # SAM is active
