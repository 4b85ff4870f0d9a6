"""One :class:`Spec` per rule: what it is, how to build it and what it promises.

The generic tests in ``tests/`` are parametrised over :data:`SPECS` — contracts, invalid
configurations — so adding a rule means one module, one ``Spec`` here and
its proofs/ page; no test lists rule names. Which framework call a configuration equals is
recorded once, as rows of :mod:`refopt.conventions`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from refopt import base
from refopt.ode import multistep as _ms
from refopt.ode import tableau as _tab
from refopt.ode.rules import linear_multistep, runge_kutta
from refopt.optim.adabelief import adabelief
from refopt.optim.adadelta import adadelta
from refopt.optim.adafactor import adafactor
from refopt.optim.adagrad import adagrad
from refopt.optim.adam import adam
from refopt.optim.adamax import adamax
from refopt.optim.adan import adan
from refopt.optim.ademamix import ademamix
from refopt.optim.amsgrad import amsgrad
from refopt.optim.asgd import asgd
from refopt.optim.averaging import average_params
from refopt.optim.centralize import centralize
from refopt.optim.clipping import adaptive_grad_clip, clip_by_global_norm, clip_by_value
from refopt.optim.dadapt import dadapt_adamw
from refopt.optim.fromage import fromage
from refopt.optim.ftrl import ftrl
from refopt.optim.lamb import lamb
from refopt.optim.lars import lars, matrix_leaves
from refopt.optim.lbfgs import lbfgs
from refopt.optim.lion import lion
from refopt.optim.lookahead import lookahead
from refopt.optim.masking import MaskedDecay, masked_weight_decay
from refopt.optim.momentum import momentum
from refopt.optim.muon import muon
from refopt.optim.nadam import nadam
from refopt.optim.nag import nag
from refopt.optim.nag_reparameterised import nag_reparameterised
from refopt.optim.noise import add_gradient_noise
from refopt.optim.novograd import novograd
from refopt.optim.optimistic import optimistic_gd
from refopt.optim.optimistic_adam import optimistic_adam
from refopt.optim.polyak import polyak_sgd
from refopt.optim.prodigy import prodigy
from refopt.optim.radam import radam
from refopt.optim.rmsprop import rmsprop
from refopt.optim.rprop import rprop
from refopt.optim.sam import sam
from refopt.optim.schedule_free import schedule_free, schedule_free_adamw, schedule_free_sgd
from refopt.optim.sgd import sgd
from refopt.optim.signum import signum
from refopt.optim.sm3 import sm3
from refopt.optim.wolfe import lbfgs_wolfe
from refopt.optim.yogi import yogi
from refopt.research.agd import agd
from refopt.research.bigbatch import bigbatch
from refopt.research.rsgd import rsgd


@dataclass(frozen=True)
class Invalid:
    """A configuration the factory must reject: ``error`` raised, message matching ``match``."""

    kwargs: dict
    error: type
    match: str


@dataclass(frozen=True)
class Spec:
    """Everything the generic tests and the docs need to know about one rule."""

    name: str
    factory: Callable[..., base.Optimizer]
    family: str                      # "classic" | "wrapper" | "quasi_newton" | "ode" | "research"
    paper: str                       # short citation
    proof: str                       # proofs/ page label
    configs: tuple[dict, ...]        # representative valid configurations
    invalid: tuple[Invalid, ...] = ()
    elementwise: bool = True         # each coordinate's update depends only on that coordinate
    zero_grad_fixed_point: bool = True  # g ≡ 0 from init leaves params unchanged (no decay)
    scale_invariant: dict | None = None  # config under which update(c·g) = update(g), c > 0
    deterministic: bool = True       # no randomness, or counter-based randomness from a seed
    ode_order: int | None = None     # global order as an integrator of the gradient flow
    lr_schedules: bool = True        # lr may be a schedule t -> float

    def build(self, **kwargs: Any) -> base.Optimizer:
        return self.factory(**kwargs)

    @property
    def needs(self) -> frozenset[str]:
        """Extra update arguments any of the configs needs: read from the built optimizers'
        own ``extra_args`` declaration, never written here by hand."""
        return frozenset().union(*(self.build(**cfg).extra_args for cfg in self.configs))


def _shared_invalid() -> tuple[Invalid, ...]:
    """Rejections every gradient rule shares (lr and the §0 options)."""
    return (
        Invalid({"lr": -1.0}, ValueError, "lr must be in"),
        Invalid({"lr": float("nan")}, ValueError, "lr must be in"),
        Invalid({"lr": "fast"}, TypeError, "lr must be a real number"),
        Invalid({"weight_decay": -0.1}, ValueError, "weight_decay must be in"),
        Invalid({"decay": "l1"}, ValueError, r"decay must be one of \['l2', 'decoupled', 'fixed'\]"),
        Invalid({"maximize": 1}, TypeError, "maximize must be True or False"),
    )


def _betas_invalid(*names: str) -> tuple[Invalid, ...]:
    out = []
    for n in names:
        out += [Invalid({n: 1.0}, ValueError, rf"{n} must be in \[0.0, 1.0\)"),
                Invalid({n: -0.1}, ValueError, rf"{n} must be in \[0.0, 1.0\)")]
    return tuple(out)


_EPS_NEG = (Invalid({"eps": -1e-8}, ValueError, "eps must be in"),)


def _harmonic(lr0: float) -> Callable[[int], float]:
    """η_t = lr0/t: a schedule that changes every step, so a step taken with η_{t±1} shows."""
    def harmonic_lr(t: int) -> float:
        return lr0 / t
    return harmonic_lr


def _growing_momentum(t: int) -> float:
    """γ_t = t/(t+3): a momentum schedule for look-ahead NAG (γ_{t±1} ≠ γ_t at every step)."""
    return t / (t + 3)


# Issue 18: switch combinations. Each rule with a reference in tests/test_exact_combinations.py
# has every switch off-default in a configuration that also has weight decay, maximize=True and
# a schedule; that test compares every configuration of these rules value by value.
_WD_MAX = {"weight_decay": 0.05, "maximize": True}


def _noisy_sgd(lr: float = 0.05, **kwargs: Any) -> base.Optimizer:
    """Registry entry for the gradient-noise wrapper: SGD with annealed noise."""
    return add_gradient_noise(sgd(lr=lr), **kwargs)


SPECS: dict[str, Spec] = {s.name: s for s in [
    Spec(
        "sgd", sgd, "classic", "Ruder 2016 §2", "rule-sgd",
        configs=({"lr": 0.1}, {"lr": 0.05, "weight_decay": 0.1, "decay": "decoupled"},
                 {"lr": 0.05, "maximize": True}, {"lr": _harmonic(0.1), **_WD_MAX}),
        invalid=_shared_invalid()),
    Spec(
        "momentum", momentum, "classic", "Polyak 1964; Ruder 2016 §4.1", "rule-momentum",
        configs=({"lr": 0.05, "momentum": 0.9},
                 {"lr": 0.05, "momentum": 0.8, "lr_in_buffer": False, "dampening": 0.3,
                  "buffer_init": "first_grad"},
                 {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "decay": "fixed"},
                 {"lr": _harmonic(0.1), "momentum": 0.9, "dampening": 0.25,
                  "buffer_init": "first_grad", **_WD_MAX},
                 {"lr": _harmonic(0.1), "momentum": 0.9, "lr_in_buffer": False, "dampening": 0.25,
                  "decay": "decoupled", **_WD_MAX}),
        invalid=_shared_invalid() + _betas_invalid("momentum", "dampening") + (
            Invalid({"buffer_init": "ones"}, ValueError, "buffer_init must be one of"),
            Invalid({"lr_in_buffer": "no"}, TypeError, "lr_in_buffer must be True or False"))),
    Spec(
        "nag", nag, "classic", "Nesterov 1983; Ruder 2016 §4.2", "rule-nag",
        configs=({"lr": 0.05, "momentum": 0.9},
                 {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.01},
                 {"lr": _harmonic(0.1), "momentum": _growing_momentum, **_WD_MAX}),
        invalid=_shared_invalid() + (
            Invalid({"momentum": 0.0}, ValueError, r"momentum must be in \(0.0, 1.0\)"),
            Invalid({"momentum": 1.0}, ValueError, r"momentum must be in \(0.0, 1.0\)")),
    ),
    Spec(
        "nag_reparameterised", nag_reparameterised, "classic",
        "Sutskever et al. 2013; Ruder 2016 §4.2", "rule-nag",
        configs=({"lr": 0.05, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.9, "maximize": True},
                 {"lr": _harmonic(0.1), "momentum": 0.9, "decay": "decoupled", **_WD_MAX}),
        invalid=_shared_invalid() + (
            Invalid({"momentum": 0.0}, ValueError, r"momentum must be in \(0.0, 1.0\)"),
            Invalid({"momentum": lambda t: 0.9}, TypeError, "momentum must be a constant"))),
    Spec(
        "adagrad", adagrad, "classic", "Duchi et al. 2011; Ruder 2016 §4.3", "rule-adagrad",
        configs=({"lr": 0.1}, {"lr": 0.1, "eps_inside": False, "eps": 1e-10, "lr_decay": 0.01},
                 {"lr": 0.1, "initial_accumulator": 0.1, "weight_decay": 0.01},
                 {"lr": _harmonic(0.1), "eps_inside": False, "eps": 1e-10, "initial_accumulator": 0.125,
                  "lr_decay": 0.5, **_WD_MAX}),
        invalid=_shared_invalid() + _EPS_NEG + (
            Invalid({"initial_accumulator": -0.1}, ValueError, "initial_accumulator must be in"),
            Invalid({"lr_decay": -0.1}, ValueError, "lr_decay must be in")),
        scale_invariant={"lr": 0.1, "eps": 0.0}),
    Spec(
        "adadelta", adadelta, "classic", "Zeiler 2012; Ruder 2016 §4.4", "rule-adadelta",
        configs=({}, {"lr": 0.5, "rho": 0.95}, {"weight_decay": 0.01, "decay": "decoupled"},
                 {"lr": _harmonic(1.0), "decay": "fixed", **_WD_MAX}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("rho")),
    Spec(
        "rmsprop", rmsprop, "classic", "Hinton lecture 6e; Ruder 2016 §4.5", "rule-rmsprop",
        configs=({"lr": 0.01}, {"lr": 0.01, "rho": 0.99, "eps_inside": False, "centered": True,
                                "momentum": 0.9},
                 {"lr": 0.01, "momentum": 0.5, "lr_in_buffer": True, "bias_correction": True},
                 # ε = 1e-2: centred + bias-corrected, the variance at t = 1 is 0 up to rounding
                 {"lr": _harmonic(0.01), "eps": 1e-2, "centered": True, "bias_correction": True,
                  "momentum": 0.5, "lr_in_buffer": True, **_WD_MAX},
                 {"lr": _harmonic(0.01), "eps_inside": False, "momentum": 0.5, "decay": "decoupled",
                  **_WD_MAX}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("rho", "momentum") + (
            Invalid({"centered": "yes"}, TypeError, "centered must be True or False"),),
        scale_invariant={"lr": 0.01, "eps": 0.0}),
    Spec(
        "adam", adam, "classic", "Kingma & Ba 2015; Ruder 2016 §4.6", "rule-adam",
        configs=({"lr": 0.01}, {"lr": 0.01, "eps_hat": True, "eps": 1e-7},
                 {"lr": 0.01, "weight_decay": 0.01, "decay": "decoupled"},
                 {"lr": 0.01, "eps_root": 1e-8},
                 {"lr": _harmonic(0.01), "eps_hat": True, "eps": 1e-3, "decay": "decoupled", **_WD_MAX},
                 {"lr": _harmonic(0.01), "eps_root": 1e-3, **_WD_MAX}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"eps_hat": True, "eps_root": 1e-8}, ValueError, "eps_root must be 0"),),
        scale_invariant={"lr": 0.01, "eps": 0.0}),
    Spec(
        "adamax", adamax, "classic", "Kingma & Ba 2015 §7.1; Ruder 2016 §4.7", "rule-adamax",
        configs=({"lr": 0.01}, {"lr": 0.01, "eps": 1e-8},
                 {"lr": 0.01, "eps": 1e-7, "eps_placement": "denominator"},
                 {"lr": _harmonic(0.01), "eps": 1e-3, "eps_placement": "denominator", "decay": "fixed",
                  **_WD_MAX}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"eps_placement": "inside"}, ValueError, "eps_placement must be one of"),),
        scale_invariant={"lr": 0.01}),
    Spec(
        "nadam", nadam, "classic", "Dozat 2016; Ruder 2016 §4.8", "rule-nadam",
        configs=({"lr": 0.01}, {"lr": 0.01, "momentum_decay": 0.004},
                 {"lr": 0.01, "momentum_decay": math.inf},
                 {"lr": _harmonic(0.01), "momentum_decay": 0.004, "decay": "decoupled", **_WD_MAX}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"momentum_decay": 0.0}, ValueError, "momentum_decay must be in"),),
        scale_invariant={"lr": 0.01, "eps": 0.0}),
    Spec(
        "amsgrad", amsgrad, "classic", "Reddi, Kale, Kumar 2018", "rule-amsgrad",
        configs=({"lr": 0.01}, {"lr": 0.01, "bias_correction": True},
                 {"lr": 0.01, "bias_correction": True, "max_over": "v_hat"},
                 {"lr": _harmonic(0.01), "bias_correction": True, "max_over": "v_hat", "decay": "decoupled",
                  **_WD_MAX},
                 {"lr": _harmonic(0.01), "bias_correction": True, **_WD_MAX}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"max_over": "m"}, ValueError, r"max_over must be one of \['v', 'v_hat'\]"),
            Invalid({"bias_correction": 1}, TypeError, "bias_correction must be True or False"),
            Invalid({"max_over": "v_hat"}, ValueError, "max_over='v_hat' requires bias_correction=True")),
        scale_invariant={"lr": 0.01, "eps": 0.0}),
    Spec(
        "gradient_noise", _noisy_sgd, "wrapper", "Neelakantan et al. 2015", "rule-gradient-noise",
        configs=({"eta": 0.01, "seed": 3}, {"lr": 0.02, "eta": 0.3, "gamma": 0.55, "seed": 0}),
        invalid=(Invalid({"eta": -1.0}, ValueError, "eta must be in"),
                 Invalid({"gamma": -0.5}, ValueError, "gamma must be in"),
                 Invalid({"seed": -1}, ValueError, "seed must be an integer >= 0")),
        elementwise=False,           # leaf i's noise stream depends on its index i
        zero_grad_fixed_point=False,  # noise moves the parameters even when g = 0
    ),
]}


# Issue 16, part A: the adaptive and sign-based family.
_K = "keras.optimizers."
SPECS.update({s.name: s for s in [
    Spec(
        "radam", radam, "classic", "Liu et al. 2020", "rule-radam",
        configs=({"lr": 0.01}, {"lr": 0.01, "threshold": 5.0, "eps_hat": True},
                 {"lr": 0.01, "weight_decay": 0.01, "decay": "decoupled"},
                 {"lr": _harmonic(0.01), "eps_hat": True, "decay": "decoupled", **_WD_MAX}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"threshold": 3.0}, ValueError, r"threshold must be in \[4.0, inf\]"),
            Invalid({"eps_hat": 1}, TypeError, "eps_hat must be True or False"))),
    Spec(
        "adabelief", adabelief, "classic", "Zhuang et al. 2020", "rule-adabelief",
        configs=({"lr": 0.01}, {"lr": 0.01, "eps": 1e-8, "eps_root": 0.0},
                 {"lr": 0.01, "weight_decay": 0.01, "decay": "decoupled"},
                 {"lr": _harmonic(0.01), **_WD_MAX}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"eps_root": -1e-16}, ValueError, "eps_root must be in"),),
        scale_invariant={"lr": 0.01, "eps": 0.0, "eps_root": 0.0}),
    Spec(
        "yogi", yogi, "classic", "Zaheer et al. 2018", "rule-yogi",
        # (m_0 = 1e-6, optax's start, is in the oracles only: it moves θ even when g ≡ 0)
        configs=({"lr": 0.01}, {"lr": 0.01, "beta1": 0.0, "initial_accumulator": 1.0},
                 {"lr": 0.01, "eps": 1e-8, "initial_accumulator": 0.0, "weight_decay": 0.01},
                 {"lr": _harmonic(0.01), "initial_momentum": 0.125, "decay": "fixed", **_WD_MAX}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"initial_accumulator": -1.0}, ValueError, "initial_accumulator must be in"),
            Invalid({"initial_momentum": float("nan")}, ValueError, "initial_momentum must be in")),
        scale_invariant={"lr": 0.01, "eps": 0.0, "initial_accumulator": 0.0}),
    Spec(
        "lion", lion, "classic", "Chen et al. 2023", "rule-lion",
        configs=({"lr": 0.01}, {"lr": 0.01, "beta1": 0.95, "beta2": 0.98, "weight_decay": 0.1},
                 {"lr": 0.01, "weight_decay": 0.01, "decay": "l2", "maximize": True},
                 {"lr": _harmonic(0.01), **_WD_MAX}),
        invalid=_shared_invalid() + _betas_invalid("beta1", "beta2"),
        scale_invariant={"lr": 0.01}),
    Spec(
        "signum", signum, "classic", "Bernstein et al. 2018", "rule-signum",
        configs=({"lr": 0.01}, {"lr": 0.01, "momentum": 0.0},
                 {"lr": 0.01, "weight_decay": 0.01, "decay": "decoupled", "maximize": True},
                 {"lr": _harmonic(0.01), **_WD_MAX}),
        invalid=_shared_invalid() + _betas_invalid("momentum"),
        scale_invariant={"lr": 0.01}),
    Spec(
        "sparse_adam", lambda **kw: adam(lazy=True, **kw), "classic",
        "torch.optim.SparseAdam (lazy Adam)", "rule-sparse-adam",
        configs=({"lr": 0.01}, {"lr": 0.01, "eps_hat": True}, {"lr": 0.01, "maximize": True}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"weight_decay": 0.01}, ValueError, "weight_decay must be 0 when lazy=True"),),
        elementwise=False,  # a row is updated as a whole when any of its entries is non-zero
        scale_invariant={"lr": 0.01, "eps": 0.0}),
]})


# ---------------------------------------------------------------------------------------------
# layer-wise and matrix rules (issue 17 part A): a step depends on whole leaves, not coordinates
SPECS.update({s.name: s for s in [
    Spec(
        "lamb", lamb, "classic", "You et al. 2020", "rule-lamb",
        configs=({"lr": 0.01},                                       # optax.lamb's defaults
                 {"lr": 0.01, "eps": 1e-7, "weight_decay": 0.01, "decay": "decoupled"},  # keras
                 {"lr": 0.01, "direction_decay": 0.01, "weight_decay": 0.01, "eps_root": 1e-8}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"eps_root": -1.0}, ValueError, "eps_root must be in"),
            Invalid({"direction_decay": -0.1}, ValueError, "direction_decay must be in"),
            Invalid({"direction_decay": True}, TypeError, "direction_decay must be a real number")),
        elementwise=False,           # the trust ratio is a per-leaf norm
        scale_invariant={"lr": 0.01, "eps": 0.0}),
    Spec(
        "lars", lars, "classic", "You, Gitman & Ginsburg 2017", "rule-lars",
        configs=({"lr": 0.1},                                        # optax.lars's defaults
                 {"lr": 0.1, "trust_coefficient": 0.02, "weight_decay": 1e-3,   # the paper's
                  "ratio_denominator": "sum_of_norms"},              # Algorithm 1
                 {"lr": 0.1, "trust_coefficient": 0.02, "nesterov": True, "weight_decay": 1e-3,
                  "weight_decay_mask": matrix_leaves, "trust_ratio_mask": matrix_leaves},
                 {"lr": 0.1, "momentum": 0.0, "trust_coefficient": 0.05, "eps": 1e-8,
                  "weight_decay": 0.01, "decay": "decoupled", "maximize": True}),
        invalid=_shared_invalid() + _betas_invalid("momentum") + (
            Invalid({"trust_coefficient": 0.0}, ValueError, r"trust_coefficient must be in \(0.0, inf\]"),
            Invalid({"eps": -1.0}, ValueError, "eps must be in"),
            Invalid({"nesterov": 1}, TypeError, "nesterov must be True or False"),
            Invalid({"ratio_denominator": "paper"}, ValueError,
                    r"ratio_denominator must be one of \['norm_of_sum', 'sum_of_norms'\]"),
            Invalid({"trust_ratio_mask": "biases"}, TypeError, "trust_ratio_mask must be None"),
            Invalid({"weight_decay_mask": 3}, TypeError, "weight_decay_mask must be None")),
        elementwise=False,           # the trust ratio is a per-leaf norm
        scale_invariant={"lr": 0.1}),
    Spec(
        "adafactor", adafactor, "classic", "Shazeer & Stern 2018", "rule-adafactor",
        configs=({"lr": 0.01},                                         # the paper's (and keras's)
                 {"lr": 0.01, "eps1": 2.220446049250313e-16, "eps1_mode": "clamp_estimate",  # torch's
                  "weight_decay": 0.01, "decay": "decoupled"},
                 {"lr": 0.01, "relative_step": False, "factored": "two_largest",  # optax's
                  "min_dim_size_to_factor": 2, "clip_threshold": None, "decay_exponent": 0.5},
                 {"lr": 0.05, "parameter_scale": False, "maximize": True}),
        invalid=_shared_invalid() + (
            Invalid({"decay_exponent": 0.0}, ValueError, r"decay_exponent must be in \(0.0, inf\]"),
            Invalid({"beta2": 0.9}, TypeError, "beta2 must be None or a callable"),
            Invalid({"eps1": -1.0}, ValueError, "eps1 must be in"),
            Invalid({"eps2": -1.0}, ValueError, "eps2 must be in"),
            Invalid({"eps1_mode": "inside"}, ValueError,
                    r"eps1_mode must be one of \['add_to_square', 'clamp_estimate'\]"),
            Invalid({"clip_threshold": 0.0}, ValueError, r"clip_threshold must be in \(0.0, inf\]"),
            Invalid({"relative_step": "yes"}, TypeError, "relative_step must be True or False"),
            Invalid({"parameter_scale": 0}, TypeError, "parameter_scale must be True or False"),
            Invalid({"factored": "rows"}, ValueError, "factored must be one of"),
            Invalid({"min_dim_size_to_factor": 0}, ValueError,
                    "min_dim_size_to_factor must be an integer >= 1"),
            Invalid({"min_dim_size_to_factor": True}, TypeError,
                    "min_dim_size_to_factor must be an integer >= 1")),
        elementwise=False,           # factored moments and RMS(θ), RMS(U) couple a leaf's entries
        scale_invariant={"lr": 0.01, "eps1": 0.0}),
    Spec(
        "muon", muon, "classic", "Jordan et al. 2024", "rule-muon",
        configs=({"lr": 0.02},                                     # Jordan's / keras's momentum
                 {"lr": 0.02, "buffer": "average", "norm_eps": "floor", "weight_decay": 0.1},  # torch's
                 {"lr": 0.02, "buffer": "average", "bias_correction": True, "eps": 1e-8,  # optax's
                  "shape_scale": "cols_over_rows",
                  "fallback": nadam(0.02, eps=1e-8, momentum_decay=math.inf)},
                 {"lr": 0.02, "nesterov": False, "shape_scale": "max_dim", "ns_steps": 3,
                  "fallback": sgd(lr=0.02), "maximize": True}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("momentum") + (
            Invalid({"buffer": "ema"}, ValueError, r"buffer must be one of \['average', 'sum'\]"),
            Invalid({"bias_correction": 1}, TypeError, "bias_correction must be True or False"),
            Invalid({"ns_coefficients": (3.0, -4.0)}, TypeError, "ns_coefficients must be a tuple"),
            Invalid({"ns_coefficients": (3.0, float("nan"), 2.0)}, ValueError,
                    r"ns_coefficients\[1\] must be in"),
            Invalid({"ns_steps": -1}, ValueError, "ns_steps must be an integer >= 0"),
            Invalid({"ns_steps": 2.0}, TypeError, "ns_steps must be an integer >= 0"),
            Invalid({"norm_eps": "clamp"}, ValueError, "norm_eps must be one of"),
            Invalid({"shape_scale": "fan"}, ValueError, "shape_scale must be one of"),
            Invalid({"rms_rate": 0.0}, ValueError, "rms_rate must be in"),
            Invalid({"muon_mask": "matrices"}, TypeError, "muon_mask must be None"),
            Invalid({"fallback": "adam"}, TypeError, "fallback must be a refopt Optimizer")),
        elementwise=False),
    Spec(
        "sm3", sm3, "classic", "Anil et al. 2019", "rule-sm3",
        configs=({"lr": 0.1}, {"lr": 0.1, "momentum": 0.0, "eps": 0.0},   # optax's; the paper's
                 {"lr": 0.1, "weight_decay": 0.01, "decay": "decoupled", "maximize": True}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("momentum"),
        elementwise=False),
    Spec(
        "fromage", fromage, "classic", "Bernstein et al. 2020", "rule-fromage",
        configs=({"lr": 0.01}, {"lr": 0.1, "min_norm": 0.0},
                 {"lr": 0.01, "weight_decay": 0.01, "decay": "decoupled", "maximize": True},
                 {"lr": _harmonic(0.01), **_WD_MAX}),
        invalid=_shared_invalid() + (
            Invalid({"min_norm": -1e-6}, ValueError, "min_norm must be in"),
            Invalid({"min_norm": "tiny"}, TypeError, "min_norm must be a real number")),
        elementwise=False,           # the trust ratio is a per-leaf norm
        zero_grad_fixed_point=False,  # g = 0 still shrinks θ by 1/√(1+η²)
        scale_invariant={"lr": 0.01, "min_norm": 0.0}),
]})


def _rk_spec(name: str) -> Spec:
    tab = _tab.TABLEAUX[name]
    return Spec(
        name, lambda **kw: runge_kutta(name, **kw), "ode", "Butcher 2016; seed 001",
        "rule-runge-kutta",
        configs=({"lr": 0.1}, {"lr": 0.05, "weight_decay": 0.01, "decay": "decoupled"}),
        invalid=_shared_invalid(),
        ode_order=_tab.order(tab))


def _lmm_spec(name: str) -> Spec:
    return Spec(
        name, lambda **kw: linear_multistep(name, allow_unstable=name == "leapfrog", **kw), "ode",
        "Hairer–Nørsett–Wanner I; seed 001",
        "rule-linear-multistep",
        configs=({"lr": 0.1}, {"lr": 0.05, "bootstrap": "heun"}, {"lr": 0.05, "maximize": True}),
        invalid=_shared_invalid() + (
            Invalid({"lr": lambda t: 0.1}, TypeError, "lr must be a constant float"),
            Invalid({"bootstrap": "ab2"}, ValueError, "bootstrap must be one of")),
        ode_order=_ms.order(_ms.METHODS[name]), lr_schedules=False)


SPECS.update({s.name: s for s in [
    Spec(
        "rsgd", rsgd, "research", "Huang & Toyoizumi 2017 (as reconstructed)", "rule-rsgd",
        configs=({"lr": 0.05, "gamma": 0.999, "seed": 1},   # p_t stays < 1 over ~10³ steps
                 {"lr": 0.05, "gamma": 0.99, "p0": 0.5, "mode": "previous", "granularity": "array"},
                 {"lr": 0.05, "gamma": 0.9, "granularity": "global", "seed": 7},
                 {"lr": 0.05, "gamma": 0.5, "p_max": 0.8, "time_unit": "epoch", "steps_per_epoch": 5}),
        invalid=_shared_invalid() + (
            Invalid({"gamma": 1.0}, ValueError, r"gamma must be in \(0.0, 1.0\)"),
            Invalid({"p0": 1.5}, ValueError, r"p0 must be in \[0.0, 1.0\]"),
            Invalid({"p_max": 1.5}, ValueError, r"p_max must be in \[0.0, 1.0\]"),
            Invalid({"time_unit": "epoch"}, ValueError, "steps_per_epoch must be an integer >= 1"),
            Invalid({"mode": "sum"}, ValueError, "mode must be one of"),
            Invalid({"granularity": "row"}, ValueError, "granularity must be one of"),
            Invalid({"seed": -2}, ValueError, "seed must be an integer >= 0")),
        elementwise=False),  # masks are drawn per leaf index, so splitting a leaf changes them
    Spec(
        "agd", agd, "research", "Yue et al. 2023", "rule-agd",
        configs=({"lr": 0.01}, {"lr": 0.01, "delta": 1e-3, "amsgrad": True, "clip": 5.0},
                 {"lr": 0.01, "weight_decay": 0.01, "decay": "fixed"}),
        invalid=_shared_invalid() + _betas_invalid("beta1", "beta2") + (
            Invalid({"delta": -1e-5}, ValueError, "delta must be in"),
            Invalid({"clip": 0.0}, ValueError, r"clip must be in \(0.0, inf\]")),
        scale_invariant={"lr": 0.01, "delta": 0.0}),
    Spec(
        "bigbatch", bigbatch, "research", "De et al. 2017", "rule-bigbatch",
        configs=({"lr": 0.05, "batch_size": 2}, {"lr": 0.05, "theta": 0.5, "batch_size": 2, "growth": 0.5},
                 {"lr": 0.05, "theta": 0.3, "batch_size": 3, "variance": "norms",
                  "finite_population": True}),
        invalid=(Invalid({"lr": 0.0}, ValueError, r"lr must be in \(0.0, inf\]"),
                 Invalid({"theta": 0.0}, ValueError, "theta must be in"),
                 Invalid({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
                 Invalid({"growth": 0.0}, ValueError, "growth must be in"),
                 Invalid({"step_rule": "wolfe"}, ValueError, "step_rule must be one of"),
                 Invalid({"variance": "welford"}, ValueError, "variance must be one of"),
                 Invalid({"armijo_c": 1.0}, ValueError, "armijo_c must be in"),
                 Invalid({"armijo_atol": -1.0}, ValueError, "armijo_atol must be in")),
        elementwise=False, lr_schedules=False,
        zero_grad_fixed_point=False),  # see tests/test_research.py for exact zero gradients
]})

SPECS.update({s.name: s for s in [_rk_spec(n) for n in _tab.TABLEAUX]
              + [_lmm_spec(n) for n in _ms.METHODS]})


# --- issue 16 part B: sign-based, averaged and extrapolated rules -----------------------------
SPECS.update({s.name: s for s in [
    Spec(
        "rprop", rprop, "classic", "Riedmiller & Braun 1993; Igel & Hüsken 2000", "rule-rprop",
        configs=({"lr": 0.1}, {"lr": 0.1, "sign_change": "skip", "eta_plus": 1.5},
                 {"lr": 0.05, "sign_change": "skip", "delayed": True, "min_step": 0.01},
                 {"lr": 0.1, "weight_decay": 0.05}),
        invalid=_shared_invalid() + (
            Invalid({"lr": lambda t: 0.1}, TypeError, "lr must be a constant float"),
            Invalid({"lr": 60.0}, ValueError, r"lr must be in \[min_step, max_step\] = \[1e-06, 50.0\]"),
            Invalid({"eta_minus": 1.0}, ValueError, r"eta_minus must be in \(0.0, 1.0\)"),
            Invalid({"eta_plus": 1.0}, ValueError, r"eta_plus must be in \(1.0, inf\]"),
            Invalid({"min_step": 1.0, "max_step": 0.5}, ValueError, r"max_step must be in \[1.0, inf\]"),
            Invalid({"sign_change": "revert"}, ValueError,
                    r"sign_change must be one of \['backtrack', 'skip'\]"),
            Invalid({"delayed": 1}, TypeError, "delayed must be True or False"),
            Invalid({"delayed": True}, ValueError, "delayed=True needs sign_change='skip'")),
        scale_invariant={"lr": 0.1},
        lr_schedules=False),
    Spec(
        "ademamix", ademamix, "classic", "Pagliardini, Ablin & Grangier 2024", "rule-ademamix",
        configs=({"lr": 0.01}, {"lr": 0.01, "beta3": 0.99, "alpha": 2.0, "eps_root": 1e-8},
                 {"lr": 0.01, "alpha": lambda t: min(t / 10, 1.0) * 5.0,
                  "beta3": lambda t: 0.9 + 0.09 * min(t / 10, 1.0), "weight_decay": 0.1},
                 {"lr": 0.01, "weight_decay": 0.01, "decay": "l2"},
                 {"lr": _harmonic(0.01), "beta3": 0.99, "alpha": 2.0, **_WD_MAX}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2", "beta3") + (
            Invalid({"alpha": -1.0}, ValueError, "alpha must be in"),
            Invalid({"alpha": "big"}, TypeError, "alpha must be a real number"),
            Invalid({"eps_root": -1.0}, ValueError, "eps_root must be in")),
        scale_invariant={"lr": 0.01, "eps": 0.0}),
    Spec(
        "optimistic_gd", optimistic_gd, "classic", "Daskalakis et al. 2018; Mokhtari et al. 2020",
        "rule-optimistic",
        configs=({"lr": 0.05}, {"lr": 0.05, "alpha": 0.5, "beta": 2.0, "prev_init": "zero"},
                 {"lr": 0.05, "weight_decay": 0.1, "decay": "decoupled"},
                 {"lr": _harmonic(0.05), "alpha": 0.5, "beta": 0.25, "prev_init": "zero", **_WD_MAX}),
        invalid=_shared_invalid() + (
            Invalid({"alpha": -1.0}, ValueError, "alpha must be in"),
            Invalid({"beta": float("nan")}, ValueError, "beta must be in"),
            Invalid({"beta": True}, TypeError, "beta must be a real number"),
            Invalid({"prev_init": "none"}, ValueError,
                    r"prev_init must be one of \['first_grad', 'zero'\]"))),
    Spec(
        "optimistic_adam", optimistic_adam, "classic", "Daskalakis et al. 2018", "rule-optimistic",
        configs=({"lr": 0.01}, {"lr": 0.01, "nesterov": True, "alpha": 0.5, "beta": 2.0},
                 {"lr": 0.01, "prev_init": "zero", "eps_root": 1e-8, "weight_decay": 0.01}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"alpha": -1.0}, ValueError, "alpha must be in"),
            Invalid({"nesterov": "yes"}, TypeError, "nesterov must be True or False"),
            Invalid({"prev_init": "none"}, ValueError, "prev_init must be one of")),
        scale_invariant={"lr": 0.01, "eps": 0.0}),
    Spec(
        "asgd", asgd, "classic", "Polyak & Juditsky 1992; Bottou 2012", "rule-asgd",
        configs=({"lr": 0.05}, {"lr": 0.05, "lambd": 0.1, "alpha": 0.5, "t0": 3},
                 {"lr": 0.05, "lambd": 0.0, "weight_decay": 0.01, "decay": "decoupled"}),
        invalid=_shared_invalid() + (
            Invalid({"lr": lambda t: 0.1}, TypeError, "lr must be a constant float"),
            Invalid({"lambd": -1.0}, ValueError, "lambd must be in"),
            Invalid({"alpha": float("nan")}, ValueError, "alpha must be in"),
            Invalid({"t0": 1.5}, TypeError, "t0 must be an integer >= 0"),
            Invalid({"t0": True}, TypeError, "t0 must be an integer >= 0"),
            Invalid({"t0": -1}, ValueError, "t0 must be an integer >= 0")),
        lr_schedules=False,
        zero_grad_fixed_point=False),
    Spec(
        "adan", adan, "classic", "Xie et al. 2022", "rule-adan",
        configs=({"lr": 0.01}, {"lr": 0.01, "weight_decay": 0.1},
                 {"lr": 0.01, "diff_scale": "one_minus_beta2", "eps_root": 1e-8,
                  "weight_decay": 0.1, "decay": "decoupled"},
                 {"lr": 0.01, "beta1": 0.9, "beta2": 0.9, "beta3": 0.999},
                 {"lr": _harmonic(0.01), "diff_scale": "one_minus_beta2", **_WD_MAX}),
        invalid=tuple(i for i in _shared_invalid() if "decay" not in i.kwargs) + _EPS_NEG
        + _betas_invalid("beta1", "beta2", "beta3") + (
            Invalid({"decay": "l1"}, ValueError,
                    r"decay must be one of \['proximal', 'l2', 'decoupled', 'fixed'\]"),
            Invalid({"diff_scale": "one"}, ValueError,
                    r"diff_scale must be one of \['beta2', 'one_minus_beta2'\]")),
        scale_invariant={"lr": 0.01, "eps": 0.0}),
    Spec(
        "novograd", novograd, "classic", "Ginsburg et al. 2019", "rule-novograd",
        configs=({"lr": 0.01}, {"lr": 0.01, "beta1": 0.95, "beta2": 0.98, "weight_decay": 0.01},
                 {"lr": 0.01, "eps_root": 1e-8, "weight_decay": 0.01, "decay": "decoupled"},
                 {"lr": _harmonic(0.01), **_WD_MAX}),
        invalid=tuple(i for i in _shared_invalid() if "decay" not in i.kwargs) + _EPS_NEG
        + _betas_invalid("beta1", "beta2") + (
            Invalid({"decay": "l1"}, ValueError,
                    r"decay must be one of \['in_moment', 'l2', 'decoupled', 'fixed'\]"),),
        elementwise=False,   # one second moment per leaf: a coordinate's step depends on its layer
        scale_invariant={"lr": 0.01, "eps": 0.0}),
    Spec(
        "ftrl", ftrl, "classic", "McMahan et al. 2013", "rule-ftrl",
        configs=({"lr": 0.5}, {"lr": 0.5, "l1": 0.05, "l2": 0.1, "beta": 0.5, "initial_accumulator": 0.1},
                 {"lr": 0.5, "lr_power": -0.3, "shrinkage": 0.05, "beta": 0.0, "initial_accumulator": 0.1}),
        invalid=_shared_invalid() + (
            Invalid({"lr": 0.0}, ValueError, r"lr must be in \(0.0, inf\]"),
            Invalid({"lr": lambda t: 0.1}, TypeError, "lr must be a constant float"),
            Invalid({"l1": -0.1}, ValueError, "l1 must be in"),
            Invalid({"l2": -0.1}, ValueError, "l2 must be in"),
            Invalid({"beta": float("nan")}, ValueError, "beta must be in"),
            Invalid({"lr_power": 0.5}, ValueError, r"lr_power must be in \[-1.0, 0.0\]"),
            Invalid({"initial_accumulator": -1.0}, ValueError, "initial_accumulator must be in"),
            Invalid({"shrinkage": -1.0}, ValueError, "shrinkage must be in")),
        lr_schedules=False,
        zero_grad_fixed_point=False),  # θ_t is a function of (z, n): from z = 0 it is 0, not θ_0
    Spec(
        "polyak_sgd", polyak_sgd, "classic", "Polyak 1987; Loizou et al. 2021", "rule-polyak",
        configs=({"max_lr": 1.0}, {"lr": 0.5, "max_lr": 2.0, "c": 0.5, "gap": "positive"},
                 {"max_lr": 1.0, "f_min": -1.0, "eps": 1e-8, "weight_decay": 0.01}),
        invalid=tuple(i for i in _shared_invalid() if "lr" not in i.kwargs) + (
            Invalid({"lr": -1.0}, ValueError, "lr must be in"),
            Invalid({"max_lr": 0.0}, ValueError, r"max_lr must be in \(0.0, inf\]"),
            Invalid({"f_min": float("inf")}, ValueError, "f_min must be finite"),
            Invalid({"f_min": "zero"}, TypeError, "f_min must be a real number"),
            Invalid({"c": 0.0}, ValueError, r"c must be in \(0.0, inf\]"),
            Invalid({"eps": -1.0}, ValueError, "eps must be in"),
            Invalid({"gap": "sps+"}, ValueError, r"gap must be one of \['signed', 'positive'\]")),
        elementwise=False),   # the step size uses ‖g‖² over the whole pytree
]})


# --- issue 17 part B: wrappers around any rule (each registered around a small base rule) -------

def _clip_value_adam(lr: float = 0.01, max_delta: float = 0.5) -> base.Optimizer:
    """clip_by_value around Adam."""
    return clip_by_value(adam(lr=lr), max_delta)


def _clip_norm_momentum(lr: float = 0.05, max_norm: float = 1.0, eps: float = 0.0) -> base.Optimizer:
    """clip_by_global_norm around heavy-ball momentum."""
    return clip_by_global_norm(momentum(lr=lr, momentum=0.9), max_norm, eps=eps)


def _agc_sgd(lr: float = 0.05, clipping: float = 0.1, **kwargs: Any) -> base.Optimizer:
    """adaptive_grad_clip around SGD."""
    return adaptive_grad_clip(sgd(lr=lr), clipping, **kwargs)


def _centralized_adam(lr: float = 0.01) -> base.Optimizer:
    """centralize around Adam."""
    return centralize(adam(lr=lr))


def _matrices_only(params: Any) -> Any:
    """The usual weight-decay mask: decay matrices, leave vectors (biases, norms) alone."""
    from refopt import tree as _tree
    return _tree.map(lambda p: p.ndim >= 2, params)


def _masked_adam(lr: float = 0.01, weight_decay: float = 0.1, decay: MaskedDecay = "decoupled"
                 ) -> base.Optimizer:
    """masked_weight_decay (matrices only) around Adam."""
    return masked_weight_decay(adam(lr=lr), weight_decay, _matrices_only, decay=decay, lr=lr)


def _averaged_momentum(lr: float = 0.05, **kwargs: Any) -> base.Optimizer:
    """average_params around heavy-ball momentum."""
    return average_params(momentum(lr=lr, momentum=0.9), **kwargs)


def _lookahead_adam(lr: float = 0.01, **kwargs: Any) -> base.Optimizer:
    """lookahead around Adam."""
    return lookahead(adam(lr=lr), **kwargs)


SPECS.update({s.name: s for s in [
    Spec(
        "clip_by_value", _clip_value_adam, "wrapper", "Pascanu et al. 2013", "rule-gradient-transforms",
        configs=({"max_delta": 0.5},                       # clips the O(1) test gradients
                 {"lr": 0.05, "max_delta": 10.0}),          # never active: plain Adam
        invalid=(Invalid({"max_delta": 0.0}, ValueError, r"max_delta must be in \(0.0, inf\]"),
                 Invalid({"max_delta": "1"}, TypeError, "max_delta must be a real number")),
        scale_invariant=None),
    Spec(
        "clip_by_global_norm", _clip_norm_momentum, "wrapper", "Pascanu et al. 2013",
        "rule-gradient-transforms",
        configs=({"max_norm": 1.0},                         # optax's convention (ε = 0)
                 {"max_norm": 0.5, "eps": 1e-6}),           # torch's clip_grad_norm_
        invalid=(Invalid({"max_norm": -1.0}, ValueError, r"max_norm must be in \(0.0, inf\]"),
                 Invalid({"eps": -1e-6}, ValueError, "eps must be in")),
        elementwise=False),                                 # one norm over every leaf
    Spec(
        "adaptive_grad_clip", _agc_sgd, "wrapper", "Brock et al. 2021", "rule-gradient-transforms",
        configs=({"clipping": 0.1},                         # unit-wise, default units
                 {"clipping": 0.05, "eps": 1e-2}),         # larger floor for zero units
        invalid=(Invalid({"clipping": 0.0}, ValueError, r"clipping must be in \(0.0, inf\]"),
                 Invalid({"eps": -1.0}, ValueError, "eps must be in"),
                 Invalid({"axis": "rows"}, TypeError, "axis must be None, an int or a tuple")),
        elementwise=False),                                 # norms over units of a leaf
    Spec(
        "centralize", _centralized_adam, "wrapper", "Yong et al. 2020", "rule-gradient-transforms",
        configs=({"lr": 0.01}, {"lr": 0.05}),               # centred matrices, vectors untouched
        elementwise=False),                                 # row means couple coordinates
    Spec(
        "masked_weight_decay", _masked_adam, "wrapper", "Loshchilov & Hutter 2019",
        "rule-gradient-transforms",
        configs=({"weight_decay": 0.1},                     # decoupled, matrices only (AdamW mask)
                 {"weight_decay": 0.1, "decay": "l2"}),     # L2 on matrices only
        invalid=(Invalid({"weight_decay": -0.1}, ValueError, "weight_decay must be in"),
                 Invalid({"decay": "fixed"}, ValueError, r"decay must be one of \['l2', 'decoupled'\]")),
        elementwise=False),                                 # a leaf's rank decides its decay
    Spec(
        "average_params", _averaged_momentum, "wrapper", "Polyak & Juditsky 1992",
        "rule-parameter-averaging",
        configs=({"decay": 0.9},                            # debiased EMA (optax.ema)
                 {"decay": 0.99, "debias": False},          # raw EMA
                 {"weights": "uniform"}),                   # Polyak–Ruppert mean
        invalid=(Invalid({"decay": 1.0}, ValueError, r"decay must be in \[0.0, 1.0\)"),
                 Invalid({"weights": "linear"}, ValueError, "weights must be one of"),
                 Invalid({"debias": 1}, TypeError, "debias must be True or False"))),
    Spec(
        "lookahead", _lookahead_adam, "wrapper", "Zhang et al. 2019", "rule-lookahead",
        configs=({"sync_period": 5, "slow_step_size": 0.5},  # the paper's k, α
                 {"sync_period": 2, "slow_step_size": 0.8, "reset_state": True}),
        invalid=(Invalid({"sync_period": 0}, ValueError, "sync_period must be an integer >= 1"),
                 Invalid({"sync_period": True}, ValueError, "sync_period must be an integer >= 1"),
                 Invalid({"slow_step_size": 1.5}, ValueError, r"slow_step_size must be in \[0.0, 1.0\]"),
                 Invalid({"reset_state": "yes"}, TypeError, "reset_state must be True or False"))),
]})


# --- issue 17 part B: schedule-free learning ----------------------------------------------------

def _schedule_free_rmsprop(lr: float = 0.01, b1: float = 0.9, **kwargs: Any) -> base.Optimizer:
    """schedule_free around momentum-free RMSprop (any momentum-free rule can be wrapped)."""
    return schedule_free(rmsprop(lr=lr), lr, b1=b1, **kwargs)


SPECS.update({s.name: s for s in [
    Spec(
        "schedule_free_sgd", schedule_free_sgd, "classic", "Defazio et al. 2024", "rule-schedule-free",
        configs=({"lr": 0.1}, {"lr": 0.1, "b1": 0.5, "weight_decay": 0.01},
                 {"lr": 0.05, "b1": 1.0, "weight_lr_power": 0.0}),   # primal averaging, uniform weights
        invalid=(Invalid({"lr": -1.0}, ValueError, "lr must be in"),
                 Invalid({"b1": 1.5}, ValueError, r"b1 must be in \[0.0, 1.0\]"),
                 Invalid({"weight_lr_power": -1.0}, ValueError, "weight_lr_power must be in"),
                 Invalid({"weight_decay": -0.1}, ValueError, "weight_decay must be in"))),
    Spec(
        "schedule_free_adamw", schedule_free_adamw, "classic", "Defazio et al. 2024",
        "rule-schedule-free",
        configs=({"lr": 0.01}, {"lr": 0.01, "b1": 0.95, "b2": 0.99, "weight_decay": 0.1}),
        invalid=(Invalid({"lr": -1.0}, ValueError, "lr must be in"),
                 Invalid({"b1": -0.1}, ValueError, r"b1 must be in \[0.0, 1.0\]"),
                 Invalid({"b2": 1.0}, ValueError, r"b2 must be in \[0.0, 1.0\)"),
                 Invalid({"eps": -1e-8}, ValueError, "eps must be in"))),
    Spec(
        "schedule_free", _schedule_free_rmsprop, "wrapper", "Defazio et al. 2024", "rule-schedule-free",
        configs=({"lr": 0.01}, {"lr": 0.01, "b1": 0.0}),   # β = 0: RMSprop on z, x its average
        invalid=(Invalid({"b1": 2.0}, ValueError, r"b1 must be in \[0.0, 1.0\]"),)),
]})


# --- issue 17 part B: sharpness-aware minimisation ----------------------------------------------

def _sam_momentum(lr: float = 0.05, rho: float = 0.05, **kwargs: Any) -> base.Optimizer:
    """sam around heavy-ball momentum."""
    return sam(momentum(lr=lr, momentum=0.9), rho, **kwargs)


SPECS.update({s.name: s for s in [
    Spec(
        "sam", _sam_momentum, "wrapper", "Foret et al. 2021", "rule-sam",
        configs=({"rho": 0.05},                              # the paper's one ascent step
                 {"rho": 0.1, "ascent_steps": 2, "eps": 1e-12}),  # two steps, reference code's ε
        invalid=(Invalid({"rho": -0.1}, ValueError, "rho must be in"),
                 Invalid({"eps": -1.0}, ValueError, "eps must be in"),
                 Invalid({"ascent_steps": 0}, ValueError, "ascent_steps must be an integer >= 1")),
        elementwise=False),                                   # the ascent uses the global norm
]})


# --- issue 17 part B: L-BFGS -------------------------------------------------------------------

SPECS.update({s.name: s for s in [
    Spec(
        "lbfgs", lbfgs, "quasi_newton", "Nocedal 1980; Liu & Nocedal 1989", "rule-lbfgs",
        configs=({"lr": 0.5},                                 # torch's conventions, m = 10
                 {"lr": 0.2, "history_size": 3, "first_step_norm": "l2", "min_curvature": None,
                  "tolerance_grad": 0.0, "tolerance_change": 0.0},   # optax's conventions
                 {"lr": 0.5, "history_size": 1, "scale_init": False},  # γ = 1, one pair
                 {"lr": 0.5, "min_curvature_ratio": 0.1}),      # the cautious test
        invalid=(Invalid({"lr": -1.0}, ValueError, "lr must be in"),
                 Invalid({"min_curvature_ratio": -0.1}, ValueError, "min_curvature_ratio must be in"),
                 Invalid({"history_size": 0}, ValueError, "history_size must be in"),
                 Invalid({"history_size": 2.5}, ValueError, "history_size must be an integer"),
                 Invalid({"first_step_norm": "linf"}, ValueError, "first_step_norm must be one of"),
                 Invalid({"min_curvature": -1.0}, ValueError, "min_curvature must be in"),
                 Invalid({"scale_init": 1}, TypeError, "scale_init must be True or False"),
                 Invalid({"tolerance_grad": -1.0}, ValueError, "tolerance_grad must be in")),
        elementwise=False),                                   # inner products couple coordinates
]})


# --- issue 17 part B: L-BFGS with a strong-Wolfe line search -----------------------------------

SPECS.update({s.name: s for s in [
    Spec(
        "lbfgs_wolfe", lbfgs_wolfe, "quasi_newton", "Nocedal 1980; Nocedal & Wright 2006 §3.5",
        "rule-lbfgs",
        configs=({},                                          # torch's strong_wolfe conventions
                 {"history_size": 3, "c2": 0.5, "max_ls": 5},   # a stricter curvature condition
                 {"lr": 0.5, "first_step_norm": "l2", "min_curvature": None},
                 {"line_search": "doubling", "max_ls": 20, "approx_decrease": 1e-6,   # optax's
                  "first_step_norm": "l2", "min_curvature": None, "tolerance_grad": 0.0,
                  "tolerance_change": 0.0}),
        invalid=(Invalid({"lr": -1.0}, ValueError, "lr must be in"),
                 Invalid({"history_size": 0}, ValueError, "history_size must be in"),
                 Invalid({"c1": 0.0}, ValueError, "c1 must be in"),
                 Invalid({"c1": 0.5, "c2": 0.4}, ValueError, "c2 must be in"),
                 Invalid({"max_ls": 0}, ValueError, "max_ls must be an integer >= 1"),
                 Invalid({"max_ls": True}, TypeError, "max_ls must be an integer >= 1"),
                 Invalid({"first_step_norm": "linf"}, ValueError, "first_step_norm must be one of"),
                 Invalid({"line_search": "armijo"}, ValueError, "line_search must be one of"),
                 Invalid({"approx_decrease": -1e-6}, ValueError, "approx_decrease must be in"),
                 Invalid({"interval_threshold": float("nan")}, ValueError, "interval_threshold must be in")),
        elementwise=False),                                   # inner products and the line search
]})


# --- issue 17 part B: D-Adaptation family -------------------------------------------------------

SPECS.update({s.name: s for s in [
    Spec(
        "prodigy", prodigy, "classic", "Mishchenko & Defazio 2023", "rule-prodigy",
        configs=({}, {"lr": 0.5, "beta3": 0.9, "d_coef": 0.5, "safeguard_warmup": True},
                 {"weight_decay": 0.01, "eps": 1e-6}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2", "beta3") + (
            Invalid({"d0": 0.0}, ValueError, r"d0 must be in \(0.0, inf\]"),
            Invalid({"d_coef": -1.0}, ValueError, "d_coef must be in"),
            Invalid({"safeguard_warmup": "yes"}, TypeError, "safeguard_warmup must be True or False")),
        elementwise=False),
    Spec(
        "dadapt_adamw", dadapt_adamw, "classic", "Defazio & Mishchenko 2023", "rule-prodigy",
        configs=({}, {"lr": 0.5, "beta1": 0.8, "d0": 1e-3}, {"weight_decay": 0.01, "eps": 1e-6}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"d0": -1.0}, ValueError, r"d0 must be in \(0.0, inf\]"),),
        elementwise=False),
]})


def specs(family: str | None = None) -> list[Spec]:
    """All registered rules, optionally of one family."""
    return [s for s in SPECS.values() if family is None or s.family == family]
