"""Checked access to a finite-sum objective: Big Batch SGD trusts no output it did not compute.

A per-example gradient of the wrong shape would be broadcast into the parameters ((3, 1) rows
for a (3,) leaf turn the step into a (3, 3, 3) array), a float32 one would silently change the
parameters' dtype, and a foreign namespace would mix libraries; each is refused here with the
method, the leaf and what was expected (TypeError for a wrong namespace or dtype, ValueError
for a wrong shape or tree).
"""

from __future__ import annotations

import numbers
from typing import Any

from refopt import _xp
from refopt import tree as _tree


def _describe(leaf: Any) -> str:
    return f"{_xp.array_module_name(leaf)} {leaf.dtype} {tuple(leaf.shape)}"


class CheckedFiniteSum:
    """Wraps ``objective`` for the parameters ``params``; every output is checked against them."""

    def __init__(self, objective: Any, params: Any):
        n = getattr(objective, "n_examples", None)
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"objective.n_examples must be an integer >= 1, got {n!r}")
        self.objective, self.n_examples = objective, int(n)
        self.leaves, self.treedef = _tree.flatten(params)
        self.paths = _tree.leaf_paths(self.treedef)

    def _check_tree(self, method: str, out: Any, leading: int | None) -> Any:
        leaves, treedef = _tree.flatten(out)
        if treedef != self.treedef:
            raise ValueError(f"objective.{method} returned a tree whose structure differs from "
                             f"the parameters': {treedef} vs {self.treedef}")
        for path, got, ref in zip(self.paths, leaves, self.leaves):
            shape = tuple(ref.shape) if leading is None else (leading, *ref.shape)
            # namespace before dtype: dtypes of two libraries must not be compared
            wrong_type = (not _xp.is_array(got) or _xp.array_module_name(got) != _xp.array_module_name(ref)
                          or got.dtype != ref.dtype)
            if wrong_type or tuple(got.shape) != shape:
                kind = _describe(got) if _xp.is_array(got) else type(got).__name__
                raise (TypeError if wrong_type else ValueError)(
                    f"objective.{method} leaf {path} is {kind}; expected "
                    f"{_xp.array_module_name(ref)} {ref.dtype} {shape} (the parameters' "
                    "namespace and dtype, " + ("their shape)" if leading is None else
                                                "a leading axis of one row per example)"))
        return out

    def example_grads(self, params: Any, idx: Any) -> Any:
        return self._check_tree("example_grads", self.objective.example_grads(params, idx), len(idx))

    def batch_grad(self, params: Any, idx: Any) -> Any:
        return self._check_tree("batch_grad", self.objective.batch_grad(params, idx), None)

    def example_grad_sq_norms(self, params: Any, idx: Any) -> Any:
        out = self.objective.example_grad_sq_norms(params, idx)
        if not _xp.is_array(out) or tuple(out.shape) != (len(idx),):
            raise ValueError(f"objective.example_grad_sq_norms must return an array of shape "
                             f"({len(idx)},), got {_describe(out) if _xp.is_array(out) else out!r}")
        return out

    def batch_value(self, params: Any, idx: Any) -> float:
        out = self.objective.batch_value(params, idx)
        if _xp.is_array(out) and tuple(out.shape) != ():
            raise ValueError(f"objective.batch_value must return a scalar, got {_describe(out)}")
        return float(out)
