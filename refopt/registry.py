"""One :class:`Spec` per rule: what it is, how to build it, what it promises, and its oracles.

The generic tests in ``tests/`` are parametrised over :data:`SPECS` — contracts, invalid
configurations, oracle trajectories — so adding a rule means one module, one ``Spec`` here and
its proofs/ page; no test lists rule names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from refopt import base
from refopt.ode import multistep as _ms
from refopt.ode import tableau as _tab
from refopt.ode.rules import linear_multistep, runge_kutta
from refopt.optim.adadelta import adadelta
from refopt.optim.adafactor import adafactor
from refopt.optim.adagrad import adagrad
from refopt.optim.adam import adam
from refopt.optim.adamax import adamax
from refopt.optim.amsgrad import amsgrad
from refopt.optim.fromage import fromage
from refopt.optim.lamb import lamb
from refopt.optim.lars import lars, matrix_leaves
from refopt.optim.momentum import momentum
from refopt.optim.muon import muon
from refopt.optim.nadam import nadam
from refopt.optim.nag import nag
from refopt.optim.nag_reparameterised import nag_reparameterised
from refopt.optim.noise import add_gradient_noise
from refopt.optim.rmsprop import rmsprop
from refopt.optim.sgd import sgd
from refopt.optim.sm3 import sm3
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
class Oracle:
    """``factory(**refopt_kwargs)`` reproduces ``target(**kwargs)`` (e.g. ``torch.optim.Adam``)."""

    refopt_kwargs: dict
    target: str
    kwargs: dict


@dataclass(frozen=True)
class Spec:
    """Everything the generic tests and the docs need to know about one rule."""

    name: str
    factory: Callable[..., base.Optimizer]
    family: str                      # "classic" | "wrapper" | "ode" | "research"
    paper: str                       # short citation
    proof: str                       # proofs/ page label
    configs: tuple[dict, ...]        # representative valid configurations
    invalid: tuple[Invalid, ...] = ()
    elementwise: bool = True         # each coordinate's update depends only on that coordinate
    zero_grad_fixed_point: bool = True  # g ≡ 0 from init leaves params unchanged (no decay)
    scale_invariant: dict | None = None  # config under which update(c·g) = update(g), c > 0
    deterministic: bool = True       # no randomness, or counter-based randomness from a seed
    oracles: tuple[Oracle, ...] = field(default=())
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
_T = "torch.optim."
_O = "optax."


def _noisy_sgd(lr: float = 0.05, **kwargs: Any) -> base.Optimizer:
    """Registry entry for the gradient-noise wrapper: SGD with annealed noise."""
    return add_gradient_noise(sgd(lr=lr), **kwargs)


SPECS: dict[str, Spec] = {s.name: s for s in [
    Spec(
        "sgd", sgd, "classic", "Ruder 2016 §2", "rule-sgd",
        configs=({"lr": 0.1}, {"lr": 0.05, "weight_decay": 0.1, "decay": "decoupled"},
                 {"lr": 0.05, "maximize": True}),
        invalid=_shared_invalid(),
        oracles=(
            Oracle({"lr": 0.1}, _T + "SGD", {"lr": 0.1}),
            Oracle({"lr": 0.1, "weight_decay": 0.05}, _T + "SGD", {"lr": 0.1, "weight_decay": 0.05}),
            Oracle({"lr": 0.1, "maximize": True}, _T + "SGD", {"lr": 0.1, "maximize": True}),
            Oracle({"lr": 0.1}, _O + "sgd", {"learning_rate": 0.1}),
        )),
    Spec(
        "momentum", momentum, "classic", "Polyak 1964; Ruder 2016 §4.1", "rule-momentum",
        configs=({"lr": 0.05, "momentum": 0.9},
                 {"lr": 0.05, "momentum": 0.8, "lr_in_buffer": False, "dampening": 0.3,
                  "buffer_init": "first_grad"},
                 {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "decay": "fixed"}),
        invalid=_shared_invalid() + _betas_invalid("momentum", "dampening") + (
            Invalid({"buffer_init": "ones"}, ValueError, "buffer_init must be one of"),
            Invalid({"lr_in_buffer": "no"}, TypeError, "lr_in_buffer must be True or False")),
        oracles=(
            Oracle({"lr": 0.05, "momentum": 0.9, "lr_in_buffer": False, "buffer_init": "first_grad"},
                   _T + "SGD", {"lr": 0.05, "momentum": 0.9}),
            Oracle({"lr": 0.05, "momentum": 0.9, "lr_in_buffer": False, "buffer_init": "first_grad",
                    "dampening": 0.3, "weight_decay": 0.02, "maximize": True},
                   _T + "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3,
                                "weight_decay": 0.02, "maximize": True}),
            Oracle({"lr": 0.05, "momentum": 0.9, "lr_in_buffer": False},
                   _O + "sgd", {"learning_rate": 0.05, "momentum": 0.9}),
        )),
    Spec(
        "nag", nag, "classic", "Nesterov 1983; Ruder 2016 §4.2", "rule-nag",
        configs=({"lr": 0.05, "momentum": 0.9},
                 {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.01}),
        invalid=_shared_invalid() + (
            Invalid({"momentum": 0.0}, ValueError, r"momentum must be in \(0.0, 1.0\)"),
            Invalid({"momentum": 1.0}, ValueError, r"momentum must be in \(0.0, 1.0\)")),
    ),
    Spec(
        "nag_reparameterised", nag_reparameterised, "classic",
        "Sutskever et al. 2013; Ruder 2016 §4.2", "rule-nag",
        configs=({"lr": 0.05, "momentum": 0.9}, {"lr": 0.05, "momentum": 0.9, "maximize": True}),
        invalid=_shared_invalid() + (
            Invalid({"momentum": 0.0}, ValueError, r"momentum must be in \(0.0, 1.0\)"),
            Invalid({"momentum": lambda t: 0.9}, TypeError, "momentum must be a constant")),
        oracles=(
            Oracle({"lr": 0.05, "momentum": 0.9}, _T + "SGD",
                   {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
            Oracle({"lr": 0.05, "momentum": 0.9, "weight_decay": 0.02}, _T + "SGD",
                   {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.02}),
            Oracle({"lr": 0.05, "momentum": 0.9}, _O + "sgd",
                   {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
        )),
    Spec(
        "adagrad", adagrad, "classic", "Duchi et al. 2011; Ruder 2016 §4.3", "rule-adagrad",
        configs=({"lr": 0.1}, {"lr": 0.1, "eps_inside": False, "eps": 1e-10, "lr_decay": 0.01},
                 {"lr": 0.1, "initial_accumulator": 0.1, "weight_decay": 0.01}),
        invalid=_shared_invalid() + _EPS_NEG + (
            Invalid({"initial_accumulator": -0.1}, ValueError, "initial_accumulator must be in"),
            Invalid({"lr_decay": -0.1}, ValueError, "lr_decay must be in")),
        scale_invariant={"lr": 0.1, "eps": 0.0},
        oracles=(
            Oracle({"lr": 0.1, "eps": 1e-10, "eps_inside": False}, _T + "Adagrad", {"lr": 0.1}),
            Oracle({"lr": 0.1, "eps": 1e-10, "eps_inside": False, "lr_decay": 0.05,
                    "initial_accumulator": 0.3, "weight_decay": 0.01, "maximize": True},
                   _T + "Adagrad", {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.3,
                                    "weight_decay": 0.01, "maximize": True}),
            Oracle({"lr": 0.1, "eps": 1e-7, "initial_accumulator": 0.1}, _O + "adagrad",
                   {"learning_rate": 0.1}),
        )),
    Spec(
        "adadelta", adadelta, "classic", "Zeiler 2012; Ruder 2016 §4.4", "rule-adadelta",
        configs=({}, {"lr": 0.5, "rho": 0.95}, {"weight_decay": 0.01, "decay": "decoupled"}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("rho"),
        oracles=(
            Oracle({}, _T + "Adadelta", {}),
            Oracle({"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01, "maximize": True},
                   _T + "Adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01,
                                     "maximize": True}),
            Oracle({"lr": 0.5}, _O + "adadelta", {"learning_rate": 0.5}),
            Oracle({"weight_decay": 0.01}, _O + "adadelta", {"learning_rate": 1.0,
                                                             "weight_decay": 0.01}),
        )),
    Spec(
        "rmsprop", rmsprop, "classic", "Hinton lecture 6e; Ruder 2016 §4.5", "rule-rmsprop",
        configs=({"lr": 0.01}, {"lr": 0.01, "rho": 0.99, "eps_inside": False, "centered": True,
                                "momentum": 0.9},
                 {"lr": 0.01, "momentum": 0.5, "lr_in_buffer": True, "bias_correction": True}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("rho", "momentum") + (
            Invalid({"centered": "yes"}, TypeError, "centered must be True or False"),),
        scale_invariant={"lr": 0.01, "eps": 0.0},
        oracles=(
            Oracle({"lr": 0.01, "rho": 0.99, "eps_inside": False}, _T + "RMSprop", {"lr": 0.01}),
            Oracle({"lr": 0.01, "rho": 0.99, "eps_inside": False, "centered": True},
                   _T + "RMSprop", {"lr": 0.01, "centered": True}),
            Oracle({"lr": 0.01, "rho": 0.99, "eps_inside": False, "momentum": 0.9,
                    "weight_decay": 0.01, "maximize": True},
                   _T + "RMSprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01,
                                    "maximize": True}),
            Oracle({"lr": 0.01, "rho": 0.99, "eps_inside": False, "centered": True,
                    "momentum": 0.5}, _T + "RMSprop", {"lr": 0.01, "centered": True,
                                                       "momentum": 0.5}),
            Oracle({"lr": 0.01}, _O + "rmsprop", {"learning_rate": 0.01}),
            Oracle({"lr": 0.01, "centered": True, "momentum": 0.9, "lr_in_buffer": True},
                   _O + "rmsprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.9}),
            Oracle({"lr": 0.01, "eps_inside": False, "bias_correction": True},
                   _O + "rmsprop", {"learning_rate": 0.01, "eps_in_sqrt": False,
                                    "bias_correction": True}),
        )),
    Spec(
        "adam", adam, "classic", "Kingma & Ba 2015; Ruder 2016 §4.6", "rule-adam",
        configs=({"lr": 0.01}, {"lr": 0.01, "eps_hat": True, "eps": 1e-7},
                 {"lr": 0.01, "weight_decay": 0.01, "decay": "decoupled"},
                 {"lr": 0.01, "eps_root": 1e-8}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"eps_hat": True, "eps_root": 1e-8}, ValueError, "eps_root must be 0"),),
        scale_invariant={"lr": 0.01, "eps": 0.0},
        oracles=(
            Oracle({"lr": 0.01}, _T + "Adam", {"lr": 0.01}),
            Oracle({"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.01,
                    "maximize": True}, _T + "Adam",
                   {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.01, "maximize": True}),
            Oracle({"lr": 0.01, "weight_decay": 0.01, "decay": "decoupled"}, _T + "AdamW",
                   {"lr": 0.01}),
            Oracle({"lr": 0.01}, _O + "adam", {"learning_rate": 0.01}),
            Oracle({"lr": 0.01, "eps_root": 1e-6}, _O + "adam",
                   {"learning_rate": 0.01, "eps_root": 1e-6}),
            Oracle({"lr": 0.01, "weight_decay": 1e-4, "decay": "decoupled"}, _O + "adamw",
                   {"learning_rate": 0.01}),
        )),
    Spec(
        "adamax", adamax, "classic", "Kingma & Ba 2015 §7.1; Ruder 2016 §4.7", "rule-adamax",
        configs=({"lr": 0.01}, {"lr": 0.01, "eps": 1e-8},
                 {"lr": 0.01, "eps": 1e-7, "eps_placement": "denominator"}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"eps_placement": "inside"}, ValueError, "eps_placement must be one of"),),
        scale_invariant={"lr": 0.01},
        oracles=(
            Oracle({"lr": 0.01, "eps": 1e-8}, _T + "Adamax", {"lr": 0.01}),
            Oracle({"lr": 0.01, "eps": 1e-8, "weight_decay": 0.01, "maximize": True},
                   _T + "Adamax", {"lr": 0.01, "weight_decay": 0.01, "maximize": True}),
            Oracle({"lr": 0.01, "eps": 1e-8}, _O + "adamax", {"learning_rate": 0.01}),
        )),
    Spec(
        "nadam", nadam, "classic", "Dozat 2016; Ruder 2016 §4.8", "rule-nadam",
        configs=({"lr": 0.01}, {"lr": 0.01, "momentum_decay": 0.004},
                 {"lr": 0.01, "momentum_decay": math.inf}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"momentum_decay": 0.0}, ValueError, "momentum_decay must be in"),),
        scale_invariant={"lr": 0.01, "eps": 0.0},
        oracles=(
            Oracle({"lr": 0.01, "momentum_decay": 0.004}, _T + "NAdam", {"lr": 0.01}),
            Oracle({"lr": 0.01, "momentum_decay": 0.004, "weight_decay": 0.01, "maximize": True},
                   _T + "NAdam", {"lr": 0.01, "weight_decay": 0.01, "maximize": True}),
            Oracle({"lr": 0.01, "momentum_decay": math.inf}, _O + "nadam",
                   {"learning_rate": 0.01}),
        )),
    Spec(
        "amsgrad", amsgrad, "classic", "Reddi, Kale, Kumar 2018", "rule-amsgrad",
        configs=({"lr": 0.01}, {"lr": 0.01, "variant": "torch"}, {"lr": 0.01, "variant": "optax"}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("beta1", "beta2") + (
            Invalid({"variant": "keras"}, ValueError, r"variant must be one of \['reddi'"),),
        scale_invariant={"lr": 0.01, "eps": 0.0},
        oracles=(
            Oracle({"lr": 0.01, "variant": "torch"}, _T + "Adam", {"lr": 0.01, "amsgrad": True}),
            Oracle({"lr": 0.01, "variant": "torch", "weight_decay": 0.01, "maximize": True},
                   _T + "Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01,
                                 "maximize": True}),
            Oracle({"lr": 0.01, "variant": "optax"}, _O + "amsgrad", {"learning_rate": 0.01}),
        )),
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


# ---------------------------------------------------------------------------------------------
# layer-wise and matrix rules (issue 17 part A): a step depends on whole leaves, not coordinates
_K = "keras.optimizers."
_TORCH_FLOAT64_EPS = 2.220446049250313e-16   # torch.optim.Adafactor's ε1 = finfo(float64).eps


def _optax_muon(lr: float, **kwargs: Any) -> dict:
    """refopt.muon arguments equal to ``optax.contrib.muon(learning_rate=lr)``'s defaults: averaged,
    bias-corrected momentum, ‖·‖_F + 1e−8, √max(1, n/m) for an m×n (in×out) leaf, and optax's
    NAdam-form ``adamw(nesterov=True)`` (refopt's ``nadam(momentum_decay=inf)``) elsewhere."""
    return {"lr": lr, "buffer": "average", "bias_correction": True, "eps": 1e-8,
            "shape_scale": "cols_over_rows", "fallback": nadam(lr, eps=1e-8, momentum_decay=math.inf),
            **kwargs}


def _beta2_in_float32(t: int) -> float:
    """optax.adafactor's β̂_t = 1 − t^{−0.8}, which optax evaluates in float32."""
    import numpy as np
    return float(np.float32(1.0) - np.float32(t) ** np.float32(-0.8))


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
        scale_invariant={"lr": 0.01, "eps": 0.0},
        oracles=(
            Oracle({"lr": 0.01}, _O + "lamb", {"learning_rate": 0.01}),
            Oracle({"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-8, "eps_root": 1e-10,
                    "direction_decay": 0.05}, _O + "lamb",
                   {"learning_rate": 0.01, "b1": 0.8, "b2": 0.99, "eps": 1e-8, "eps_root": 1e-10,
                    "weight_decay": 0.05}),
            Oracle({"lr": 0.01, "eps": 1e-7}, _K + "Lamb", {"learning_rate": 0.01}),
            Oracle({"lr": 0.01, "eps": 1e-7, "weight_decay": 0.05, "decay": "decoupled"},
                   _K + "Lamb", {"learning_rate": 0.01, "weight_decay": 0.05}),
        )),
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
        scale_invariant={"lr": 0.1},  # r_t d_t = κ‖θ‖ d_t/‖d_t‖ (λ = ε = 0)
        oracles=(
            Oracle({"lr": 0.1}, _O + "lars", {"learning_rate": 0.1}),
            Oracle({"lr": 0.1, "momentum": 0.8, "trust_coefficient": 0.02, "eps": 1e-3,
                    "nesterov": True, "weight_decay": 0.01},
                   _O + "lars", {"learning_rate": 0.1, "momentum": 0.8, "trust_coefficient": 0.02,
                                 "eps": 1e-3, "nesterov": True, "weight_decay": 0.01}),
            Oracle({"lr": 0.1, "trust_coefficient": 0.02, "weight_decay": 0.01,
                    "weight_decay_mask": {"w": True, "b": False},
                    "trust_ratio_mask": {"w": False, "b": True}},
                   _O + "lars", {"learning_rate": 0.1, "trust_coefficient": 0.02, "weight_decay": 0.01,
                                 "weight_decay_mask": {"w": True, "b": False},
                                 "trust_ratio_mask": {"w": False, "b": True}}),
        )),
    Spec(
        "adafactor", adafactor, "classic", "Shazeer & Stern 2018", "rule-adafactor",
        configs=({"lr": 0.01},                                         # the paper's (and keras's)
                 {"lr": 0.01, "eps1": _TORCH_FLOAT64_EPS, "eps1_mode": "clamp_estimate",  # torch's
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
            Invalid({"min_dim_size_to_factor": True}, ValueError,
                    "min_dim_size_to_factor must be an integer >= 1")),
        elementwise=False,           # factored moments and RMS(θ), RMS(U) couple a leaf's entries
        scale_invariant={"lr": 0.01, "eps1": 0.0},   # U = g/√V̂ is homogeneous of degree 0 in g
        oracles=(
            Oracle({"lr": 0.01, "eps1": _TORCH_FLOAT64_EPS, "eps1_mode": "clamp_estimate"},
                   _T + "Adafactor", {"lr": 0.01}),
            Oracle({"lr": 0.05, "eps1": _TORCH_FLOAT64_EPS, "eps1_mode": "clamp_estimate",
                    "decay_exponent": 0.5, "eps2": 1e-2, "clip_threshold": 1.2, "weight_decay": 0.1,
                    "decay": "decoupled", "maximize": True},
                   _T + "Adafactor", {"lr": 0.05, "beta2_decay": -0.5, "eps": (None, 1e-2), "d": 1.2,
                                      "weight_decay": 0.1, "maximize": True}),
            Oracle({"lr": 0.01, "relative_step": False, "factored": "two_largest",
                    "min_dim_size_to_factor": 128, "beta2": _beta2_in_float32},
                   _O + "adafactor", {"learning_rate": 0.01}),
            Oracle({"lr": 0.01, "relative_step": False, "factored": "two_largest",
                    "min_dim_size_to_factor": 2, "beta2": _beta2_in_float32, "clip_threshold": None,
                    "weight_decay": 0.01, "decay": "fixed"},
                   _O + "adafactor", {"learning_rate": 0.01, "min_dim_size_to_factor": 2,
                                      "clipping_threshold": None, "weight_decay_rate": 0.01}),
            # keras.optimizers.Adafactor follows the defaults but agrees only to ~1.5e-8 relative:
            # its column accumulator carries float32-level rounding (0.09999999 for 0.1)
        )),
    Spec(
        "muon", muon, "classic", "Jordan et al. 2024", "rule-muon",
        configs=({"lr": 0.02},                                     # Jordan's / keras's momentum
                 {"lr": 0.02, "buffer": "average", "norm_eps": "floor", "weight_decay": 0.1},  # torch's
                 _optax_muon(0.02),
                 {"lr": 0.02, "nesterov": False, "shape_scale": "max_dim", "ns_steps": 3,
                  "fallback": sgd(lr=0.02), "maximize": True}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("momentum") + (
            Invalid({"buffer": "ema"}, ValueError, r"buffer must be one of \['average', 'sum'\]"),
            Invalid({"bias_correction": 1}, TypeError, "bias_correction must be True or False"),
            Invalid({"ns_coefficients": (3.0, -4.0)}, TypeError, "ns_coefficients must be a tuple"),
            Invalid({"ns_coefficients": (3.0, float("nan"), 2.0)}, ValueError,
                    r"ns_coefficients\[1\] must be in"),
            Invalid({"ns_steps": -1}, ValueError, "ns_steps must be an integer >= 0"),
            Invalid({"ns_steps": 2.0}, ValueError, "ns_steps must be an integer >= 0"),
            Invalid({"norm_eps": "clamp"}, ValueError, "norm_eps must be one of"),
            Invalid({"shape_scale": "fan"}, ValueError, "shape_scale must be one of"),
            Invalid({"rms_rate": 0.0}, ValueError, "rms_rate must be in"),
            Invalid({"muon_mask": "matrices"}, TypeError, "muon_mask must be None"),
            Invalid({"fallback": "adam"}, TypeError, "fallback must be a refopt Optimizer")),
        elementwise=False,           # Newton–Schulz mixes every entry of a matrix
        oracles=(
            Oracle(_optax_muon(0.02), "optax.contrib.muon", {"learning_rate": 0.02}),
            Oracle(_optax_muon(0.02, momentum=0.9, nesterov=False, ns_steps=4, weight_decay=0.1,
                               shape_scale="max_dim", ns_coefficients=(2.0, -1.5, 0.5),
                               fallback=adam(0.02, eps=1e-8)),   # optax's Adam follows nesterov
                   "optax.contrib.muon", {"learning_rate": 0.02, "beta": 0.9, "nesterov": False,
                                          "ns_steps": 4, "weight_decay": 0.1, "consistent_rms": 0.2,
                                          "ns_coeffs": (2.0, -1.5, 0.5)}),
            # keras.optimizers.Muon (sum buffer, ‖·‖_F + 1e−7, shape_scale "max_dim" or "none" with
            # rms_rate=None, fallback adam(eps_hat=True, eps=1e-7) with decoupled decay 0.004)
            # agrees only to 1e-9..2e-8 relative over 60 float64 steps, on both kinds of leaf
        )),
    Spec(
        "sm3", sm3, "classic", "Anil et al. 2019", "rule-sm3",
        configs=({"lr": 0.1}, {"lr": 0.1, "momentum": 0.0, "eps": 0.0},   # optax's; the paper's
                 {"lr": 0.1, "weight_decay": 0.01, "decay": "decoupled", "maximize": True}),
        invalid=_shared_invalid() + _EPS_NEG + _betas_invalid("momentum"),
        elementwise=False,           # the cover sets (slices) share accumulators across entries
        oracles=(
            Oracle({"lr": 0.1}, _O + "sm3", {"learning_rate": 0.1}),
            Oracle({"lr": 0.05, "momentum": 0.5}, _O + "sm3", {"learning_rate": 0.05, "momentum": 0.5}),
        )),
    Spec(
        "fromage", fromage, "classic", "Bernstein et al. 2020", "rule-fromage",
        configs=({"lr": 0.01}, {"lr": 0.1, "min_norm": 0.0},
                 {"lr": 0.01, "weight_decay": 0.01, "decay": "decoupled", "maximize": True}),
        invalid=_shared_invalid() + (
            Invalid({"min_norm": -1e-6}, ValueError, "min_norm must be in"),
            Invalid({"min_norm": "tiny"}, TypeError, "min_norm must be a real number")),
        elementwise=False,           # the trust ratio is a per-leaf norm
        zero_grad_fixed_point=False,  # g = 0 still shrinks θ by 1/√(1+η²)
        scale_invariant={"lr": 0.01, "min_norm": 0.0},
        oracles=(
            Oracle({"lr": 0.01}, _O + "fromage", {"learning_rate": 0.01}),
            Oracle({"lr": 0.2, "min_norm": 1e-3}, _O + "fromage", {"learning_rate": 0.2, "min_norm": 1e-3}),
        )),
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
        name, lambda **kw: linear_multistep(name, **kw), "ode", "Hairer–Nørsett–Wanner I; seed 001",
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
                 {"lr": 0.05, "gamma": 0.9, "granularity": "global", "seed": 7}),
        invalid=_shared_invalid() + (
            Invalid({"gamma": 1.0}, ValueError, r"gamma must be in \(0.0, 1.0\)"),
            Invalid({"p0": 1.5}, ValueError, r"p0 must be in \[0.0, 1.0\]"),
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
                 Invalid({"armijo_c": 1.0}, ValueError, "armijo_c must be in")),
        elementwise=False, lr_schedules=False,
        zero_grad_fixed_point=False),  # see tests/test_research.py for exact zero gradients
]})

SPECS.update({s.name: s for s in [_rk_spec(n) for n in _tab.TABLEAUX]
              + [_lmm_spec(n) for n in _ms.METHODS]})


def specs(family: str | None = None) -> list[Spec]:
    """All registered rules, optionally of one family."""
    return [s for s in SPECS.values() if family is None or s.family == family]
