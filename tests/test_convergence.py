"""Convergence properties of every registry rule, one data entry per (rule, problem class).

:data:`CLAIMS` maps each rule in :data:`refopt.registry.SPECS` to its claims. A claim names its
*kind* — ``theorem`` (a published inequality, constants computed from the instance), ``exact``
(algebra that holds to rounding: the per-eigenmode recurrence of a linear rule on a quadratic) or
``empirical`` (a protocol written down: class, hyperparameters, budget, success criterion) — its
class (``convex`` / ``nonconvex``), the hypothesis strategy of instances, a predicate
``holds(optimizer factory, instance)``, and a *mutant*: a wrong variant of the rule with a fixed
witness instance on which the same predicate must be False (so the claim can fail).

A rule without a convex and a non-convex claim fails :func:`test_every_rule_has_a_convex_and_a_nonconvex_claim`
with the list of missing rules: a new rule's convergence property is one entry here. Statements,
assumptions and constants are on proofs/theorems/convergence-*.md; the README's table is
:func:`readme_table`, checked by :func:`test_readme_table_matches_the_claims`.

Every claim drives the rule through ``refopt`` itself (``refopt.sgd``, ``refopt.nag``, ...), so a
bug in a rule shows up as a violated claim.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import refopt
from refopt import treemath
from refopt.problems import CosineMixture, IndefiniteQuadratic, LeastSquares, LogisticRegression, Quadratic
from refopt.registry import SPECS
from refopt.testing import strategies as S
from refopt.testing._drive import step_on
from tools.factorisation_sweep import draws as factorisation_draws
from tools.factorisation_sweep import imbalance
from tools.teacher_student_sweep import BUDGET as BB_BUDGET
from tools.teacher_student_sweep import draws as teacher_student_draws
from tools.teacher_student_sweep import run as teacher_student_run
from tools.teacher_student_sweep import smallest_output_weight

EPS = np.finfo(np.float64).eps
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Rule:
    """How to build one optimizer (its ``extra_args`` say how to drive it: :func:`step_on`)."""

    build: Callable[..., Any]


def rule(name: str) -> Rule:
    return Rule(SPECS[name].factory)


def trajectory(r: Rule, kwargs: dict, prob: Any, x0: Any, steps: int) -> list:
    opt = r.build(**kwargs)
    xs, state = [x0], opt.init(x0)
    for _ in range(steps):
        x, state = step_on(opt, prob, xs[-1], state)
        xs.append(x)
    return xs


@dataclass(frozen=True)
class Claim:
    kind: Literal["theorem", "exact", "empirical"]
    convexity: Literal["convex", "nonconvex"]
    statement: str                       # one line, for the README table and the failure message
    label: str                           # the proofs/ label that states it
    instances: Any                       # hypothesis strategy of instances
    holds: Callable[[Rule, Any], bool]   # the claim for one instance
    rule: Rule
    mutant: Rule                         # a wrong variant ...
    witness: Callable[[], Any]           # ... that violates the claim on this instance
    cost: int = 1                        # examples per run = profile's max_examples // cost
    condition: str = ""                  # a hypothesis beyond the class's, shown in the README table


# ------------------------------------------------------------------ exact: per-mode recurrences

def taylor(p: int) -> Callable[[float], float]:
    """R(−z) = Σ_{j≤p} (−z)^j/j!: the stability function of every explicit p-stage RK method of
    order p ≤ 4 (Hairer–Nørsett–Wanner I, §IV.2), evaluated for the gradient flow of a mode λ."""
    return lambda z: sum((-z) ** j / math.factorial(j) for j in range(p + 1))


def one_step(R: Callable[[float], float]):
    return lambda z, **_: ([-R(z), 1.0], 0)


# Coefficients c_0..c_s with Σ_j c_j e_{k+j} = 0 for the mode e = (Qᵀ(x − x*))_i of eigenvalue λ,
# z = hλ, valid for k ≥ start. Written from each method's definition, not from refopt's code.
def ab2(z, **_):          # θ_{k+2} = θ_{k+1} + h(3/2 F_{k+1} − 1/2 F_k)
    return [-z / 2, -(1 - 1.5 * z), 1.0], 1


def four_instant(z, **_):  # θ_{k+3} = 3/2 θ_{k+2} − θ_{k+1} + 1/2 θ_k + h F_{k+2}
    return [-0.5, 1.0, -(1.5 - z), 1.0], 2


def leapfrog(z, **_):     # θ_{k+2} = θ_k + 2h F_{k+1}
    return [-1.0, 2 * z, 1.0], 1


def heavy_ball(z, momentum):   # θ_{k+2} = θ_{k+1} − hg_{k+1} + β(θ_{k+1} − θ_k)
    return [momentum, -(1 + momentum - z), 1.0], 0


def nesterov(z, momentum):     # θ_{k+2} = (1 − z)((1 + γ)θ_{k+1} − γθ_k), both NAG forms
    return [momentum * (1 - z), -(1 + momentum) * (1 - z), 1.0], 1


def recurrence_holds(coeffs: Callable, lr: float, prob: Any, x0: np.ndarray, r: Rule,
                     steps: int, **hyper: float) -> bool:
    """Every mode obeys its recurrence at every step, to the rounding of one step.

    The residual Σ_j c_j e_{k+j} of computed iterates is the rounding committed in the steps of
    that window only (errors of earlier steps are part of the e's), so it is bounded by
    64·d·ε·Σ_j|c_j|·(‖x*‖∞ + max_j ‖x_{k+j} − x*‖∞) — a few roundings per coordinate and stage,
    mixed across d coordinates by Q."""
    centre = prob.minimiser if isinstance(prob, Quadratic) else prob.saddle
    xs = trajectory(r, {"lr": lr, **hyper}, prob, x0, steps)
    E = np.array([prob.Q.T @ (x - centre) for x in xs])            # (steps+1, d) modes
    D = np.array([np.abs(x - centre).max() for x in xs])
    for i, lam in enumerate(prob.eigenvalues):
        c, start = coeffs(lr * lam, **hyper)
        s = len(c) - 1
        for k in range(start, steps + 1 - s):
            window = E[k:k + s + 1, i]
            scale = np.sum(np.abs(c)) * (np.abs(centre).max() + D[k:k + s + 1].max())
            if abs(float(np.dot(c, window))) > 64 * prob.dim * EPS * scale:
                return False
    return True


def exact_claims(name: str, coeffs: Callable, z_star: float, mutant: str, stmt: str,
                 hyper: Any = None, witness_hyper: dict | None = None) -> tuple[Claim, Claim]:
    """The recurrence on convex quadratics with h·L drawn over [0.02, 1.1 z*] — inside and just
    outside the real stability interval [0, z*] — and on saddle quadratics, where the unstable
    mode grows at exactly the rate the recurrence gives (non-convex)."""
    hyper = st.just({}) if hyper is None else hyper

    def inst(probs):
        return st.tuples(probs, st.floats(0.02, 1.1 * z_star), hyper, st.integers(0, 1000))

    def holds(r, inst_):
        prob, hl, hp, seed = inst_
        x0 = np.random.default_rng(seed).uniform(-2, 2, prob.dim)
        return recurrence_holds(coeffs, hl / prob.L, prob, x0, r, 30, **hp)

    hp0 = witness_hyper or {}
    return (Claim("exact", "convex", stmt + "; convex quadratics, h·L ≤ 1.1·z*", "conv-integrators",
                  inst(S.quadratics(max_dim=4, kappa=(1.0, 50.0))), holds, rule(name), rule(mutant),
                  lambda: (Quadratic([0.3, 1.0], seed=1), 0.9 * z_star, hp0, 0)),
            Claim("exact", "nonconvex", stmt + "; saddle quadratics", "conv-integrators",
                  inst(S.saddle_quadratics(max_dim=4)), holds, rule(name), rule(mutant),
                  lambda: (IndefiniteQuadratic([-0.5, 1.0], seed=1), 0.9 * z_star, hp0, 0)))


MOMENTUM = st.fixed_dictionaries({"momentum": st.floats(0.05, 0.95)})
RK_STMT = "e_{k+1} = R(−hλ) e_k per mode, R(−z) = Σ_{j≤%d} (−z)^j/j!"


# ------------------------------------------------------------------------------ theorems

def gap_slack(prob: Any, f0: float) -> float:
    """Rounding of ℓ(x) − ℓ*: a few ε of the larger of |ℓ*| and ℓ(x_0) (the values subtracted)."""
    return 64 * EPS * (abs(prob.min_value) + abs(f0))


def pl_gd_holds(r: Rule, inst: Any) -> bool:
    """Karimi, Nutini, Schmidt (2016), Thm 1: L-smooth, PL with μ, η = 1/L:
    ℓ(x_k) − ℓ* ≤ (1 − μ/L)^k (ℓ(x_0) − ℓ*). μ: smallest non-zero eigenvalue of XᵀX/N."""
    prob, seed = inst
    lam = np.linalg.eigvalsh(prob.H)
    mu = float(lam[lam > 1e-9 * prob.L].min())
    x0 = np.random.default_rng(seed).uniform(-2, 2, prob.dim)
    f0 = float(prob.value(x0))
    xs = trajectory(r, {"lr": 1.0 / prob.L}, prob, x0, 60)
    return all(float(prob.value(x)) - prob.min_value
               <= (1 - mu / prob.L) ** k * (f0 - prob.min_value) + gap_slack(prob, f0)
               for k, x in enumerate(xs))


def nonconvex_gd_holds(r: Rule, inst: Any) -> bool:
    """Nesterov (2004), §1.2.3 (eq. 1.2.13 with h = 1/L): min_{k<T} ‖∇ℓ(x_k)‖² ≤ 2L(ℓ(x_0) − ℓ_inf)/T
    for every T ≤ 60, ℓ_inf a lower bound."""
    prob, x0 = inst
    xs = trajectory(r, {"lr": 1.0 / prob.L}, prob, np.asarray(x0, float), 60)
    g2 = np.minimum.accumulate([float(np.sum(prob.grad(x) ** 2)) for x in xs[:60]])
    f0 = float(prob.value(xs[0]))
    T = np.arange(1, 61)
    return bool(np.all(g2 <= 2 * prob.L * (f0 - prob.lower_bound) / T * (1 + 1e-9)))


FALSE_FAILURE = 1e-6   # per instance, for the stochastic claims' one-sided Hoeffding margin


def sgd_stochastic_nonconvex_holds(r: Rule, inst: Any) -> bool:
    """Ghadimi & Lan (2013), the constant-step case (from the descent lemma): SGD with unbiased
    gradients, E‖g − ∇ℓ‖² ≤ σ², step η < 2/L, has
    E (1/N)Σ_{k<N} ‖∇ℓ(x_k)‖² ≤ 2(ℓ(x_0) − ℓ_inf)/(Nη(2 − Lη)) + Lησ²/(2 − Lη).

    ℓ = Σ_i a_i cos(b_iᵀx) sampled one term at a time (g = m∇(a_i cos b_iᵀx), i uniform), so
    σ² = m Σ_i a_i²‖b_i‖² and ‖∇ℓ‖ ≤ G = Σ_i |a_i|‖b_i‖. S = 200 seeded runs (rows of one
    parameter array: SGD acts on rows independently); each run's average lies in [0, G²], so by
    Hoeffding the mean over runs exceeds the expectation by t = G²√(ln(1/δ)/(2S)) with probability
    ≤ δ = 10⁻⁶: the test asserts mean ≤ bound + t."""
    prob, seed, frac = inst
    m, runs, N = prob.a.size, 200, 400
    eta = frac / prob.L
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-2, 2, prob.dim)
    X = np.tile(x0, (runs, 1))
    opt = r.build(lr=eta)
    state, acc = opt.init(X), np.zeros(runs)
    for _ in range(N):
        acc += np.sum((-(np.sin(X @ prob.B.T) * prob.a) @ prob.B) ** 2, axis=1)
        i = rng.integers(0, m, runs)
        g = -m * prob.a[i, None] * np.sin(np.sum(X * prob.B[i], axis=1))[:, None] * prob.B[i]
        X, state = opt.update(g, state, X)
    G = float(np.sum(np.abs(prob.a) * np.linalg.norm(prob.B, axis=1)))
    sigma2 = m * float(np.sum(prob.a ** 2 * np.sum(prob.B ** 2, axis=1)))
    Le = prob.L * eta
    bound = 2 * (float(prob.value(x0)) - prob.lower_bound) / (N * eta * (2 - Le)) + Le * sigma2 / (2 - Le)
    margin = G * G * math.sqrt(math.log(1 / FALSE_FAILURE) / (2 * runs))
    return float(acc.mean()) / N <= bound + margin


def strongly_convex_nesterov_holds(r: Rule, inst: Any) -> bool:
    """Nesterov (2004), constant step scheme III (η = 1/L, γ = (√L − √μ)/(√L + √μ)), Thm 2.2.3:
    ℓ(x_k) − ℓ* ≤ (1 − √(μ/L))^k (ℓ(x_0) − ℓ* + μ/2 ‖x_0 − x*‖²)."""
    prob, seed = inst
    x0 = np.random.default_rng(seed).uniform(-2, 2, prob.dim)
    sl, sm = math.sqrt(prob.L), math.sqrt(prob.mu)
    f0 = float(prob.value(x0))
    c0 = f0 - prob.min_value + prob.mu / 2 * float(np.sum((x0 - prob.minimiser) ** 2))
    xs = trajectory(r, {"lr": 1 / prob.L, "momentum": (sl - sm) / (sl + sm)}, prob, x0, 80)
    return all(float(prob.value(x)) - prob.min_value
               <= (1 - sm / sl) ** k * c0 * (1 + 1e-9) + gap_slack(prob, f0)
               for k, x in enumerate(xs))


def sup_grad(prob: Any) -> float:
    """G with ‖∇ℓ(x)‖_∞ ≤ G everywhere: logistic (λ = 0) max_j mean_n |x_nj| (|σ − y| ≤ 1);
    cosine mixture (c = 0) max_j Σ_i |a_i||b_ij|."""
    if isinstance(prob, LogisticRegression):
        return float(np.abs(prob.X).mean(axis=0).max())
    return float((np.abs(prob.a)[:, None] * np.abs(prob.B)).sum(axis=0).max())


def defossez_adagrad_holds(r: Rule, inst: Any) -> bool:
    """Défossez, Bottou, Bach, Usunier (2022), Thm 1 (Adagrad, β1 = 0), with deterministic
    gradients (so the expectation over τ ~ U{0..N−1} is the trajectory average):
    (1/N)Σ_{n<N} ‖∇F(x_n)‖² ≤ 2R(F(x_0) − F_*)/(α√N) + (4dR² + αdRL) ln(1 + NR²/ε)/√N,
    where ‖∇F‖_∞ ≤ R − √ε (we take R = G + √ε, which also meets the weaker form ‖∇F‖_∞ ≤ R)."""
    prob, seed, alpha, eps, N = inst
    x0 = np.random.default_rng(seed).uniform(-2, 2, prob.dim)
    R = sup_grad(prob) + math.sqrt(eps)
    F_low = 0.0 if isinstance(prob, LogisticRegression) else prob.lower_bound
    xs = trajectory(r, {"lr": alpha, "eps": eps}, prob, x0, N)
    avg = float(np.mean([np.sum(prob.grad(x) ** 2) for x in xs[:N]]))
    d, L = prob.dim, prob.L
    bound = (2 * R * (float(prob.value(x0)) - F_low) / (alpha * math.sqrt(N))
             + (4 * d * R * R + alpha * d * R * L) * math.log(1 + N * R * R / eps) / math.sqrt(N))
    return avg <= bound * (1 + 1e-9)


def defossez_instances(probs):
    return st.tuples(probs, st.integers(0, 1000), st.floats(0.05, 2.0), st.floats(1e-3, 1.0),
                     st.integers(10, 200))


def softplus_ascent_witness():
    """F(w) = softplus(w) (one example x = 1, y = 0): G = R − √ε = 1. Ascent drives σ(w) → 1,
    so the trajectory average of ‖∇F‖² tends to 1 while the bound falls like ln N/√N: with
    α = 1, ε = 0.0025 (R = 1.05) it is 0.91 at N = 6000, where the average is above 0.999."""
    return LogisticRegression(np.ones((1, 1)), np.zeros(1, dtype=np.int64)), 0, 1.0, 0.0025, 6000


def ascent(name: str) -> Rule:
    """The rule with the sign of its update flipped (``maximize=True``): the generic wrong variant."""
    spec = SPECS[name]
    return Rule(lambda **kw: spec.factory(maximize=True, **kw))


# ----------------------------------------------------------------------------- empirical

def step_size(lr: float, decayed: bool, steps: int) -> Any:
    """The protocol's η: constant, or cosine-decayed to 0 over the budget (``refopt.cosine_decay``)
    for rules whose step length is bounded below at a constant η (Muon, Adafactor: see
    :func:`test_constant_step_has_a_floor`)."""
    return refopt.cosine_decay(lr, steps) if decayed else lr


def empirical_convex_holds(r: Rule, inst: Any) -> bool:
    """Protocol: least squares (d ≤ 4, N ≤ 30, κ ≤ 20, 0.1 ≤ ‖w*‖∞ ≤ 1), x_0 = 0, lr = base·f, f ∈ [0.5, 2] (Adadelta:
    [0.5, 1]; base in units of 1/L for the SGD-type rules; cosine-decayed to 0 over the budget where
    ``decayed``); success: ℓ(x_500) − ℓ* ≤ τ(ℓ(x_0) − ℓ*), τ = 10⁻² (Adadelta: τ = ½ at some step ≤ 500)."""
    prob, f, cfg, per_L, best, tol, decayed = inst
    kwargs = {**cfg, "lr": step_size(cfg["lr"] * f / (prob.L if per_L else 1.0), decayed, 500)}
    x0 = np.zeros(prob.dim)
    gap0 = float(prob.value(x0)) - prob.min_value
    xs = trajectory(r, kwargs, prob, x0, 500)[1:]
    gaps = [float(prob.value(x)) - prob.min_value for x in (xs if best else xs[-1:])]
    return min(gaps) <= tol * gap0


def start(prob: Any, seed: int) -> Any:
    return prob.random_point(seed, 0.5)


def empirical_nonconvex_holds(r: Rule, inst: Any) -> bool:
    """Protocol: matrix factorisation (m, n ≤ 4, rank ≤ 2, ‖M‖₂ = 1, κ(M) ≤ 2; every local minimum global,
    ℓ* = 0), x_0 ~ 0.5·N(0, I) (seeded), lr = base·f, f ∈ [0.5, 2]; success: ℓ(x_K) ≤ τ ℓ(x_0)
    with K = 500, τ = 10⁻² (η cosine-decayed to 0 over the K steps where ``decayed``). Big Batch, which
    needs a finite sum, has its own protocol: :func:`bigbatch_class_rate_holds`."""
    prob, f, cfg, seed, steps, tol, best, decayed = inst
    kwargs = {**cfg, "lr": step_size(cfg["lr"] * f, decayed, steps)}
    x0 = start(prob, seed)
    xs = trajectory(r, kwargs, prob, x0, steps)[1:]
    return min(float(prob.value(x)) for x in (xs if best else xs[-1:])) <= tol * float(prob.value(x0))


def mf_witness() -> Any:
    from refopt.problems import MatrixFactorisation
    return MatrixFactorisation(3, 3, 1, seed=0)


# Big Batch's non-convex claim is a rate over the teacher–student class (BB_RATE): each instance is
# a seed for BB_DRAWS i.i.d. draws of the class (tools.teacher_student_sweep.draws), and at most
# binomial_allowance(BB_DRAWS, BB_MISS_RATE, BB_ALPHA) of them may miss the target
BB_DRAWS, BB_MISS_RATE, BB_ALPHA = 30, 0.02, 1e-3


def binomial_allowance(n: int, p: float, alpha: float) -> int:
    """The least k with P(Bin(n, p) > k) ≤ α: if each of n independent draws misses with
    probability at most p, more than k misses happen with probability at most α."""
    tail = 1.0
    for k in range(n + 1):
        tail -= math.comb(n, k) * p ** k * (1 - p) ** (n - k)   # now P(X > k)
        if tail <= alpha:
            return k
    return n


def bigbatch_class_rate_holds(r: Rule, inst: Any) -> bool:
    """Protocol: BB_DRAWS i.i.d. draws (seeded by the instance) of the realisable teacher–student
    class — student and teacher d → h → 1 tanh MLPs, d, h uniform on {1, 2, 3}, N uniform on
    {4, …, 24} Gaussian inputs, the student from its own seeded initialisation, ℓ₀ ≥ 10⁻², α₀ = f,
    f ~ U[0.5, 2] — each run with Armijo steps and batch 2 until ℓ ≤ 10⁻¹ℓ₀ or BB_BUDGET
    iterations. Success: at most binomial_allowance(BB_DRAWS, BB_MISS_RATE, BB_ALPHA) misses."""
    seed, base = inst
    allowed, misses = binomial_allowance(BB_DRAWS, BB_MISS_RATE, BB_ALPHA), 0
    for d in teacher_student_draws(BB_DRAWS, seed):
        res = teacher_student_run(base, d["prob"], d["x0"], d["key"][5], BB_BUDGET, build=r.build,
                                  stop_at_target=True)
        misses += res["first"] is None
        if misses > allowed:   # decided: the remaining draws cannot change the verdict
            return False
    return True


# Conditions a claim adds to its class, each with its reason (shown under the README's table)
DECAYED, RANK_2, AGC_1 = "η → 0", "rank ≥ 2, gap to ℓ_c⋆", "λ = 1"
FLOOR = "μ‖w⋆‖ ≥ m"   # ⋆, not *: the README renders *...* as emphasis
ALIGNED = "r ≥ 2 or ⟨U₀V₀ᵀ, M⟩ ≥ 0"
LION_K = "K = 2000, slow momentum"
SF_K = "K = 5000, averaged iterate"
CAUTIOUS = "⟨s, y⟩ ≥ 0.1‖s‖²"
BB_RATE = "miss rate ≤ 2 %"
FTRL_B0 = "β = 0"
CONDITIONS = {
    DECAYED: "η cosine-decayed to 0 over the budget: at a constant η the rule's step length is bounded "
             "below (Muon: η√m·p⁵(1) on an m×1 factor, p the Newton–Schulz polynomial; Lion, Signum: "
             "exactly η per coordinate, a sign step; LAMB: η‖θ‖ per layer; Adafactor, and RMSprop likewise (on least squares too: a random local run "
             "found an instance with ‖w⋆‖∞ = 0.10 where its best gap is 0.039): "
             "±η per coordinate in an oscillation with |g| fixed, a 2-cycle w⋆ ± (η/2)s with loss "
             "(η²/8)sᵀHs), so the loss stalls at a level ∝ η² that can exceed the relative target; Nadam's "
             "step does not shrink with a vanishing gradient (m̂ and √v̂ shrink together) and left a "
             "minimum it had reached — on least squares, after converging, v̂ (β₂ = 0.999) decays until "
             "the update linearised at w⋆, with the step η/(√v̂ + ε), is unstable (spectral radius 1.40 at "
             "update 460 on the thorough profile's instance, where rounding noise grows to a 0.24 gap by "
             "update 500); NovoGrad's layer-normalised step g/√v keeps each layer moving by "
             "about 0.64η per update (median) in an oscillation, v (β₂ = 0.999) lagging the gradient norm; "
             "SAM hands its inner rule the gradient H(e + ρĝ) at the ascent point, ĝ = He/‖He‖, of norm ≥ ρμ "
             "on least squares (e = w − w⋆, ⟨He, H²e⟩ ≥ 0), so its heavy ball keeps circling w⋆ (the thorough "
             "profile's d = 1 instance: ‖w⋆‖ = 0.12, best 0.015 of the gap at a constant η, 1.5·10⁻¹⁰ decayed; "
             "2000 random draws of the class: 18 misses at a constant η, none decayed)",
    RANK_2: "gradient centralisation keeps each row's mean of U and V (μ, ν), so with P the projector "
            "off the all-ones vector U = μ1ᵀ + ZP, V = ν1ᵀ + WP and UVᵀ = rμνᵀ + ZPWᵀ: the least loss it "
            "can reach is ℓ_c⋆ = ½Σ_{i≥r} σᵢ(M − rμνᵀ)² (Eckart–Young, rank r − 1), which is ℓ₀ at rank 1. "
            "The claim is for rank ≥ 2 and the gap to ℓ_c⋆: ℓ − ℓ_c⋆ ≤ 10⁻²(ℓ₀ − ℓ_c⋆) at some step ≤ 500 "
            "(the thorough profile found a rank-2 start where ℓ stays at ℓ_c⋆ = 0.539ℓ₀, above a halving)",
    AGC_1: "adaptive gradient clipping bounds a unit's step by ηλ·max(‖θ_u‖, ε), so a unit's norm grows "
           "by at most a factor 1 + ηλ per update: from w₀ = 0, ‖w_t‖ ≤ ε(1 + ηλ)^t, and reaching ‖w⋆‖ takes at "
           "least ln(‖w⋆‖/ε)/ln(1 + ηλ) steps — over 500 at λ = 0.1 on least-squares instances the thorough "
           "profile found; on factorisations a start with small layers (the thorough profile's 2×2 rank-1 "
           "counterexample: ‖U₀‖ = 0.091, ‖V₀‖ = 0.32, η = 0.05) is clipped on 497 of 500 updates at "
           "λ = 0.1 and ends at 0.017ℓ₀ (7 misses in 1000 random draws of the class; none at λ = 1, worst "
           "1.9·10⁻⁶ℓ₀, where clipping still binds in 221 of 300 runs, on 1.7 % of their updates). Both "
           "protocols take λ = 1",
    ALIGNED: "a rank-1 start whose product points away from M (⟨U₀V₀ᵀ, M⟩ < 0, u = U₀'s column, v = V₀'s) "
             "must change the sign of aᵀu or bᵀv (M = σabᵀ) on its way to M; LAMB's step has length "
             "η_t‖θ‖ per layer, so on the way both layers shrink (measured: ‖U‖ 0.35 → 0.12, ‖V‖ 1.52 → 0.24 "
             "on the thorough profile's 3×2 counterexample) and afterwards grow by at most a factor "
             "1 + η_t per update, exp Σ_{s>t} η_s in all, which the decayed schedule's tail does not "
             "leave room for (best 0.22ℓ₀ there). On 4000 random draws of the class (cosine-decayed η) "
             "all 7 misses were such starts; the 1724 aligned rank-1 starts and the 535 rank-2 starts "
             "reached at most 1.5·10⁻⁷ℓ₀, and flipping the sign of U₀ on each miss meets the target",
    FLOOR: "Fromage floors both norms at m = min_norm: from w₀ = 0 its iterate grows at most as "
           "‖w_t‖ ≤ mρ^t, ρ = (1 + η)/√(1 + η²), and where ‖∇ℓ‖ < m its update is gradient descent with "
           "step η·max(‖w‖, m)/m, then the shrink 1/√(1 + η²): near w⋆ the flattest mode contracts by "
           "about ημ‖w⋆‖/m per update, and the fixed point is a ridge solution with "
           "‖∇ℓ‖ = m(√(1 + η²) − 1)/η ≈ ηm/2. With μ‖w⋆‖ ≥ m that last phase needs ≤ 154 updates "
           "(η ≥ 0.015) and leaves an excess ≤ (η/2)² of ℓ₀ − ℓ⋆, and the class's ‖w⋆‖ ≤ 2 = 20m "
           "bounds the growth, about ln(‖w⋆‖/m)/ln ρ updates, by 203. The thorough profile found a flat "
           "instance (d = 1, μ‖w⋆‖ = 0.3m) where every update is such a gradient descent step and the "
           "target is missed",
    LION_K: "Lion's step is sign(β₁m + (1 − β₁)g) with m averaged at β₂ = 0.99, so where a layer's gradient "
            "is small (V's is RᵀU) the step keeps the sign of a momentum about 100 updates old, and "
            "UᵀU − VᵀV, constant along gradient flow, drifts: from 0.77 to 180 on the thorough profile's "
            "rank-2 counterexample (3×4, κ(M) = 1.98), whose best in 500 decayed updates is 0.031ℓ₀, while "
            "the same rule with β₂ = β₁ = 0.9 (Signum) stays below 4.3 and reaches 8·10⁻⁹ℓ₀. Unbalanced "
            "factors slow the last mode (a rate measured, not derived); with a budget of K = 2000 decayed "
            "updates that instance reaches 2·10⁻¹²ℓ₀, and 2000 random draws of the class reached at most "
            "4.2·10⁻⁶ℓ₀ (at K = 500, 2 of the first 1000 missed, best 0.026ℓ₀)",
    SF_K: "schedule-free SGD takes its gradient at y = βx + (1 − β)z, x the uniform average of the z's "
          "(β = 0.9). Along a direction of curvature −σ the average lags a growing z, so y's growth rate per "
          "update falls from GD's ησ toward (1 − β)ησ, and it never falls below that (proved on "
          "proofs/theorems/convergence-empirical.md): on the linear model a passage that takes GD T updates "
          "takes it at most ln(1 + ησ)/ln(1 + (1 − β)ησ) ≤ 1/(1 − β) = 10 times as many. The ninth thorough "
          "run's counterexample (2×2, rank 1, ⟨U₀V₀ᵀ, M⟩ = −0.006, η = 0.05) is at 0.59ℓ₀ after 500 updates "
          "and first meets the target at update 886, where GD — and schedule-free SGD with β = 0, whose y "
          "is GD's iterate — meets it at 346. The budget is therefore K = 500/(1 − β) = 5000, ten times "
          "the protocol's; that it suffices on the class is measured, not derived (at K = 500, 4 of 1000 "
          "random draws missed, the worst reaching only 0.077ℓ₀; at K = 2000, none of 2000, worst "
          "8.9·10⁻⁵ℓ₀)",
    BB_RATE: "Big Batch's class, the realisable teacher–student MLP, has no theorem that every local minimum "
             "is global (Fukumizu & Amari 2000 prove that plateaus and non-global local minima can arise from "
             "the critical points of a network with a unit fewer), and its slow draws come in kinds we saw no "
             "bound for. The ninth thorough run's counterexample (d = 3, h = 2, N = 4) is a plateau: from "
             "iteration 10 the batch is all N examples and α = 0.5, so Big Batch is gradient descent there; the "
             "second hidden unit's output weight passes through 0; where the gradient is smallest (iteration "
             "120, ‖∇ℓ‖ = 3.8·10⁻³, ℓ = 0.165ℓ₀) the Hessian has eigenvalues −0.027 and −0.008 beside 3.3, "
             "near a saddle, and the run first meets ℓ ≤ 10⁻¹ℓ₀ at iteration 206. A random draw with a weak "
             "teacher unit (h = 1, output weight −0.115) is at 0.114ℓ₀ after 1000 iterations, 0.109ℓ₀ after "
             "20000. The claim is therefore a rate over the class, with the target reached at some iteration "
             "≤ 500 (at full batch the Armijo steps descend, so reached is kept up to the test's slack, and "
             "each run can stop there): each instance is 30 independent draws, of which at most 4 may miss — "
             "the least k with P(Bin(30, 0.02) > k) ≤ 10⁻³, so a miss rate of 2 % fails an instance with "
             "probability 3.0·10⁻⁴ and a thorough run (41 instances) with 1.2 %, while a rate of 10 % passes "
             "an instance with probability 0.82 and a thorough run with 4·10⁻⁴. Measured: 1 miss in 600 "
             "draws (tools.teacher_student_sweep: seed 7, 400 draws, none; seed 5, 200 draws at 1000 "
             "iterations, the weak-teacher draw)",
    FTRL_B0: "without regularisers and from θ₀ = 0, FTRL-Proximal is θ_t = θ_{t−1} − αg_t/(β + √n_t), "
             "n_t = Σ_{s≤t} g_s² (the induction of lem-ftrl-adagrad with β kept): with β > 0 it is gradient "
             "descent with a step of about α/β while √n_t ≪ β, and on a one-dimensional instance of "
             "curvature μ the gap after t updates is at least (1 − αμ)^{2t} of the first. The least-squares "
             "class bounds κ, not μ: the eleventh thorough run drew d = 1, N = 3, μ = 0.0168 with α = 0.25, "
             "where that bound is 0.015 at t = 500 and the measured best is 0.026. With β = 0 the step is "
             "αg_t/√n_t, unchanged by rescaling the loss, and the same instance reaches 1.4·10⁻³¹; 2000 random "
             "draws of the class missed none with β = 1 (worst 2.8·10⁻¹⁰) nor with β = 0 (worst 2.9·10⁻⁸), so "
             "the flat instances are rare. The least-squares claim takes β = 0; the factorisation class, "
             "scaled to ‖M‖₂ = 1, keeps β = 1",
    CAUTIOUS: "fixed-step L-BFGS stores a pair when ⟨s, y⟩ > 10⁻¹⁰ (torch's test), which keeps H positive "
              "definite but not bounded: a stored pair with a small secant curvature ⟨s, y⟩/‖s‖² gives H an "
              "eigenvalue of order ‖s‖²/⟨s, y⟩, and a fixed step has nothing else to stop it. On the thorough "
              "profile's counterexample (2×2, rank 1, a start with small layers) the pairs of updates 3–7 "
              "have negative curvature and are skipped, the next one has ⟨s, y⟩ = 0.040‖s‖², and that "
              "update's step takes the loss from 0.37 to 2.4·10⁷; 1000 random draws of the class gave 9 "
              "misses (8 diverged), a further 1000 rank-2 draws 8, and a smaller η (0.1f) 13. The cautious test "
              "⟨s, y⟩ ≥ c‖s‖² (min_curvature_ratio = c) bounds H above and below (lem-lbfgs-cautious); "
              "c = 0.1 is a fifth of the smallest non-zero curvature at the class's minimisers (σ_r(M) ≥ 1/2). "
              "With it the same 1000 draws all met the target, worst 5.6·10⁻⁶ℓ₀, and 1000 more at most 1.3·10⁻⁴ℓ₀ (at c = 0.01 the first 1000 still missed 5 times)"
}


def aligned_or_rank_2(inst: Any) -> bool:
    """r ≥ 2, or the start's product is not anti-aligned with M: ⟨U₀V₀ᵀ, M⟩ ≥ 0 (see
    :data:`CONDITIONS` and :func:`test_lamb_anti_aligned_rank_1_start_shrinks_both_layers`)."""
    prob, seed = inst[0], inst[3]
    if prob.rank >= 2:
        return True
    x0 = start(prob, seed)
    return float(np.sum((x0["U"] @ x0["V"].T) * prob.M)) >= 0


def factor_condition(prob: Any) -> float:
    """κ(M) = σ₁(M)/σ_r(M) of a factorisation."""
    sv = np.linalg.svd(prob.M, compute_uv=False)
    return float(sv[0] / sv[prob.rank - 1])

FROMAGE_FLOOR = 0.1   # min_norm m of Fromage's claims


def above_the_floor(prob: Any) -> bool:
    """μ‖w*‖ ≥ m (m = Fromage's norm floor): a least-squares gradient at distance ‖w*‖ along the
    flattest direction is at least the floor, so the gradient descent Fromage does below the floor
    contracts that mode at a rate ≥ η per update (see :data:`CONDITIONS` and
    :func:`test_fromage_below_its_norm_floor_is_slow_gradient_descent`)."""
    return prob.mu * float(np.linalg.norm(prob.minimiser)) >= FROMAGE_FLOOR


# precondition, as for factorisation: the start x_0 = 0 is not already near the minimiser, nor
# farther than steps of at most ≈ η per coordinate cover in the budget (see CLASSES)
LS_KAPPA_20 = S.least_squares(max_n=30, max_dim=4).filter(
    lambda p: p.mu is not None and p.L <= 20 * p.mu and 0.1 <= np.abs(p.minimiser).max() <= 1.0)

CLASSES = (
    "Classes of the empirical claims: least squares with κ ≤ 20 and 0.1 ≤ ‖w⋆‖∞ ≤ 1 from w₀ = 0 — "
    "most rules here move a coordinate by at most about η per update (sign steps exactly η, the "
    "Adam family about η, RAdam r_t·η with r_t ≤ 0.48 over the budget), so 500 updates cover at "
    "most about 500η (7.5 at the protocol's smallest η = 0.015, 2.5 for Lion and Signum), and the "
    "class holds instances with ‖w⋆‖∞ = 14.3 (d = 1, N = 3, σ = 1) that no such rule reaches; "
    "matrix factorisation with ‖M‖₂ = 1 and κ(M) = σ₁(M)/σ_r(M) ≤ 2 — a step of bounded size learns "
    "the last singular component of M late, after a number of steps of order ln(σ_r/u₀)/(ησ_r) for "
    "gradient descent (Saxe et al. 2014, u₀ the start's strength on that mode), unbounded as "
    "σ_r(M) → 0: on six factorisations with κ(M) from 2.3 to 9 that the thorough profile found, 30 "
    "of the rules missed the target at f = 0.5, plain GD among them")


def empirical_claims(name: str, cfg: dict, mutant: Rule | None = None, *,
                     ls_lr_per_L: float | None = None, nc_cfg: dict | None = None,
                     factor: tuple[float, float] = (0.5, 2.0), best: bool = False,
                     nc_tol: float | None = None, ls_extra: dict | None = None,
                     ls_best: bool = False, cost_scale: int = 1,
                     min_rank: int = 1, decayed: tuple[str, ...] = (),
                     ls_condition: str = "",
                     ls_if: Callable[[Any], bool] | None = None, nc_condition: str = "",
                     nc_if: Callable[[Any], bool] | None = None,
                     nc_steps: int = 500) -> tuple[Claim, Claim]:
    """``cfg`` is the non-convex protocol's configuration; ``nc_steps`` its factorisation budget K; ``ls_lr_per_L`` replaces its lr by that
    multiple of 1/L on least squares (SGD-type rules, whose step has units of 1/L); ``decayed``
    names the classes ("convex", "nonconvex") whose protocol cosine-decays η to 0 over the budget;
    ``ls_condition`` names the
    reason for a least-squares-only setting in ``ls_extra`` or hypothesis ``ls_if`` on the
    instance, ``nc_condition`` that of a hypothesis ``nc_if`` on a non-convex instance (see
    :data:`CONDITIONS`)."""
    ls_class = LS_KAPPA_20 if ls_if is None else LS_KAPPA_20.filter(ls_if)
    mutant = mutant or ascent(name)
    steps, tol = nc_steps, nc_tol or 1e-2
    nc_cfg = nc_cfg or cfg
    factor = st.floats(*factor)
    per_L = ls_lr_per_L is not None
    ls_cfg = {**cfg, **({"lr": ls_lr_per_L} if per_L else {}), **(ls_extra or {})}
    ls_decayed, nc_decayed = "convex" in decayed, "nonconvex" in decayed
    eta = ", η cosine-decayed to 0"
    when = (f"some step ≤ {steps}" if best else f"{steps} steps") + (eta if nc_decayed else "")
    ls_when = ("some step ≤ 500" if best or ls_best else "500 steps") + (eta if ls_decayed else "")
    ls_tol = nc_tol or 1e-2
    return (Claim("empirical", "convex", f"least squares (κ ≤ 20, ‖w*‖∞ ≤ 1), {ls_when}: ℓ − ℓ* ≤ {ls_tol:g}·(ℓ₀ − ℓ*)",
                  "conv-empirical",
                  st.tuples(ls_class, factor, st.just(ls_cfg), st.just(per_L), st.just(best or ls_best),
                            st.just(ls_tol), st.just(ls_decayed)),
                  empirical_convex_holds, rule(name), mutant,
                  lambda: (LeastSquares(np.eye(3), np.ones(3)), 1.0, ls_cfg, per_L, best or ls_best, ls_tol,
                           ls_decayed),
                  cost=2 * cost_scale,
                  condition=", ".join(c for c in (DECAYED if ls_decayed else "", ls_condition) if c)),
            Claim("empirical", "nonconvex",
                  f"matrix factorisation, {when}: ℓ ≤ {tol:g}·ℓ₀", "conv-empirical",
                  # precondition: the start is not already near a minimiser (ℓ₀ ≥ 10⁻² = ‖M‖₂²/100)
                  st.tuples(S.matrix_factorisations(), factor, st.just(nc_cfg), st.integers(0, 1000), st.just(steps),
                            st.just(tol), st.just(best), st.just(nc_decayed)).filter(
                      lambda i: float(i[0].value(start(i[0], i[3]))) >= 1e-2
                      and i[0].rank >= min_rank and factor_condition(i[0]) <= 2
                      and (nc_if is None or nc_if(i))),
                  empirical_nonconvex_holds, rule(name), mutant,
                  lambda: (mf_witness(), 1.0, nc_cfg, 0, steps, tol, best, nc_decayed),
                  cost=5 * cost_scale,
                  condition=", ".join(c for c in (DECAYED if nc_decayed else "",
                                                  RANK_2 if min_rank == 2 else "", nc_condition) if c)))


def centred_floor(prob: Any, x0: Any) -> float:
    """ℓ_c* = ½Σ_{i≥r} σᵢ(M − rμνᵀ)²: the least loss with the row means μ, ν of U, V fixed at x0's
    (gradient centralisation keeps them; see :data:`CONDITIONS`)."""
    r = prob.rank
    sv = np.linalg.svd(prob.M - r * np.outer(x0["U"].mean(axis=1), x0["V"].mean(axis=1)), compute_uv=False)
    return 0.5 * float(np.sum(sv[r - 1:] ** 2))


def centralised_nonconvex_holds(r: Rule, inst: Any) -> bool:
    """The non-convex protocol with ℓ* replaced by ℓ_c*: min_k ℓ(x_k) − ℓ_c* ≤ τ(ℓ(x_0) − ℓ_c*)
    (+ 64ε·ℓ₀, the rounding of the differences)."""
    prob, f, cfg, seed, steps, tol, _, decayed = inst
    x0 = start(prob, seed)
    floor, f0 = centred_floor(prob, x0), float(prob.value(x0))
    xs = trajectory(r, {**cfg, "lr": step_size(cfg["lr"] * f, decayed, steps)}, prob, x0, steps)[1:]
    return min(float(prob.value(x)) for x in xs) - floor <= tol * (f0 - floor) + 64 * EPS * f0


def _centralised_claims() -> tuple[Claim, Claim]:
    ls, nc = empirical_claims("centralize", {"lr": 0.03}, _scaled_lr("centralize", 0.0),
                              best=True, nc_tol=0.5, cost_scale=_WRAPPED, min_rank=2)
    return ls, replace(nc, statement="matrix factorisation, some step ≤ 500: ℓ − ℓ_c* ≤ 0.01·(ℓ₀ − ℓ_c*)",
                       instances=nc.instances.map(lambda i: i[:5] + (1e-2,) + i[6:]),
                       holds=centralised_nonconvex_holds,
                       witness=lambda: (_normalised_factorisation(3, 3, 2, 0), 1.0, {"lr": 0.03}, 0, 500, 1e-2,
                                        True, False))


# --------------------------------------------------------------------------------- the table

def _scaled_lr(name: str, factor: float) -> Rule:
    """The rule with its η (a float or a schedule t ↦ η_t) scaled by ``factor``."""
    spec = SPECS[name]

    def scaled(lr: Any) -> Any:
        return (lambda t: factor * lr(t)) if callable(lr) else factor * lr
    return Rule(lambda **kw: spec.factory(**{**kw, "lr": scaled(kw["lr"])}))


def _fixed_momentum(name: str, gamma: float) -> Rule:
    spec = SPECS[name]
    return Rule(lambda **kw: spec.factory(**{**kw, "momentum": gamma}))


def _noisy_ascent(**kw: Any) -> Any:
    lr = kw.pop("lr")
    return refopt.add_gradient_noise(refopt.sgd(lr=lr, maximize=True), **kw)


def _theorem(kind_conv, stmt, label, instances, holds, name, mutant, witness, cost=1):
    return Claim("theorem", kind_conv, stmt, label, instances, holds, rule(name), mutant, witness, cost)


_ADAGRAD_ASCENT = ascent("adagrad")
# Big Batch has no maximize switch: its mutant takes fixed steps 50× the configured lr
_BIGBATCH_LARGE_FIXED_STEP = Rule(lambda **kw: refopt.bigbatch(**{**kw, "step_rule": "fixed",
                                                                    "lr": 50 * kw["lr"]}))

_POLYAK_WRONG_SIGN = Rule(lambda **kw: SPECS["polyak_sgd"].factory(maximize=True, gap="positive", **kw))

_WRAPPED = 5   # cost multiplier of the issue-17 (B) wrapper and quasi-Newton claims

CLAIMS: dict[str, tuple[Claim, ...]] = {
    "sgd": (
        _theorem("convex", "PL (Karimi et al. 2016, Thm 1): ℓ_k − ℓ* ≤ (1 − μ/L)^k (ℓ_0 − ℓ*), "
                 "rank-deficient least squares", "conv-classic",
                 st.tuples(S.rank_deficient_least_squares(), st.integers(0, 1000)), pl_gd_holds, "sgd",
                 _scaled_lr("sgd", 2.2),
                 lambda: (LeastSquares(np.array([[1.0, 1.0], [2.0, 2.0], [1.0, 1.0]]), np.ones(3)), 0)),
        _theorem("nonconvex", "Nesterov 2004 §1.2.3: min_{k<T} ‖∇ℓ_k‖² ≤ 2L(ℓ_0 − ℓ_inf)/T, "
                 "cosine mixtures", "conv-classic",
                 st.tuples(S.nonconvex_problems(), st.integers(0, 1000)).map(
                     lambda t: (t[0], np.random.default_rng(t[1]).uniform(-2, 2, t[0].dim))),
                 nonconvex_gd_holds, "sgd", _scaled_lr("sgd", 2.5),
                 lambda: (CosineMixture([0.1], [[1.0]], 1.0), np.array([2.0]))),
        _theorem("nonconvex", "Ghadimi & Lan 2013 (constant step): E(1/N)Σ‖∇ℓ_k‖² ≤ "
                 "2(ℓ_0 − ℓ_inf)/(Nη(2 − Lη)) + Lησ²/(2 − Lη), stochastic cosine mixtures, 200 seeds, "
                 "Hoeffding margin at δ = 1e-6", "conv-classic",
                 st.tuples(S.nonconvex_problems(c=(0.0, 0.0)), st.integers(0, 1000), st.floats(0.01, 1.0)),
                 sgd_stochastic_nonconvex_holds, "sgd", _scaled_lr("sgd", 60.0),
                 lambda: (CosineMixture([1.0, 0.05], [[1.0], [3.0]]), 0, 0.05), cost=2),
    ) + exact_claims("sgd", one_step(taylor(1)), 2.0, "heun", RK_STMT % 1),
    "euler": exact_claims("euler", one_step(taylor(1)), 2.0, "heun", RK_STMT % 1),
    "heun": exact_claims("heun", one_step(taylor(2)), 2.0, "euler", RK_STMT % 2),
    "midpoint": exact_claims("midpoint", one_step(taylor(2)), 2.0, "rk4", RK_STMT % 2),
    "ralston": exact_claims("ralston", one_step(taylor(2)), 2.0, "euler", RK_STMT % 2),
    "rk4": exact_claims("rk4", one_step(taylor(4)), 2.785, "heun", RK_STMT % 4),
    "ab2": exact_claims("ab2", ab2, 1.0, "leapfrog", "AB2 recurrence ζ² − (1 − 3z/2)ζ − z/2"),
    "four_instant": exact_claims("four_instant", four_instant, 1.0, "ab2",
                                 "recurrence ζ³ − (3/2 − z)ζ² + ζ − 1/2"),
    "leapfrog": exact_claims("leapfrog", leapfrog, 1.0, "ab2",
                             "recurrence ζ² + 2zζ − 1 (a root outside the unit disc for every z > 0)"),
    "momentum": exact_claims("momentum", heavy_ball, 2.0, "nag_reparameterised",
                             "companion recurrence ζ² − (1 + β − z)ζ + β", MOMENTUM, {"momentum": 0.5}),
    "nag_reparameterised": exact_claims("nag_reparameterised", nesterov, 1.0, "momentum",
                                        "companion recurrence ζ² − (1 + γ)(1 − z)ζ + γ(1 − z)", MOMENTUM,
                                        {"momentum": 0.5}),
    "nag": exact_claims("nag", nesterov, 1.0, "momentum",
                        "companion recurrence ζ² − (1 + γ)(1 − z)ζ + γ(1 − z)", MOMENTUM,
                        {"momentum": 0.5}) + (
        _theorem("convex", "Nesterov 2004 Thm 2.2.3 (scheme III): ℓ_k − ℓ* ≤ (1 − √(μ/L))^k "
                 "(ℓ_0 − ℓ* + μ/2‖x_0 − x*‖²), quadratics and logistic regression", "conv-classic",
                 st.tuples(S.quadratics(min_dim=2, max_dim=4, kappa=(1.5, 100.0)) | S.logistic_problems(max_n=30),
                           st.integers(0, 1000)),
                 strongly_convex_nesterov_holds, "nag", _fixed_momentum("nag", 0.99),
                 lambda: (Quadratic([0.01, 1.0], seed=0), 0)),),
    "adagrad": (
        _theorem("convex", "Défossez et al. 2022 Thm 1: (1/N)Σ‖∇F(x_n)‖² ≤ 2R(F_0 − F_*)/(α√N) + "
                 "(4dR² + αdRL) ln(1 + NR²/ε)/√N, logistic regression", "conv-adaptive",
                 defossez_instances(S.logistic_problems(max_n=30, l2=(0.0, 0.0))), defossez_adagrad_holds,
                 "adagrad", _ADAGRAD_ASCENT, softplus_ascent_witness),
        _theorem("nonconvex", "Défossez et al. 2022 Thm 1 (as above), cosine mixtures with c = 0",
                 "conv-adaptive", defossez_instances(S.nonconvex_problems(c=(0.0, 0.0))),
                 defossez_adagrad_holds, "adagrad", _ADAGRAD_ASCENT, softplus_ascent_witness),
    ),
    # Adadelta need not converge: on stiff instances it settles into an oscillation with effective
    # step ≈ 2/L (the same in torch), so its claim is that it *reaches* the target within the budget;
    # on factorisation its slow start misses 10⁻² even in 2000 steps on some instances (hypothesis
    # found them), so its target is a halving. lr = 1 only (torch's default).
    "adadelta": empirical_claims("adadelta", {"lr": 1.0}, best=True, factor=(1.0, 1.0), nc_tol=0.5),
    # RMSprop (no bias correction, no momentum) and AGD keep oscillating at a constant lr: the
    # thorough profile found instances where the final iterate misses the target, so they claim
    # that it is reached
    # its steps become ±η per coordinate in an oscillation (Adafactor's mechanism,
    # test_constant_step_has_a_floor_sign_steps, test_constant_step_has_a_floor_rmsprop_least_squares):
    # η decays to 0 in both classes
    "rmsprop": empirical_claims("rmsprop", {"lr": 0.03}, best=True, decayed=("convex", "nonconvex")),
    "adam": empirical_claims("adam", {"lr": 0.03}),
    "adamax": empirical_claims("adamax", {"lr": 0.03}),
    # on a factorisation Nadam reached ℓ = 1.4e-29·ℓ₀ and then left the minimum (final 0.029·ℓ₀): its
    # step does not shrink with a vanishing gradient at a constant η, so η decays there
    # on least squares its v̂ decays after convergence until w⋆ is unstable
    # (test_nadam_leaves_a_least_squares_minimum_as_v_decays): η decays there too
    "nadam": empirical_claims("nadam", {"lr": 0.03}, decayed=("convex", "nonconvex")),
    "amsgrad": empirical_claims("amsgrad", {"lr": 0.03}),
    # issue 16 (A): the Adam family's protocol; sign-based rules move every coordinate by η at
    # every step, so at a constant η they oscillate around the minimiser: "reached" criterion
    # its rectifier r_t ≤ 0.48 over the budget (Σ r_t = 160 for t ≤ 500): its steps are shorter than
    # Adam's at the same η, so its base is 0.03·500/160 ≈ 0.1 (test_radam_rectifier_shortens_its_steps)
    "radam": empirical_claims("radam", {"lr": 0.1}),
    "adabelief": empirical_claims("adabelief", {"lr": 0.03}),
    "yogi": empirical_claims("yogi", {"lr": 0.03}),
    "sparse_adam": empirical_claims("sparse_adam", {"lr": 0.03}),
    # a sign step moves every coordinate by exactly η, so on factorisations (where a start can lie
    # close to the minimum) η decays to 0, from a base of 0.03: the decayed steps then cover
    # Σ η_t = 0.03·f·250 per coordinate, more than the distance to a minimiser (at 0.01, 1.25 at
    # f = 0.5 did not suffice: test_decayed_sign_steps_cover_at_most_the_sum_of_steps)
    # its factorisation budget is 2000: the slow momentum (β₂ = 0.99) unbalances the factors and slows
    # the last mode (test_lion_slow_momentum_unbalances_the_factors)
    "lion": empirical_claims("lion", {"lr": 0.01}, best=True, decayed=("nonconvex",), nc_cfg={"lr": 0.03},
                             nc_steps=2000, nc_condition=LION_K),
    "signum": empirical_claims("signum", {"lr": 0.01}, best=True, decayed=("nonconvex",),
                               nc_cfg={"lr": 0.03}),
    "agd": empirical_claims("agd", {"lr": 0.03}, best=True),
    # issue 16 (B): the same protocols; sign-based and momentum-mixing rules claim "reached"
    "rprop": empirical_claims("rprop", {"lr": 0.01}, best=True),
    "ademamix": empirical_claims("ademamix", {"lr": 0.03}, best=True),
    # its step is (α+β)ηg_t − βηg_{t−1} = 2ηg_t − ηg_{t−1}: half of SGD's 1/L scale
    "optimistic_gd": empirical_claims("optimistic_gd", {"lr": 0.1}, ls_lr_per_L=0.25),
    "optimistic_adam": empirical_claims("optimistic_adam", {"lr": 0.03}, best=True),
    # optimistic GD and ASGD step like GD (their thorough counterexamples led to κ(M) ≤ 2: CLASSES)
    "asgd": empirical_claims("asgd", {"lr": 0.1}, ls_lr_per_L=0.5),
    "adan": empirical_claims("adan", {"lr": 0.03}, best=True),
    # its per-layer step g/√v does not vanish with the gradient (v lags): η decays on
    # factorisations (test_constant_step_stalls_novograd)
    "novograd": empirical_claims("novograd", {"lr": 0.03}, best=True, decayed=("nonconvex",)),
    # β > 0 sets a gradient scale below which FTRL is gradient descent with step ≈ α/β; the
    # least-squares class has no fixed scale, so its claim takes β = 0 (FTRL_B0,
    # test_ftrl_with_beta_is_slow_gradient_descent_on_a_flat_instance)
    "ftrl": empirical_claims("ftrl", {"lr": 0.5}, best=True, ls_extra={"beta": 0.0}, ls_condition=FTRL_B0),
    # ℓ* is not known to the rule (f_min = 0 < ℓ* on non-realisable least squares), so the step
    # is capped at η·max_lr ≤ 1/L there; with maximize=True the signed gap flips with the loss and
    # the rule still descends, so the wrong variant is a loss of the wrong sign under gap="positive"
    "polyak_sgd": empirical_claims("polyak_sgd", {"lr": 1.0}, _POLYAK_WRONG_SIGN, ls_lr_per_L=0.5,
                                   best=True),
    # issue 17 (A): least squares has one vector parameter (one layer; Muon's fallback, Adam,
    # updates it); factorisation has two matrices U, V (Muon's orthogonalised step)
    # a trust-ratio step has length η‖θ‖ per layer, bounded below near a minimum θ* ≠ 0: η decays on
    # factorisations (thorough profile: best 0.010·ℓ₀ at f = 1.83 constant, 1.4e-8 decayed); a
    # rank-1 start anti-aligned with M shrinks both layers on its way, and the decayed tail cannot
    # grow them back (test_lamb_anti_aligned_rank_1_start_shrinks_both_layers)
    "lamb": empirical_claims("lamb", {"lr": 0.03}, best=True, decayed=("nonconvex",),
                             nc_if=aligned_or_rank_2, nc_condition=ALIGNED),
    "lars": empirical_claims("lars", {"lr": 1.0, "trust_coefficient": 0.01}, best=True),
    # the paper's relative step α = max(ε2, RMS(θ))·ρ is 10⁻⁵ at θ = 0: from the protocol's start
    # it misses the convex target, so the claims are for the absolute step (page says so). At a
    # constant η its steps tend to ±η per coordinate (a sign step), with a 2-cycle w* ± (η/2)s whose
    # loss (η²/8)sᵀHs can exceed the target: η decays to 0 (test_constant_step_has_a_floor_adafactor)
    "adafactor": empirical_claims("adafactor", {"lr": 0.03, "relative_step": False,
                                                "parameter_scale": False}, decayed=("convex", "nonconvex")),
    # on a rank-1 factor every orthogonalised step has length η√m·p⁵(1) whatever the gradient, so
    # at a constant η the loss stalls (test_constant_step_has_a_floor_muon): η decays to 0 there.
    # Least squares (one vector) is Adam's claim: the fallback adam(lr) updates it
    "muon": empirical_claims("muon", {"lr": 0.03}, decayed=("nonconvex",)),
    "sm3": empirical_claims("sm3", {"lr": 0.3}, best=True),
    # issue 17 (B): wrappers around a fixed inner rule, schedule-free, SAM, L-BFGS, Prodigy /
    # D-Adaptation, all with the "reached" criterion. The registry's wrapper adapters take no
    # ``maximize``: their wrong variant is the update never applied (lr = 0). Each run costs
    # several plain-rule runs (tree wrappers, inner states), so CI draws fewer instances of them.
    "clip_by_value": empirical_claims("clip_by_value", {"lr": 0.03, "max_delta": 0.5},
                                      _scaled_lr("clip_by_value", 0.0), best=True, cost_scale=_WRAPPED),
    "clip_by_global_norm": empirical_claims("clip_by_global_norm", {"lr": 0.05, "max_norm": 1.0},
                                            _scaled_lr("clip_by_global_norm", 0.0),
                                            ls_lr_per_L=0.5, best=True, cost_scale=_WRAPPED),
    # a unit's norm grows by at most 1 + ηλ per update: λ = 1 in both protocols (CONDITIONS,
    # test_adaptive_clipping_from_small_layers_grows_geometrically)
    "adaptive_grad_clip": empirical_claims("adaptive_grad_clip", {"lr": 0.1, "clipping": 1.0},
                                           _scaled_lr("adaptive_grad_clip", 0.0),
                                           ls_lr_per_L=0.5, best=True, cost_scale=_WRAPPED,
                                           ls_condition=AGC_1, nc_condition=AGC_1),
    # centralisation subtracts each row's mean from a matrix gradient: a rank-1 factor (one
    # column) gets a zero gradient and never moves, and at rank ≥ 2 every row keeps its initial
    # mean, so the least reachable loss is ℓ_c* (centred_floor): the claim (rank ≥ 2) is relative to it
    "centralize": _centralised_claims(),
    "masked_weight_decay": empirical_claims("masked_weight_decay", {"lr": 0.03, "weight_decay": 1e-3},
                                            _scaled_lr("masked_weight_decay", 0.0), best=True, cost_scale=_WRAPPED),
    "average_params": empirical_claims("average_params", {"lr": 0.05, "decay": 0.9},
                                       _scaled_lr("average_params", 0.0), ls_lr_per_L=0.5,
                                       best=True, cost_scale=_WRAPPED),
    "lookahead": empirical_claims("lookahead", {"lr": 0.03}, _scaled_lr("lookahead", 0.0), best=True, cost_scale=_WRAPPED),
    "schedule_free": empirical_claims("schedule_free", {"lr": 0.03}, _scaled_lr("schedule_free", 0.0),
                                      best=True, cost_scale=_WRAPPED),
    # gradients at y = βx + (1 − β)z, x the uniform average of z: a negative-curvature mode grows
    # ever slower (toward (1 − β)ησ per update), so saddle passages take longer (SF_K,
    # test_schedule_free_grows_a_negative_curvature_mode_slower)
    "schedule_free_sgd": empirical_claims("schedule_free_sgd", {"lr": 0.1}, ls_lr_per_L=0.5,
                                          best=True, cost_scale=_WRAPPED, nc_steps=5000,
                                          nc_condition=SF_K),
    "schedule_free_adamw": empirical_claims("schedule_free_adamw", {"lr": 0.03}, best=True, cost_scale=_WRAPPED),
    # the gradient SAM hands its inner rule has norm ≥ ρμ on least squares, so its least-squares η
    # decays (test_constant_step_has_a_floor_sam)
    "sam": empirical_claims("sam", {"lr": 0.05, "rho": 0.05}, _scaled_lr("sam", 0.0),
                            ls_lr_per_L=0.5, best=True, cost_scale=_WRAPPED, decayed=("convex",)),
    # on factorisations its fixed step takes the cautious curvature test (test_cautious_lbfgs_...)
    "lbfgs": empirical_claims("lbfgs", {"lr": 0.5}, _scaled_lr("lbfgs", 0.0), best=True, cost_scale=_WRAPPED,
                              nc_cfg={"lr": 0.5, "min_curvature_ratio": 0.1}, nc_condition=CAUTIOUS),
    "lbfgs_wolfe": empirical_claims("lbfgs_wolfe", {"lr": 1.0}, _scaled_lr("lbfgs_wolfe", 0.0), best=True,
                                    cost_scale=_WRAPPED),
    "prodigy": empirical_claims("prodigy", {"lr": 1.0}, best=True, cost_scale=_WRAPPED),
    "dadapt_adamw": empirical_claims("dadapt_adamw", {"lr": 1.0}, best=True, cost_scale=_WRAPPED),
    # a step of η‖θ‖ does not move θ = 0: the norm floor min_norm starts it; below the floor the
    # step is slow gradient descent, so least squares asks the floor under μ‖w*‖ (CONDITIONS)
    "fromage": empirical_claims("fromage", {"lr": 0.03, "min_norm": FROMAGE_FLOOR}, best=True,
                                ls_if=above_the_floor, ls_condition=FLOOR),
    "rsgd": empirical_claims("rsgd", {"lr": 0.1, "gamma": 0.999, "seed": 1}, ls_lr_per_L=0.5),
    "gradient_noise": empirical_claims("gradient_noise", {"lr": 0.1, "eta": 0.01, "seed": 0},
                                       Rule(_noisy_ascent), ls_lr_per_L=0.5,
                                       # with steps up to 1/L, noise of variance 0.01 swamps flat
                                       # instances (L ≈ 0.15, hypothesis found one): 1e-4 there
                                       ls_extra={"eta": 1e-4}, ls_best=True,
                                       # and on factorisations, whose start may lie close to the
                                       # minimum (ℓ₀ = 0.0125 found): the noise floor ∝ η·σ²
                                       nc_cfg={"lr": 0.1, "eta": 1e-4, "seed": 0}),
    # Big Batch needs a finite sum: its non-convex claim is on the teacher–student class, where
    # plateaus and weak teacher units make some draws slow (BB_RATE): a miss rate, not every draw
    "bigbatch": (empirical_claims("bigbatch", {"lr": 0.1, "batch_size": 2}, _BIGBATCH_LARGE_FIXED_STEP,
                                  ls_lr_per_L=0.5)[0],
                 Claim("empirical", "nonconvex",
                       f"teacher–student MLP, Armijo steps, some iteration ≤ {BB_BUDGET}: ℓ ≤ 10⁻¹ℓ₀ on "
                       f"all but ≤ {binomial_allowance(BB_DRAWS, BB_MISS_RATE, BB_ALPHA)} of {BB_DRAWS} "
                       f"random draws", "conv-empirical",
                       st.tuples(st.integers(0, 2 ** 32 - 1), st.just(1.0)), bigbatch_class_rate_holds,
                       rule("bigbatch"), _BIGBATCH_LARGE_FIXED_STEP, lambda: (0, 1.0), cost=12,
                       condition=BB_RATE)),
}

ALL = [(name, i, c) for name, cs in CLAIMS.items() for i, c in enumerate(cs)]
IDS = [f"{name}-{c.convexity}-{c.kind}-{i}" for name, i, c in ALL]


def test_every_rule_has_a_convex_and_a_nonconvex_claim():
    missing = sorted(f"{name} ({cls})" for name in SPECS for cls in ("convex", "nonconvex")
                     if not any(c.convexity == cls for c in CLAIMS.get(name, ())))
    assert not missing, "registry rules without a convergence claim in CLAIMS: " + ", ".join(missing)
    assert not set(CLAIMS) - set(SPECS), "CLAIMS names rules the registry does not have"


@pytest.mark.parametrize(("name", "i", "claim"), ALL, ids=IDS)
def test_claim_holds(name, i, claim):
    n = max(2, settings.default.max_examples // claim.cost)
    tried = []

    # the classes are filters (rank ≥ 2 and κ(M) ≤ 2 keep few factorisations): the count printed
    # below says how many instances ran
    @settings(max_examples=n, deadline=None,
              suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.filter_too_much])
    @given(inst=claim.instances)
    def run(inst):
        tried.append(1)
        assert claim.holds(claim.rule, inst), f"{name}: {claim.statement}"
    run()
    print(f"{name} ({claim.convexity}): {len(tried)} instances of {n} asked")   # shown by pytest -rP


_MUTANT_CACHE: dict = {}


@pytest.mark.parametrize(("name", "i", "claim"), ALL, ids=IDS)
def test_mutant_violates_claim(name, i, claim):
    """The wrong variant breaks the claim on the witness (mutants sharing a witness run once)."""
    key = (claim.holds, claim.mutant, claim.witness)
    if key not in _MUTANT_CACHE:
        _MUTANT_CACHE[key] = claim.holds(claim.mutant, claim.witness())
    assert not _MUTANT_CACHE[key]
    if claim.kind == "exact":   # and the rule itself satisfies it on the same witness
        assert claim.holds(claim.rule, claim.witness())


def _normalised_factorisation(m: int, n: int, rank: int, seed: int) -> Any:
    """An instance of :func:`refopt.testing.strategies.matrix_factorisations` (‖M‖₂ = 1)."""
    from refopt.problems import MatrixFactorisation
    prob = MatrixFactorisation(m, n, rank, seed=seed)
    prob.M = prob.M / float(np.linalg.norm(prob.M, 2))
    return prob


def test_constant_step_has_a_floor_muon():
    """Why Muon's claims decay η: on an m×1 factor (rank-1 factorisation) the Newton–Schulz input
    X_0 = M/(‖M‖_F + ε) has its one singular value σ_0 ≈ 1, so every step has length
    η·√m·p⁵(σ_0), p(σ) = aσ + bσ³ + cσ⁵, whatever the gradient: at a constant η the iterates cannot
    settle and the loss stalls above the target. On the thorough profile's counterexample (4×3, rank
    1, start seed 4, f = 0.61) the constant-η rule violates the target; the claim as stated
    (η cosine-decayed to 0) holds there."""
    from refopt.optim.muon import JORDAN_COEFFICIENTS
    prob, eta = _normalised_factorisation(4, 3, 1, 4), 0.03 * 0.61
    a, b, c = JORDAN_COEFFICIENTS
    sigma = 1.0
    for _ in range(5):
        sigma = a * sigma + b * sigma ** 3 + c * sigma ** 5
    xs = trajectory(rule("muon"), {"lr": eta}, prob, prob.random_point(4, 0.5), 500)
    for leaf, rows in (("U", 4), ("V", 3)):
        lengths = np.array([np.linalg.norm(y[leaf] - x[leaf]) for x, y in zip(xs, xs[1:])])
        # σ_0 = ‖M‖/(‖M‖ + ε) with ε = 1e-7 and ‖M‖ ≳ 1e-2 here: p⁵ moves by ≲ 1e-5 relative
        assert np.allclose(lengths, eta * math.sqrt(rows) * sigma, rtol=1e-4, atol=0.0)
    inst = (prob, 0.61, {"lr": 0.03}, 4, 500, 1e-2)
    assert not empirical_nonconvex_holds(rule("muon"), inst + (True, False))   # constant η, reached
    assert empirical_nonconvex_holds(rule("muon"), inst + (False, True))       # the claim (final)


def test_constant_step_has_a_floor_adafactor():
    """Why Adafactor's claims decay η: in a 2-cycle with |g_i| fixed its second moment tends to g²
    whatever β̂_t, so Û = g/√(g² + ε1) = ±1 per coordinate and each coordinate moves by η: the
    sign step. If sign(Hs) = s for a sign vector s, w* ± (η/2)s is such a cycle, with
    ℓ − ℓ* = (η²/8) sᵀHs on both points, above the relative target on the thorough profile's
    least-squares counterexample (found drawing the convex class: d = 4, N = 16); the claim as
    stated (η cosine-decayed to 0) holds there."""
    rng = np.random.default_rng(416)
    X = rng.standard_normal((16, 4))
    prob = LeastSquares(X, X @ rng.uniform(-1, 1, 4) + 0.043066888568204176 * rng.standard_normal(16))
    f, cfg = 1.7340594202722528, {"lr": 0.03, "relative_step": False, "parameter_scale": False}
    eta = 0.03 * f
    xs = trajectory(rule("adafactor"), {**cfg, "lr": eta}, prob, np.zeros(4), 500)
    e = xs[-1] - prob.minimiser
    s = np.sign(e)
    assert np.array_equal(np.sign(prob.H @ s), s)   # w* ± (η/2)s is a 2-cycle of the sign step
    # the cycle is approached geometrically: measured 1e-4 relative at t = 500
    assert np.allclose(np.abs(e), eta / 2, rtol=1e-3, atol=0.0)
    floor = eta ** 2 / 8 * float(s @ prob.H @ s)
    gap0 = float(prob.value(np.zeros(4))) - prob.min_value
    assert math.isclose(float(prob.value(xs[-1])) - prob.min_value, floor, rel_tol=1e-3)
    assert floor > 1e-2 * gap0
    assert not empirical_convex_holds(rule("adafactor"), (prob, f, cfg, False, True, 1e-2, False))  # constant η
    assert empirical_convex_holds(rule("adafactor"), (prob, f, cfg, False, False, 1e-2, True))  # the claim


def _flat(x: Any) -> np.ndarray:
    return np.concatenate([x["U"].ravel(), x["V"].ravel()])


@pytest.mark.parametrize(("name", "shape", "rank", "seed", "f", "start_seed"),
                         [("signum", (3, 4), 1, 4, 2.0, 4), ("lion", (2, 3), 2, 0, 2.0, 424),
                          ("rmsprop", (2, 4), 2, 2, 2.0, 250)])
def test_constant_step_has_a_floor_sign_steps(name, shape, rank, seed, f, start_seed):
    """Why the factorisation claims of Signum, Lion and RMSprop decay η: the thorough profile's
    counterexamples (base lr 0.01, 0.01, 0.03; f = 2). Signum and Lion move every coordinate by exactly η
    at every update (a sign step), RMSprop by ≈ η once it oscillates (its v tracks g², Adafactor's
    argument: the median |Δθᵢ|/η of its last 100 updates measured 0.95); the constant-η rule misses
    the target there; with η decayed from the claims' base (0.03 for all three) each meets it. (Lion's
    and RMSprop's instances have κ(M) = 8 and 9, outside the class now; Signum's is rank 1.)"""
    prob = _normalised_factorisation(*shape, rank, seed)
    base = {"signum": 0.01, "lion": 0.01, "rmsprop": 0.03}[name]
    eta = base * f
    xs = trajectory(rule(name), {"lr": eta}, prob, start(prob, start_seed), 500)
    moves = np.array([np.abs(_flat(y) - _flat(x)) for x, y in zip(xs, xs[1:])]) / eta
    if name == "rmsprop":
        assert np.median(moves[-100:]) > 0.9    # measured 0.954
    else:   # |sign| = 1 per coordinate, 1e-12: rounding of θ − ηs at |θ| ≲ 2
        assert np.allclose(moves, 1.0, rtol=0.0, atol=1e-12)
    inst = (prob, f, {"lr": base}, start_seed, 500, 1e-2, True)
    assert not empirical_nonconvex_holds(rule(name), inst + (False,))                 # constant η
    assert empirical_nonconvex_holds(rule(name), (prob, f, {"lr": 0.03}) + inst[3:] + (True,))  # the claim


def test_radam_rectifier_shortens_its_steps():
    """Why RAdam's protocol takes the base 0.1: its step is Adam's times the rectifier
    r_t = √((ρ_t − 4)(ρ_t − 2)ρ_∞/((ρ_∞ − 4)(ρ_∞ − 2)ρ_t)), ρ_t = ρ_∞ − 2tβ2^t/(1 − β2^t),
    ρ_∞ = 2/(1 − β2) − 1 (Liu et al. 2020), which for β2 = 0.999 stays below 0.48 over the budget:
    Σ_{t≤500} r_t = 160 against Adam's 500, so the base that gives RAdam Adam's total step is
    0.03·500/160 ≈ 0.1. On the thorough profile's counterexample (least squares d = 3, N = 5, seed
    2501, σ = 0, ‖w*‖∞ = 0.92, f = 0.5) RAdam misses the target at the base 0.03 and meets it at 0.1."""
    beta2 = 0.999
    rho_inf = 2 / (1 - beta2) - 1
    t = np.arange(1, 501)
    rho = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
    on = rho > 5   # refopt's threshold (the paper's 4 gives the same sum to 0.1 %)
    r = np.sqrt((rho[on] - 4) * (rho[on] - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho[on]))
    assert r.max() < 0.48 and 155 < r.sum() < 165
    prob = _seeded_least_squares(3, 5, 2501, 0.0)
    assert 0.9 < np.abs(prob.minimiser).max() <= 1.0
    assert not empirical_convex_holds(rule("radam"), (prob, 0.5, {"lr": 0.03}, False, False, 1e-2, False))
    assert empirical_convex_holds(rule("radam"), (prob, 0.5, {"lr": 0.1}, False, False, 1e-2, False))


@pytest.mark.parametrize(("name", "shape", "seed", "f", "start_seed", "best"),
                         [("nadam", (4, 3), 2, 1.1875, 2, False), ("lamb", (2, 4), 344, 1.828125, 344, True)])
def test_constant_step_does_not_settle_nadam_lamb(name, shape, seed, f, start_seed, best):
    """Why the factorisation claims of Nadam and LAMB decay η (thorough profile's counterexamples,
    rank 2, κ(M) = 1.71 and 1.37, inside the class). LAMB's trust-ratio step has length η‖θ‖ per
    layer, bounded below near a minimiser θ* ≠ 0 (conv-emp-floor): its best ratio is 0.0100 > 10⁻².
    Nadam reaches ℓ ≈ 10⁻²⁹ℓ₀ and then leaves the minimum (final ratio 0.029): at a constant η its
    step does not shrink with the vanishing gradient (m̂ and √v̂ shrink together). With η decayed
    both meet the target (final 4e-33, best 1.4e-8)."""
    prob = _normalised_factorisation(*shape, 2, seed)
    assert factor_condition(prob) <= 2
    xs = trajectory(rule(name), {"lr": 0.03 * f}, prob, start(prob, start_seed), 500)
    if name == "lamb":   # ‖Δθ‖ = η‖θ‖ per layer; 1e-9: rounding of the norms and the trust ratio
        for leaf in ("U", "V"):
            assert all(math.isclose(np.linalg.norm(y[leaf] - x[leaf]), 0.03 * f * np.linalg.norm(x[leaf]),
                                    rel_tol=1e-9) for x, y in zip(xs, xs[1:]))
    else:
        assert min(float(prob.value(x)) for x in xs) < 1e-20 * float(prob.value(xs[0]))
    inst = (prob, f, {"lr": 0.03}, start_seed, 500, 1e-2, best)
    assert not empirical_nonconvex_holds(rule(name), inst + (False,))   # constant η
    assert empirical_nonconvex_holds(rule(name), inst + (True,))        # η decayed: the claim


class _FixedStart:
    """A factorisation whose protocol start (:func:`start`) is the given point, whatever the seed."""

    def __init__(self, prob: Any, x0: Any) -> None:
        self._prob, self._x0 = prob, x0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._prob, name)

    def random_point(self, seed: int, scale: float = 1.0) -> Any:
        return self._x0


def test_lamb_anti_aligned_rank_1_start_shrinks_both_layers():
    """Why LAMB's factorisation claim asks r ≥ 2 or ⟨U₀V₀ᵀ, M⟩ ≥ 0: the second thorough run's
    counterexample (3×2, rank 1, seed 591, start seed 2, f = 0.5; M = abᵀ, ‖M‖₂ = 1). The start's
    product points away from M, so aᵀu must change sign (it crosses 0 near update 140). LAMB's step
    has length η_t‖θ‖ per layer, so on the way both layers shrink (‖U‖ 0.346 → 0.118, ‖V‖
    1.517 → 0.241), and each can grow back by at most the factor 1 + η_t per update: the decayed
    run ends at 0.216ℓ₀ with ‖U‖‖V‖ = 0.36 < σ₁(M). The same instance with U₀'s sign flipped —
    the same norms, the product aligned with M — meets the target (best 4e-11ℓ₀)."""
    prob = _normalised_factorisation(3, 2, 1, 591)
    x0, f = start(prob, 2), 0.5
    u_svd, _, vt_svd = np.linalg.svd(prob.M)
    a, b = u_svd[:, 0], vt_svd[0]
    assert float(np.sum((x0["U"] @ x0["V"].T) * prob.M)) < 0                       # −0.507
    eta = refopt.cosine_decay(0.03 * f, 500)
    xs = trajectory(rule("lamb"), {"lr": eta}, prob, x0, 500)
    s = np.array([float(a @ x["U"][:, 0]) * float(b @ x["V"][:, 0]) for x in xs])
    assert s[0] < 0 < s[-1]                                                        # the crossing
    norms = {leaf: np.array([np.linalg.norm(x[leaf]) for x in xs]) for leaf in ("U", "V")}
    assert norms["U"].min() < 0.35 * norms["U"][0] and norms["V"].min() < 0.16 * norms["V"][0]
    for leaf in ("U", "V"):   # ‖θ_{t+1}‖ ≤ (1 + η_t)‖θ_t‖; 1e-9: rounding of the norms and the trust ratio
        assert all(n1 <= (1 + eta(t)) * n0 * (1 + 1e-9)
                   for t, (n0, n1) in enumerate(zip(norms[leaf], norms[leaf][1:]), start=1))
    assert norms["U"][-1] * norms["V"][-1] < 0.4                                   # 0.36 < σ₁(M) = 1
    inst = (prob, f, {"lr": 0.03}, 2, 500, 1e-2, True, True)
    assert not empirical_nonconvex_holds(rule("lamb"), inst)                       # best 0.216ℓ₀
    assert not aligned_or_rank_2(inst)                                             # outside the claim
    flipped = _FixedStart(prob, {"U": -x0["U"], "V": x0["V"]})
    assert aligned_or_rank_2((flipped, f, {"lr": 0.03}, 2))
    assert empirical_nonconvex_holds(rule("lamb"), (flipped,) + inst[1:])         # best 4e-11ℓ₀


def test_lion_slow_momentum_unbalances_the_factors():
    """Why Lion's factorisation budget is K = 2000: the fourth thorough run's counterexample (3×4,
    rank 2, seed 2, κ(M) = 1.98, start seed 170, f = 1). Gradient flow keeps UᵀU − VᵀV constant;
    Lion's steps follow sign(β₁m + (1−β₁)g) with m averaged at β₂ = 0.99, so where a layer's
    gradient is small (V's is RᵀU) the step keeps the sign of a momentum ~100 updates old. Here the
    imbalance grows from 0.77 to 180 (‖V‖_F 1.7 → 14.9 while ‖U‖_F shrinks from 1.9 to 0.13) and the best loss in
    500 decayed updates is 0.031ℓ₀. Changing only β₂ to β₁ = 0.9 (Signum, lem-lion-signum) keeps the
    imbalance at most 4.3 and reaches 8e-9ℓ₀; Lion itself, over K = 2000 decayed updates, reaches
    2e-12ℓ₀. The rate on the slow mode once the factors are unbalanced is measured, not derived."""
    prob = _normalised_factorisation(3, 4, 2, 2)
    assert 1.9 < factor_condition(prob) < 2
    x0 = start(prob, 170)
    eta = refopt.cosine_decay(0.03, 500)
    lion_xs = trajectory(rule("lion"), {"lr": eta}, prob, x0, 500)
    equal_xs = trajectory(rule("lion"), {"lr": eta, "beta2": 0.9}, prob, x0, 500)
    assert 0.7 < imbalance(x0) < 0.8                                             # 0.765
    assert imbalance(lion_xs[-1]) > 100                                          # 180
    assert np.linalg.norm(lion_xs[-1]["V"]) > 10 and np.linalg.norm(lion_xs[-1]["U"]) < 0.2
    assert max(imbalance(x) for x in equal_xs) < 5                               # 4.27
    inst = (prob, 1.0, {"lr": 0.03}, 170, 500, 1e-2, True, True)
    assert not empirical_nonconvex_holds(rule("lion"), inst)                      # best 0.031ℓ₀
    assert min(float(prob.value(x)) for x in equal_xs[1:]) < 1e-7 * float(prob.value(x0))
    assert empirical_nonconvex_holds(rule("lion"), inst[:4] + (2000,) + inst[5:])  # best 2e-12ℓ₀


def test_schedule_free_grows_a_negative_curvature_mode_slower():
    """Along a direction of curvature −σ (gradient −σθ), schedule-free SGD's y grows by 1 + δ_t per
    update with δ_t > (1 − β)ησ (proved: conv-emp-sf-saddle) and, measured, δ_t ≤ δ̄_t, δ̄_t the root of
    δ² − (1 − β)ησδ − βησ/t = 0 (the heuristic x/z ≈ 1/(tδ)): slower than gradient descent's ησ,
    which β = 0 (y = z) recovers exactly."""
    eta, beta, sigma = 0.05, 0.9, 1.0
    a = eta * sigma
    for b1 in (0.0, beta):
        opt = refopt.schedule_free_sgd(lr=eta, b1=b1)
        p = np.array([1.0])
        state, growth = opt.init(p), {}
        for t in range(1, 4001):
            q, state = opt.update(-sigma * p, state, p)
            growth[t], p = float(q[0] / p[0]) - 1.0, q
        if b1 == 0.0:
            assert max(abs(g - a) for g in growth.values()) <= 1e-12
            continue
        for t, g in growth.items():
            root = ((1 - beta) * a + np.sqrt(((1 - beta) * a) ** 2 + 4 * beta * a / t)) / 2
            assert (1 - beta) * a < g <= root, (t, g, root)


def test_schedule_free_sgd_passes_a_saddle_later_than_gd():
    """The ninth thorough run's counterexample (SF_K): from a start nearly orthogonal to M, GD and
    schedule-free SGD with β = 0 (the same iterates) meet the target at update 346; with β = 0.9 it
    is still at 0.59ℓ₀ after 500 updates and meets the target at update 886, inside K = 5000."""
    prob = _normalised_factorisation(2, 2, 1, 181)
    x0 = prob.random_point(77, 0.5)
    f0 = float(prob.value(x0))

    def first_hit(opt: Any, steps: int) -> tuple[int | None, list]:
        xs = trajectory(Rule(lambda **_: opt), {}, prob, x0, steps)[1:]
        ratios = [float(prob.value(x)) / f0 for x in xs]
        return next((k + 1 for k, r in enumerate(ratios) if r <= 1e-2), None), xs

    assert abs(float(np.sum((x0["U"] @ x0["V"].T) * prob.M))) < 0.01
    gd_hit, gd = first_hit(refopt.sgd(lr=0.05), 500)
    flat_hit, flat = first_hit(refopt.schedule_free_sgd(lr=0.05, b1=0.0), 500)
    assert gd_hit == flat_hit == 346
    assert all(np.allclose(_flat(u), _flat(v), rtol=1e-10, atol=1e-13) for u, v in zip(gd, flat))
    sf_hit, sf = first_hit(refopt.schedule_free_sgd(lr=0.05), 1000)
    assert min(float(prob.value(x)) / f0 for x in sf[:500]) > 0.5
    assert sf_hit == 886
    claim = CLAIMS["schedule_free_sgd"][1]   # and the restated claim holds there
    assert claim.holds(claim.rule, (prob, 0.5, {"lr": 0.1}, 77, 5000, 1e-2, True, False))


def _hessian_eigenvalues(prob: Any, x: Any, h: float = 1e-5) -> np.ndarray:
    """Eigenvalues of the Hessian at a pytree point, by central differences of the exact gradient."""
    from refopt import tree
    leaves, treedef = tree.flatten(x)
    sizes = [leaf.size for leaf in leaves]
    point = np.concatenate([leaf.ravel() for leaf in leaves])

    def grad(v: np.ndarray) -> np.ndarray:
        parts = np.split(v, np.cumsum(sizes)[:-1])
        at = tree.unflatten(treedef, [p.reshape(leaf.shape) for p, leaf in zip(parts, leaves)])
        return np.concatenate([g.ravel() for g in tree.flatten(prob.grad(at))[0]])

    cols = [(grad(point + h * e) - grad(point - h * e)) / (2 * h) for e in np.eye(point.size)]
    H = np.array(cols).T
    return np.linalg.eigvalsh((H + H.T) / 2)


def test_ftrl_with_beta_is_slow_gradient_descent_on_a_flat_instance():
    """FTRL_B0 on the eleventh thorough run's instance (d = 1, N = 3, seed 686, σ = 0, α = 0.25): with
    β = 1 every update is θ_t = θ_{t−1} − αg_t/(β + √n_t), so the gap stays above (1 − αμ)^{2t} of the
    first (0.015 at t = 500) and misses 10⁻²; with β = 0 the same instance is solved."""
    prob = _seeded_least_squares(1, 3, 686, 0.0)
    alpha, mu = 0.25, prob.mu
    assert mu < 0.017
    for beta in (1.0, 0.0):
        opt = refopt.ftrl(lr=alpha, beta=beta)
        x = np.zeros(1)
        state, n, gaps = opt.init(x), 0.0, []
        gap0 = float(prob.value(x)) - prob.min_value
        for _ in range(500):
            g = prob.grad(x)
            n += float(g[0] ** 2)
            new, state = step_on(opt, prob, x, state)
            assert np.allclose(new, x - alpha * g / (beta + np.sqrt(n)), rtol=1e-12, atol=1e-15)
            x = new
            gaps.append((float(prob.value(x)) - prob.min_value) / gap0)
        if beta == 1.0:
            assert min(gaps) >= (1 - alpha * mu) ** 1000 > 1e-2   # measured 0.026 ≥ 0.015
        else:
            assert min(gaps) < 1e-20


def test_binomial_allowance_is_the_least_k_at_the_false_failure_level():
    """Against exact binomial tails in rational arithmetic: P(Bin(30, 1/50) > 3) = 2.9·10⁻³ > 10⁻³
    ≥ P(Bin(30, 1/50) > 4) = 3.0·10⁻⁴, so the allowance is 4; the edges p = 0 and p = 1."""
    from fractions import Fraction

    def tail(n: int, p: Fraction, k: int) -> Fraction:
        return sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k + 1, n + 1))

    p = Fraction(1, 50)
    assert tail(30, p, 3) > Fraction(1, 1000) >= tail(30, p, 4)
    assert binomial_allowance(30, 0.02, 1e-3) == 4
    for n, prob, alpha in ((30, 0.1, 0.01), (12, 0.3, 0.05), (50, 0.02, 1e-6)):
        k = binomial_allowance(n, prob, alpha)
        exact = Fraction(prob).limit_denominator(1000)
        assert tail(n, exact, k) <= alpha < tail(n, exact, k - 1)
    assert binomial_allowance(30, 0.0, 1e-3) == 0 and binomial_allowance(30, 1.0, 1e-3) == 30


def test_bigbatch_slow_teacher_student_draws():
    """The two kinds of slow draw behind BB_RATE. A plateau (the ninth thorough run's
    counterexample): from iteration 10 Big Batch is full-batch gradient descent with α = 0.5, the
    second unit's output weight changes sign, where the gradient is smallest (0.165ℓ₀) the Hessian
    has negative eigenvalues, and the run first meets 10⁻¹ℓ₀ at iteration 206. A weak teacher unit
    (output weight −0.115): above 10⁻¹ℓ₀ after 1000 iterations, where the Hessian's eigenvalues
    span four decades (from |λ| < 10⁻³ to λ > 2)."""
    prob = S.teacher_student_problem(3, 2, 4, 3)
    x0 = prob.net.init(seed=112)
    f0 = float(prob.value(x0))
    opt = refopt.bigbatch(lr=1.0, batch_size=2, step_rule="armijo")
    x, state, xs, states = x0, opt.init(x0), [], []
    for _ in range(250):
        x, state = step_on(opt, prob, x, state)
        xs.append(x)
        states.append(state)
    assert all(s.batch_size == 4 and s.lr == 0.5 for s in states[9:200])   # iterations 10–200
    a2 = [float(x[1]["W"][1, 0]) for x in xs]
    assert a2[9] > 0.1 and a2[119] < -0.04                    # 0.19 → −0.051: through 0
    grad_norms = [treemath.norm(prob.grad(x)) for x in xs[:200]]
    k = int(np.argmin(grad_norms))
    assert 100 <= k + 1 <= 140 and grad_norms[k] < 5e-3
    assert 0.15 < float(prob.value(xs[k])) / f0 < 0.2
    eig = _hessian_eigenvalues(prob, xs[k])
    assert eig[0] < -0.02 and eig[-1] > 3.0                   # measured −0.0275 and 3.31
    ratios = [float(prob.value(x)) / f0 for x in xs]
    assert next(t + 1 for t, r in enumerate(ratios) if r <= 0.1) == 206

    assert 0.114 < smallest_output_weight(S.teacher_parameters(3, 1, 2926)) < 0.116
    weak = S.teacher_student_problem(3, 1, 7, 2926)
    x0 = weak.net.init(seed=519)
    opt = refopt.bigbatch(lr=0.7228892460269485, batch_size=2, step_rule="armijo")
    x, state = x0, opt.init(x0)
    for _ in range(1000):
        x, state = step_on(opt, weak, x, state)
    assert 0.1 < float(weak.value(x)) / float(weak.value(x0)) < 0.12   # measured 0.114
    eig = np.abs(_hessian_eigenvalues(weak, x))
    assert eig.min() < 1e-3 and eig.max() > 2.0


def test_constant_step_has_a_floor_sam():
    """Why SAM's least-squares claim decays η: SAM hands its inner rule the gradient at the ascent
    point, H(e + ρĝ) with e = w − w⋆ and ĝ = He/‖He‖. Since ⟨He, H²e⟩ = eᵀH³e ≥ 0, its norm is at
    least ρ‖Hĝ‖ ≥ ρμ wherever e ≠ 0: it never vanishes near w⋆, and the inner heavy ball (β = 0.9)
    at a constant η keeps circling w⋆. The sixth thorough run's counterexample (d = 1, N = 13, the
    strategy's seed 13, w⋆ = −0.123, L = μ = 1.53, f = 1.25, η = 0.5f/L, ρ = 0.05) never comes closer
    than |e| = 0.015 (best 0.0149 of the gap, above the target 10⁻²); with η cosine-decayed to 0 it
    reaches 1.5·10⁻¹⁰ of the gap."""
    rng = np.random.default_rng(13)
    X = rng.standard_normal((13, 1))
    prob = LeastSquares(X, X @ rng.uniform(-1, 1, 1))
    assert 0.12 < -prob.minimiser[0] < 0.125 and prob.L == prob.mu
    cfg, f, rho = {"lr": 0.5, "rho": 0.05}, 1.25, 0.05
    xs = trajectory(rule("sam"), {**cfg, "lr": 0.5 * f / prob.L}, prob, np.zeros(1), 500)
    for x in xs[1:]:   # the gradient at the ascent point, as SAM forms it
        g = prob.grad(x)
        handed = prob.grad(x + rho * g / np.linalg.norm(g))
        assert np.linalg.norm(handed) >= rho * prob.mu * (1 - 1e-12)
    assert min(abs(float(x[0] - prob.minimiser[0])) for x in xs[1:]) > 0.015
    inst = (prob, f, cfg, True, True, 1e-2, False)
    assert not empirical_convex_holds(rule("sam"), inst)                          # best 0.0149
    assert empirical_convex_holds(rule("sam"), inst[:6] + (True,))                # best 1.5e-10


def test_cautious_lbfgs_meets_the_target_where_the_fixed_step_diverges():
    """Why fixed-step L-BFGS's factorisation claim takes the cautious test ⟨s, y⟩ ≥ 0.1‖s‖²
    (lem-lbfgs-cautious, tests/test_lbfgs.py): on the fourth thorough run's counterexample (2×2,
    rank 1, seed 1, start seed 0, f = 1.5) and on a rank-2 miss of the 1000-draw sweep (2×3, seed
    5781, start seed 877, f = 0.533) torch's test ⟨s, y⟩ > 10⁻¹⁰ lets a pair of small secant
    curvature into memory and the run overflows (best 0.75ℓ₀ and 0.22ℓ₀); with the cautious test
    both reach 4·10⁻¹⁰ℓ₀."""
    for shape, rank, seed, start_seed, f in (((2, 2), 1, 1, 0, 1.5), ((2, 3), 2, 5781, 877, 0.5327250123248214)):
        prob = _normalised_factorisation(*shape, rank, seed)
        assert factor_condition(prob) <= 2
        inst = (prob, f, {"lr": 0.5}, start_seed, 500, 1e-2, True, False)
        with np.errstate(over="ignore", invalid="ignore"):
            assert not empirical_nonconvex_holds(rule("lbfgs"), inst)
            xs = trajectory(rule("lbfgs"), {"lr": 0.5 * f}, prob, start(prob, start_seed), 500)
        assert not np.isfinite(float(prob.value(xs[-1])))                            # diverged
        cautious = {"lr": 0.5, "min_curvature_ratio": 0.1}
        assert empirical_nonconvex_holds(rule("lbfgs"), (prob, f, cautious) + inst[3:])
        xs = trajectory(rule("lbfgs"), {**cautious, "lr": 0.5 * f}, prob, start(prob, start_seed), 500)
        assert float(prob.value(xs[-1])) < 1e-9 * float(prob.value(xs[0]))          # 4e-10


def test_factorisation_minimisers_have_curvature_sigma_r():
    """Why the cautious test's c = 0.1 leaves the end-game alone: at a balanced minimiser of the
    class (U = AΣ^½, V = BΣ^½ from M's SVD, ℓ = 0) the Hessian is the Gauss–Newton form
    ‖δU Vᵀ + U δVᵀ‖², and its smallest non-zero eigenvalue is σ_r(M) ≥ 1/2 (κ(M) ≤ 2), its largest
    2σ₁(M) = 2: a secant pair taken there has ⟨s, y⟩/‖s‖² ≥ 1/2 off the symmetry directions, five
    times c. Computed exactly (no finite differences) on 40 draws of the class."""
    for d in factorisation_draws(40, 5):
        prob, (m, n, r) = d["prob"], d["key"][:3]
        a, sv, bt = np.linalg.svd(prob.M)
        U, V = a[:, :r] * np.sqrt(sv[:r]), bt[:r].T * np.sqrt(sv[:r])
        cols = []
        for e in np.eye((m + n) * r):   # J: (δU, δV) ↦ δU Vᵀ + U δVᵀ, column by column
            dU, dV = e[:m * r].reshape(m, r), e[m * r:].reshape(n, r)
            cols.append((dU @ V.T + U @ dV.T).ravel())
        eig = np.linalg.eigvalsh(np.array(cols) @ np.array(cols).T)   # JᵀJ
        nonzero = eig[eig > 1e-9]
        assert len(nonzero) == (m + n) * r - r * r                 # the r² symmetry directions are flat
        assert abs(nonzero.min() - sv[r - 1]) < 1e-12 and sv[r - 1] >= 0.5
        assert abs(nonzero.max() - 2 * sv[0]) < 1e-12


def _nadam_linearised_radius(H: Any, a: Any, beta1: float = 0.9) -> float:
    """Spectral radius of Nadam's update linearised at w⋆ with the per-coordinate step a = η/(√v̂ + ε)
    held fixed (bias corrections ≈ 1): m ← β₁m + (1−β₁)He, e ← e − a⊙(β₁m + (1−β₁)He)."""
    d = len(a)
    D, eye = np.diag(a), np.eye(d)
    J = np.block([[eye - (1 - beta1) * (1 + beta1) * D @ H, -beta1 ** 2 * D],
                  [(1 - beta1) * H, beta1 * eye]])
    return float(np.abs(np.linalg.eigvals(J)).max())


def test_nadam_leaves_a_least_squares_minimum_as_v_decays():
    """Why Nadam's least-squares claim decays η: the seventh thorough run's counterexample (d = 2,
    N = 9, the strategy's seed 296, σ = 0.625, f = 1.5, η = 0.045). Nadam reaches w⋆ to rounding
    (gap 0 at update ~110); the gradient then vanishes and v̂ decays at β₂ = 0.999, so the step
    a = η/(√v̂ + ε) grows until the update linearised at w⋆ is unstable: its spectral radius, with the
    measured v̂, is 0.82 at update 300 and 1.40 at update 460, and |w − w⋆| grows by that factor per
    update (1.40 measured over updates 440–480) from rounding noise to a final gap of 0.24. With η
    cosine-decayed to 0 the same instance ends at the minimum."""
    rng = np.random.default_rng(296)
    X = rng.standard_normal((9, 2))
    prob = LeastSquares(X, X @ rng.uniform(-1, 1, 2) + 0.625 * rng.standard_normal(9))
    H, eta = X.T @ X / 9, 0.03 * 1.5
    opt = refopt.nadam(lr=eta)
    x, state, gaps, errs, radius = np.zeros(2), opt.init(np.zeros(2)), [], [], {}
    gap0 = float(prob.value(x)) - prob.min_value
    for t in range(1, 501):
        x, state = opt.update(prob.grad(x), state, x)
        gaps.append((float(prob.value(x)) - prob.min_value) / gap0)
        errs.append(float(np.linalg.norm(x - prob.minimiser)))
        if t in (300, 460):
            radius[t] = _nadam_linearised_radius(H, eta / (np.sqrt(state.v / (1 - 0.999 ** t)) + 1e-8))
    assert min(gaps[:200]) < 1e-12 and gaps[-1] > 0.2                        # reached, then left: 0.24
    assert radius[300] < 0.9 and 1.35 < radius[460] < 1.45                    # 0.82, 1.40
    growth = (errs[479] / errs[439]) ** (1 / 40)
    assert abs(growth - radius[460]) < 0.05                                   # 1.40
    inst = (prob, 1.5, {"lr": 0.03}, False, False, 1e-2, False)
    assert not empirical_convex_holds(rule("nadam"), inst)
    assert empirical_convex_holds(rule("nadam"), inst[:6] + (True,))


def test_constant_step_has_a_floor_rmsprop_least_squares():
    """Why RMSprop's least-squares claim decays η too: found by a random local run after the seventh
    thorough run (d = 4, N = 27, the strategy's seed 392, σ = 0.25, f = 1, η = 0.03). Its minimiser is
    small (‖w⋆‖∞ = 0.10, initial gap 0.0073), and RMSprop (no momentum) settles into an oscillation
    where every coordinate moves by ±η (v → g²): the best gap is 0.039 of the initial one, at update 5,
    and the last 100 updates move every coordinate by η (median). Decayed, it reaches the minimum."""
    rng = np.random.default_rng(392)
    X = rng.standard_normal((27, 4))
    prob = LeastSquares(X, X @ rng.uniform(-1, 1, 4) + 0.25 * rng.standard_normal(27))
    assert np.abs(prob.minimiser).max() < 0.11
    xs = trajectory(rule("rmsprop"), {"lr": 0.03}, prob, np.zeros(4), 500)
    steps = np.abs(np.diff(np.array(xs[-101:]), axis=0))
    assert np.allclose(np.median(steps, axis=0), 0.03, rtol=1e-3)
    inst = (prob, 1.0, {"lr": 0.03}, False, True, 1e-2, False)
    assert not empirical_convex_holds(rule("rmsprop"), inst)                      # best 0.039
    assert empirical_convex_holds(rule("rmsprop"), inst[:6] + (True,))


def test_constant_step_stalls_novograd():
    """Why NovoGrad's factorisation claim decays η: the second thorough run's counterexample (4×4,
    rank 2, seed 2, κ(M) = 1.59, start seed 2, f = 2). NovoGrad divides each layer's gradient by
    √v, v an average of that layer's ‖g‖² with β₂ = 0.999, which lags the shrinking gradient, so at
    a constant η every layer keeps moving (median 0.64η per update over the last 100) and the loss
    oscillates between 0.031ℓ₀ and 0.050ℓ₀ from update 100 on — best 0.0131ℓ₀, above the target.
    With η decayed to 0 the same instance ends at 8e-11ℓ₀."""
    prob = _normalised_factorisation(4, 4, 2, 2)
    assert factor_condition(prob) <= 2
    x0, eta = start(prob, 2), 0.03 * 2.0
    xs = trajectory(rule("novograd"), {"lr": eta}, prob, x0, 500)
    ratios = np.array([float(prob.value(x)) for x in xs]) / float(prob.value(x0))
    assert 0.01 < ratios[1:].min() < 0.02                              # measured 0.0131
    assert np.all((ratios[100:] > 0.03) & (ratios[100:] < 0.051))      # the stall: 0.0305–0.0502
    for leaf in ("U", "V"):   # each layer still moves by about 0.64η per update near the end
        moves = [np.linalg.norm(y[leaf] - x[leaf]) / eta for x, y in zip(xs[400:], xs[401:])]
        assert np.median(moves) > 0.5
    inst = (prob, 2.0, {"lr": 0.03}, 2, 500, 1e-2, True)
    assert not empirical_nonconvex_holds(rule("novograd"), inst + (False,))   # constant η
    assert empirical_nonconvex_holds(rule("novograd"), inst + (True,))        # η decayed: the claim


def test_centralised_adam_reaches_the_centred_floor():
    """Why centralisation's factorisation claim is relative to ℓ_c*: on the thorough profile's
    counterexample to the earlier halving claim (3×3, rank 2, seed 3529, start 552, f = 1) the row
    means of U and V never move, and the loss settles at ℓ_c* = ½Σ_{i≥r}σᵢ(M − rμνᵀ)² = 0.539ℓ₀,
    above ½ℓ₀, which the claim relative to ℓ_c* accepts."""
    prob = _normalised_factorisation(3, 3, 2, 3529)
    x0 = start(prob, 552)
    xs = trajectory(rule("centralize"), {"lr": 0.03}, prob, x0, 500)
    for leaf in ("U", "V"):   # 1e-12: rounding of the mean-free updates summed over 500 steps
        assert np.allclose(xs[-1][leaf].mean(axis=1), x0[leaf].mean(axis=1), rtol=0.0, atol=1e-12)
    floor, f0 = centred_floor(prob, x0), float(prob.value(x0))
    assert 0.5 * f0 < floor < 0.55 * f0
    # measured equal to 13 digits after 500 updates; 1e-9: the last steps' distance to the limit
    assert math.isclose(float(prob.value(xs[-1])), floor, rel_tol=1e-9)
    assert centralised_nonconvex_holds(rule("centralize"), (prob, 1.0, {"lr": 0.03}, 552, 500, 1e-2, True, False))


def test_decayed_sign_steps_cover_at_most_the_sum_of_steps():
    """Why Lion's and Signum's decayed factorisation protocol starts from a base of 0.03: a sign step
    moves each coordinate by exactly η_t, so after K updates no coordinate has moved more than
    Σ_t η_t (cosine decay: ≈ η₀K/2). On the thorough profile's counterexample (2×4, rank 1, seed 0,
    start 2, f = 0.5) the start is 1.07 from the nearest minimiser (U, V) = (ac, b/c) in the largest
    coordinate, and the base 0.01 gives Σ η_t = 1.25: Lion misses the target there, and reaches it
    with the base 0.03 (Σ η_t = 3.75)."""
    prob = _normalised_factorisation(2, 4, 1, 0)
    x0 = start(prob, 2)
    u, sv, vt = np.linalg.svd(prob.M)
    a, b = u[:, 0] * math.sqrt(sv[0]), vt[0] * math.sqrt(sv[0])
    cs = np.concatenate([-np.geomspace(20, 0.05, 4000), np.geomspace(0.05, 20, 4000)])
    dist = min(max(np.abs(x0["U"][:, 0] - c * a).max(), np.abs(x0["V"][:, 0] - b / c).max()) for c in cs)
    assert 1.0 < dist < 1.1                                          # measured 1.07 (grid over c)
    eta = step_size(0.01 * 0.5, True, 500)
    total = sum(eta(t) for t in range(1, 501))
    assert math.isclose(total, 1.25, rel_tol=1e-2)
    xs = trajectory(rule("lion"), {"lr": eta}, prob, x0, 500)
    moved = max(np.abs(_flat(x) - _flat(x0)).max() for x in xs)
    assert moved <= total * (1 + 1e-12)                              # rounding of the sums
    inst = (prob, 0.5, {"lr": 0.01}, 2, 500, 1e-2, True, True)
    assert not empirical_nonconvex_holds(rule("lion"), inst)
    assert empirical_nonconvex_holds(rule("lion"), (prob, 0.5, {"lr": 0.03}) + inst[3:])


@pytest.mark.parametrize(("name", "shape", "seed", "f", "start_seed", "cfg"),
                         [("optimistic_gd", (2, 4), 4257, 1.0, 0, {"lr": 0.1}),
                          ("asgd", (3, 3), 10000, 0.5, 130, {"lr": 0.1}),
                          ("rsgd", (3, 2), 694, 1.0, 2, {"lr": 0.1, "gamma": 0.999, "seed": 1}),
                          ("gradient_noise", (3, 4), 5349, 1.0, 1000, {"lr": 0.1, "eta": 0.01, "seed": 0})])
def test_gd_like_rules_need_a_bounded_condition_number(name, shape, seed, f, start_seed, cfg):
    """The thorough profile's counterexamples to the factorisation claims of optimistic GD, ASGD,
    R-SGD and gradient noise (before the class's κ(M) ≤ 2): rank 2 with σ₂(M) = 0.155, 0.37, 0.122 and
    0.255. Plain GD (``refopt.sgd``) at the same η misses the target within 500 steps there too — a
    slow singular component, not a bug of these rules — and the instances lie outside the class."""
    prob = _normalised_factorisation(*shape, 2, seed)
    assert factor_condition(prob) > 2
    inst = (prob, f, cfg, start_seed, 500, 1e-2, False, False)
    assert not empirical_nonconvex_holds(rule("sgd"), (prob, f, {"lr": cfg["lr"]}) + inst[3:])
    assert not empirical_nonconvex_holds(rule(name), inst)


def test_adaptive_clipping_from_zero_grows_geometrically():
    """Why AGC's convex claim takes λ = 1: its step is at most ηλ·max(‖w‖, ε), so from w₀ = 0
    ‖w_t‖ ≤ ε(1 + ηλ)^t; on this least-squares instance (d = 3, N = 5, ‖w*‖ = 1.49, f = 0.5) reaching
    ‖w*‖ takes ln(‖w*‖/ε)/ln(1 + ηλ) ≈ 675 > 500 steps at λ = 0.1, and the target is missed; at λ = 1
    the claim holds there."""
    rng = np.random.default_rng(5658)
    X = rng.standard_normal((5, 3))
    prob = LeastSquares(X, X @ rng.uniform(-1, 1, 3) + 0.214651458203167 * rng.standard_normal(5))
    eta, lam, eps = 0.25 / prob.L, 0.1, 1e-3
    xs = trajectory(rule("adaptive_grad_clip"), {"lr": eta, "clipping": lam}, prob, np.zeros(3), 500)
    bound = eps * (1 + eta * lam) ** np.arange(501)
    assert np.all(np.linalg.norm(xs, axis=1) <= bound * (1 + 1e-12))   # 1e-12: rounding of the sums
    assert math.log(np.linalg.norm(prob.minimiser) / eps) / math.log1p(eta * lam) > 500
    cfg = {"lr": 0.5, "clipping": lam}
    assert not empirical_convex_holds(rule("adaptive_grad_clip"), (prob, 0.5, cfg, True, True, 1e-2, False))
    assert empirical_convex_holds(rule("adaptive_grad_clip"),
                                  (prob, 0.5, {**cfg, "clipping": 1.0}, True, True, 1e-2, False))


def test_adaptive_clipping_from_small_layers_grows_geometrically():
    """Why AGC's factorisation claim takes λ = 1 too: the third thorough run's counterexample at
    λ = 0.1 (2×2, rank 1, seed 1, start seed 0, f = 0.5, so η = 0.05; ‖U₀‖ = 0.091, ‖V₀‖ = 0.32). Each
    layer (one unit: r = 1) grows by at most 1 + ηλ per update, and its gradient exceeds the bound on
    almost every update (U: 497 of 500, V: 454), so the run is a clipped crawl that ends at 0.017ℓ₀.
    At λ = 1 the same start meets the target (9e-18ℓ₀)."""
    prob = _normalised_factorisation(2, 2, 1, 1)
    x0, eta = start(prob, 0), 0.1 * 0.5
    assert float(prob.value(x0)) >= 1e-2 and factor_condition(prob) <= 2            # in the class
    xs = trajectory(rule("adaptive_grad_clip"), {"lr": eta, "clipping": 0.1}, prob, x0, 500)
    for leaf, least_clipped in (("U", 490), ("V", 450)):
        n = np.array([np.linalg.norm(x[leaf]) for x in xs])
        assert np.all(n[1:] <= (1 + eta * 0.1) * n[:-1] * (1 + 1e-12))             # 1e-12: rounding
        step = np.array([np.linalg.norm(y[leaf] - x[leaf]) for x, y in zip(xs, xs[1:])])
        assert np.isclose(step, eta * 0.1 * n[:-1], rtol=1e-9).sum() >= least_clipped   # 497, 454
    inst = (prob, 0.5, {"lr": 0.1, "clipping": 0.1}, 0, 500, 1e-2, True, False)
    assert not empirical_nonconvex_holds(rule("adaptive_grad_clip"), inst)           # best 0.017ℓ₀
    assert empirical_nonconvex_holds(rule("adaptive_grad_clip"),
                                     (prob, 0.5, {"lr": 0.1, "clipping": 1.0}) + inst[3:])


def _seeded_least_squares(d: int, n: int, seed: int, sigma: float) -> LeastSquares:
    """The instance :func:`refopt.testing.strategies.least_squares` draws for (d, N, seed, σ)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return LeastSquares(X, X @ rng.uniform(-1, 1, d) + sigma * rng.standard_normal(n))


def test_fromage_below_its_norm_floor_is_slow_gradient_descent():
    """Why Fromage's convex claim asks μ‖w*‖ ≥ m (m = min_norm = 0.1). The thorough profile's
    counterexample (d = 1, N = 3, seed 7, σ = 0: L = μ = 0.0548, w* = −0.55, so μ|w*| = 0.3m; f = 1,
    η = 0.03): ‖∇ℓ‖ ≤ L‖w*‖ = 0.03 < m, so every update is gradient descent with step
    α_t = η·max(|w_t|, m)/m ≤ η|w*|/m followed by the shrink s = 1/√(1 + η²); the gap contracts by
    ≈ 2α_tμ ≤ 2ημ|w*|/m = 0.018 per update and the target is missed. Its fixed point has
    ‖∇ℓ‖ = m(√(1 + η²) − 1)/η (the shrink balances the step), an excess (∇ℓ/(Lw*))² of ℓ₀ − ℓ*. With
    the floor at μ|w*| the same instance meets the claim."""
    m, eta = FROMAGE_FLOOR, 0.03
    prob = _seeded_least_squares(1, 3, 7, 0.0)
    assert not above_the_floor(prob) and math.isclose(prob.L, 0.0548, rel_tol=1e-2)
    s = 1 / math.sqrt(1 + eta * eta)
    xs = trajectory(rule("fromage"), {"lr": eta, "min_norm": m}, prob, np.zeros(1), 4000)
    for x, y in zip(xs[:500], xs[1:501]):
        g = prob.grad(x)
        assert np.linalg.norm(g) < m
        # 1e-14: the rule and this line round the same few products in a different order
        assert np.allclose(y, s * (x - eta * max(np.linalg.norm(x), m) / m * g), rtol=1e-14, atol=0.0)
    cfg = {"lr": 0.03, "min_norm": m}
    assert not empirical_convex_holds(rule("fromage"), (prob, 1.0, cfg, False, True, 1e-2, False))
    # after 4000 updates the last phase (rate ≈ ημ|w*|/m = 0.009) has converged, to e^{-0.009·3500}
    # ≈ 2e-14 relative: 1e-9 is far above that and far below any other fixed point
    g_floor = float(prob.grad(xs[-1])[0])
    assert math.isclose(abs(g_floor), m * (math.sqrt(1 + eta * eta) - 1) / eta, rel_tol=1e-9)
    assert np.sign(g_floor) == -np.sign(xs[-1][0])       # ∇ℓ = −λw: a ridge solution
    excess = (float(prob.value(xs[-1])) - prob.min_value) / (float(prob.value(np.zeros(1))) - prob.min_value)
    # 1e-6: far above the convergence residual (≈ 1e-13 relative) and the rounding of ℓ − ℓ*
    assert math.isclose(excess, (g_floor / (prob.L * prob.minimiser[0])) ** 2, rel_tol=1e-6)
    low = {**cfg, "min_norm": prob.mu * abs(float(prob.minimiser[0]))}
    assert empirical_convex_holds(rule("fromage"), (prob, 1.0, low, False, True, 1e-2, False))


def test_bounded_steps_need_a_bounded_distance():
    """Why the least-squares class asks ‖w*‖∞ ≤ 1: an instance of the strategy (d = 1, N = 3, seed
    5633, σ = 1) has w* = 14.28. Adam moves its coordinate by at most η per update there (measured:
    the gradient keeps its sign, so |m̂_t| ≤ √v̂_t), and at f = 0.5 (η = 0.015) reaching w* takes more
    than 500 updates: Adam's claim — and those of 22 other rules — fails on it."""
    prob = _seeded_least_squares(1, 3, 5633, 1.0)
    assert prob.L <= 20 * prob.mu and abs(prob.minimiser[0]) > 14     # in the class before the bound
    eta = 0.03 * 0.5
    xs = trajectory(rule("adam"), {"lr": eta}, prob, np.zeros(1), 500)
    steps = np.abs(np.diff(np.array(xs)[:, 0]))
    assert steps.max() <= eta * (1 + 1e-9)                           # 1e-9: rounding of m̂/(√v̂ + ε)
    assert abs(prob.minimiser[0]) / eta > 500
    assert not empirical_convex_holds(rule("adam"), (prob, 0.5, {"lr": 0.03}, False, False, 1e-2, False))


# --------------------------------------------------------------------------------- the README

def readme_table() -> str:
    """The README's convergence table, generated from CLAIMS: rule, convex and non-convex evidence."""
    lines = ["| rule | convex | non-convex |", "|---|---|---|"]
    for name in SPECS:
        cells = []
        for cls in ("convex", "nonconvex"):
            claims = [c for c in CLAIMS.get(name, ()) if c.convexity == cls]
            kinds = sorted({c.kind + (f" ({c.condition})" if c.condition else "") for c in claims})
            cells.append(", ".join(kinds) or "—")
        lines.append(f"| `{name}` | {cells[0]} | {cells[1]} |")
    lines += ["", CLASSES + "."]
    for cond, why in CONDITIONS.items():   # one paragraph each
        lines += ["", f"*{cond}*: {why}."]
    return "\n".join(lines)


def test_readme_table_matches_the_claims():
    text = (ROOT / "README.md").read_text()
    begin, end = "<!-- convergence-table:begin -->", "<!-- convergence-table:end -->"
    assert begin in text and end in text, "README.md lacks the convergence table markers"
    table = text.split(begin)[1].split(end)[0].strip()
    assert table == readme_table(), "README convergence table is stale; paste:\n" + readme_table()
