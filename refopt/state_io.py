"""Save and restore optimizer state without pickling code.

The file is an ``.npz`` archive: every array leaf as ``leaf_<i>`` and one JSON document
``__structure__`` describing the containers, the Python scalars (``t``, Nadam's Π_t) and each
leaf's array module. Only NamedTuple classes defined inside ``refopt`` are re-created by name;
for any other container class pass ``like=`` (a state of the same structure). Floats are written
with ``repr`` precision, so a resumed run equals an uninterrupted one bit for bit.
"""

from __future__ import annotations

import importlib
import json
import os
from typing import Any

import numpy as np

from refopt import _xp
from refopt import tree as _tree

_FORMAT = "refopt-state-1"


def _encode(node: Any, arrays: list) -> Any:
    if isinstance(node, dict):
        keys = list(node)
        if not all(isinstance(k, str) for k in keys):
            raise TypeError("state: only string dict keys can be saved")
        return {"kind": "dict", "items": {k: _encode(node[k], arrays) for k in keys}}
    if _tree.is_namedtuple(node):
        cls = type(node)
        return {"kind": "namedtuple", "class": f"{cls.__module__}:{cls.__qualname__}",
                "items": [_encode(c, arrays) for c in node]}
    if isinstance(node, (tuple, list)):
        return {"kind": type(node).__name__, "items": [_encode(c, arrays) for c in node]}
    if isinstance(node, bool) or node is None:
        return {"kind": "const", "value": node}
    if isinstance(node, int):
        return {"kind": "int", "value": node}
    if isinstance(node, float):
        return {"kind": "float", "value": repr(node)}
    if _xp.is_array(node):
        arrays.append(node)
        return {"kind": "array", "index": len(arrays) - 1,
                "module": _xp.array_module_name(node)}
    raise TypeError(f"state: cannot save a leaf of type {type(node).__name__}")


def save_state(path: str | os.PathLike, state: Any) -> None:
    """Write ``state`` (any refopt state, or a pytree of arrays and Python scalars) to ``path``."""
    arrays: list = []
    doc = {"format": _FORMAT, "tree": _encode(state, arrays)}
    payload = {f"leaf_{i}": _to_numpy(a) for i, a in enumerate(arrays)}
    payload["__structure__"] = np.array(json.dumps(doc))
    with open(path, "wb") as fh:
        np.savez(fh, **payload)


def _to_numpy(a: Any) -> np.ndarray:
    if _xp.array_module_name(a) == "cupy":
        return a.get()
    return np.asarray(a)


def _refopt_class(qualified: str) -> type:
    module_name, _, qualname = qualified.partition(":")
    if module_name.split(".")[0] != "refopt":
        raise ValueError(
            f"state file names the class {qualified!r}, which is not part of refopt; "
            "pass like= (a state of the same structure) to load it")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def load_state(path: str | os.PathLike, *, like: Any = None, device: Any = None) -> Any:
    """Read a state written by :func:`save_state`.

    Arrays come back in the array module they were saved from (NumPy, CuPy, array-api-strict),
    with their dtype and shape; ``device=`` places them on a chosen device. With ``like=`` the
    containers are taken from ``like`` (its leaves are ignored), which also allows user-defined
    NamedTuples.
    """
    with np.load(path, allow_pickle=False) as data:
        doc = json.loads(str(data["__structure__"]))
        if doc.get("format") != _FORMAT:
            raise ValueError(f"{path}: not a refopt state file (format {doc.get('format')!r})")
        host = {k: data[k] for k in data.files if k != "__structure__"}

    def decode(node: dict) -> Any:
        kind = node["kind"]
        if kind == "dict":
            return {k: decode(v) for k, v in node["items"].items()}
        if kind == "namedtuple":
            return _refopt_class(node["class"])(*[decode(c) for c in node["items"]])
        if kind in ("tuple", "list"):
            items = [decode(c) for c in node["items"]]
            return tuple(items) if kind == "tuple" else items
        if kind in ("const", "int"):
            return node["value"]
        if kind == "float":
            return float(node["value"])
        module = importlib.import_module(node["module"])
        arr = host[f"leaf_{node['index']}"]
        return module.asarray(arr) if device is None else module.asarray(arr, device=device)

    if like is None:
        return decode(doc["tree"])
    # decode with placeholders for foreign classes, then pour the leaves into like's structure
    plain = _decode_plain(doc["tree"], decode)
    _, treedef = _tree.flatten(like)
    return _tree.unflatten(treedef, _tree.leaves(plain))


def _decode_plain(node: dict, decode: Any) -> Any:
    if node["kind"] == "namedtuple":
        return tuple(_decode_plain(c, decode) for c in node["items"])
    if node["kind"] in ("tuple", "list"):
        return tuple(_decode_plain(c, decode) for c in node["items"])
    if node["kind"] == "dict":
        return {k: _decode_plain(v, decode) for k, v in node["items"].items()}
    return decode(node)
