"""Array-namespace resolution: "array type in = array type out".

refopt never imports NumPy for the math. The namespace ``xp`` is inferred from the arrays a
function receives (through array-api-compat), so NumPy, CuPy and array-api-strict inputs all run
the same code. An explicit ``xp=`` overrides the inference.
"""

from __future__ import annotations

from typing import Any

import array_api_compat

from refopt import tree as _tree

#: types already seen to be arrays: a set lookup, not a probe (callers in loops test it first)
ARRAY_TYPES: set[type] = set()


def is_array(x: Any) -> bool:
    """True for an array of any array-API namespace (not for Python or NumPy scalars)."""
    if type(x) in ARRAY_TYPES:
        return True
    if array_api_compat.is_array_api_obj(x) and hasattr(x, "shape"):
        if not isinstance(x, (dict, list, tuple)):  # a container never joins the leaf fast path
            ARRAY_TYPES.add(type(x))
            _tree.LEAF_TYPES.add(type(x))
        return True
    return False


def array_module_name(x: Any) -> str:
    """Top-level module of an array's type: ``'numpy'``, ``'cupy'``, ``'array_api_strict'``..."""
    return type(x).__module__.split(".")[0]


def namespace(*trees: Any, xp: Any = None, names: tuple[str, ...] | None = None) -> Any:
    """Return the array namespace shared by every leaf of ``trees``.

    Raises ``TypeError`` if a leaf is not an array or leaves come from different namespaces, and
    ``ValueError`` if they live on different devices. ``names`` label the trees in messages.
    """
    names = names or tuple(f"argument {i}" for i in range(len(trees)))
    groups = []
    for name, t in zip(names, trees):
        leaves, treedef = _tree.flatten(t)
        groups.append((name, leaves, treedef))
    return namespace_of_leaves(tuple(groups), xp=xp)


def namespace_of_leaves(groups: tuple[tuple[str, list, Any], ...], xp: Any = None) -> Any:
    """:func:`namespace` for trees already flattened: ``(name, leaves, treedef)`` triples
    (``treedef`` None for a plain list of leaves, whose messages then give the position)."""
    arrays = []
    known = ARRAY_TYPES
    for name, leaves, treedef in groups:
        for i, leaf in enumerate(leaves):
            if type(leaf) not in known and not is_array(leaf):
                path = (_tree.leaf_paths(treedef)[i] if treedef is not None else f"[{i}]")
                raise TypeError(
                    f"{name}{'' if path == '<root>' else path} is {type(leaf).__name__}, "
                    "not an array: refopt pytree leaves must be arrays (NumPy, CuPy, "
                    "array-api-strict or another array-API namespace)")
            arrays.append(leaf)
    if xp is not None:
        return xp
    names = [name for name, _, _ in groups]
    if not arrays:
        raise ValueError(f"{', '.join(names)}: no array leaves to infer the namespace from")
    if len({type(a) for a in arrays}) > 1:
        kinds = sorted({array_module_name(a) for a in arrays})
        if len(kinds) > 1:
            raise TypeError(
                f"leaves of {', '.join(names)} come from different array namespaces {kinds}; "
                "convert them to one namespace first")
    if type(arrays[0]).__module__.split(".")[0] != "numpy":  # NumPy has one device
        devices = {str(array_api_compat.device(a)) for a in arrays}
        if len(devices) > 1:
            raise ValueError(
                f"leaves of {', '.join(names)} live on different devices {sorted(devices)}; "
                "move them to one device first")
    # one array per type decides the namespace as all of them would (types, devices checked)
    return array_api_compat.array_namespace(*{type(a): a for a in arrays}.values())


def device(x: Any) -> Any:
    return array_api_compat.device(x)
