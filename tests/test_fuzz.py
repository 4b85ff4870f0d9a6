"""Fuzz the public API the way a careless or hostile user would, for every rule in the registry.

Four categories — bad hyperparameters, bad arrays, misused states, corrupted or hostile
checkpoint files — and one verdict per case: either a clear error (``TypeError``/``ValueError``
whose message names the argument or the file) or correct behaviour (finite parameters of the
right shape, dtype and namespace; a loaded checkpoint equal to what was saved). Inputs are
never mutated, and a rejected call leaves the state as it was.

Every case is counted by category and verdict; ``REFOPT_FUZZ_REPORT=path`` writes the table
as JSON at the end of the module (the README's figures come from such a run).
"""

from __future__ import annotations

import inspect
import json
import math
import os
import struct
import tempfile
from collections import Counter

import array_api_strict as xs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import refopt
from refopt import tree
from refopt.registry import SPECS
from tests.helpers import assert_trees_equal, describe, run, step, tree_from_numpy, tree_to_numpy

COUNTS: Counter = Counter()
NAMES = sorted(SPECS)


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    out = os.environ.get("REFOPT_FUZZ_REPORT")
    if out:
        table: dict = {}
        for (category, verdict), n in sorted(COUNTS.items()):
            table.setdefault(category, {})[verdict] = n
        with open(out, "w") as fh:
            json.dump(table, fh, indent=1, sort_keys=True)


def _grad(p):
    return tree.map(lambda a: 2.0 * a - 0.5, p)


def _finite(t) -> bool:
    return all(bool(np.all(np.isfinite(np.asarray(a)))) for a in tree.leaves(tree_to_numpy(t))
               if hasattr(a, "shape"))


def _expect_clear(category: str, err: Exception, *names: str) -> None:
    assert isinstance(err, (TypeError, ValueError)), f"{type(err).__name__}: {err}"
    assert any(n in str(err) for n in names), f"message does not name {names}: {err}"
    COUNTS[category, "rejected"] += 1


# --- hyperparameters -----------------------------------------------------------------------

HOSTILE = [math.nan, math.inf, -math.inf, -1.0, -1, 1.5, True, "fast", None, 1j, [0.1],
           object()]


def _arguments(spec) -> dict:
    """Keyword arguments of the rule's factory with their defaults (registry keys if opaque)."""
    params = inspect.signature(spec.factory).parameters
    found = {n: p.default for n, p in params.items()
             if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.default is not p.empty}
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        for cfg in spec.configs + tuple(i.kwargs for i in spec.invalid):
            for k in cfg:
                found.setdefault(k, cfg[k])
    return found


def _hostile_cases():
    for name in NAMES:
        for arg, default in sorted(_arguments(SPECS[name]).items()):
            for value in HOSTILE:
                if isinstance(default, bool) and isinstance(value, bool):
                    value = int(value)  # True is valid for a flag; 1 is not
                if value is None and default is None:
                    continue
                yield name, arg, value


HYPER = list(_hostile_cases())


@pytest.mark.parametrize("name,arg,value", HYPER, ids=[f"{n}-{a}-{describe(v)}" for n, a, v in HYPER])
def test_bad_hyperparameters_are_rejected_by_name_or_run_finitely(name, arg, value):
    spec = SPECS[name]
    cfg = {**spec.configs[0], arg: value}
    try:
        opt = spec.build(**cfg)
    except Exception as err:  # noqa: BLE001 — the verdict is on the class and message
        _expect_clear("hyperparameters", err, arg)
        return
    p0 = {"w": np.array([0.5, -1.0, 2.0])}
    try:
        params, state = run(opt, spec, _grad, p0, steps=3)
    except Exception as err:  # noqa: BLE001
        _expect_clear("hyperparameters", err, arg)  # refused at update (e.g. a schedule value)
        return
    assert _finite(params) and _finite(state), f"{name}({arg}={value!r}) gave non-finite values"
    COUNTS["hyperparameters", "handled"] += 1


# --- arrays ----------------------------------------------------------------------------------

ARRAY_KINDS = ["int", "zero_d", "empty", "read_only", "negative_strides", "mixed_namespace",
               "missing_leaf", "extra_leaf", "float32_grads", "bool", "python_float"]


@given(data=st.data())
@pytest.mark.parametrize("name", NAMES)
def test_bad_arrays_are_rejected_or_handled(name, data):
    spec = SPECS[name]
    opt = spec.build(**spec.configs[0])
    kind = data.draw(st.sampled_from(ARRAY_KINDS), label="kind")
    n = data.draw(st.integers(1, 5), label="n")
    values = np.asarray(data.draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    params = {"w": values.copy(), "b": np.array(0.25)}
    grads = None
    if kind == "int":
        params["w"] = np.arange(n)
    elif kind == "bool":
        params["w"] = values > 0
    elif kind == "python_float":
        params["b"] = 0.25
    elif kind == "zero_d":
        params = np.array(float(values[0]))
    elif kind == "empty":
        params["w"] = np.zeros((0, n))
    elif kind == "read_only":
        params["w"].setflags(write=False)
    elif kind == "negative_strides":
        params["w"] = np.concatenate([values, values])[::-2]
    elif kind == "mixed_namespace":
        grads = {"w": xs.asarray(values), "b": xs.asarray(0.25)}
    elif kind == "missing_leaf":
        grads = {"w": values}
    elif kind == "extra_leaf":
        grads = {"w": values, "b": np.array(0.25), "c": np.ones(1)}
    elif kind == "float32_grads":
        grads = {"w": values.astype(np.float32), "b": np.array(0.25)}
    snapshot = tree_to_numpy(params), tree_to_numpy(grads) if grads is not None else None
    try:
        state = opt.init(params)
        state_snapshot = tree_to_numpy(state)
        if grads is None:
            new_params, new_state = run(opt, spec, _grad, params, steps=2, state=state)
        else:
            new_params, new_state = _update_with(opt, spec, grads, state, params)
    except Exception as err:  # noqa: BLE001
        _expect_clear("arrays", err, "params", "grads", "state", "namespace", "structure",
                      "dtype", "shape")
        assert_trees_equal(tree_to_numpy(params), snapshot[0])
        if "state_snapshot" in locals():
            assert_trees_equal(tree_to_numpy(state), state_snapshot)
        return
    assert kind in ("zero_d", "empty", "read_only", "negative_strides"), f"{kind} was accepted"
    assert_trees_equal(tree_to_numpy(params), snapshot[0])  # inputs never mutated
    assert tree.structure(new_params) == tree.structure(params)
    for a, b in zip(tree.leaves(new_params), tree.leaves(params)):
        assert type(a) is np.ndarray and a.shape == b.shape and a.dtype == b.dtype
    assert _finite(new_params) and _finite(new_state)
    if kind == "negative_strides":  # a strided view gives the same run as its contiguous copy
        contiguous = {"w": np.ascontiguousarray(params["w"]), "b": params["b"]}
        assert_trees_equal(run(opt, spec, _grad, contiguous, steps=2), (new_params, new_state))
    COUNTS["arrays", "handled"] += 1


def _update_with(opt, spec, grads, state, params):
    """One update with the given (bad) grads, through whichever oracle the rule declares."""
    if "objective" in spec.needs or "grad_fn" in spec.needs:
        return step(opt, spec, lambda p: grads, state, params)
    return opt.update(grads, state, params)


# --- states ----------------------------------------------------------------------------------

STATE_KINDS = ["other_rule", "other_shape", "other_dtype", "other_tree", "other_namespace", "not_a_state"]


@given(data=st.data())
@pytest.mark.parametrize("name", NAMES)
def test_misused_states_are_rejected_and_left_unchanged(name, data):
    spec = SPECS[name]
    opt = spec.build(**spec.configs[0])
    kind = data.draw(st.sampled_from(STATE_KINDS), label="kind")
    n = data.draw(st.integers(1, 4), label="n")
    params = {"w": np.linspace(-1.0, 1.0, n), "b": np.array(0.5)}
    if kind == "other_rule":
        other = SPECS[data.draw(st.sampled_from([m for m in NAMES if m != name]), label="other")]
        state = other.build(**other.configs[0]).init(params)
    elif kind == "other_shape":
        state = opt.init({"w": np.zeros(n + 1), "b": np.array(0.0)})
    elif kind == "other_dtype":
        state = opt.init({"w": np.zeros(n, np.float32), "b": np.zeros((), np.float32)})
    elif kind == "other_tree":
        state = opt.init({"w": np.zeros(n)})
    elif kind == "other_namespace":
        state = opt.init(tree_from_numpy(xs, params))
    else:
        state = data.draw(st.sampled_from([None, 0, (), {"t": 0}]), label="state")
    before = tree_to_numpy(state)
    try:
        step(opt, spec, _grad, state, params)
    except Exception as err:  # noqa: BLE001
        _expect_clear("states", err, "state")
        assert_trees_equal(tree_to_numpy(state), before)
        return
    # what may pass: a state with no arrays at all (sgd, the Runge–Kutta rules keep only t), or
    # a state of the rule's own class from a sibling rule (the RK family; nag's two forms)
    own = type(state) is type(opt.init(params))
    no_arrays = not any(hasattr(a, "shape") for a in tree.leaves(state))
    assert own and (no_arrays or kind == "other_rule"), f"{kind} state accepted by {name}"
    COUNTS["states", "handled"] += 1


# --- checkpoints ----------------------------------------------------------------------------

HOSTILE_CLASSES = ["os.system", "refopt.state_io:os.system", "builtins:eval", "Optimizer",
                   "RuleTag", "subprocess.Popen", "__import__", "AdamState.__class__"]


def _checkpoint(name: str, directory: str) -> tuple[str, object, object]:
    spec = SPECS[name]
    opt = spec.build(**spec.configs[0])
    _, state = run(opt, spec, _grad, {"w": np.linspace(-1.0, 1.0, 3), "b": np.array(0.5)}, steps=2)
    path = os.path.join(directory, "s.ckpt")
    refopt.save_state(path, state, rule=opt)
    return path, opt, state


def _load_verdict(path, state, opt, hostile: bool = False) -> None:
    try:
        loaded = refopt.load_state(path, rule=opt)
    except ValueError as err:  # malformed, or a rule tag that does not match opt
        assert str(err).startswith(f"{path}: ") and "checkpoint" in str(err), str(err)
        COUNTS["checkpoints", "rejected"] += 1
        return
    assert not hostile, "a hostile checkpoint was loaded"
    assert_trees_equal(loaded, state)  # an edit that changes nothing (e.g. JSON whitespace)
    COUNTS["checkpoints", "handled"] += 1


@given(data=st.data())
@pytest.mark.parametrize("name", NAMES)
def test_corrupted_and_hostile_checkpoints_raise_a_clear_error(name, data):
    calls = []
    with pytest.MonkeyPatch.context() as mp, tempfile.TemporaryDirectory() as d:
        mp.setattr(os, "system", lambda *a: calls.append(a))
        path, opt, state = _checkpoint(name, d)
        raw = open(path, "rb").read()
        kind = data.draw(st.sampled_from(["flip", "truncate", "garbage", "class", "metadata"]))
        if kind == "flip":
            i = data.draw(st.integers(0, len(raw) - 1))
            raw = raw[:i] + bytes([raw[i] ^ data.draw(st.integers(1, 255))]) + raw[i + 1:]
        elif kind == "truncate":
            raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
        elif kind == "garbage":
            raw = data.draw(st.binary(max_size=200))
        else:
            (n,) = struct.unpack("<Q", raw[:8])
            header = json.loads(raw[8:8 + n])
            meta = header["__metadata__"]
            if kind == "class":
                doc = json.loads(meta["tree"])
                doc["class"] = data.draw(st.sampled_from(HOSTILE_CLASSES) | st.text(max_size=20))
                meta["tree"] = json.dumps(doc)
            else:
                key = data.draw(st.sampled_from(["format", "version", "rule", "tree"]))
                meta[key] = data.draw(st.sampled_from(["", "null", "{}", "[]", "1", '"x"']) | st.text(max_size=20))
            import safetensors.numpy
            meta["sha256"] = refopt.state_io._digest(meta, safetensors.numpy.load(raw))  # a forger
            body = json.dumps(header).encode()
            raw = struct.pack("<Q", len(body)) + body + raw[8 + n:]
        with open(path, "wb") as fh:
            fh.write(raw)
        _load_verdict(path, state, opt, hostile=kind == "class")
    assert calls == []
