"""Exact first steps (TESTING.md §1): refopt in float64 vs exact SymPy iterates, rtol 1e-12.

The problem is the diagonal quadratic ℓ(θ) = Σ ½ d_i θ_i² − b_i θ_i with rational d, b and θ_0,
so every iterate is an exact algebraic number; three steps exercise bias corrections, running
maxima and the momentum/accumulator recursions. Hyperparameters are exact rationals on the
SymPy side and their nearest floats on refopt's side (a ~1e-16 relative perturbation, far
below the 1e-12 tolerance).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import refopt

from . import exact_reference as ex
from . import exact_wrappers

R = sp.Rational
THETA0 = [R(3, 2), R(-1, 2), R(1, 4)]
D = [R(1), R(2), R(1, 2)]
B = [R(1, 4), R(-1, 3), R(0)]
STEPS = 3


def grad_exact(theta):
    return [d * th - b for d, th, b in zip(D, theta, B)]


def loss_exact(theta):
    return sum(d * th**2 / 2 - b * th for d, th, b in zip(D, theta, B))


def loss_float(theta):
    return float(sum(float(d) * th**2 / 2 - float(b) * th for d, th, b in zip(D, theta, B)))


def grad_float(theta):
    return np.array([float(d) for d in D]) * theta - np.array([float(b) for b in B])


def f(r):
    return float(r)


CASES = {
    # name: (refopt factory call, exact iterates)
    "sgd": (lambda: refopt.sgd(lr=0.1), lambda: ex.sgd(THETA0, grad_exact, STEPS, R(1, 10))),
    "sgd-l2": (lambda: refopt.sgd(lr=0.1, weight_decay=0.05),
               lambda: ex.sgd(THETA0, grad_exact, STEPS, R(1, 10), wd=R(5, 100))),
    "sgd-decoupled": (lambda: refopt.sgd(lr=0.1, weight_decay=0.05, decay="decoupled"),
                      lambda: ex.sgd(THETA0, grad_exact, STEPS, R(1, 10), wd=R(5, 100),
                                     decay="decoupled")),
    "sgd-fixed-maximize": (lambda: refopt.sgd(lr=0.1, weight_decay=0.05, decay="fixed", maximize=True),
                           lambda: ex.sgd(THETA0, grad_exact, STEPS, R(1, 10), wd=R(5, 100),
                                          decay="fixed", maximize=True)),
    "momentum": (lambda: refopt.momentum(lr=0.1, momentum=0.9),
                 lambda: ex.momentum(THETA0, grad_exact, STEPS, R(1, 10), R(9, 10))),
    "momentum-torch-dampening": (
        lambda: refopt.momentum(lr=0.1, momentum=0.9, lr_in_buffer=False, dampening=0.25,
                                buffer_init="first_grad"),
        lambda: ex.momentum(THETA0, grad_exact, STEPS, R(1, 10), R(9, 10), lr_in_buffer=False,
                            dampening=R(1, 4), first_grad=True)),
    "nag-lookahead": (lambda: refopt.nag(lr=0.1, momentum=0.9),
                      lambda: ex.nag_lookahead(THETA0, grad_exact, STEPS, R(1, 10), R(9, 10))),
    "nag_reparameterised": (lambda: refopt.nag_reparameterised(lr=0.1, momentum=0.9),
                            lambda: ex.nag_reparameterised(THETA0, grad_exact, STEPS, R(1, 10),
                                                           R(9, 10))),
    "adagrad": (lambda: refopt.adagrad(lr=0.1),
                lambda: ex.adagrad(THETA0, grad_exact, STEPS, R(1, 10), R(1, 10**8))),
    "adagrad-torch": (lambda: refopt.adagrad(lr=0.1, eps=1e-10, eps_inside=False, lr_decay=0.5,
                                             initial_accumulator=0.125),
                      lambda: ex.adagrad(THETA0, grad_exact, STEPS, R(1, 10), R(1, 10**10),
                                         eps_inside=False, G0=R(1, 8), lr_decay=R(1, 2))),
    "adadelta": (lambda: refopt.adadelta(lr=1.0, rho=0.9, eps=1e-6),
                 lambda: ex.adadelta(THETA0, grad_exact, STEPS, 1, R(9, 10), R(1, 10**6))),
    "adadelta-lr": (lambda: refopt.adadelta(lr=0.5, rho=0.95, eps=1e-2),
                    lambda: ex.adadelta(THETA0, grad_exact, STEPS, R(1, 2), R(95, 100), R(1, 100))),
    "rmsprop": (lambda: refopt.rmsprop(lr=0.01, rho=0.9, eps=1e-8),
                lambda: ex.rmsprop(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(1, 10**8))),
    "rmsprop-torch-centered-momentum": (
        lambda: refopt.rmsprop(lr=0.01, rho=0.99, eps=1e-8, eps_inside=False, centered=True,
                               momentum=0.9),
        lambda: ex.rmsprop(THETA0, grad_exact, STEPS, R(1, 100), R(99, 100), R(1, 10**8),
                           eps_inside=False, centered=True, mu=R(9, 10))),
    "rmsprop-keras-momentum-bias": (
        lambda: refopt.rmsprop(lr=0.01, rho=0.9, eps=1e-8, momentum=0.5, lr_in_buffer=True,
                               bias_correction=True),
        # not centered: with bias correction the centered variance at t = 1 is exactly 0, so
        # float64 would compare cancellation noise against ε (ill-conditioned by construction)
        lambda: ex.rmsprop(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(1, 10**8),
                           mu=R(1, 2), lr_in_buffer=True, bias_correction=True)),
    "adam": (lambda: refopt.adam(lr=0.01),
             lambda: ex.adam(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000),
                             R(1, 10**8))),
    "adam-eps-hat": (lambda: refopt.adam(lr=0.01, eps=1e-3, eps_hat=True),
                     lambda: ex.adam(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000),
                                     R(1, 1000), eps_hat=True)),
    "adam-eps-root": (lambda: refopt.adam(lr=0.01, eps_root=1e-3),
                      lambda: ex.adam(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000),
                                      R(1, 10**8), eps_root=R(1, 1000))),
    "adamw": (lambda: refopt.adamw(lr=0.01, weight_decay=0.1),
              lambda: ex.adam(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000),
                              R(1, 10**8), wd=R(1, 10), decay="decoupled")),
    "adamax": (lambda: refopt.adamax(lr=0.01),
               lambda: ex.adamax(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000))),
    "adamax-max-eps": (lambda: refopt.adamax(lr=0.01, eps=1e-3),
                       lambda: ex.adamax(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10),
                                         R(999, 1000), R(1, 1000))),
    "adamax-denominator-eps": (lambda: refopt.adamax(lr=0.01, eps=1e-3, eps_placement="denominator"),
                               lambda: ex.adamax(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10),
                                                 R(999, 1000), R(1, 1000), "denominator")),
    "nadam-ruder": (lambda: refopt.nadam(lr=0.01),
                    lambda: ex.nadam(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000),
                                     R(1, 10**8))),
    "nadam-psi-0.004": (lambda: refopt.nadam(lr=0.01, momentum_decay=0.004),
                        lambda: ex.nadam(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10),
                                         R(999, 1000), R(1, 10**8), psi=R(4, 1000))),
    "nadam-psi-inf": (lambda: refopt.nadam(lr=0.01, momentum_decay=math.inf),
                      lambda: ex.nadam(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10),
                                       R(999, 1000), R(1, 10**8), psi="inf")),
    "amsgrad-reddi": (lambda: refopt.amsgrad(lr=0.01),
                      lambda: ex.amsgrad(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10),
                                         R(999, 1000), R(1, 10**8))),
    "amsgrad-max-v": (lambda: refopt.amsgrad(lr=0.01, bias_correction=True),
                      lambda: ex.amsgrad(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10),
                                         R(999, 1000), R(1, 10**8), max_over="v")),
    "amsgrad-max-v-hat": (lambda: refopt.amsgrad(lr=0.01, bias_correction=True, max_over="v_hat"),
                      lambda: ex.amsgrad(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10),
                                         R(999, 1000), R(1, 10**8), max_over="v_hat")),
    # issue 16, part A
    "nadam-nadamw": (lambda: refopt.nadamw(lr=0.01, momentum_decay=0.004, weight_decay=0.1),
                     lambda: ex.nadam(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000),
                                      R(1, 10**8), psi=R(4, 1000), wd=R(1, 10), decay="decoupled")),
    "adamax-adamaxw": (lambda: refopt.adamaxw(lr=0.01, eps=1e-8, weight_decay=0.1),
                       lambda: ex.adamax(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10),
                                         R(999, 1000), R(1, 10**8), wd=R(1, 10), decay="decoupled")),
    "radam": (lambda: refopt.radam(lr=0.01),   # 6 steps: momentum for t ≤ 4 (ρ_t ≤ 4), then rectified
              lambda: ex.radam(THETA0, grad_exact, 6, R(1, 100), R(9, 10), R(999, 1000), R(1, 10**8),
                               4)),
    "radam-torch-decoupled": (
        lambda: refopt.radam(lr=0.01, threshold=5.0, eps_hat=True, weight_decay=0.1,
                             decay="decoupled"),
        lambda: ex.radam(THETA0, grad_exact, 6, R(1, 100), R(9, 10), R(999, 1000), R(1, 10**8), 5,
                         eps_hat=True, wd=R(1, 10), decay="decoupled")),
    "adabelief": (lambda: refopt.adabelief(lr=0.01, eps_root=1e-6),
                  lambda: ex.adabelief(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000),
                                       R(1, 10**16), R(1, 10**6))),
    "yogi": (lambda: refopt.yogi(lr=0.01, initial_accumulator=0.5),   # v_0 = ½: both signs occur
             lambda: ex.yogi(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000),
                             R(1, 1000), R(1, 2))),
    "yogi-optax": (lambda: refopt.yogi(lr=0.01, initial_momentum=1e-6),
                   lambda: ex.yogi(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000),
                                   R(1, 1000), R(1, 10**6), R(1, 10**6))),
    "lion": (lambda: refopt.lion(lr=0.1, weight_decay=0.5),   # η = 0.1 crosses the minimiser
             lambda: ex.lion(THETA0, grad_exact, 5, R(1, 10), R(9, 10), R(99, 100), wd=R(1, 2))),
    # η = 0.07: no iterate lands exactly on 0, where a relative tolerance cannot hold
    "signum": (lambda: refopt.signum(lr=0.07, momentum=0.5),
               lambda: ex.signum(THETA0, grad_exact, 5, R(7, 100), R(1, 2))),
    "signum-sign_sgd": (lambda: refopt.sign_sgd(lr=0.07),
                        lambda: ex.signum(THETA0, grad_exact, 5, R(7, 100), 0)),
    "sparse_adam": (lambda: refopt.adam(lr=0.01, eps_hat=True, lazy=True),  # no zero rows: Adam
                    lambda: ex.lazy_adam(THETA0, lambda th, t: grad_exact(th), STEPS, R(1, 100),
                                         R(9, 10), R(999, 1000), R(1, 10**8))),
}


CASES["agd"] = (lambda: refopt.agd(lr=0.01, delta=0.3),   # δ = 0.3: both branches occur
                lambda: ex.agd(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000), R(3, 10)))
# layer-wise and matrix rules (issue 17 part A). Two steps: the trust ratio nests a square root
# of the previous iterate's norm at every step, and SymPy's evaluation of the third step's
# nested radicals takes seconds; step 2 already exercises the moments and bias corrections.
LAYERWISE_STEPS = 2
CASES.update({
    "lamb": (lambda: refopt.lamb(lr=0.01),
             lambda: ex.lamb(THETA0, grad_exact, LAYERWISE_STEPS, R(1, 100), R(9, 10), R(999, 1000),
                             R(1, 10**6))),
    "lamb-direction-decay": (
        lambda: refopt.lamb(lr=0.01, direction_decay=0.1),
        lambda: ex.lamb(THETA0, grad_exact, LAYERWISE_STEPS, R(1, 100), R(9, 10), R(999, 1000), R(1, 10**6),
                        lam_u=R(1, 10))),
    "lamb-decoupled": (
        lambda: refopt.lamb(lr=0.01, eps=1e-7, weight_decay=0.1, decay="decoupled"),
        lambda: ex.lamb(THETA0, grad_exact, LAYERWISE_STEPS, R(1, 100), R(9, 10), R(999, 1000), R(1, 10**7),
                        wd=R(1, 10), decay="decoupled")),
    "lars": (lambda: refopt.lars(lr=0.1, momentum=0.9, trust_coefficient=0.5),
             lambda: ex.lars(THETA0, grad_exact, LAYERWISE_STEPS, R(1, 10), R(9, 10), R(1, 2))),
    "lars-paper-nesterov": (
        lambda: refopt.lars(lr=0.1, momentum=0.9, trust_coefficient=0.5, weight_decay=0.1,
                            ratio_denominator="sum_of_norms", nesterov=True, eps=1e-3),
        lambda: ex.lars(THETA0, grad_exact, LAYERWISE_STEPS, R(1, 10), R(9, 10), R(1, 2), wd=R(1, 10),
                        eps=R(1, 1000), nesterov=True, sum_of_norms=True)),
    "adafactor": (lambda: refopt.adafactor(lr=0.01),
                  lambda: ex.adafactor(THETA0, grad_exact, LAYERWISE_STEPS, R(1, 100), R(4, 5),
                                       R(1, 10**30), R(1, 1000), 1)),
    "adafactor-absolute-step": (
        lambda: refopt.adafactor(lr=0.1, relative_step=False, decay_exponent=0.5, clip_threshold=0.5,
                                 eps1=1e-2),   # an ε1 large enough to change the float64 result
        lambda: ex.adafactor(THETA0, grad_exact, LAYERWISE_STEPS, R(1, 10), R(1, 2), R(1, 100),
                             R(1, 1000), R(1, 2), relative_step=False)),
    "fromage": (lambda: refopt.fromage(lr=0.1),
                lambda: ex.fromage(THETA0, grad_exact, LAYERWISE_STEPS, R(1, 10), R(1, 10**6))),
})
for _mode in ("accumulate", "previous"):
    CASES[f"rsgd-{_mode}"] = (
        lambda m=_mode: refopt.rsgd(lr=0.1, gamma=0.5, schedule=lambda t: 1.0, mode=m),
        lambda m=_mode: ex.rsgd_always(THETA0, grad_exact, STEPS, R(1, 10), m))
for _name in ex.RK:
    CASES[f"{_name}-rk"] = (lambda n=_name: refopt.ode.runge_kutta(n, lr=0.1),
                            lambda n=_name: ex.runge_kutta(THETA0, grad_exact, STEPS, R(1, 10), n))
for _name in ex.LMM:
    CASES[f"{_name}-lmm"] = (lambda n=_name: refopt.ode.linear_multistep(
                                 n, lr=0.1, allow_unstable=n == "leapfrog"),
                             lambda n=_name: ex.linear_multistep(THETA0, grad_exact, 4, R(1, 10), n))
# issue 16 part B. Rprop: Δ_0 = 1/5 makes coordinates 2 and 3 overshoot their minimisers, so
# both sign-change branches (and the delayed form's suppressed move) occur within 4 steps.
CASES.update({
    "rprop-backtrack": (lambda: refopt.rprop(lr=0.2),
                        lambda: ex.rprop(THETA0, grad_exact, 4, R(1, 5), R(1, 2), R(6, 5),
                                         R(1, 10**6), 50)),
    "rprop-skip": (lambda: refopt.rprop(lr=0.2, sign_change="skip", eta_plus=1.5, max_step=0.25),
                   lambda: ex.rprop(THETA0, grad_exact, 4, R(1, 5), R(1, 2), R(3, 2), R(1, 10**6),
                                    R(1, 4), "skip")),
    "rprop-delayed": (lambda: refopt.rprop(lr=0.2, sign_change="skip", delayed=True),
                      lambda: ex.rprop(THETA0, grad_exact, 5, R(1, 5), R(1, 2), R(6, 5),
                                       R(1, 10**6), 50, "skip", delayed=True)),
    # AdEMAMix with a visible slow EMA (β3 = 1/2) and a linear α warm-up evaluated at t = 1, 2, 3
    "ademamix": (lambda: refopt.ademamix(lr=0.01, beta3=0.5, alpha=3.0, weight_decay=0.1),
                 lambda: ex.ademamix(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000),
                                     R(1, 2), 3, R(1, 10**8), wd=R(1, 10))),
    "ademamix-schedules": (
        lambda: refopt.ademamix(lr=0.01, beta3=lambda t: 0.5 + 0.125 * t, alpha=lambda t: 2.0 * t),
        lambda: ex.ademamix(THETA0, grad_exact, STEPS, R(1, 100), R(9, 10), R(999, 1000),
                            lambda t: R(1, 2) + R(1, 8) * t, lambda t: 2 * t, R(1, 10**8))),
    "optimistic_gd": (lambda: refopt.optimistic_gd(lr=0.1),
                      lambda: ex.optimistic(THETA0, grad_exact, STEPS, R(1, 10))),
    "optimistic_gd-zero-init": (
        lambda: refopt.optimistic_gd(lr=0.1, alpha=0.5, beta=2.0, prev_init="zero"),
        lambda: ex.optimistic(THETA0, grad_exact, STEPS, R(1, 10), R(1, 2), 2, "zero")),
    "optimistic_adam": (lambda: refopt.optimistic_adam(lr=0.01),
                        lambda: ex.optimistic(THETA0, grad_exact, STEPS, R(1, 100),
                                              adam=(R(9, 10), R(999, 1000), R(1, 10**8), False))),
    "optimistic_adam-nesterov": (
        lambda: refopt.optimistic_adam(lr=0.01, alpha=0.5, beta=2.0, nesterov=True),
        lambda: ex.optimistic(THETA0, grad_exact, STEPS, R(1, 100), R(1, 2), 2,
                              adam=(R(9, 10), R(999, 1000), R(1, 10**8), True))),
    # ASGD: α = 1/2 makes η_t an algebraic number; parameters here, the average below
    "asgd": (lambda: refopt.asgd(lr=0.1, lambd=0.5, alpha=0.5, t0=1),
             lambda: [th for th, _ in ex.asgd(THETA0, grad_exact, STEPS, R(1, 10), R(1, 2), R(1, 2), 1)]),
    "adan": (lambda: refopt.adan(lr=0.01, weight_decay=0.1),
             lambda: ex.adan(THETA0, grad_exact, STEPS, R(1, 100), R(98, 100), R(92, 100),
                             R(99, 100), R(1, 10**8), wd=R(1, 10))),
    "adan-optax-form": (
        lambda: refopt.adan(lr=0.01, diff_scale="one_minus_beta2", weight_decay=0.1, decay="decoupled"),
        lambda: ex.adan(THETA0, grad_exact, STEPS, R(1, 100), R(98, 100), R(92, 100), R(99, 100),
                        R(1, 10**8), c=R(8, 100), wd=R(1, 10), proximal=False)),
    # NovoGrad: the three coordinates form one layer (one leaf), so one shared second moment
    "novograd": (lambda: refopt.novograd(lr=0.1, beta1=0.9, beta2=0.5, eps=1e-6, weight_decay=0.1),
                 lambda: ex.novograd(THETA0, grad_exact, STEPS, R(1, 10), R(9, 10), R(1, 2),
                                     R(1, 10**6), wd=R(1, 10))),
    # FTRL. With p = 1 (lr_power = −1) every iterate is rational, so the λ1 branch test |z| ≤ λ1
    # is exact and fast; λ1 = 1/5 zeroes coordinate 3 only. The paper's p = ½ without λ1 below.
    "ftrl": (lambda: refopt.ftrl(lr=0.5, l1=0.2, l2=0.25, beta=1.0, lr_power=-1.0,
                                 initial_accumulator=0.25, shrinkage=0.125),
             lambda: ex.ftrl(THETA0, grad_exact, STEPS, R(1, 2), R(1, 5), R(1, 4), 1, p=1,
                             n0=R(1, 4), shrink=R(1, 8))),
    # two steps: the third nests square roots three deep and takes SymPy ~15 s to evaluate
    "ftrl-sqrt": (lambda: refopt.ftrl(lr=0.5, l2=0.25, initial_accumulator=0.5),
                  lambda: ex.ftrl(THETA0, grad_exact, 2, R(1, 2), l2=R(1, 4), beta=1,
                                  n0=R(1, 2))),
    # Polyak: γ_max = 1/2 caps the first step only; positive gap with ℓ* above some ℓ_t
    "polyak_sgd": (lambda: refopt.polyak_sgd(max_lr=0.5, f_min=-0.0625),
                   lambda: ex.polyak(THETA0, grad_exact, loss_exact, STEPS, 1, R(1, 2), R(-1, 16))),
    # c = 1/4 quadruples the step: ℓ_1 < ℓ* = 1/4, so steps 2 and 3 see a clipped gap of 0
    "polyak_sgd-positive": (
        lambda: refopt.polyak_sgd(max_lr=10.0, f_min=0.25, c=0.25, eps=0.01, gap="positive"),
        lambda: ex.polyak(THETA0, grad_exact, loss_exact, STEPS, 1, 10, R(1, 4), c=R(1, 4),
                          eps=R(1, 100), positive=True)),
})
LOOKAHEAD = {"nag-lookahead"} | {k for k in CASES if k.endswith("-rk") or k.endswith("-lmm")}
CASES.update(exact_wrappers.cases(THETA0, grad_exact, STEPS))


@pytest.mark.parametrize("name", list(CASES))
def test_first_steps_match_exact_arithmetic(name):
    make_opt, exact = CASES[name]
    expected = np.array([[float(sp.N(x, 30)) for x in th] for th in exact()])
    opt = make_opt()
    params = np.array([f(x) for x in THETA0])
    state = opt.init(params)
    got = []
    for _ in range(len(expected)):
        if "grad_fn" in opt.extra_args:  # the rule evaluates its gradients itself
            params, state = opt.update(None, state, params, grad_fn=grad_float)
        elif "value" in opt.extra_args:   # Polyak's step size needs the loss
            params, state = opt.update(grad_float(params), state, params, value=loss_float(params))
        else:
            params, state = opt.update(grad_float(params), state, params)
        got.append(params)
    np.testing.assert_allclose(np.array(got), expected, rtol=1e-12, atol=0)


def test_every_registered_rule_has_an_exact_case():
    from refopt.registry import SPECS
    covered = {name.rsplit("-", 1)[0] if name.endswith(("-rk", "-lmm")) else name.split("-")[0]
               for name in CASES} | {"gradient_noise"}
    # Big Batch SGD is exact GD at batch N and SGD at θ = ∞: tests/test_research.py
    covered |= {"bigbatch"}
    # Muon's Newton–Schulz step is exact only for matrices with rational Frobenius norm:
    # tests/test_layerwise.py::test_muon_first_step_matches_exact_arithmetic_on_a_tall_matrix
    covered |= {"muon"}
    # SM3 on a matrix with a fixed gradient sequence: test_sm3_matrix_matches_exact_arithmetic
    covered |= {"sm3"}
    # L-BFGS with a line search needs the objective: two exact steps in
    # tests/test_lbfgs.py::test_lbfgs_wolfe_first_two_steps_match_exact_arithmetic
    covered |= {"lbfgs_wolfe"}
    assert set(SPECS) <= covered, set(SPECS) - covered


def test_gradient_noise_follows_the_annealed_law():
    """g_t + N(0, η/(1+t)^γ), t from 0, noise from SeedSequence([seed, t, leaf]) — recomputed here.

    With SGD(lr=1) and g ≡ 0 each step moves θ by exactly −noise_t.
    """
    eta, gamma, seed = 0.3, 0.55, 7
    opt = refopt.add_gradient_noise(refopt.sgd(lr=1.0), eta=eta, gamma=gamma, seed=seed)
    params = {"a": np.zeros(3), "b": np.zeros((2, 2))}
    state = opt.init(params)
    for t in range(4):
        new, state = opt.update({"a": np.zeros(3), "b": np.zeros((2, 2))}, state, params)
        sigma = math.sqrt(eta / (1 + t) ** gamma)
        for i, key in enumerate(["a", "b"]):  # leaves in sorted-key order
            draw = np.random.default_rng([seed, t, i]).standard_normal(params[key].shape)
            # rtol 1e-12: θ_{t-1} − θ_t is a difference of two rounded O(1) iterates
            np.testing.assert_allclose(params[key] - new[key], sigma * draw, rtol=1e-12, atol=0)
        params = new


def test_adagrad_first_step_by_hand():
    """Hand-checkable: Adagrad's first step is −η g/√(g² + ε) ≈ −η sign(g)."""
    g = np.array([0.5, -2.0])
    params, _ = refopt.adagrad(lr=0.1).update(g, refopt.adagrad().init(np.zeros(2)), np.zeros(2))
    np.testing.assert_allclose(params, -0.1 * g / np.sqrt(g * g + 1e-8), rtol=1e-15)


def test_adamax_coordinates_with_no_gradient_take_no_step():
    opt = refopt.adamax(lr=0.1)
    params = np.array([1.0, 2.0])
    state = opt.init(params)
    for _ in range(3):
        params, state = opt.update(np.array([0.5, 0.0]), state, params)
    assert params[1] == 2.0 and np.isfinite(params).all()


def test_sparse_adam_rows_with_zero_gradient_are_untouched_exactly():
    """Lazy Adam (torch.optim.SparseAdam semantics) on a gradient whose coordinate 0 is zero at
    t = 1 and coordinate 1 at t = 2, 3: exact SymPy iterates, rtol 1e-12 as above."""
    zero = {1: {0}, 2: {1}, 3: {1}, 4: set()}

    def g_exact(theta, t):
        return [0 if i in zero[t] else x for i, x in enumerate(grad_exact(theta))]

    expected = np.array([[float(sp.N(x, 30)) for x in th] for th in
                         ex.lazy_adam(THETA0, g_exact, 4, R(1, 100), R(9, 10), R(999, 1000),
                                      R(1, 10**8))])
    opt = refopt.adam(lr=0.01, eps_hat=True, lazy=True)
    params = np.array([f(x) for x in THETA0])
    state = opt.init(params)
    for t in range(1, 5):
        g = grad_float(params)
        g[list(zero[t])] = 0.0
        params, state = opt.update(g, state, params)
        np.testing.assert_allclose(params, expected[t - 1], rtol=1e-12, atol=0)
    assert expected[0][0] == float(THETA0[0])  # the untouched coordinate really is untouched


def test_asgd_average_matches_exact_arithmetic():
    """θ̄_t of refopt.asgd against the exact mean of the exact iterates (t0 = 1: θ̄_1 = θ_1, then
    means of θ_2..θ_t), 5 steps, rtol 1e-12."""
    exact = ex.asgd(THETA0, grad_exact, 5, R(1, 10), R(1, 2), R(1, 2), 1)
    opt = refopt.asgd(lr=0.1, lambd=0.5, alpha=0.5, t0=1)
    params = np.array([f(x) for x in THETA0])
    state = opt.init(params)
    for _, avg in exact:
        params, state = opt.update(grad_float(params), state, params)
        np.testing.assert_allclose(refopt.asgd_average(state), [float(sp.N(a, 30)) for a in avg],
                                   rtol=1e-12, atol=0)


def test_novograd_layers_have_separate_second_moments_exactly():
    """Two leaves = two layers: {θ1, θ2} and {θ3} each get their own ‖g‖² (3 steps, rtol 1e-12)."""
    exact = ex.novograd(THETA0, grad_exact, STEPS, R(1, 10), R(9, 10), R(1, 2), R(1, 10**6),
                        layers=[[0, 1], [2]])
    expected = np.array([[float(sp.N(x, 30)) for x in th] for th in exact])
    opt = refopt.novograd(lr=0.1, beta1=0.9, beta2=0.5, eps=1e-6)
    theta = np.array([f(x) for x in THETA0])
    params = {"a": theta[:2], "b": theta[2:]}
    state, got = opt.init(params), []
    for _ in range(STEPS):
        g = grad_float(np.concatenate([params["a"], params["b"]]))
        params, state = opt.update({"a": g[:2], "b": g[2:]}, state, params)
        got.append(np.concatenate([params["a"], params["b"]]))
    np.testing.assert_allclose(np.array(got), expected, rtol=1e-12, atol=0)
