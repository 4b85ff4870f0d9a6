"""Exact (SymPy) first steps of the wrappers, written from their definitions (proofs/rules/
gradient-transforms.md, parameter-averaging.md, lookahead.md), reusing the exact rules of
exact_reference.py. A stateless gradient transform T is exact_rule(θ₀, θ ↦ T(∇ℓ(θ), θ), …)."""

from __future__ import annotations

import sympy as sp

import refopt

from . import exact_reference as ex

R = sp.Rational


def clip_value(g, c):
    return [sp.Max(sp.Min(x, c), -c) for x in g]


def clip_global_norm(g, c, eps=0):
    size = sp.sqrt(sum(x ** 2 for x in g)) + eps
    return g if size <= c else [x * c / size for x in g]


AGC_EPS = R(1, 1000)  # refopt.adaptive_grad_clip default ε


def agc_vector(g, theta, lam, eps=AGC_EPS):
    """A vector is one unit: bound ‖g‖ by λ max(‖θ‖, ε)."""
    g_norm = sp.sqrt(sum(x ** 2 for x in g))
    bound = lam * sp.Max(sp.sqrt(sum(x ** 2 for x in theta)), eps)
    return g if g_norm < bound else [x * bound / g_norm for x in g]


def lookahead_sgd(theta, grad, steps, lr, k, alpha):
    slow, out = theta, []
    for t in range(1, steps + 1):
        theta = ex.sgd(theta, grad, 1, lr)[0]
        if t % k == 0:
            slow = [s + alpha * (f - s) for s, f in zip(slow, theta)]
            theta = slow
        out.append(theta)
    return out


def schedule_free_sgd(theta, grad, steps, lr, b1, wd=0):
    """Constant η: c_t = 1/t, so x is the running mean of the z's the updates produce."""
    z = x = y = theta
    out = []
    for t in range(1, steps + 1):
        z = [zi - lr * (gi + wd * yi) for zi, gi, yi in zip(z, grad(y), y)]
        x = [(1 - R(1, t)) * xi + R(1, t) * zi for xi, zi in zip(x, z)]
        y = [b1 * xi + (1 - b1) * zi for xi, zi in zip(x, z)]
        out.append(y)
    return out


def schedule_free_adamw(theta, grad, steps, lr, b1, b2, eps, wd=0):
    """Adam with β₁ = 0 (bias-corrected RMS, ε outside the root) and decoupled decay, at y."""
    z = x = y = theta
    v = [0] * len(theta)
    out = []
    for t in range(1, steps + 1):
        g = grad(y)
        v = [b2 * vi + (1 - b2) * gi ** 2 for vi, gi in zip(v, g)]
        step = [gi / (sp.sqrt(vi / (1 - b2 ** t)) + eps) + wd * yi for gi, vi, yi in zip(g, v, y)]
        z = [zi - lr * si for zi, si in zip(z, step)]
        x = [(1 - R(1, t)) * xi + R(1, t) * zi for xi, zi in zip(x, z)]
        y = [b1 * xi + (1 - b1) * zi for xi, zi in zip(x, z)]
        out.append(y)
    return out


def sam_sgd(theta, grad, steps, lr, rho):
    out = []
    for _ in range(steps):
        g = grad(theta)
        size = sp.sqrt(sum(x ** 2 for x in g))
        ahead = [th + rho * x / size for th, x in zip(theta, g)]
        theta = [th - lr * x for th, x in zip(theta, grad(ahead))]
        out.append(theta)
    return out


def lbfgs_matrix_form(theta, grad, steps, lr, m):
    """L-BFGS written with matrices, not the two-loop recursion: H = γI, then for each stored
    pair, oldest first, H ← VᵀHV + ρssᵀ with V = I − ρysᵀ (the BFGS inverse update); d = −Hg.
    First step −lr·min(1, 1/‖g‖₁)·g; pairs kept when sᵀy > 10⁻¹⁰; γ = sᵀy/yᵀy of the newest."""
    n = len(theta)
    x, g = sp.Matrix(theta), sp.Matrix(grad(theta))
    step = -lr * sp.Min(1, 1 / sum(abs(v) for v in g)) * g
    out, pairs = [], []
    for _ in range(steps):
        x_new = x + step
        out.append(list(x_new))
        if len(out) == steps:
            break
        g_new = sp.Matrix(grad(list(x_new)))
        s_, y_ = x_new - x, g_new - g
        sy = (s_.T * y_)[0]
        if sy > R(1, 10**10):
            pairs = (pairs + [(s_, y_)])[-m:]
        sn, yn = pairs[-1]
        H = (sn.T * yn)[0] / (yn.T * yn)[0] * sp.eye(n)
        for si, yi in pairs:
            rho = 1 / (si.T * yi)[0]
            V = sp.eye(n) - rho * yi * si.T
            H = V.T * H * V + rho * si * si.T
        x, g = x_new, g_new
        step = -lr * (H * g)
    return out


def prodigy(theta, grad, steps, lr, b1, b2, eps, d0):
    """Prodigy with β₃ = √β₂, d_coef = 1, no decay; ε scaled by the updated d."""
    b3 = sp.sqrt(b2)
    n = len(theta)
    m, v, s, theta0, d, r = [0] * n, [0] * n, [0] * n, theta, d0, 0
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        lr_t = d * lr * sp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        progress = sum(gi * (a - b) for gi, a, b in zip(g, theta0, theta))
        m = [b1 * mi + (1 - b1) * d * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * d ** 2 * gi ** 2 for vi, gi in zip(v, g)]
        s = [b3 * si + lr_t * d * gi / d0 for si, gi in zip(s, g)]
        r = b3 * r + (d / d0) * lr_t * progress
        d = sp.Max(d, r / sum(abs(si) for si in s))
        theta = [th - lr_t * mi / (sp.sqrt(vi) + d * eps) for th, mi, vi in zip(theta, m, v)]
        out.append(theta)
    return out


def dadapt_adamw(theta, grad, steps, lr, b1, b2, eps, d0):
    b = sp.sqrt(b2)
    n = len(theta)
    m, v, s, d, r = [0] * n, [0] * n, [0] * n, d0, 0
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        lr_t = d * lr * sp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        r = b * r + (1 - b) * lr_t * sum(gi * si / (sp.sqrt(vi) + eps) for gi, si, vi in zip(g, s, v))
        m = [b1 * mi + (1 - b1) * lr_t * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi ** 2 for vi, gi in zip(v, g)]
        s = [b * si + (1 - b) * lr_t * gi for si, gi in zip(s, g)]
        d = sp.Max(d, r / ((1 - b) * sum(abs(si) for si in s)))
        theta = [th - mi / (sp.sqrt(vi) + eps) for th, mi, vi in zip(theta, m, v)]
        out.append(theta)
    return out


def cases(theta0, grad, steps):
    """name -> (refopt optimizer factory, exact iterates θ_1..θ_steps) for tests/test_exact.py."""
    adam = (R(1, 100), R(9, 10), R(999, 1000), R(1, 10**8))
    return {
        "clip_by_value-adam": (
            lambda: refopt.clip_by_value(refopt.adam(lr=0.01), 0.5),
            lambda: ex.adam(theta0, lambda th: clip_value(grad(th), R(1, 2)), steps, *adam)),
        "clip_by_global_norm-momentum": (
            lambda: refopt.clip_by_global_norm(refopt.momentum(lr=0.1, momentum=0.9), 1.0, eps=1e-6),
            lambda: ex.momentum(theta0, lambda th: clip_global_norm(grad(th), 1, R(1, 10**6)),
                                steps, R(1, 10), R(9, 10))),
        "adaptive_grad_clip-sgd": (
            lambda: refopt.adaptive_grad_clip(refopt.sgd(lr=0.1), 0.1),
            lambda: ex.sgd(theta0, lambda th: agc_vector(grad(th), th, R(1, 10)), steps, R(1, 10))),
        # a vector has no rows to centre: centralize is the identity on it (the matrix case is in
        # tests/test_wrappers.py and the optax chain oracle)
        "centralize-adam-vector": (
            lambda: refopt.centralize(refopt.adam(lr=0.01)),
            lambda: ex.adam(theta0, grad, steps, *adam)),
        "masked_weight_decay-adam": (
            lambda: refopt.masked_weight_decay(refopt.adam(lr=0.01), 0.1, True, lr=0.01),
            lambda: ex.adam(theta0, grad, steps, *adam, wd=R(1, 10), decay="decoupled")),
        "average_params-momentum": (   # the iterates are the wrapped rule's, untouched
            lambda: refopt.average_params(refopt.momentum(lr=0.1, momentum=0.9), 0.9),
            lambda: ex.momentum(theta0, grad, steps, R(1, 10), R(9, 10))),
        "lookahead-sgd": (
            lambda: refopt.lookahead(refopt.sgd(lr=0.1), sync_period=2, slow_step_size=0.5),
            lambda: lookahead_sgd(theta0, grad, steps, R(1, 10), 2, R(1, 2))),
        "schedule_free_sgd": (
            lambda: refopt.schedule_free_sgd(lr=0.1, b1=0.9, weight_decay=0.05),
            lambda: schedule_free_sgd(theta0, grad, steps, R(1, 10), R(9, 10), R(5, 100))),
        "schedule_free_adamw": (
            lambda: refopt.schedule_free_adamw(lr=0.01, b1=0.9, b2=0.999, weight_decay=0.1),
            lambda: schedule_free_adamw(theta0, grad, steps, R(1, 100), R(9, 10), R(999, 1000),
                                        R(1, 10**8), R(1, 10))),
        "sam-sgd": (
            lambda: refopt.sam(refopt.sgd(lr=0.1), rho=0.2),
            lambda: sam_sgd(theta0, grad, steps, R(1, 10), R(1, 5))),
        "lbfgs": (
            lambda: refopt.lbfgs(lr=0.5, history_size=2),
            lambda: lbfgs_matrix_form(theta0, grad, steps + 1, R(1, 2), 2)),
        "prodigy": (
            lambda: refopt.prodigy(lr=1.0, d0=0.01),
            lambda: prodigy(theta0, grad, steps, 1, R(9, 10), R(999, 1000), R(1, 10**8), R(1, 100))),
        "dadapt_adamw": (
            lambda: refopt.dadapt_adamw(lr=1.0, d0=0.01),
            lambda: dadapt_adamw(theta0, grad, steps, 1, R(9, 10), R(999, 1000), R(1, 10**8),
                                 R(1, 100))),
        "schedule_free-rmsprop": (
            lambda: refopt.schedule_free(refopt.sgd(lr=0.1), 0.1, b1=0.5),   # the generic wrapper
            lambda: schedule_free_sgd(theta0, grad, steps, R(1, 10), R(1, 2))),
    }
