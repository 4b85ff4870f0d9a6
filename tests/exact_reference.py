"""Exact (SymPy) transcriptions of docs/specification.md, spec-conventions and spec-classic, written from the spec, not from refopt.

Each function takes the initial parameters (a list of SymPy numbers, one per coordinate), a
gradient oracle ``grad(theta) -> list`` and the number of steps, and returns the list of exact
iterates θ_1, …, θ_T. Hyperparameters are exact rationals. Only scalar arithmetic is used, so
these are a second, independent reading of the equations.
"""

from __future__ import annotations

import sympy as sp

R = sp.Rational


def regularised(theta, g, lr, wd=0, decay="l2", maximize=False):
    """§0: maximize negates g; l2 adds λθ to g; decoupled/fixed shrink θ before the step."""
    if maximize:
        g = [-x for x in g]
    if decay == "l2":
        g = [x + wd * th for x, th in zip(g, theta)]
    elif decay == "decoupled":
        theta = [th - lr * wd * th for th in theta]
    else:
        theta = [th - wd * th for th in theta]
    return theta, g


def sgd(theta, grad, steps, lr, **reg):
    out = []
    for _ in range(steps):
        th, g = regularised(theta, grad(theta), lr, **reg)
        theta = [a - lr * b for a, b in zip(th, g)]
        out.append(theta)
    return out


def momentum(theta, grad, steps, lr, gamma, lr_in_buffer=True, dampening=0, first_grad=False):
    v = [0] * len(theta)
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        damp = 0 if (first_grad and t == 1) else dampening
        if lr_in_buffer:  # v_t = γ v + η(1−d) g ; θ −= v
            v = [gamma * a + lr * (1 - damp) * b for a, b in zip(v, g)]
            theta = [a - b for a, b in zip(theta, v)]
        else:             # b_t = γ b + (1−d) g ; θ −= η b
            v = [gamma * a + (1 - damp) * b for a, b in zip(v, g)]
            theta = [a - lr * b for a, b in zip(theta, v)]
        out.append(theta)
    return out


def nag_lookahead(theta, grad, steps, lr, gamma):
    v = [0] * len(theta)
    out = []
    for _ in range(steps):
        g = grad([a - gamma * b for a, b in zip(theta, v)])
        v = [gamma * a + lr * b for a, b in zip(v, g)]
        theta = [a - b for a, b in zip(theta, v)]
        out.append(theta)
    return out


def nag_reparameterised(phi, grad, steps, lr, gamma):
    b = [0] * len(phi)
    out = []
    for _ in range(steps):
        g = grad(phi)
        b = [gamma * x + y for x, y in zip(b, g)]
        phi = [p - lr * (y + gamma * x) for p, x, y in zip(phi, b, g)]
        out.append(phi)
    return out


def adagrad(theta, grad, steps, lr, eps, eps_inside=True, G0=0, lr_decay=0):
    G = [G0] * len(theta)
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        G = [a + b**2 for a, b in zip(G, g)]
        eta = lr / (1 + (t - 1) * lr_decay)
        den = [sp.sqrt(x + eps) if eps_inside else sp.sqrt(x) + eps for x in G]
        theta = [a - eta * b / d for a, b, d in zip(theta, g, den)]
        out.append(theta)
    return out


def adadelta(theta, grad, steps, lr, rho, eps):
    Eg = [0] * len(theta)
    Ed = [0] * len(theta)
    out = []
    for _ in range(steps):
        g = grad(theta)
        Eg = [rho * a + (1 - rho) * b**2 for a, b in zip(Eg, g)]
        delta = [-sp.sqrt(d + eps) / sp.sqrt(e + eps) * b for d, e, b in zip(Ed, Eg, g)]
        Ed = [rho * a + (1 - rho) * b**2 for a, b in zip(Ed, delta)]
        theta = [a + lr * b for a, b in zip(theta, delta)]
        out.append(theta)
    return out


def rmsprop(theta, grad, steps, lr, rho, eps, eps_inside=True, centered=False, mu=0,
            lr_in_buffer=False, bias_correction=False):
    n = len(theta)
    Eg2, Eg, buf = [0] * n, [0] * n, [0] * n
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        c = (1 - rho**t) if bias_correction else 1
        Eg2 = [rho * a + (1 - rho) * b**2 for a, b in zip(Eg2, g)]
        Eg = [rho * a + (1 - rho) * b for a, b in zip(Eg, g)]
        var = [a / c - ((b / c) ** 2 if centered else 0) for a, b in zip(Eg2, Eg)]
        D = [sp.sqrt(x + eps) if eps_inside else sp.sqrt(x) + eps for x in var]
        if mu == 0:
            theta = [a - lr * b / d for a, b, d in zip(theta, g, D)]
        elif lr_in_buffer:
            buf = [mu * x + lr * b / d for x, b, d in zip(buf, g, D)]
            theta = [a - x for a, x in zip(theta, buf)]
        else:
            buf = [mu * x + b / d for x, b, d in zip(buf, g, D)]
            theta = [a - lr * x for a, x in zip(theta, buf)]
        out.append(theta)
    return out


def adam(theta, grad, steps, lr, b1, b2, eps, eps_hat=False, eps_root=0, **reg):
    n = len(theta)
    m, v = [0] * n, [0] * n
    out = []
    for t in range(1, steps + 1):
        theta, g = regularised(theta, grad(theta), lr, **reg) if reg else (theta, grad(theta))
        m = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
        v = [b2 * a + (1 - b2) * x**2 for a, x in zip(v, g)]
        if eps_hat:
            step = lr * sp.sqrt(1 - b2**t) / (1 - b1**t)
            theta = [a - step * mm / (sp.sqrt(vv) + eps) for a, mm, vv in zip(theta, m, v)]
        else:
            mh = [x / (1 - b1**t) for x in m]
            vh = [x / (1 - b2**t) for x in v]
            theta = [a - lr * x / (sp.sqrt(y + eps_root) + eps) for a, x, y in zip(theta, mh, vh)]
        out.append(theta)
    return out


def adamax(theta, grad, steps, lr, b1, b2, eps=0, placement="max", **reg):
    n = len(theta)
    m, u = [0] * n, [0] * n
    out = []
    for t in range(1, steps + 1):
        theta, g = regularised(theta, grad(theta), lr, **reg) if reg else (theta, grad(theta))
        m = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
        add = eps if placement == "max" else 0
        u = [sp.Max(b2 * a, abs(x) + add) for a, x in zip(u, g)]
        den = [x + (eps if placement == "denominator" else 0) for x in u]
        theta = [a - (lr / (1 - b1**t)) * (mm / d if d != 0 else 0)
                 for a, mm, d in zip(theta, m, den)]
        out.append(theta)
    return out


def nadam(theta, grad, steps, lr, b1, b2, eps, psi=None, **reg):
    """psi=None: Ruder's constant-β1 form; psi='inf': μ ≡ β1; else Dozat's μ_t schedule."""
    n = len(theta)
    m, v = [0] * n, [0] * n
    prod = 1

    def mu(t):
        if psi == "inf":
            return b1
        return b1 * (1 - R(1, 2) * R(96, 100) ** (t * psi))

    out = []
    for t in range(1, steps + 1):
        theta, g = regularised(theta, grad(theta), lr, **reg) if reg else (theta, grad(theta))
        m = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
        v = [b2 * a + (1 - b2) * x**2 for a, x in zip(v, g)]
        den = [sp.sqrt(x / (1 - b2**t)) + eps for x in v]
        if psi is None:
            num = [b1 * mm / (1 - b1**t) + (1 - b1) * x / (1 - b1**t) for mm, x in zip(m, g)]
        else:
            prod = prod * mu(t)
            cg = (1 - mu(t)) / (1 - prod)
            cm = mu(t + 1) / (1 - prod * mu(t + 1))
            num = [cg * x + cm * mm for x, mm in zip(g, m)]
        theta = [a - lr * x / d for a, x, d in zip(theta, num, den)]
        out.append(theta)
    return out


def amsgrad(theta, grad, steps, lr, b1, b2, eps, max_over=None):
    """max_over=None: Reddi's Algorithm 2 (no bias correction); "v" / "v_hat": bias-corrected."""
    n = len(theta)
    m, v, vmax = [0] * n, [0] * n, [0] * n
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        m = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
        v = [b2 * a + (1 - b2) * x**2 for a, x in zip(v, g)]
        if max_over is None:
            vmax = [sp.Max(a, b) for a, b in zip(vmax, v)]
            theta = [a - lr * mm / (sp.sqrt(x) + eps) for a, mm, x in zip(theta, m, vmax)]
        elif max_over == "v":
            vmax = [sp.Max(a, b) for a, b in zip(vmax, v)]
            theta = [a - lr / (1 - b1**t) * mm / (sp.sqrt(x) / sp.sqrt(1 - b2**t) + eps)
                     for a, mm, x in zip(theta, m, vmax)]
        else:
            vmax = [sp.Max(a, b / (1 - b2**t)) for a, b in zip(vmax, v)]
            theta = [a - lr * (mm / (1 - b1**t)) / (sp.sqrt(x) + eps)
                     for a, mm, x in zip(theta, m, vmax)]
        out.append(theta)
    return out


# Runge–Kutta tableaux as printed in Butcher (2016) / Hairer–Nørsett–Wanner, written out here
# rather than imported from refopt, so the exact iterates are an independent reading.
RK = {
    "euler": ([[0]], [1]),
    "heun": ([[0, 0], [1, 0]], [R(1, 2), R(1, 2)]),
    "midpoint": ([[0, 0], [R(1, 2), 0]], [0, 1]),
    "ralston": ([[0, 0], [R(2, 3), 0]], [R(1, 4), R(3, 4)]),
    "rk4": ([[0, 0, 0, 0], [R(1, 2), 0, 0, 0], [0, R(1, 2), 0, 0], [0, 0, 1, 0]],
            [R(1, 6), R(1, 3), R(1, 3), R(1, 6)]),
}


def runge_kutta(theta, grad, steps, h, name):
    A, b = RK[name]
    out = []
    for _ in range(steps):
        ks = []
        for i in range(len(b)):
            point = [th + h * sum(A[i][j] * ks[j][c] for j in range(i)) for c, th in enumerate(theta)]
            ks.append([-g for g in grad(point)])
        theta = [th + h * sum(b[i] * ks[i][c] for i in range(len(b))) for c, th in enumerate(theta)]
        out.append(theta)
    return out


# θ_{k+1} = Σ a_j θ_{k−j} + h Σ b_j F(θ_{k−j}); the first s−1 steps are explicit Euler
LMM = {"ab2": ([1, 0], [R(3, 2), R(-1, 2)]),
       "four_instant": ([R(3, 2), -1, R(1, 2)], [1, 0, 0]),
       "leapfrog": ([0, 1], [2, 0])}


def linear_multistep(theta, grad, steps, h, name):
    a, b = LMM[name]
    s = len(a)
    history = [theta]  # θ_0, θ_1, ...
    for k in range(steps):
        cur = history[-1]
        if k < s - 1:
            nxt = [th - h * g for th, g in zip(cur, grad(cur))]
        else:
            nxt = [sum(a[j] * history[-1 - j][c] - h * b[j] * grad(history[-1 - j])[c]
                       for j in range(s)) for c in range(len(theta))]
        history.append(nxt)
    return history[1:]


def agd(theta, grad, steps, lr, b1, b2, delta):
    """docs/specification.md, spec-agd in the hat form: θ −= η m̂/max(√b̂, δ)."""
    n = len(theta)
    m, b = [0] * n, [0] * n
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        m_old = m
        m = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
        if t == 1:
            s = [x / (1 - b1) for x in m]
        else:
            s = [x / (1 - b1 ** t) - y / (1 - b1 ** (t - 1)) for x, y in zip(m, m_old)]
        b = [b2 * a + (1 - b2) * x ** 2 for a, x in zip(b, s)]
        theta = [th - lr * (x / (1 - b1 ** t)) / sp.Max(sp.sqrt(y / (1 - b2 ** t)), delta)
                 for th, x, y in zip(theta, m, b)]
        out.append(theta)
    return out


def rsgd_always(theta, grad, steps, lr, mode):
    """R-SGD with p ≡ 1 (every mask on): h_t = g_t + h_{t−1} or g_t + g_{t−1}."""
    mem = [0] * len(theta)
    out = []
    for _ in range(steps):
        g = grad(theta)
        h = [x + y for x, y in zip(g, mem)]
        theta = [th - lr * x for th, x in zip(theta, h)]
        mem = h if mode == "accumulate" else g
        out.append(theta)
    return out


# ---------------------------------------------------------------------------------------------
# issue 16, part A (each written from the paper's / framework's equations, not from refopt)


def radam(theta, grad, steps, lr, b1, b2, eps, threshold, eps_hat=False, **reg):
    """Liu et al. 2020, Algorithm 2: bias-corrected momentum until ρ_t > threshold, then
    r_t·m̂/(√v̂ + ε) (eps_hat: r_t √(1−β2^t)·m̂/(√v + ε))."""
    n = len(theta)
    m, v = [0] * n, [0] * n
    rho_inf = 2 / (1 - b2) - 1
    out = []
    for t in range(1, steps + 1):
        theta, g = regularised(theta, grad(theta), lr, **reg) if reg else (theta, grad(theta))
        m = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
        v = [b2 * a + (1 - b2) * x**2 for a, x in zip(v, g)]
        mh = [x / (1 - b1**t) for x in m]
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho > threshold:
            r = sp.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            if eps_hat:
                theta = [a - lr * r * sp.sqrt(1 - b2**t) * x / (sp.sqrt(y) + eps)
                         for a, x, y in zip(theta, mh, v)]
            else:
                theta = [a - lr * r * x / (sp.sqrt(y / (1 - b2**t)) + eps)
                         for a, x, y in zip(theta, mh, v)]
        else:
            theta = [a - lr * x for a, x in zip(theta, mh)]
        out.append(theta)
    return out


def adabelief(theta, grad, steps, lr, b1, b2, eps, eps_root):
    """Zhuang et al. 2020, Algorithm 2: s_t = β2 s + (1−β2)(g − m_t)² + ε_root."""
    n = len(theta)
    m, s = [0] * n, [0] * n
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        m = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
        s = [b2 * a + (1 - b2) * (x - y) ** 2 + eps_root for a, x, y in zip(s, g, m)]
        theta = [a - lr * (x / (1 - b1**t)) / (sp.sqrt(y / (1 - b2**t)) + eps)
                 for a, x, y in zip(theta, m, s)]
        out.append(theta)
    return out


def yogi(theta, grad, steps, lr, b1, b2, eps, v0, m0=0):
    """Zaheer et al. 2018 with bias correction: v_t = v − (1−β2) sign(v − g²) g²."""
    n = len(theta)
    m, v = [m0] * n, [v0] * n
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        m = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
        v = [a - (1 - b2) * sp.sign(a - x**2) * x**2 for a, x in zip(v, g)]
        theta = [a - lr * (x / (1 - b1**t)) / (sp.sqrt(y / (1 - b2**t)) + eps)
                 for a, x, y in zip(theta, m, v)]
        out.append(theta)
    return out


def lion(theta, grad, steps, lr, b1, b2, wd=0):
    """Chen et al. 2023, Program 1: θ −= η(sign(β1 m + (1−β1) g) + λθ); m = β2 m + (1−β2) g."""
    m = [0] * len(theta)
    out = []
    for _ in range(steps):
        g = grad(theta)
        c = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
        theta = [a - lr * (sp.sign(x) + wd * a) for a, x in zip(theta, c)]
        m = [b2 * a + (1 - b2) * x for a, x in zip(m, g)]
        out.append(theta)
    return out


def signum(theta, grad, steps, lr, beta):
    """Bernstein et al. 2018: m = βm + (1−β)g, θ −= η sign(m) (β = 0: sign SGD)."""
    m = [0] * len(theta)
    out = []
    for _ in range(steps):
        g = grad(theta)
        m = [beta * a + (1 - beta) * x for a, x in zip(m, g)]
        theta = [a - lr * sp.sign(x) for a, x in zip(theta, m)]
        out.append(theta)
    return out


def lazy_adam(theta, grad, steps, lr, b1, b2, eps):
    """torch.optim.SparseAdam on 1-d parameters: only coordinates with g ≠ 0 change (m, v, θ);
    the step is ε̂-form, η √(1−β2^t)/(1−β1^t) · m/(√v + ε), with the global t."""
    n = len(theta)
    m, v = [0] * n, [0] * n
    out = []
    for t in range(1, steps + 1):
        g = grad(theta, t)
        step = lr * sp.sqrt(1 - b2**t) / (1 - b1**t)
        for i in range(n):
            if g[i] != 0:
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
                theta = theta[:i] + [theta[i] - step * m[i] / (sp.sqrt(v[i]) + eps)] + theta[i + 1:]
        out.append(list(theta))
    return out


# ---- layer-wise and matrix rules (issue 17 part A); the whole vector θ is one layer ----------

def _norm(x):
    return sp.sqrt(sum(a**2 for a in x))


def _trust(p_norm, u_norm):
    return p_norm / u_norm if (p_norm != 0 and u_norm != 0) else 1


def lamb(theta, grad, steps, lr, b1, b2, eps, eps_root=0, lam_u=0, **reg):
    """You et al. 2020, Alg. 2 (φ = id): u = m̂/(√(v̂+ε_root)+ε) + λ_u θ; θ −= η ‖θ‖/‖u‖ u."""
    n = len(theta)
    m, v = [0] * n, [0] * n
    out = []
    for t in range(1, steps + 1):
        theta, g = regularised(theta, grad(theta), lr, **reg) if reg else (theta, grad(theta))
        m = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
        v = [b2 * a + (1 - b2) * x**2 for a, x in zip(v, g)]
        u = [(a / (1 - b1**t)) / (sp.sqrt(b / (1 - b2**t) + eps_root) + eps) + lam_u * th
             for a, b, th in zip(m, v, theta)]
        r = _trust(_norm(theta), _norm(u))
        theta = [th - lr * r * x for th, x in zip(theta, u)]
        out.append(theta)
    return out


def lars(theta, grad, steps, lr, mu, kappa, wd=0, eps=0, nesterov=False, sum_of_norms=False):
    """You et al. 2017, Alg. 1 with L2 decay λ: d = g + λθ; r = κ‖θ‖/(‖d‖ + ε) (optax) or
    κ‖θ‖/(‖g‖ + λ‖θ‖ + ε) (paper); m = μm + η r d; θ −= m (Nesterov: η r d + μ m)."""
    m = [0] * len(theta)
    out = []
    for _ in range(steps):
        g = grad(theta)
        d = [a + wd * th for a, th in zip(g, theta)]
        den = _norm(g) + wd * _norm(theta) if sum_of_norms else _norm(d)
        r = kappa * _norm(theta) / (den + eps) if (_norm(theta) != 0 and den != 0) else 1
        u = [lr * r * x for x in d]
        m = [mu * a + b for a, b in zip(m, u)]
        step = [a + mu * b for a, b in zip(u, m)] if nesterov else m
        theta = [th - s for th, s in zip(theta, step)]
        out.append(theta)
    return out


# --- issue 16 part B -----------------------------------------------------------------------------


def rprop(theta, grad, steps, step0, eta_minus, eta_plus, dmin, dmax, sign_change="backtrack",
          delayed=False):
    """Riedmiller & Braun 1993 (backtrack) / Igel & Hüsken's iRprop⁻ (skip); ``delayed``: the
    move proposed at step t is applied at step t+1 unless g_{t+1} flips sign."""
    n = len(theta)
    delta, g_prev, du_prev = [step0] * n, [0] * n, [0] * n
    out = []
    for _ in range(steps):
        g = grad(theta)
        new_theta, new_delta, new_g, new_du = [], [], [], []
        for th, x, d, gp, dp in zip(theta, g, delta, g_prev, du_prev):
            s = sp.sign(gp * x)
            if s > 0:
                d = sp.Min(d * eta_plus, dmax)
            elif s < 0:
                d = sp.Max(d * eta_minus, dmin)
            proposal = 0 if s < 0 else -sp.sign(x) * d
            if delayed:
                move, du = (0 if s < 0 else dp), proposal
            elif s < 0 and sign_change == "backtrack":
                move = du = -dp
            else:
                move = du = proposal
            new_theta.append(th + move)
            new_delta.append(d)
            new_g.append(0 if s < 0 else x)
            new_du.append(du)
        theta, delta, g_prev, du_prev = new_theta, new_delta, new_g, new_du
        out.append(theta)
    return out


def adafactor(theta, grad, steps, lr, c_exp, eps1, eps2, d, relative_step=True, factored=False):
    """Shazeer & Stern 2018, Alg. 4/5 without momentum, ε1 added to g². ``theta`` is a vector
    (unfactored) or, with ``factored=True``, a matrix as a list of rows: R_i = EMA of the mean
    of row i, C_j = EMA of the mean of column j, V̂_ij = R_i C_j / mean(R)."""
    def rms(x):
        return sp.sqrt(sum(a**2 for a in x) / len(x))

    flat = (lambda m: [a for row in m for a in row]) if factored else (lambda m: list(m))
    n_rows, n_cols = (len(theta), len(theta[0])) if factored else (1, len(theta))
    R, C, V = [0] * n_rows, [0] * n_cols, [0] * len(flat(theta))
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        b = 1 - sp.Integer(t) ** (-c_exp)
        sq = [[x**2 + eps1 for x in row] for row in g] if factored else [x**2 + eps1 for x in g]
        if factored:
            R = [b * r + (1 - b) * sum(row) / n_cols for r, row in zip(R, sq)]
            C = [b * c + (1 - b) * sum(sq[i][j] for i in range(n_rows)) / n_rows
                 for j, c in enumerate(C)]
            mean_r = sum(R) / n_rows
            v_hat = [R[i] * C[j] / mean_r for i in range(n_rows) for j in range(n_cols)]
        else:
            V = [b * v + (1 - b) * x for v, x in zip(V, sq)]
            v_hat = V
        u = [x / sp.sqrt(v) for x, v in zip(flat(g), v_hat)]
        ratio = rms(u) / d       # the comparisons below are decided numerically by SymPy,
        u = [x / ratio for x in u] if ratio > 1 else u   # far faster than simplifying Max/Min
        rho = min(lr, 1 / sp.sqrt(t), key=float) if relative_step else lr
        alpha = max(eps2, rms(flat(theta)), key=float) * rho
        new = [a - alpha * x for a, x in zip(flat(theta), u)]
        theta = [new[i * n_cols:(i + 1) * n_cols] for i in range(n_rows)] if factored else new
        out.append(theta)
    return out


def ademamix(theta, grad, steps, lr, b1, b2, b3, alpha, eps, wd=0):
    """Pagliardini et al. 2024, Algorithm 1; ``b3`` and ``alpha`` may be functions of t ≥ 1;
    decoupled weight decay θ ← θ − ηλθ."""
    n = len(theta)
    m1, m2, nu = [0] * n, [0] * n, [0] * n
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        b3t = b3(t) if callable(b3) else b3
        at = alpha(t) if callable(alpha) else alpha
        m1 = [b1 * a + (1 - b1) * x for a, x in zip(m1, g)]
        m2 = [b3t * a + (1 - b3t) * x for a, x in zip(m2, g)]
        nu = [b2 * a + (1 - b2) * x**2 for a, x in zip(nu, g)]
        theta = [th - lr * wd * th - lr * (a / (1 - b1**t) + at * c) / (sp.sqrt(v / (1 - b2**t)) + eps)
                 for th, a, c, v in zip(theta, m1, m2, nu)]
        out.append(theta)
    return out


def optimistic(theta, grad, steps, lr, alpha=1, beta=1, prev_init="first_grad", adam=None):
    """θ_t = θ_{t−1} − η((α+β) d_t − β d_{t−1}); d = g, or Adam's r_t when ``adam=(β1, β2, ε,
    nesterov)``; d_0 = d_1 ("first_grad") or 0 ("zero")."""
    n = len(theta)
    m, v, d_prev = [0] * n, [0] * n, [0] * n
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        if adam is None:
            d = g
        else:
            b1, b2, eps, nesterov = adam
            m = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
            v = [b2 * a + (1 - b2) * x**2 for a, x in zip(v, g)]
            if nesterov:
                mh = [b1 * a / (1 - b1**(t + 1)) + (1 - b1) * x / (1 - b1**t) for a, x in zip(m, g)]
            else:
                mh = [a / (1 - b1**t) for a in m]
            d = [a / (sp.sqrt(b / (1 - b2**t)) + eps) for a, b in zip(mh, v)]
        if t == 1 and prev_init == "first_grad":
            d_prev = d
        theta = [th - lr * ((alpha + beta) * x - beta * y) for th, x, y in zip(theta, d, d_prev)]
        d_prev = d
        out.append(theta)
    return out


def muon_first_step(theta, g, lr, mu, coeffs, ns_steps, scale, nesterov=True):
    """One Muon step from a zero (sum) buffer on a matrix θ (sp.Matrix): B = g, M = g + μB
    (Nesterov) or B; X_0 = M/‖M‖_F on the wide orientation; X ← aX + (bA + cA²)X, A = XXᵀ;
    θ − η κ X. Exact when ‖M‖_F is rational."""
    a, b, c = coeffs
    m = g + mu * g if nesterov else g
    tall = m.shape[0] > m.shape[1]
    x = m.T if tall else m
    x = x / sp.sqrt(sum(v**2 for v in x))
    for _ in range(ns_steps):
        A = x * x.T
        x = a * x + (b * A + c * A * A) * x
    return theta - lr * scale * (x.T if tall else x)


def sm3_matrix(theta, grads, lr, beta, eps=0):
    """SM3-II with row and column cover sets on a matrix (lists of rows), fixed gradient
    sequence ``grads``: ν'(i,j) = min(μ_row(i), μ_col(j)) + g², μ_row(i) = max_j ν'(i,j),
    μ_col(j) = max_i ν'(i,j); u = g/√(ν'+ε) (0 where ν' = 0); m = βm + (1−β)u; θ −= ηm."""
    n, k = len(theta), len(theta[0])
    row, col = [0] * n, [0] * k
    m = [[0] * k for _ in range(n)]
    out = []
    for g in grads:
        nu = [[min(row[i], col[j]) + g[i][j] ** 2 for j in range(k)] for i in range(n)]
        row = [max(nu[i]) for i in range(n)]
        col = [max(nu[i][j] for i in range(n)) for j in range(k)]
        u = [[g[i][j] / sp.sqrt(nu[i][j] + eps) if nu[i][j] != 0 else 0 for j in range(k)]
             for i in range(n)]
        m = [[beta * m[i][j] + (1 - beta) * u[i][j] for j in range(k)] for i in range(n)]
        theta = [[theta[i][j] - lr * m[i][j] for j in range(k)] for i in range(n)]
        out.append(theta)
    return out


def asgd(theta, grad, steps, lr, lambd, alpha, t0):
    """Bottou's steps η_t = η0/(1 + λη0(t−1))^α, θ_t = θ_{t−1}(1 − λη_t) − η_t g_t; returns the
    pairs (θ_t, θ̄_t) with θ̄_t the plain mean of θ_{t0+1..t} (θ_t while t ≤ t0)."""
    out, path = [], []
    for t in range(1, steps + 1):
        eta = lr / (1 + lambd * lr * (t - 1)) ** alpha
        theta = [th * (1 - lambd * eta) - eta * x for th, x in zip(theta, grad(theta))]
        path.append(theta)
        window = path[t0:] if t > t0 else [theta]
        out.append((theta, [sum(c) / len(window) for c in zip(*window)]))
    return out


def adan(theta, grad, steps, lr, b1, b2, b3, eps, c=None, wd=0, proximal=True):
    """Xie et al. 2022 with retention factors b (the paper's β is 1 − b) and the authors' bias
    corrections; c scales g_t − g_{t−1} (b2 in the paper, 1 − b2 in optax 0.2.8)."""
    c = b2 if c is None else c
    n_ = len(theta)
    m, v, n, g_prev = [0] * n_, [0] * n_, [0] * n_, None
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        diff = [0] * n_ if g_prev is None else [x - y for x, y in zip(g, g_prev)]
        m = [b1 * a + (1 - b1) * x for a, x in zip(m, g)]
        v = [b2 * a + (1 - b2) * d for a, d in zip(v, diff)]
        n = [b3 * a + (1 - b3) * (x + c * d) ** 2 for a, x, d in zip(n, g, diff)]
        if not proximal:
            theta = [th - lr * wd * th for th in theta]
        theta = [th - lr * (a / (1 - b1**t) + c * b / (1 - b2**t)) / (sp.sqrt(q / (1 - b3**t)) + eps)
                 for th, a, b, q in zip(theta, m, v, n)]
        if proximal:
            theta = [th / (1 + lr * wd) for th in theta]
        g_prev = g
        out.append(theta)
    return out


def fromage(theta, grad, steps, lr, min_norm=0):
    """Bernstein et al. 2020, Alg. 1: θ ← (θ − η ‖θ‖/‖g‖ g)/√(1+η²), norms floored at min_norm."""
    out = []
    for _ in range(steps):
        g = grad(theta)
        pn, gn = sp.Max(_norm(theta), min_norm), sp.Max(_norm(g), min_norm)
        theta = [(th - lr * pn / gn * x) / sp.sqrt(1 + lr**2) for th, x in zip(theta, g)]
        out.append(theta)
    return out


def novograd(theta, grad, steps, lr, b1, b2, eps, wd=0, layers=None):
    """Ginsburg et al. 2019: one second moment per layer (``layers``: lists of coordinate
    indices; default one layer), v_1 = ‖g_1‖², m_t = β1 m_{t−1} + g/(√v + ε) + λθ_{t−1}."""
    layers = [list(range(len(theta)))] if layers is None else layers
    m, v = [0] * len(theta), [None] * len(layers)
    out = []
    for t in range(1, steps + 1):
        g = grad(theta)
        new = list(theta)
        for li, idx in enumerate(layers):
            sq = sum(g[i] ** 2 for i in idx)
            v[li] = sq if t == 1 else b2 * v[li] + (1 - b2) * sq
            for i in idx:
                m[i] = b1 * m[i] + g[i] / (sp.sqrt(v[li]) + eps) + wd * theta[i]
                new[i] = theta[i] - lr * m[i]
        theta = new
        out.append(theta)
    return out


HALF = R(1, 2)


def ftrl(theta, grad, steps, alpha, l1=0, l2=0, beta=0, p=HALF, n0=0, shrink=0):
    """McMahan et al. 2013, Algorithm 1, with n^p for √n, accumulator start n0 and a loss term
    shrink·θ² whose gradient enters z only."""
    k = len(theta)
    z, n = [0] * k, [n0] * k
    out = []
    for _ in range(steps):
        g = grad(theta)
        new = []
        for i in range(k):
            n_new = n[i] + g[i] ** 2
            sigma = (n_new**p - n[i] ** p) / alpha
            z[i] = z[i] + g[i] + 2 * shrink * theta[i] - sigma * theta[i]
            n[i] = n_new
            q = (beta + n_new**p) / alpha + l2
            new.append(0 if abs(z[i]) <= l1 else -(z[i] - sp.sign(z[i]) * l1) / q)
        theta = new
        out.append(theta)
    return out


def polyak(theta, grad, loss, steps, lr, max_lr, f_min, c=1, eps=0, positive=False):
    """Polyak / SPS_max: γ = min((ℓ − ℓ*)/(c‖g‖² + ε), γ_max), θ ← θ − ηγg (‖·‖ over all
    coordinates); ``positive`` uses max(ℓ − ℓ*, 0)."""
    out = []
    for _ in range(steps):
        g = grad(theta)
        gap = loss(theta) - f_min
        gap = sp.Max(gap, 0) if positive else gap
        den = c * sum(x**2 for x in g) + eps
        gamma = 0 if den == 0 else sp.Min(gap / den, max_lr)
        theta = [th - lr * gamma * x for th, x in zip(theta, g)]
        out.append(theta)
    return out
