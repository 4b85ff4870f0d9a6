"""Checkpoints: save and restore optimizer state as one safetensors file, executing nothing.

A checkpoint is a `safetensors <https://huggingface.co/docs/safetensors>`_ file: every array
leaf is the tensor ``leaf_<i>``; the string→string metadata header holds

* ``format`` = ``"refopt-checkpoint"`` and ``version`` = ``"2"``;
* ``rule``: JSON ``{"name": ..., "config": {...}}`` of the optimizer that wrote it (or ``null``);
* ``sha256``: a checksum of the metadata and tensors (corruption is an error, not new values);
* ``tree``: JSON describing the containers, the Python scalars (``t``, Nadam's Π_t, written with
  ``repr`` precision so a resumed run equals an uninterrupted one bit for bit) and each array's
  namespace.

Loading never imports, resolves or calls a name read from the file: state classes come from
the allow-list :data:`refopt.base.STATE_CLASSES` (filled by ``@base.register_state``), array
namespaces from a fixed table of three names. Saving is atomic. See docs/checkpoints.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from typing import Any

import numpy as np
import safetensors.numpy as st

from refopt import _xp, base
from refopt import tree as _tree

FORMAT = "refopt-checkpoint"
VERSION = "2"
_MAX_DEPTH = 64  # containers nested deeper than any refopt state are refused, not recursed into


def _numpy_ns() -> Any:
    return np


def _cupy_ns() -> Any:
    import cupy  # a fixed name, never one read from a file
    return cupy


def _strict_ns() -> Any:
    import array_api_strict  # a fixed name, never one read from a file
    return array_api_strict


_NAMESPACES = {"numpy": _numpy_ns, "cupy": _cupy_ns, "array_api_strict": _strict_ns}


def _encode(node: Any, arrays: list) -> Any:
    if isinstance(node, dict):
        if not all(isinstance(k, str) for k in node):
            raise TypeError("state: only string dict keys can be saved")
        return {"kind": "dict", "items": {k: _encode(node[k], arrays) for k in node}}
    if _tree.is_namedtuple(node):
        return {"kind": "namedtuple", "class": type(node).__qualname__,
                "items": [_encode(c, arrays) for c in node]}
    if isinstance(node, (tuple, list)):
        return {"kind": type(node).__name__, "items": [_encode(c, arrays) for c in node]}
    if isinstance(node, bool) or node is None:
        return {"kind": "const", "value": node}
    if isinstance(node, int):
        return {"kind": "int", "value": int(node)}
    if isinstance(node, float):
        return {"kind": "float", "value": repr(float(node))}
    if _xp.is_array(node):
        module = _xp.array_module_name(node)
        if module not in _NAMESPACES:
            raise TypeError(f"state: cannot save an array of namespace {module!r}; "
                            f"checkpoints hold {sorted(_NAMESPACES)} arrays")
        arrays.append(_to_numpy(node))
        return {"kind": "array", "index": len(arrays) - 1, "module": module}
    raise TypeError(f"state: cannot save a leaf of type {type(node).__name__}")


def _to_numpy(a: Any) -> np.ndarray:
    host = a.get() if _xp.array_module_name(a) == "cupy" else np.asarray(a)
    if host.dtype.kind not in "biuf":  # never objects, strings or anything that needs pickling
        raise TypeError(f"state: cannot save an array of dtype {host.dtype}")
    return np.array(host, order="C", copy=True)  # (ascontiguousarray would make 0-d arrays 1-d)


def save_state(path: str | os.PathLike, state: Any, *, rule: Any = None) -> None:
    """Write ``state`` to ``path`` atomically; ``rule=`` (the optimizer) tags the checkpoint.

    The file is serialised completely in memory first, then written to a temporary file in the
    same directory, flushed, fsync'ed and renamed over ``path``: a failure at any point leaves
    the previous checkpoint intact. With ``rule=opt`` (an optimizer built by a refopt factory)
    its name and configuration are recorded, and :func:`load_state` with ``rule=`` refuses a
    checkpoint written by another rule or configuration.
    """
    tag = None
    if rule is not None:
        tag = base.rule_tag(rule)
        if tag is None:
            raise TypeError("rule must be an optimizer built by a refopt factory (it carries "
                            f"its name and configuration), got {type(rule).__name__}")
    arrays: list = []
    tree_doc = _encode(state, arrays)
    metadata = {"format": FORMAT, "version": VERSION, "tree": json.dumps(tree_doc),
                "rule": json.dumps(None if tag is None else {"name": tag.name, "config": tag.config})}
    tensors = {f"leaf_{i}": a for i, a in enumerate(arrays)}
    metadata["sha256"] = _digest(metadata, tensors)
    payload = st.save(tensors, metadata=metadata)
    _atomic_write(os.fspath(path), payload)


def _atomic_write(path: str, payload: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".refopt-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _digest(metadata: dict, tensors: dict) -> str:
    """SHA-256 of what the checkpoint means: the metadata entries and every tensor's name,
    dtype, shape and bytes. It detects corruption (a flipped bit, a hand edit) — an integrity
    check, not a signature: safety against hostile files comes from the allow-lists."""
    h = hashlib.sha256()
    for key in ("format", "version", "rule", "tree"):
        h.update(json.dumps([key, metadata.get(key)]).encode())
    for name in sorted(tensors):
        a = tensors[name]
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _bad(path: Any, why: str) -> ValueError:
    return ValueError(f"{path}: not a valid refopt checkpoint: {why}")


def _read(path: str | os.PathLike) -> tuple[dict, dict]:
    """(metadata, arrays) of a checkpoint; every malformation is a ValueError naming the file."""
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 8:
        raise _bad(path, f"{len(data)} bytes, too short for a safetensors header")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise _bad(path, "the header length exceeds the file (truncated?)")
    try:
        header = json.loads(data[8:8 + n])
    except (ValueError, UnicodeDecodeError) as err:
        raise _bad(path, f"the safetensors header is not JSON ({err})") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _bad(path, "no refopt metadata (format must be 'refopt-checkpoint'; files of "
                         "refopt < 0.2, .npz archives, are not read)")
    if meta.get("version") != VERSION:
        raise _bad(path, f"format version {meta.get('version')!r}; this refopt reads {VERSION!r}")
    try:
        arrays = st.load(data)
    except Exception as err:  # safetensors' own error type: truncated or inconsistent tensors
        raise _bad(path, f"the tensors cannot be read ({err})") from None
    if meta.get("sha256") != _digest(meta, arrays):
        raise _bad(path, "the checksum does not match its content (corrupted or edited)")
    return meta, arrays


def _json_field(path: Any, meta: dict, key: str) -> Any:
    try:
        return json.loads(meta[key])
    except KeyError:
        raise _bad(path, f"the metadata has no {key!r} entry") from None
    except (TypeError, ValueError, RecursionError) as err:
        raise _bad(path, f"the metadata entry {key!r} is not JSON ({err})") from None


def checkpoint_info(path: str | os.PathLike) -> dict:
    """``{"format", "version", "rule", "config"}`` of a checkpoint (rule/config None if untagged)."""
    return _info(path, _read(path)[0])


def _info(path: Any, meta: dict) -> dict:
    tag = _json_field(path, meta, "rule")
    if tag is not None and not (isinstance(tag, dict) and isinstance(tag.get("name"), str)
                                and isinstance(tag.get("config"), dict)):
        raise _bad(path, "the 'rule' entry must be null or {'name': str, 'config': {...}}")
    return {"format": meta["format"], "version": meta["version"],
            "rule": None if tag is None else tag["name"],
            "config": None if tag is None else tag["config"]}


def load_state(path: str | os.PathLike, *, rule: Any = None, like: Any = None,
               device: Any = None) -> Any:
    """Read a state written by :func:`save_state`.

    Arrays come back in the namespace they were saved from (NumPy, CuPy, array-api-strict), with
    their dtype and shape (0-d included); ``device=`` places them on a chosen device. State
    classes are re-created only from the allow-list of ``@register_state`` classes; ``like=``
    (a state of the same structure) supplies the containers instead, e.g. for your own
    NamedTuples. ``rule=opt`` refuses a checkpoint written by another rule or configuration.
    Every malformed or hostile file raises ``ValueError`` naming the file.
    """
    meta, host = _read(path)
    info = _info(path, meta)
    if rule is not None:
        _check_rule(path, info, rule)
    doc = _json_field(path, meta, "tree")
    used: set = set()

    def array(node: dict, where: str) -> Any:
        index, module = node.get("index"), node.get("module")
        if not (isinstance(index, int) and f"leaf_{index}" in host) or index in used:
            raise _bad(path, f"{where}: array index {index!r} is missing or used twice")
        if module not in _NAMESPACES:
            raise _bad(path, f"{where}: array namespace {module!r} is not one of {sorted(_NAMESPACES)}")
        used.add(index)
        xp = _NAMESPACES[module]()
        arr = host[f"leaf_{index}"]
        return xp.asarray(arr) if device is None else xp.asarray(arr, device=device)

    def decode(node: Any, where: str, depth: int, plain: bool) -> Any:
        if depth > _MAX_DEPTH or not isinstance(node, dict):
            raise _bad(path, f"{where}: malformed tree node {str(node)[:80]!r}")
        kind, items = node.get("kind"), node.get("items")
        if kind == "dict":
            if not isinstance(items, dict):
                raise _bad(path, f"{where}: dict items must be an object")
            return {k: decode(v, f"{where}[{k!r}]", depth + 1, plain) for k, v in items.items()}
        if kind in ("namedtuple", "tuple", "list"):
            if not isinstance(items, list):
                raise _bad(path, f"{where}: {kind} items must be a list")
            children = [decode(c, f"{where}[{i}]", depth + 1, plain) for i, c in enumerate(items)]
            if kind == "list" and not plain:
                return children
            if kind == "namedtuple" and not plain:
                return _state_class(path, node.get("class"), len(children), where)(*children)
            return tuple(children)
        value = node.get("value")
        if kind == "const" and (value is None or isinstance(value, bool)):
            return value
        if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind == "float" and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise _bad(path, f"{where}: {value[:40]!r} is not a float") from None
        if kind == "array":
            return array(node, where)
        raise _bad(path, f"{where}: malformed tree node {str(node)[:80]!r}")

    if like is None:
        return decode(doc, "<root>", 0, plain=False)
    leaves = _tree.leaves(decode(doc, "<root>", 0, plain=True))
    leaves_like, treedef = _tree.flatten(like)
    if len(leaves) != len(leaves_like):
        raise ValueError(f"{path}: the checkpoint has {len(leaves)} leaves but like= has "
                         f"{len(leaves_like)} (structure {treedef})")
    return _tree.unflatten(treedef, leaves)


def _state_class(path: Any, name: Any, n_items: int, where: str) -> type:
    cls = base.STATE_CLASSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise _bad(path, f"{where}: {str(name)[:80]!r} is not a registered refopt state class "
                         "(refopt.base.register_state); pass like= (a state of the same "
                         "structure) to load other containers")
    if n_items != len(cls._fields):
        raise _bad(path, f"{where}: {name} has {len(cls._fields)} fields, the file gives {n_items}")
    return cls


def _describe(name: str, config: dict) -> str:
    return f"{name}(" + ", ".join(f"{k}={v}" for k, v in config.items()) + ")"


def _check_rule(path: Any, info: dict, rule: Any) -> None:
    tag = base.rule_tag(rule)
    if tag is None:
        raise TypeError("rule must be an optimizer built by a refopt factory, got "
                        f"{type(rule).__name__}")
    if info["rule"] is None:
        raise ValueError(f"{path}: the checkpoint records no rule (saved without rule=), so it "
                         f"cannot be checked against {tag.name}")
    if info["rule"] != tag.name or info["config"] != tag.config:
        diff = sorted(k for k in set(info["config"]) | set(tag.config)
                      if info["config"].get(k) != tag.config.get(k))
        raise ValueError(f"{path}: the checkpoint was written by "
                         f"{_describe(info['rule'], info['config'])} but rule is "
                         f"{_describe(tag.name, tag.config)}"
                         + (f" (they differ in {diff})" if diff else ""))
