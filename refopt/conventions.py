"""The one table of framework conventions: "this refopt configuration equals that framework call".

Each :class:`Convention` row says that ``refopt.registry.SPECS[rule].build(**refopt_kwargs)``
reproduces ``target(**kwargs)`` — checked by whole-trajectory tests (``tests/test_oracles.py``),
used by :func:`refopt.conformance.diagnose` as the presets it searches first, and rendered as the
README and ``docs/conventions.md`` tables (:func:`markdown_table`). Vendor names live here and
nowhere else in refopt's switches: a switch is named after the math it changes.

>>> from refopt.conventions import CONVENTIONS, targets
>>> sorted(targets("amsgrad"))
['optax.amsgrad', 'torch.optim.Adam']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Framework = Literal["torch", "optax", "keras", "numpy-ml"]


@dataclass(frozen=True)
class Convention:
    """``refopt.<rule>(**refopt_kwargs)`` reproduces ``target(**kwargs)``."""

    rule: str                # registry name
    refopt_kwargs: dict
    framework: Framework
    target: str              # dotted, e.g. "torch.optim.Adam"
    kwargs: dict
    note: str = ""


_T, _O, _K, _N = "torch.optim.", "optax.", "keras.optimizers.", "numpy_ml.neural_nets.optimizers."


def _t(rule, ours, target, theirs, note=""):
    return Convention(rule, ours, "torch", _T + target, theirs, note)


def _o(rule, ours, target, theirs, note=""):
    return Convention(rule, ours, "optax", _O + target, theirs, note)


def _k(rule, ours, target, theirs, note=""):
    return Convention(rule, ours, "keras", _K + target, theirs, note)


def _n(rule, ours, target, theirs, note=""):
    return Convention(rule, ours, "numpy-ml", _N + target, theirs, note)


_LRB = {"lr_in_buffer": False, "buffer_init": "first_grad"}   # torch's momentum buffer
_TORCH_FLOAT64_EPS = 2.220446049250313e-16   # torch.optim.Adafactor's ε1 = finfo(float64).eps
_CALLS: dict[int, str] = {}   # id of a rule object in a row -> the call that built it (for the table)
# (name, keyword arguments) -> the rule object: one object per call, so ids are never reused
_BUILT: dict[tuple, object] = {}
_ARGS: dict[int, tuple[str, dict]] = {}   # id of such an object -> (name, its arguments by keyword)


def _literal(v: object) -> str:
    if isinstance(v, float) and v == float("inf"):
        return "math.inf"
    if id(v) in _CALLS:
        return _CALLS[id(v)]
    if callable(v):
        return v.__name__
    return repr(v)


def _rule(name: str, *args: object, **kwargs: object) -> object:
    """``refopt.<name>(*args, **kwargs)`` as a row's argument (Muon's ``fallback``), remembered by
    its call so the table prints the call, not the object, and :func:`nested_rule` can rebuild
    it (``diagnose`` gives it the fitted η)."""
    import inspect

    from refopt import optim
    factory = getattr(optim, name)
    bound = dict(inspect.signature(factory).bind(*args, **kwargs).arguments)
    key = (name, tuple(sorted((k, repr(v)) for k, v in bound.items())))
    if key not in _BUILT:
        opt = factory(*args, **kwargs)
        shown = [*map(_literal, args), *(f"{k}={_literal(v)}" for k, v in kwargs.items())]
        _CALLS[id(opt)] = f"refopt.{name}({', '.join(shown)})"
        _ARGS[id(opt)] = (name, bound)
        _BUILT[key] = opt
    return _BUILT[key]


def nested_rule(value: object) -> tuple[str, dict] | None:
    """(name, keyword arguments) of a rule object built for a row by ``_rule``; None otherwise
    (``_BUILT`` keeps every such object alive, so no other object can have its id)."""
    return _ARGS.get(id(value))


def beta2_in_float32(t: int) -> float:
    """optax.adafactor's β̂_t = 1 − t^{−0.8}, which optax evaluates in float32."""
    import numpy as np
    return float(np.float32(1.0) - np.float32(t) ** np.float32(-0.8))

#: Every framework fact, written once as a refopt configuration and the framework call it equals.
CONVENTIONS: tuple[Convention, ...] = (
    _t("sgd", {"lr": 0.1}, "SGD", {"lr": 0.1}),
    _t("sgd", {"lr": 0.1, "weight_decay": 0.05}, "SGD", {"lr": 0.1, "weight_decay": 0.05}),
    _t("sgd", {"lr": 0.1, "maximize": True}, "SGD", {"lr": 0.1, "maximize": True}),
    _o("sgd", {"lr": 0.1}, "sgd", {"learning_rate": 0.1}),
    _k("sgd", {"lr": 0.1}, "SGD", {"learning_rate": 0.1}),
    _n("sgd", {"lr": 0.1}, "SGD", {"lr": 0.1}),
    _t("momentum", {"lr": 0.05, "momentum": 0.9, **_LRB}, "SGD", {"lr": 0.05, "momentum": 0.9},
       "buffer b₁ = g₁, lr outside the buffer"),
    _t("momentum", {"lr": 0.05, "momentum": 0.9, **_LRB, "dampening": 0.3, "weight_decay": 0.02,
                    "maximize": True}, "SGD",
       {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.02, "maximize": True}),
    _o("momentum", {"lr": 0.05, "momentum": 0.9, "lr_in_buffer": False}, "sgd",
       {"learning_rate": 0.05, "momentum": 0.9}),
    _k("momentum", {"lr": 0.05, "momentum": 0.9}, "SGD", {"learning_rate": 0.05, "momentum": 0.9},
       "v = μv − ηg: the paper form"),
    _n("momentum", {"lr": 0.05, "momentum": 0.9}, "SGD", {"lr": 0.05, "momentum": 0.9}),
    _t("nag_reparameterised", {"lr": 0.05, "momentum": 0.9}, "SGD",
       {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    _t("nag_reparameterised", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.02}, "SGD",
       {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.02}),
    _o("nag_reparameterised", {"lr": 0.05, "momentum": 0.9}, "sgd",
       {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    _k("nag_reparameterised", {"lr": 0.05, "momentum": 0.9}, "SGD",
       {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}, "equal for a constant lr"),
    _t("adagrad", {"lr": 0.1, "eps": 1e-10, "eps_inside": False}, "Adagrad", {"lr": 0.1}),
    _t("adagrad", {"lr": 0.1, "eps": 1e-10, "eps_inside": False, "lr_decay": 0.05,
                   "initial_accumulator": 0.3, "weight_decay": 0.01, "maximize": True}, "Adagrad",
       {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.3, "weight_decay": 0.01,
        "maximize": True}),
    _o("adagrad", {"lr": 0.1, "eps": 1e-7, "initial_accumulator": 0.1}, "adagrad",
       {"learning_rate": 0.1}),
    _k("adagrad", {"lr": 0.1, "eps": 1e-7, "initial_accumulator": 0.1}, "Adagrad",
       {"learning_rate": 0.1}),
    _n("adagrad", {"lr": 0.1, "eps": 1e-7, "eps_inside": False}, "AdaGrad", {"lr": 0.1}),
    _t("adadelta", {}, "Adadelta", {}),
    _t("adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01, "maximize": True},
       "Adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.01, "maximize": True}),
    _o("adadelta", {"lr": 0.5}, "adadelta", {"learning_rate": 0.5}),
    _o("adadelta", {"weight_decay": 0.01}, "adadelta", {"learning_rate": 1.0, "weight_decay": 0.01}),
    _k("adadelta", {"lr": 0.5, "rho": 0.95, "eps": 1e-7}, "Adadelta", {"learning_rate": 0.5}),
    _t("rmsprop", {"lr": 0.01, "rho": 0.99, "eps_inside": False}, "RMSprop", {"lr": 0.01}),
    _t("rmsprop", {"lr": 0.01, "rho": 0.99, "eps_inside": False, "centered": True}, "RMSprop",
       {"lr": 0.01, "centered": True}),
    _t("rmsprop", {"lr": 0.01, "rho": 0.99, "eps_inside": False, "momentum": 0.9,
                   "weight_decay": 0.01, "maximize": True}, "RMSprop",
       {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.01, "maximize": True}),
    _t("rmsprop", {"lr": 0.01, "rho": 0.99, "eps_inside": False, "centered": True, "momentum": 0.5},
       "RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    _o("rmsprop", {"lr": 0.01}, "rmsprop", {"learning_rate": 0.01}),
    _o("rmsprop", {"lr": 0.01, "centered": True, "momentum": 0.9, "lr_in_buffer": True}, "rmsprop",
       {"learning_rate": 0.01, "centered": True, "momentum": 0.9}, "lr applied inside the trace"),
    _o("rmsprop", {"lr": 0.01, "eps_inside": False, "bias_correction": True}, "rmsprop",
       {"learning_rate": 0.01, "eps_in_sqrt": False, "bias_correction": True}),
    _k("rmsprop", {"lr": 0.01, "eps": 1e-7}, "RMSprop", {"learning_rate": 0.01}),
    _k("rmsprop", {"lr": 0.01, "eps": 1e-7, "centered": True, "momentum": 0.9, "lr_in_buffer": True},
       "RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.9}),
    _n("rmsprop", {"lr": 0.01, "eps": 1e-7, "eps_inside": False}, "RMSProp", {"lr": 0.01}),
    _t("adam", {"lr": 0.01}, "Adam", {"lr": 0.01}),
    _t("adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "weight_decay": 0.01, "maximize": True},
       "Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.01, "maximize": True}),
    _t("adam", {"lr": 0.01, "weight_decay": 0.01, "decay": "decoupled"}, "AdamW", {"lr": 0.01}),
    _o("adam", {"lr": 0.01}, "adam", {"learning_rate": 0.01}),
    _o("adam", {"lr": 0.01, "eps_root": 1e-6}, "adam", {"learning_rate": 0.01, "eps_root": 1e-6}),
    _o("adam", {"lr": 0.01, "weight_decay": 1e-4, "decay": "decoupled"}, "adamw",
       {"learning_rate": 0.01}),
    _k("adam", {"lr": 0.01, "eps": 1e-7, "eps_hat": True}, "Adam", {"learning_rate": 0.01},
       "Kingma–Ba's ε̂ ordering"),
    _k("adam", {"lr": 0.01, "eps": 1e-7, "eps_hat": True, "weight_decay": 0.004,
                "decay": "decoupled"}, "AdamW", {"learning_rate": 0.01}),
    _n("adam", {"lr": 0.01, "eps": 1e-7}, "Adam", {"lr": 0.01}),
    _t("adamax", {"lr": 0.01, "eps": 1e-8}, "Adamax", {"lr": 0.01}),
    _t("adamax", {"lr": 0.01, "eps": 1e-8, "weight_decay": 0.01, "maximize": True}, "Adamax",
       {"lr": 0.01, "weight_decay": 0.01, "maximize": True}),
    _o("adamax", {"lr": 0.01, "eps": 1e-8}, "adamax", {"learning_rate": 0.01}),
    _k("adamax", {"lr": 0.01, "eps": 1e-7, "eps_placement": "denominator"}, "Adamax",
       {"learning_rate": 0.01}),
    _t("nadam", {"lr": 0.01, "momentum_decay": 0.004}, "NAdam", {"lr": 0.01}),
    _t("nadam", {"lr": 0.01, "momentum_decay": 0.004, "weight_decay": 0.01, "maximize": True},
       "NAdam", {"lr": 0.01, "weight_decay": 0.01, "maximize": True}),
    _o("nadam", {"lr": 0.01, "momentum_decay": float("inf")}, "nadam", {"learning_rate": 0.01}),
    _k("nadam", {"lr": 0.01, "eps": 1e-7, "momentum_decay": 1.0}, "Nadam", {"learning_rate": 0.01},
       "μ_t = β1(1 − ½·0.96^t)"),
    _t("amsgrad", {"lr": 0.01, "bias_correction": True}, "Adam", {"lr": 0.01, "amsgrad": True},
       "max over raw v"),
    _t("amsgrad", {"lr": 0.01, "bias_correction": True, "weight_decay": 0.01, "maximize": True},
       "Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01, "maximize": True}),
    _o("amsgrad", {"lr": 0.01, "bias_correction": True, "max_over": "v_hat"}, "amsgrad",
       {"learning_rate": 0.01}, "max over the bias-corrected v̂"),
    # issue 16 part A (core)
    _o('adamax', {'lr': 0.01, 'eps': 1e-08, 'weight_decay': 0.0001, 'decay': 'decoupled'}, 'adamaxw', {'learning_rate': 0.01}),
    _o('adamax', {'lr': 0.01, 'eps': 1e-08, 'weight_decay': 0.05, 'decay': 'decoupled'}, 'adamaxw', {'learning_rate': 0.01, 'weight_decay': 0.05}),
    _t('nadam', {'lr': 0.01, 'momentum_decay': 0.004, 'weight_decay': 0.05, 'decay': 'decoupled'}, 'NAdam', {'lr': 0.01, 'weight_decay': 0.05, 'decoupled_weight_decay': True}),
    _o('nadam', {'lr': 0.01, 'momentum_decay': math.inf, 'weight_decay': 0.0001, 'decay': 'decoupled'}, 'nadamw', {'learning_rate': 0.01}),
    _o('nadam', {'lr': 0.01, 'momentum_decay': math.inf, 'weight_decay': 0.05, 'decay': 'decoupled'}, 'nadamw', {'learning_rate': 0.01, 'weight_decay': 0.05}),
    _t('radam', {'lr': 0.01, 'threshold': 5.0, 'eps_hat': True}, 'RAdam', {'lr': 0.01}),
    _t('radam', {'lr': 0.01, 'threshold': 5.0, 'eps_hat': True, 'weight_decay': 0.05, 'maximize': True}, 'RAdam', {'lr': 0.01, 'weight_decay': 0.05, 'maximize': True}),
    _t('radam', {'lr': 0.01, 'threshold': 5.0, 'eps_hat': True, 'weight_decay': 0.05, 'decay': 'decoupled'}, 'RAdam', {'lr': 0.01, 'weight_decay': 0.05, 'decoupled_weight_decay': True}),
    _o('radam', {'lr': 0.01, 'threshold': 5.0}, 'radam', {'learning_rate': 0.01}),
    _o('adabelief', {'lr': 0.01}, 'adabelief', {'learning_rate': 0.01}),
    _o('adabelief', {'lr': 0.01, 'eps': 1e-08, 'eps_root': 1e-10}, 'adabelief', {'learning_rate': 0.01, 'eps': 1e-08, 'eps_root': 1e-10}),
    _o('yogi', {'lr': 0.01, 'initial_momentum': 1e-06}, 'yogi', {'learning_rate': 0.01}),
    _o('yogi', {'lr': 0.01, 'beta1': 0.8, 'beta2': 0.99, 'eps': 0.0001, 'initial_momentum': 1e-06}, 'yogi', {'learning_rate': 0.01, 'b1': 0.8, 'b2': 0.99, 'eps': 0.0001}),
    _o('lion', {'lr': 0.01, 'weight_decay': 0.001}, 'lion', {'learning_rate': 0.01}),
    _o('lion', {'lr': 0.01, 'beta1': 0.95, 'beta2': 0.98}, 'lion', {'learning_rate': 0.01, 'b1': 0.95, 'b2': 0.98, 'weight_decay': 0.0}),
    _k('lion', {'lr': 0.01}, 'Lion', {'learning_rate': 0.01}),
    _k('lion', {'lr': 0.01, 'weight_decay': 0.05}, 'Lion', {'learning_rate': 0.01, 'weight_decay': 0.05}),
    _o('signum', {'lr': 0.01, 'momentum': 0.0}, 'sign_sgd', {'learning_rate': 0.01}),
    _o('signum', {'lr': 0.01}, 'signum', {'learning_rate': 0.01}),
    _o('signum', {'lr': 0.01, 'momentum': 0.5}, 'signum', {'learning_rate': 0.01, 'beta': 0.5}),
    # issue 16 part B
    _t('rprop', {'lr': 0.01, 'sign_change': 'skip'}, 'Rprop', {}),
    _t('rprop', {'lr': 0.05, 'eta_minus': 0.3, 'eta_plus': 1.1, 'min_step': 0.001, 'max_step': 0.2, 'sign_change': 'skip', 'maximize': True}, 'Rprop', {'lr': 0.05, 'etas': (0.3, 1.1), 'step_sizes': (0.001, 0.2), 'maximize': True}),
    _o('rprop', {'lr': 0.05, 'sign_change': 'skip', 'delayed': True}, 'rprop', {'learning_rate': 0.05}),
    _o('rprop', {'lr': 0.05, 'eta_minus': 0.3, 'eta_plus': 1.1, 'min_step': 0.001, 'max_step': 0.2, 'sign_change': 'skip', 'delayed': True}, 'rprop', {'learning_rate': 0.05, 'eta_minus': 0.3, 'eta_plus': 1.1, 'min_step_size': 0.001, 'max_step_size': 0.2}),
    _o('ademamix', {'lr': 0.01}, 'contrib.ademamix', {'learning_rate': 0.01}),
    _o('ademamix', {'lr': 0.02, 'beta1': 0.8, 'beta2': 0.99, 'beta3': 0.95, 'alpha': 3.0, 'eps': 1e-06, 'eps_root': 1e-08, 'weight_decay': 0.1}, 'contrib.ademamix', {'learning_rate': 0.02, 'b1': 0.8, 'b2': 0.99, 'b3': 0.95, 'alpha': 3.0, 'eps': 1e-06, 'eps_root': 1e-08, 'weight_decay': 0.1}),
    _o('optimistic_gd', {'lr': 0.05}, 'optimistic_gradient_descent', {'learning_rate': 0.05}),
    _o('optimistic_gd', {'lr': 0.05, 'alpha': 0.7, 'beta': 0.4}, 'optimistic_gradient_descent', {'learning_rate': 0.05, 'alpha': 0.7, 'beta': 0.4}),
    _o('optimistic_adam', {'lr': 0.01, 'nesterov': True}, 'optimistic_adam_v2', {'learning_rate': 0.01}),
    _o('optimistic_adam', {'lr': 0.01, 'beta1': 0.8, 'beta2': 0.99, 'alpha': 0.5, 'beta': 2.0, 'eps_root': 1e-08}, 'optimistic_adam_v2', {'learning_rate': 0.01, 'b1': 0.8, 'b2': 0.99, 'alpha': 0.5, 'beta': 2.0, 'eps_root': 1e-08, 'nesterov': False}),
    _t('asgd', {'lr': 0.05, 't0': 1000001}, 'ASGD', {'lr': 0.05}),
    _t('asgd', {'lr': 0.05, 'lambd': 0.1, 'alpha': 0.5, 't0': 6, 'weight_decay': 0.02, 'maximize': True}, 'ASGD', {'lr': 0.05, 'lambd': 0.1, 'alpha': 0.5, 't0': 5, 'weight_decay': 0.02, 'maximize': True}),
    _o('adan', {'lr': 0.01, 'diff_scale': 'one_minus_beta2', 'eps_root': 1e-08}, 'adan', {'learning_rate': 0.01}),
    _o('adan', {'lr': 0.01, 'beta1': 0.9, 'beta2': 0.8, 'beta3': 0.95, 'eps': 1e-06, 'diff_scale': 'one_minus_beta2', 'weight_decay': 0.1, 'decay': 'decoupled'}, 'adan', {'learning_rate': 0.01, 'b1': 0.9, 'b2': 0.8, 'b3': 0.95, 'eps': 1e-06, 'eps_root': 0.0, 'weight_decay': 0.1}),
    _o('novograd', {'lr': 0.01}, 'novograd', {'learning_rate': 0.01}),
    _o('novograd', {'lr': 0.01, 'beta1': 0.95, 'beta2': 0.98, 'eps': 1e-08, 'eps_root': 1e-08, 'weight_decay': 0.05}, 'novograd', {'learning_rate': 0.01, 'b1': 0.95, 'b2': 0.98, 'eps': 1e-08, 'eps_root': 1e-08, 'weight_decay': 0.05}),
    _k('ftrl', {'lr': 0.5, 'beta': 0.0, 'initial_accumulator': 0.1}, 'Ftrl', {'learning_rate': 0.5}),
    _k('ftrl', {'lr': 0.5, 'l1': 0.01, 'l2': 0.1, 'beta': 0.5, 'lr_power': -0.4, 'initial_accumulator': 0.2, 'shrinkage': 0.03}, 'Ftrl', {'learning_rate': 0.5, 'l1_regularization_strength': 0.01, 'l2_regularization_strength': 0.05, 'beta': 0.5, 'learning_rate_power': -0.4, 'initial_accumulator_value': 0.2, 'l2_shrinkage_regularization_strength': 0.03}),
    _k('ftrl', {'lr': 0.5, 'l1': 2.0, 'beta': 0.0, 'initial_accumulator': 0.1}, 'Ftrl', {'learning_rate': 0.5, 'l1_regularization_strength': 2.0}),
    _o('polyak_sgd', {'max_lr': 1.0, 'f_min': -2.0}, 'polyak_sgd', {'f_min': -2.0}),
    _o('polyak_sgd', {'lr': 0.5, 'c': 0.25, 'max_lr': 0.3, 'f_min': -2.0, 'eps': 0.001, 'gap': 'positive'}, 'polyak_sgd', {'scaling': 0.5, 'max_learning_rate': 0.3, 'f_min': -2.0, 'eps': 0.001, 'variant': 'sps+'}),
    # issue 17 part A
    _o('lamb', {'lr': 0.01}, 'lamb', {'learning_rate': 0.01}),
    _o('lamb', {'lr': 0.01, 'beta1': 0.8, 'beta2': 0.99, 'eps': 1e-08, 'eps_root': 1e-10, 'direction_decay': 0.05}, 'lamb', {'learning_rate': 0.01, 'b1': 0.8, 'b2': 0.99, 'eps': 1e-08, 'eps_root': 1e-10, 'weight_decay': 0.05}),
    _k('lamb', {'lr': 0.01, 'eps': 1e-07}, 'Lamb', {'learning_rate': 0.01}),
    _k('lamb', {'lr': 0.01, 'eps': 1e-07, 'weight_decay': 0.05, 'decay': 'decoupled'}, 'Lamb', {'learning_rate': 0.01, 'weight_decay': 0.05}),
    _o('lars', {'lr': 0.1}, 'lars', {'learning_rate': 0.1}),
    _o('lars', {'lr': 0.1, 'momentum': 0.8, 'trust_coefficient': 0.02, 'eps': 0.001, 'nesterov': True, 'weight_decay': 0.01}, 'lars', {'learning_rate': 0.1, 'momentum': 0.8, 'trust_coefficient': 0.02, 'eps': 0.001, 'nesterov': True, 'weight_decay': 0.01}),
    _o('lars', {'lr': 0.1, 'trust_coefficient': 0.02, 'weight_decay': 0.01, 'weight_decay_mask': {'w': True, 'b': False}, 'trust_ratio_mask': {'w': False, 'b': True}}, 'lars', {'learning_rate': 0.1, 'trust_coefficient': 0.02, 'weight_decay': 0.01, 'weight_decay_mask': {'w': True, 'b': False}, 'trust_ratio_mask': {'w': False, 'b': True}}),
    _t('adafactor', {'lr': 0.01, 'eps1': _TORCH_FLOAT64_EPS, 'eps1_mode': 'clamp_estimate'}, 'Adafactor', {'lr': 0.01}),
    _t('adafactor', {'lr': 0.05, 'eps1': _TORCH_FLOAT64_EPS, 'eps1_mode': 'clamp_estimate', 'decay_exponent': 0.5, 'eps2': 0.01, 'clip_threshold': 1.2, 'weight_decay': 0.1, 'decay': 'decoupled', 'maximize': True}, 'Adafactor', {'lr': 0.05, 'beta2_decay': -0.5, 'eps': (None, 0.01), 'd': 1.2, 'weight_decay': 0.1, 'maximize': True}),
    _o('adafactor', {'lr': 0.01, 'relative_step': False, 'factored': 'two_largest', 'min_dim_size_to_factor': 128, 'beta2': beta2_in_float32}, 'adafactor', {'learning_rate': 0.01}),
    _o('adafactor', {'lr': 0.01, 'relative_step': False, 'factored': 'two_largest', 'min_dim_size_to_factor': 2, 'beta2': beta2_in_float32, 'clip_threshold': None, 'weight_decay': 0.01, 'decay': 'fixed'}, 'adafactor', {'learning_rate': 0.01, 'min_dim_size_to_factor': 2, 'clipping_threshold': None, 'weight_decay_rate': 0.01}),
    # Not rows (they hold only with the framework's narrowed intermediates removed; both sides
    # pinned in tests/test_layerwise.py and stated on the proof pages): keras.optimizers.Adafactor
    # = adafactor defaults and keras.optimizers.Muon = muon(buffer="sum", eps=1e-7,
    # shape_scale="max_dim", ...) differ by 1e-9..9e-9 because Keras reduces float64 in float32
    # on its non-TensorFlow backends (measured on JAX); torch.optim.Muon = muon(buffer="average",
    # norm_eps="floor", weight_decay=0.1) runs Newton–Schulz in bfloat16.
    _o('muon', {'lr': 0.02, 'buffer': 'average', 'bias_correction': True, 'eps': 1e-08, 'shape_scale': 'cols_over_rows', 'fallback': _rule('nadam', 0.02, eps=1e-08, momentum_decay=math.inf)}, 'contrib.muon', {'learning_rate': 0.02}),
    _o('muon', {'lr': 0.02, 'buffer': 'average', 'bias_correction': True, 'eps': 1e-08, 'shape_scale': 'max_dim', 'fallback': _rule('adam', 0.02, eps=1e-08), 'momentum': 0.9, 'nesterov': False, 'ns_steps': 4, 'weight_decay': 0.1, 'ns_coefficients': (2.0, -1.5, 0.5)}, 'contrib.muon', {'learning_rate': 0.02, 'beta': 0.9, 'nesterov': False, 'ns_steps': 4, 'weight_decay': 0.1, 'consistent_rms': 0.2, 'ns_coeffs': (2.0, -1.5, 0.5)}),
    _o('sm3', {'lr': 0.1}, 'sm3', {'learning_rate': 0.1}),
    _o('sm3', {'lr': 0.05, 'momentum': 0.5}, 'sm3', {'learning_rate': 0.05, 'momentum': 0.5}),
    _o('fromage', {'lr': 0.01}, 'fromage', {'learning_rate': 0.01}),
    _o('fromage', {'lr': 0.2, 'min_norm': 0.001}, 'fromage', {'learning_rate': 0.2, 'min_norm': 0.001}),
    # issue 17 part B
    _o('schedule_free_sgd', {'lr': 0.1}, 'contrib.schedule_free_sgd', {'learning_rate': 0.1}),
    _o('schedule_free_sgd', {'lr': 0.1, 'b1': 0.5, 'weight_decay': 0.01, 'weight_lr_power': 1.0}, 'contrib.schedule_free_sgd', {'learning_rate': 0.1, 'b1': 0.5, 'weight_decay': 0.01, 'weight_lr_power': 1.0}),
    _o('schedule_free_adamw', {'lr': 0.01}, 'contrib.schedule_free_adamw', {'learning_rate': 0.01}),
    _o('schedule_free_adamw', {'lr': 0.01, 'b1': 0.95, 'b2': 0.99, 'eps': 1e-06, 'weight_decay': 0.1}, 'contrib.schedule_free_adamw', {'learning_rate': 0.01, 'b1': 0.95, 'b2': 0.99, 'eps': 1e-06, 'weight_decay': 0.1}),
    _o('prodigy', {}, 'contrib.prodigy', {}),
    _o('prodigy', {'lr': 0.5, 'beta1': 0.8, 'beta2': 0.99, 'beta3': 0.9, 'd0': 0.001, 'd_coef': 0.5, 'weight_decay': 0.01, 'eps': 1e-06, 'safeguard_warmup': True}, 'contrib.prodigy', {'learning_rate': 0.5, 'betas': (0.8, 0.99), 'beta3': 0.9, 'estim_lr0': 0.001, 'estim_lr_coef': 0.5, 'weight_decay': 0.01, 'eps': 1e-06, 'safeguard_warmup': True}),
    _o('dadapt_adamw', {}, 'contrib.dadapt_adamw', {}),
    _o('dadapt_adamw', {'lr': 0.5, 'beta1': 0.8, 'beta2': 0.99, 'd0': 0.001, 'weight_decay': 0.01, 'eps': 1e-06}, 'contrib.dadapt_adamw', {'learning_rate': 0.5, 'betas': (0.8, 0.99), 'estim_lr0': 0.001, 'weight_decay': 0.01, 'eps': 1e-06}),
)

# Values diagnose() tries besides those in the rows above and the defaults: the switches
# (math-named, vendor-free) and a few common hyperparameters (β2 = 0.98, momentum 0.99, 0.5).
SEARCH_SPACE: dict[str, dict[str, tuple]] = {
    "sgd": {},
    "momentum": {"lr_in_buffer": (True, False), "buffer_init": ("zero", "first_grad"),
                 "momentum": (0.9, 0.99, 0.5)},
    "nag_reparameterised": {},
    "adagrad": {"eps_inside": (True, False), "eps": (1e-10, 1e-8, 1e-7)},
    "adadelta": {"rho": (0.9, 0.95), "eps": (1e-6, 1e-7, 1e-5)},
    "rmsprop": {"eps_inside": (True, False), "rho": (0.9, 0.99), "eps": (1e-8, 1e-7)},
    "adam": {"eps_hat": (False, True), "eps": (1e-8, 1e-7, 0.0), "eps_root": (0.0, 1e-8),
             "beta2": (0.999, 0.99, 0.98)},
    "adamax": {"eps_placement": ("max", "denominator"), "eps": (0.0, 1e-8, 1e-7)},
    "nadam": {"momentum_decay": (None, 0.004, 1.0, float("inf")), "eps": (1e-8, 1e-7)},
    "amsgrad": {"bias_correction": (False, True), "max_over": ("v", "v_hat")},
    "radam": {"threshold": (4.0, 5.0), "eps_hat": (False, True)},
    "adabelief": {"eps": (1e-16, 1e-8), "eps_root": (1e-16, 1e-10, 0.0)},
    "yogi": {"initial_momentum": (0.0, 1e-6), "initial_accumulator": (1e-6, 0.0)},
    "lion": {"weight_decay": (0.0, 1e-3), "beta1": (0.9, 0.95), "beta2": (0.99, 0.98)},
    "signum": {"momentum": (0.9, 0.0, 0.5)},
    "rprop": {"sign_change": ("backtrack", "skip"), "delayed": (False, True)},
    "ademamix": {"eps_root": (0.0, 1e-8)},
    "optimistic_gd": {"prev_init": ("first_grad", "zero")},
    "optimistic_adam": {"nesterov": (False, True), "prev_init": ("first_grad", "zero"),
                        "eps_root": (0.0, 1e-8)},
    "asgd": {},
    "adan": {"diff_scale": ("beta2", "one_minus_beta2"), "eps_root": (0.0, 1e-8)},
    "novograd": {"eps_root": (0.0, 1e-8)},
    "ftrl": {},
    "polyak_sgd": {"gap": ("signed", "positive")},
}

# Rules whose first update is not θ₀ + η·d₁ (FTRL's closed form is not linear in η; Rprop's
# delayed form does not move at t = 1): diagnose() searches their η over the table's values.
LR_SEARCHED: frozenset[str] = frozenset({"ftrl", "rprop"})


def rows(rule: str | None = None, framework: str | None = None) -> list[Convention]:
    """The table's rows, optionally for one rule and/or one framework."""
    return [c for c in CONVENTIONS if (rule is None or c.rule == rule)
            and (framework is None or c.framework == framework)]


def targets(rule: str) -> set[str]:
    """The framework optimizers a rule reproduces."""
    return {c.target for c in rows(rule)}


def format_call(name: str, kwargs: dict) -> str:
    """``name(k=v, ...)`` with Python literals, e.g. ``refopt.adam(lr=0.01, eps_hat=True)``."""
    return f"{name}({', '.join(f'{k}={_literal(v)}' for k, v in kwargs.items())})"


BEGIN, END = "<!-- conventions-table:begin (generated by python -m refopt.conventions) -->", \
    "<!-- conventions-table:end -->"


def markdown_table() -> str:
    """The README / docs table: one line per row, generated from :data:`CONVENTIONS`."""
    lines = ["| rule | refopt configuration | framework | equals |", "|---|---|---|---|"]
    for c in CONVENTIONS:
        ours = ", ".join(f"{k}={_literal(v)}" for k, v in c.refopt_kwargs.items()) or "defaults"
        note = f" ({c.note})" if c.note else ""
        lines.append(f"| `{c.rule}` | `{ours}` | {c.framework} | "
                     f"`{format_call(c.target, c.kwargs)}`{note} |")
    return "\n".join(lines) + "\n"


def generated_section(text: str) -> str:
    """The part of ``text`` between the BEGIN and END markers (ValueError when absent)."""
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < i:
        raise ValueError("text must contain the conventions-table markers")
    return text[i + len(BEGIN):j].strip("\n") + "\n"


def write_tables(*paths: str) -> None:
    """Rewrite the table between the markers of each file (README.md, docs/conventions.md)."""
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        old = generated_section(text)
        i = text.find(BEGIN) + len(BEGIN)
        j = text.find(END)
        new = text[:i] + "\n" + markdown_table() + text[j:]
        if old != markdown_table():
            with open(path, "w", encoding="utf-8") as f:
                f.write(new)


if __name__ == "__main__":
    write_tables("README.md", "docs/conventions.md")
