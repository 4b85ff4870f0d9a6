"""Muon: momentum orthogonalised by a Newton–Schulz iteration, per matrix (Jordan et al. 2024)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, get_args

from refopt import base, rule
from refopt import tree as _tree
from refopt.optim.adam import adam
from refopt.optim.lars import Mask, leaf_mask

Buffer = Literal["average", "sum"]
NormEps = Literal["added", "floor"]
ShapeScale = Literal["rows_over_cols", "cols_over_rows", "max_dim", "none"]
JORDAN_COEFFICIENTS = (3.4445, -4.7750, 2.0315)   # Jordan et al. 2024; torch, optax and keras


@base.register_state
class MuonState(NamedTuple):
    """State of :func:`muon`: momentum for the matrix leaves (size 0 elsewhere) and the fallback
    rule's state over the list of the other leaves (None when there are none)."""

    t: int
    m: Any
    fallback: Any

    leaf_summaries = ("m",)      # a size-0 array at leaves the fallback rule updates
    sub_states = ("fallback",)   # checked by the fallback rule's own update


def rank_two_leaves(params: Any) -> Any:
    """The default ``muon_mask``: ``True`` for rank-2 leaves (the rule of all three frameworks)."""
    return _tree.map(lambda p: len(p.shape) == 2, params)


def newton_schulz(xp: Any, x: Any, coefficients: tuple[float, float, float], steps: int, eps: float,
                  norm_eps: NormEps = "added") -> Any:
    r"""X_0 = G/‖G‖_F, X_{k+1} = a X_k + (b A_k + c A_k²) X_k with A_k = X_k X_kᵀ, on the wide
    orientation of G (transposed back). Each singular value σ of X follows σ ↦ aσ + bσ³ + cσ⁵."""
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = xp.matrix_transpose(x)
    norm = float(xp.sqrt(xp.sum(x * x)))
    den = norm + eps if norm_eps == "added" else max(norm, eps)
    x = x / den if den > 0.0 else xp.zeros_like(x)   # a zero matrix with ε = 0: no step (0/0 policy)
    a, b, c = coefficients
    for _ in range(steps):
        gram = x @ xp.matrix_transpose(x)
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return xp.matrix_transpose(x) if tall else x


@base.rule_factory("muon", MuonState)
def muon(lr: Any = 0.02, momentum: float = 0.95, *, nesterov: bool = True, buffer: Buffer = "sum",
         bias_correction: bool = False, ns_coefficients: tuple[float, float, float] = JORDAN_COEFFICIENTS,
         ns_steps: int = 5, eps: float = 1e-7, norm_eps: NormEps = "added",
         shape_scale: ShapeScale = "rows_over_cols", rms_rate: float = 0.2, muon_mask: Mask = None,
         fallback: base.Optimizer | None = None, weight_decay: float = 0.0,
         decay: rule.Decay = "decoupled", maximize: bool = False) -> base.Optimizer:
    r"""Muon (Jordan et al. 2024) on the matrix leaves, ``fallback`` (Adam) on the others.

    .. math::
        B_t = \mu B_{t-1} + s\,G_t\ (s = 1 \text{ or } 1-\mu),\quad
        M_t = G_t + \mu B_t\ (\text{Nesterov; else } M_t = B_t),\quad
        \theta_t = \theta_{t-1} - \eta_t\,\kappa(m, n)\,\mathrm{NS}_K(M_t)

    with NS_K the quintic Newton–Schulz iteration of :func:`~refopt.optim.muon.newton_schulz`
    (K steps, from the Frobenius-normalised M_t) and κ the shape scale. NS_K(M) ≈ U Vᵀ for M = U Σ Vᵀ.

    **Conventions.** The table rows are ``optax.contrib.muon``'s; the switches: ``buffer``:
    ``"sum"`` B = μB + G (keras, Jordan's code) or ``"average"`` B = μB + (1−μ)G (torch, optax);
    Nesterov M = G + μB resp. (1−μ)G + μB. ``bias_correction`` (optax): B/(1−μ^t), and Nesterov
    μB/(1−μ^{t+1}) + (1−μ)G/(1−μ^t). ``norm_eps``: divide by ‖M‖_F + ε (optax ε = 1e−8, keras 1e−7)
    or max(‖M‖_F, ε) (torch, 1e−7). ``shape_scale`` for an m×n leaf: ``"rows_over_cols"`` √max(1,
    m/n) (Jordan; torch's default, weights stored out×in), ``"cols_over_rows"`` √max(1, n/m) (optax,
    weights stored in×out), ``"max_dim"`` ``rms_rate``·√max(m, n) (keras; torch ``match_rms_adamw``;
    optax ``consistent_rms``), ``"none"``. ``muon_mask`` selects the Muon leaves (default: rank 2,
    as all three); the rest go to ``fallback`` with its own lr and decay (default ``adam(lr)``;
    optax: NAdam-form ``nadam(momentum_decay=inf)``, keras: ``adam(eps_hat=True)``).
    ``weight_decay`` applies to the Muon leaves, decoupled with η_t as in all three.

    Args:
        lr: η_t, float or schedule. momentum: μ in [0, 1). nesterov: M = G + μB instead of B.
        buffer, bias_correction, norm_eps, eps, shape_scale, rms_rate: see Conventions.
        ns_coefficients: (a, b, c) of the odd polynomial aσ + bσ³ + cσ⁵. ns_steps: K ≥ 0.
        muon_mask: None (rank-2 leaves), a tree of bools or a callable ``params -> tree``.
        fallback: the rule for the other leaves (None: ``adam(lr)``).
        weight_decay, decay, maximize: the shared options of :mod:`refopt.rule` (decay applies
            to the Muon leaves; maximize to all).

    Example (a gradient with singular values 10, 1 and 0.1 gives an update whose singular values
    are all ≈ 0.7: five quintic steps equalise them without reaching 1, see the proof page):

    >>> import numpy as np, refopt
    >>> g = np.diag([10.0, 1.0, 0.1])
    >>> new, _ = refopt.muon(lr=1.0).update(g, refopt.muon().init(np.zeros((3, 3))), np.zeros((3, 3)))
    >>> np.round(np.linalg.svd(-new, compute_uv=False), 2)
    array([0.71, 0.7 , 0.7 ])

    References: Jordan et al., "Muon: An optimizer for hidden layers in neural networks" (2024,
    blog post and code; not peer-reviewed). Proof page: :ref:`rule-muon`.
    """
    lr_fn = base.as_schedule("lr", lr)
    mu = base.check_beta("momentum", momentum)
    base.check_bool("nesterov", nesterov)
    base.check_choice("buffer", buffer, get_args(Buffer))
    base.check_bool("bias_correction", bias_correction)
    if not (isinstance(ns_coefficients, tuple) and len(ns_coefficients) == 3):
        raise TypeError(f"ns_coefficients must be a tuple (a, b, c), got {ns_coefficients!r}")
    coeffs = tuple(base.check_real(f"ns_coefficients[{i}]", c) for i, c in enumerate(ns_coefficients))
    ns_steps = base.check_int("ns_steps", ns_steps, low=0)
    eps = base.check_real("eps", eps, low=0.0)
    base.check_choice("norm_eps", norm_eps, get_args(NormEps))
    base.check_choice("shape_scale", shape_scale, get_args(ShapeScale))
    rms_rate = base.check_real("rms_rate", rms_rate, low=0.0, low_open=True)
    if not (muon_mask is None or callable(muon_mask) or isinstance(muon_mask, (dict, list, tuple, bool))):
        raise TypeError(f"muon_mask must be None, a tree of bools or a callable, got {muon_mask!r}")
    if fallback is not None and not isinstance(fallback, base.Optimizer):
        raise TypeError(f"fallback must be a refopt Optimizer or None, got {fallback!r}")
    inner = adam(lr) if fallback is None else fallback
    if inner.extra_args:   # Muon calls the fallback's update with the gradients alone
        raise ValueError(f"fallback must need no extra update arguments, got {sorted(inner.extra_args)}")
    reg = rule.regularisation(weight_decay, decay, maximize)
    sign_only = rule.regularisation(0.0, "l2", reg.maximize)
    decay_only = rule.regularisation(reg.weight_decay, reg.decay, False)

    def is_muon(params: Any) -> list[bool]:
        return leaf_mask("muon_mask", rank_two_leaves if muon_mask is None else muon_mask, params)

    def init(params: Any) -> MuonState:
        xp = base.check_init_params(params)
        leaves, treedef = _tree.flatten(params)
        flags = is_muon(params)
        if any(f and len(p.shape) != 2 for f, p in zip(flags, leaves)):
            raise ValueError("muon_mask may select only rank-2 leaves (matrices)")
        m = [xp.zeros_like(p) if f else xp.zeros((0,), dtype=p.dtype) for f, p in zip(flags, leaves)]
        rest = [p for f, p in zip(flags, leaves) if not f]
        return MuonState(t=0, m=_tree.unflatten(treedef, m), fallback=inner.init(rest) if rest else None)

    def scale(shape: tuple[int, ...]) -> float:
        rows, cols = shape
        if rows == 0 or cols == 0:
            return 1.0   # an empty matrix: there is nothing to scale
        return {"rows_over_cols": max(1.0, rows / cols) ** 0.5,
                "cols_over_rows": max(1.0, cols / rows) ** 0.5,
                "max_dim": rms_rate * max(rows, cols) ** 0.5, "none": 1.0}[shape_scale]

    def update(grads: Any, state: MuonState, params: Any) -> tuple[Any, MuonState]:
        flags = is_muon(params)
        xp, t, lr_t, grads, params = rule.begin_step(grads, state, params, lr_fn, sign_only)
        base.check_leaf_summaries_like(state, init(params))
        s = (1.0 - mu) if buffer == "average" else 1.0

        def leaf(p, g, m, f):
            if not f:
                return p, m
            m = mu * m + s * g
            if not bias_correction:
                d = s * g + mu * m if nesterov else m
            elif nesterov:
                d = (mu / (1.0 - mu ** (t + 1))) * m + (s / (1.0 - mu ** t)) * g
            else:
                d = m / (1.0 - mu ** t)
            p = rule.decayed_param(decay_only, p, lr_t)
            step = newton_schulz(xp, d, coeffs, ns_steps, eps, norm_eps)
            return p - (lr_t * scale(tuple(p.shape))) * step, m

        leaves_p, treedef = _tree.flatten(params)
        flag_tree = _tree.unflatten(treedef, flags)
        new, m = _tree.map(leaf, params, grads, state.m, flag_tree, n_out=2)
        fallback_state = state.fallback
        if fallback_state is not None:
            rest_g = [g for f, g in zip(flags, _tree.leaves(grads)) if not f]
            rest_p = [p for f, p in zip(flags, leaves_p) if not f]
            rest_new, fallback_state = inner.update(rest_g, fallback_state, rest_p)
            it = iter(rest_new)
            new = _tree.unflatten(treedef, [x if f else next(it) for f, x in zip(flags, _tree.leaves(new))])
        return new, MuonState(t=t, m=m, fallback=fallback_state)

    return base.optimizer(init, update)
