"""The kernel shared by every gradient rule: ``maximize`` and the three kinds of weight decay.

optim/, research/ and ode/ depend on this module, not on each other's private modules.

:ref:`spec-conventions`: ``maximize`` negates g first; then ``decay="l2"`` adds λθ to g (the gradient of
λ/2‖θ‖²), ``decay="decoupled"`` shrinks θ ← θ − ηλθ with the step's η (Loshchilov & Hutter's
AdamW, torch's AdamW), and ``decay="fixed"`` shrinks θ ← θ − λθ independently of η. Both shrinks
are applied before the rule's own step, which does not depend on θ, so "before" and "after" give
the same θ_t up to rounding.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, get_args

from refopt import base
from refopt import tree as _tree

Decay = Literal["l2", "decoupled", "fixed"]
DECAY_KINDS: tuple[str, ...] = get_args(Decay)


class Regularisation(NamedTuple):
    weight_decay: float  # λ ≥ 0
    decay: Decay         # "l2" | "decoupled" | "fixed"
    maximize: bool       # ascend instead of descend


def regularisation(weight_decay: float = 0.0, decay: Decay = "l2",
                   maximize: bool = False) -> Regularisation:
    """Validate the shared options of a gradient rule."""
    return Regularisation(
        base.check_real("weight_decay", weight_decay, low=0.0),
        base.check_choice("decay", decay, DECAY_KINDS),
        base.check_bool("maximize", maximize),
    )


def effective_grad(reg: Regularisation, grad: Any, param: Any) -> Any:
    """Per leaf: g ← −g if maximize; g ← g + λθ for L2 decay."""
    if reg.maximize:
        grad = -grad
    if reg.decay == "l2" and reg.weight_decay != 0.0:
        grad = grad + reg.weight_decay * param
    return grad


def decayed_param(reg: Regularisation, param: Any, lr: float) -> Any:
    """Per leaf: θ ← θ − ηλθ (decoupled) or θ ← θ − λθ (fixed); unchanged otherwise."""
    if reg.weight_decay == 0.0 or reg.decay == "l2":
        return param
    shrink = reg.weight_decay * (lr if reg.decay == "decoupled" else 1.0)
    return param - shrink * param


def prepare(reg: Regularisation, grads: Any, params: Any, lr: float) -> tuple[Any, Any]:
    """Apply :func:`effective_grad` and :func:`decayed_param` over whole trees.

    The L2 term uses θ_{t−1} (before any shrink), as torch and optax do.
    """
    grads = _tree.map(lambda g, p: effective_grad(reg, g, p), grads, params)
    params = _tree.map(lambda p: decayed_param(reg, p, lr), params)
    return grads, params


def begin_step(grads: Any, state: Any, params: Any, lr_fn: base.Schedule,
               reg: Regularisation) -> tuple[Any, int, float, Any, Any]:
    """The common opening of every ``update``: validate, advance t, evaluate η_t, regularise.

    Returns ``(xp, t, lr_t, grads, params)`` with ``t`` the index of this update (1 on the
    first) and grads/params after ``maximize`` and weight decay.
    """
    xp = base.check_update_args(grads, state, params)
    t = state.t + 1
    lr = lr_fn(t)
    grads, params = prepare(reg, grads, params, lr)
    return xp, t, lr, grads, params


def begin(grads: Any, state: Any, params: Any, lr_fn: base.Schedule) -> tuple[Any, int, float]:
    """:func:`begin_step` without the regularisation, for rules whose per-leaf function is a
    :func:`leafwise` kernel (which applies ``maximize`` and weight decay inside the leaf).

    Returns ``(xp, t, lr_t)``.
    """
    xp = base.check_update_args(grads, state, params)
    t = state.t + 1
    return xp, t, lr_fn(t)


def leafwise(leaf: Any, reg: Regularisation, n_out: int, name: str) -> Any:
    """A :class:`refopt.elementwise.Kernel` of ``leaf`` preceded by the regularisation.

    ``leaf(xp, p, g, *state_leaves, lr_t, **scalars)`` sees g after ``maximize`` and L2 decay
    and θ after decoupled / fixed decay with η = ``lr_t`` — per leaf, the same operations in
    the same order as :func:`prepare` applies over whole trees, so fusing them into the rule's
    kernel changes no bit.
    """
    from refopt.elementwise import Kernel

    def regularised(xp: Any, p: Any, g: Any, *rest: Any, lr_t: float, **scalars: Any) -> Any:
        g = effective_grad(reg, g, p)
        p = decayed_param(reg, p, lr_t)
        return leaf(xp, p, g, *rest, lr_t=lr_t, **scalars)

    # under donation: new θ into θ's buffer, new state leaf k into state leaf k's (never g's)
    return Kernel(regularised, n_out, name, donate=(0, *range(2, n_out + 1)))


def safe_divide(xp: Any, num: Any, den: Any, *, floor: float = 0.0) -> Any:
    """Per leaf: num / den, and 0 — no step — where den is exactly 0.

    The one 0/0 policy of every adaptive rule (the convention of the regret theorems, which
    take ε = 0 and sum only over coordinates that have seen a gradient): a coordinate whose
    denominator is exactly 0 has had only zero gradients (or their squares underflowed), and
    it does not move. Computed without a NaN or a floating-point warning; where den ≠ 0 the
    result is num / den bit for bit. torch.optim and optax with ε = 0 give NaN there instead.

    ``floor=ε`` is the caller's statement that den = (a non-negative quantity) + ε, or the root
    of one (√v + ε, √(v + ε)). If ε is still > 0 once rounded to den's dtype, den ≥ that ε > 0
    (rounding is monotone), so the plain quotient is the same result bit for bit, in four fewer
    array operations; an ε that rounds to 0 (1e-46 in float32) keeps the guard.
    """
    if floor > 0.0 and _positive_in(den.dtype, floor):
        return num / den
    zero = den == 0
    return xp.where(zero, xp.zeros_like(den), num / xp.where(zero, xp.ones_like(den), den))


_POSITIVE: dict[tuple[str, float], bool] = {}


def _positive_in(dtype: Any, value: float) -> bool:
    """Whether ``value`` is still > 0 when rounded to ``dtype`` (False if the dtype is unknown)."""
    key = (str(dtype), value)
    if key not in _POSITIVE:
        import numpy as np
        try:
            _POSITIVE[key] = bool(np.asarray(value, dtype=np.dtype(key[0].rsplit(".", 1)[-1])) > 0)
        except TypeError:  # a dtype NumPy does not know (e.g. bfloat16 without ml_dtypes)
            _POSITIVE[key] = False
    return _POSITIVE[key]


# ---------------------------------------------------------------------------------------------
# gradient transforms: wrappers that rewrite g before the wrapped rule sees it


def check_inner(inner: Any) -> Any:
    """The wrapped rule of a wrapper must be a refopt Optimizer (TypeError otherwise)."""
    if not isinstance(inner, base.Optimizer):
        raise TypeError(f"inner must be a refopt Optimizer, got {type(inner).__name__}")
    return inner


def gradient_transform(inner: Any, transform: Any) -> Any:
    """``inner`` fed with ``transform(grads, params)`` instead of ``grads``; no state of its own.

    The composition order is the order of the calls: ``a(b(rule))`` applies ``a`` to g first,
    then ``b``, then the rule — optax's ``chain(a, b, rule)``. For a rule that declares
    ``grad_fn`` (grads is ``None``), the transform is applied to every gradient it asks for, at
    the point where it was taken. Rules that sample their own gradients from an ``objective``
    cannot be wrapped: there is no gradient to transform.
    """
    check_inner(inner)
    if "objective" in inner.extra_args:
        raise ValueError("inner takes an objective and forms its own gradients; a gradient "
                         "transform needs a rule that takes grads or grad_fn")

    def update(grads: Any, state: Any, params: Any, **oracles: Any) -> tuple[Any, Any]:
        if grads is None and "grad_fn" in oracles:
            grad_fn = oracles["grad_fn"]
            oracles = {**oracles, "grad_fn": lambda p: transform(grad_fn(p), p)}
        else:
            base.check_update_args(grads, state, params)
            grads = transform(grads, params)
        return inner.update(grads, state, params, **oracles)

    return base.optimizer(inner.init, update, inner.extra_args)  # state is inner's own
