"""Small pieces shared by the algorithm modules: validation and the rule description."""

from __future__ import annotations

from typing import Any

from refopt import base


def check_rule(name: str, rule: Any) -> base.Optimizer:
    """A refopt rule (``base.Optimizer``) or a TypeError naming the argument."""
    if not isinstance(rule, base.Optimizer):
        raise TypeError(f"{name} must be a refopt rule (refopt.base.Optimizer), got "
                        f"{type(rule).__name__}")
    extra = getattr(rule, "extra_args", frozenset())   # e.g. a look-ahead rule's grad_fn
    if extra:
        raise ValueError(f"{name} must be a rule whose update needs only (grads, state, params); this one "
                         f"also needs {sorted(extra)}")
    return rule


def check_period(name: str, value: Any) -> int:
    """A communication period: an int >= 1 (booleans are not integers)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def tree_sum(trees: list[Any]) -> Any:
    """t_1 + t_2 + … leaf by leaf, left to right (the rounding of the written sum)."""
    from refopt import treemath
    total = trees[0]
    for t in trees[1:]:
        total = treemath.add_scaled(total, 1.0, t)
    return total
