"""A tiny pytree: nested dict / list / tuple / NamedTuple containers with array leaves.

refopt needs only four container kinds, so it carries its own twenty-line pytree instead of
depending on JAX or optree. Dicts are flattened in sorted-key order (as JAX does), so two dicts
with the same keys have the same structure whatever their insertion order.

Every function that combines several trees checks that their structures are equal and, if not,
raises a ``ValueError`` that prints both structures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

Tree = Any


class TreeDef(NamedTuple):
    """The structure of a pytree: a container kind, its keys or class, and child structures.

    ``kind`` is one of ``"leaf"``, ``"dict"``, ``"list"``, ``"tuple"``, ``"namedtuple"``.
    ``meta`` holds the sorted dict keys, or the NamedTuple class.
    """

    kind: str
    meta: Any
    children: tuple

    def __str__(self) -> str:
        if self.kind == "leaf":
            return "*"
        inner = [str(c) for c in self.children]
        if self.kind == "dict":
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.meta, inner)) + "}"
        if self.kind == "list":
            return "[" + ", ".join(inner) + "]"
        if self.kind == "namedtuple":
            fields = self.meta._fields
            return f"{self.meta.__name__}(" + ", ".join(
                f"{f}={v}" for f, v in zip(fields, inner)) + ")"
        return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"


_LEAF = TreeDef("leaf", None, ())


def is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def flatten(tree: Tree) -> tuple[list, TreeDef]:
    """Return ``(leaves, treedef)``; leaves in a fixed depth-first order."""
    leaves: list = []

    def walk(node):
        if isinstance(node, dict):
            keys = sorted(node)
            return TreeDef("dict", tuple(keys), tuple(walk(node[k]) for k in keys))
        if is_namedtuple(node):
            return TreeDef("namedtuple", type(node), tuple(walk(c) for c in node))
        if isinstance(node, tuple):
            return TreeDef("tuple", None, tuple(walk(c) for c in node))
        if isinstance(node, list):
            return TreeDef("list", None, tuple(walk(c) for c in node))
        leaves.append(node)
        return _LEAF

    treedef = walk(tree)
    return leaves, treedef


def unflatten(treedef: TreeDef, leaves: list) -> Tree:
    """Inverse of :func:`flatten`."""
    it = iter(leaves)

    def build(td: TreeDef):
        if td.kind == "leaf":
            return next(it)
        children = [build(c) for c in td.children]
        if td.kind == "dict":
            return dict(zip(td.meta, children))
        if td.kind == "namedtuple":
            return td.meta(*children)
        if td.kind == "tuple":
            return tuple(children)
        return children

    out = build(treedef)
    rest = list(it)
    if rest:
        raise ValueError(f"unflatten: {len(rest)} leaves left over for structure {treedef}")
    return out


def leaves(tree: Tree) -> list:
    return flatten(tree)[0]


def structure(tree: Tree) -> TreeDef:
    return flatten(tree)[1]


def leaf_paths(treedef: TreeDef) -> list[str]:
    """Readable paths such as ``['w'][0]`` for each leaf, for error messages."""
    paths: list[str] = []

    def walk(td: TreeDef, prefix: str):
        if td.kind == "leaf":
            paths.append(prefix or "<root>")
        elif td.kind == "dict":
            for k, c in zip(td.meta, td.children):
                walk(c, f"{prefix}[{k!r}]")
        elif td.kind == "namedtuple":
            for f, c in zip(td.meta._fields, td.children):
                walk(c, f"{prefix}.{f}")
        else:
            for i, c in enumerate(td.children):
                walk(c, f"{prefix}[{i}]")

    walk(treedef, "")
    return paths


def assert_same_structure(names: tuple[str, ...], trees: tuple[Tree, ...]) -> TreeDef:
    """Raise ``ValueError`` naming both structures unless all trees have one structure."""
    first = structure(trees[0])
    for name, tree in zip(names[1:], trees[1:]):
        other = structure(tree)
        if other != first:
            raise ValueError(
                f"pytree structure mismatch: {names[0]} has structure {first} "
                f"but {name} has structure {other}")
    return first


def map(fn: Callable, *trees: Tree, n_out: int | None = None,  # noqa: A001
        names: tuple[str, ...] | None = None) -> Tree:
    """Apply ``fn`` leaf-wise over trees of one structure.

    With ``n_out=k``, ``fn`` returns a k-tuple per leaf and ``map`` returns a k-tuple of trees
    (the transpose), which is how a per-leaf update returns new parameters and new state.
    """
    names = names or tuple(f"tree{i}" for i in range(len(trees)))
    treedef = assert_same_structure(names, trees)
    columns = [flatten(t)[0] for t in trees]
    results = [fn(*args) for args in zip(*columns)]
    if n_out is None:
        return unflatten(treedef, [_keep_array(r) for r in results])
    return tuple(unflatten(treedef, [_keep_array(r[i]) for r in results]) for i in range(n_out))


def _keep_array(x: Any) -> Any:
    """NumPy turns 0-d array arithmetic into NumPy scalars; a 0-d leaf stays a 0-d array.

    Every per-leaf rule result passes through here, so params and state keep their leaf type
    (and checkpoints round-trip 0-d leaves as arrays).
    """
    return np.asarray(x) if isinstance(x, np.generic) else x
