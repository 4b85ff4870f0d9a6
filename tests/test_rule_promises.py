"""Documented behaviours of single rules that a plausible mistake broke unnoticed (issue 18)."""

from __future__ import annotations

import numpy as np

import refopt


def test_lazy_adam_updates_a_whole_row_when_any_of_its_entries_has_a_gradient():
    """A row is present when it has a non-zero entry: all of it then moves as in dense Adam,
    the zero entries included (their m and v decay); a row of zeros is left untouched."""
    params = np.array([[1.0, 2.0], [3.0, 4.0]])
    grads = np.array([[0.5, 0.0], [0.0, 0.0]])
    lazy, dense = refopt.adam(lr=0.1, lazy=True), refopt.adam(lr=0.1)
    p_lazy, s_lazy = lazy.update(grads, lazy.init(params), params)
    p_dense, s_dense = dense.update(grads, dense.init(params), params)
    np.testing.assert_array_equal(p_lazy[0], p_dense[0])
    np.testing.assert_array_equal(p_lazy[1], params[1])
    # second step with a gradient on the other entry of row 0: its first-step state was kept
    g2 = np.array([[0.0, 1.0], [0.0, 0.0]])
    p_lazy, _ = lazy.update(g2, s_lazy, p_lazy)
    p_dense, _ = dense.update(g2, s_dense, p_dense)
    np.testing.assert_array_equal(p_lazy[0], p_dense[0])
    np.testing.assert_array_equal(p_lazy[1], params[1])


def test_adaptive_grad_clip_bounds_a_zero_unit_by_lambda_eps():
    """b = λ·max(‖θ‖, ε): a zero-initialised unit still moves, by a gradient of norm λε."""
    opt = refopt.adaptive_grad_clip(refopt.sgd(lr=1.0), clipping=0.1, eps=1e-3)
    params, g = np.zeros(2), np.array([3.0, 4.0])   # ‖g‖ = 5
    new, _ = opt.update(g, opt.init(params), params)
    np.testing.assert_allclose(new, -g * (0.1 * 1e-3 / 5.0), rtol=1e-15)


def test_adaptive_grad_clip_units_of_a_hwio_kernel_are_output_channels():
    """A 4-d HWIO kernel's unit is one output channel (the last axis): one channel with a large
    gradient is clipped, the other, within its bound, passes unchanged."""
    params = np.ones((1, 1, 2, 2))            # each output channel: ‖θ_u‖ = √2
    g = np.zeros((1, 1, 2, 2))
    g[..., 0] = [30.0, 40.0]                   # channel 0: ‖g‖ = 50 > 0.1·√2
    g[..., 1] = [0.01, 0.0]                    # channel 1: ‖g‖ = 0.01 < 0.1·√2
    opt = refopt.adaptive_grad_clip(refopt.sgd(lr=1.0), clipping=0.1)
    new, _ = opt.update(g, opt.init(params), params)
    np.testing.assert_allclose(1.0 - new[..., 0], g[..., 0] * (0.1 * 2**0.5 / 50.0), rtol=1e-14)
    np.testing.assert_array_equal(new[..., 1], 1.0 - g[..., 1])


def test_ademamix_beta3_warmup_interpolates_half_lives_linearly():
    """1/ln β3(t) = (1 − a)/ln β_start + a/ln β3 with a = t/T: the half-life ln½/ln β grows
    linearly from β_start's to β3's."""
    from refopt.optim.ademamix import beta3_warmup
    b3, start, T = 0.9999, 0.9, 50
    sched = beta3_warmup(b3, T, start)
    for t in (1, 10, 25, 49):
        a = t / T
        want = (1 - a) / np.log(start) + a / np.log(b3)
        np.testing.assert_allclose(1.0 / np.log(sched(t)), want, rtol=1e-9)   # log of β ≈ 1: cond ≈ 1e4
    assert sched(T) == b3 and sched(T + 7) == b3


def test_debiased_parameter_average_is_the_bias_corrected_ema_of_the_iterates():
    """θ̄_t = m_t/(1 − β^t), m_t = βm_{t−1} + (1 − β)θ_t: θ̄_1 = θ_1, and θ̄_2 weights θ_1, θ_2
    by β(1 − β) and (1 − β) over 1 − β²."""
    beta = 0.5
    opt = refopt.average_params(refopt.sgd(lr=0.5), decay=beta)
    p = np.array([8.0, -4.0])
    s = opt.init(p)
    p1, s = opt.update(p, s, p)          # SGD on ½θ² halves θ
    np.testing.assert_array_equal(s.average, p1)
    p2, s = opt.update(p1, s, p1)
    np.testing.assert_allclose(s.average, (beta * (1 - beta) * p1 + (1 - beta) * p2) / (1 - beta**2),
                               rtol=1e-15)


def test_project_box_clips_to_a_narrow_box():
    opt = refopt.project_box(refopt.sgd(lr=1.0), lower=-0.25, upper=0.25)
    p = np.array([0.0, 0.0, 0.1])
    new, _ = opt.update(np.array([-1.0, 1.0, 0.05]), opt.init(p), p)
    np.testing.assert_array_equal(new, [0.25, -0.25, 0.05])


def test_schedule_free_weights_iterates_by_the_running_max_lr_to_the_power():
    """x_t = x_{t−1} + c_t(z_t − x_{t−1}), c_t = w_t/Σ_{s≤t} w_s, w_s = (max_{r≤s} η_r)^p: with
    η = (0.1, 0.2) and p = 2, c_2 = 0.04/0.05. On g(θ) = θ from θ_0 = 1: z_1 = x_1 = 0.9 (so
    y_1 = z_1), z_2 = 0.9 − 0.2·0.9 = 0.72, x_2 = 0.9 + 0.8·(0.72 − 0.9) = 0.756."""
    def lr(t):
        return 0.1 * t
    opt = refopt.schedule_free(refopt.sgd(lr=lr), lr, b1=0.9, weight_lr_power=2.0)
    p = np.array([1.0])
    s = opt.init(p)
    for _ in range(2):
        p, s = opt.update(p, s, p)
    np.testing.assert_allclose(s.x, [0.756], rtol=1e-15)
    assert s.weight_sum == 0.1**2 + 0.2**2


def test_centralize_subtracts_each_row_mean_and_leaves_vectors():
    opt = refopt.centralize(refopt.sgd(lr=1.0))
    params = {"w": np.zeros((2, 3)), "b": np.zeros(2)}
    g = {"w": np.array([[1.0, 2.0, 3.0], [4.0, 6.0, 8.0]]), "b": np.array([1.0, 3.0])}
    new, _ = opt.update(g, opt.init(params), params)
    np.testing.assert_array_equal(new["w"], -np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0]]))
    np.testing.assert_array_equal(new["b"], -g["b"])


def test_masked_decoupled_decay_uses_this_steps_lr():
    """θ ← θ − η_t λ θ on the masked leaves, with η_t the schedule at this update's t."""
    def lr(t):
        return 0.1 * t
    opt = refopt.masked_weight_decay(refopt.sgd(lr=lr), 0.5, {"w": True, "b": False}, lr=lr)
    p = {"w": np.array([1.0]), "b": np.array([1.0])}
    s = opt.init(p)
    zero = {"w": np.zeros(1), "b": np.zeros(1)}
    for _ in range(2):
        p, s = opt.update(zero, s, p)
    np.testing.assert_allclose(p["w"], [(1 - 0.1 * 0.5) * (1 - 0.2 * 0.5)], rtol=1e-15)
    np.testing.assert_array_equal(p["b"], [1.0])
