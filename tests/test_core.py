"""The core: pytrees, namespace resolution, schedules, validation, state files."""

from __future__ import annotations

import json
import math
from typing import NamedTuple

import numpy as np
import pytest

import refopt
from refopt import _xp, base, tree

from .helpers import assert_trees_equal


class Pair(NamedTuple):
    left: object
    right: object


def test_flatten_unflatten_round_trip_all_container_kinds():
    t = {"b": [np.ones(2), (np.zeros(1), Pair(np.ones(3), np.zeros(()))), 1.5], "a": np.arange(2.0)}
    leaves, td = tree.flatten(t)
    assert len(leaves) == 6
    back = tree.unflatten(td, leaves)
    assert isinstance(back["b"][1][1], Pair) and isinstance(back["b"][1], tuple)
    assert_trees_equal(back, t)
    assert str(td) == "{'a': *, 'b': [*, (*, Pair(left=*, right=*)), *]}"


def test_dict_key_order_does_not_change_structure():
    assert tree.structure({"a": 1, "b": 2}) == tree.structure({"b": 2, "a": 1})


def test_structure_mismatch_message_prints_both_structures():
    with pytest.raises(ValueError, match=r"params has structure \{'a': \*\} but grads has "
                                         r"structure \[\*, \*\]"):
        tree.assert_same_structure(("params", "grads"), ({"a": 1}, [1, 2]))


def test_map_with_several_outputs_transposes():
    a, b = tree.map(lambda x, y: (x + y, x - y), {"p": 1.0, "q": 2.0}, {"p": 3.0, "q": 5.0}, n_out=2)
    assert a == {"p": 4.0, "q": 7.0} and b == {"p": -2.0, "q": -3.0}


def test_leaf_paths_name_every_leaf():
    td = tree.structure({"w": [1, Pair(2, 3)]})
    assert tree.leaf_paths(td) == ["['w'][0]", "['w'][1].left", "['w'][1].right"]


def test_namespace_inference_and_errors():
    import array_api_strict as xs
    assert _xp.namespace({"a": np.ones(2)}).__name__.endswith("numpy")
    assert "array_api_strict" in _xp.namespace(xs.ones(2)).__name__
    with pytest.raises(TypeError, match=r"different array namespaces \['array_api_strict', 'numpy'\]"):
        _xp.namespace({"a": np.ones(2), "b": xs.ones(2)})
    with pytest.raises(TypeError, match=r"params\['a'\] is float, not an array"):
        _xp.namespace({"a": 1.0}, names=("params",))
    sentinel = object()
    assert _xp.namespace(np.ones(2), xp=sentinel) is sentinel


def test_leaves_on_different_devices_are_rejected():
    import array_api_strict as xs
    devices = list(xs.__array_namespace_info__().devices())
    if len(devices) < 2:
        pytest.skip("array-api-strict offers one device only")
    a = xs.ones(2, device=devices[0])
    b = xs.ones(2, device=devices[1])
    with pytest.raises(ValueError, match="different devices"):
        _xp.namespace([a, b])


@pytest.mark.parametrize("sched,t,expected", [
    (refopt.constant(0.3), 7, 0.3),
    (refopt.exponential_decay(1.0, 0.5), 1, 1.0),
    (refopt.exponential_decay(1.0, 0.5), 3, 0.25),
    (refopt.exponential_decay(1.0, 0.5, decay_steps=2), 3, 0.5),
    (refopt.step_decay(1.0, 0.1, step_size=3), 3, 1.0),
    (refopt.step_decay(1.0, 0.1, step_size=3), 4, 0.1),
    (refopt.inverse_time_decay(1.0, 0.5), 3, 0.5),
    (refopt.cosine_decay(1.0, 10), 1, 1.0),
    (refopt.cosine_decay(1.0, 10), 6, 0.5),
    (refopt.cosine_decay(1.0, 10, final=0.1), 50, 0.1),
    (refopt.warmup(1.0, 4), 1, 0.25),
    (refopt.warmup(refopt.exponential_decay(1.0, 0.5), 2), 2, 0.5),
])
def test_schedules_take_t_from_one(sched, t, expected):
    assert sched(t) == pytest.approx(expected, rel=1e-15, abs=1e-16)


@pytest.mark.parametrize("call,match", [
    (lambda: refopt.exponential_decay(1.0, 1.5), r"rate must be in \[0.0, 1.0\]"),
    (lambda: refopt.step_decay(1.0, 0.5, step_size=0), "step_size must be an integer >= 1"),
    (lambda: refopt.cosine_decay(-1.0, 10), "init must be in"),
    (lambda: refopt.sgd(lr=math.inf), "lr must be finite"),
    (lambda: refopt.constant(math.inf), "value must be finite"),
])
def test_schedule_arguments_are_validated(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_check_real_messages_name_argument_and_range():
    with pytest.raises(ValueError, match=r"beta1 must be in \[0.0, 1.0\), got 1.5"):
        base.check_beta("beta1", 1.5)
    with pytest.raises(TypeError, match="eps must be a real number"):
        base.check_real("eps", True)


def test_state_file_restores_types_dtypes_and_namespace(tmp_path):
    import array_api_strict as xs
    opt = refopt.nadam(lr=0.01, momentum_decay=0.004)
    params = {"w": xs.asarray(np.array([1.0, 2.0], dtype=np.float32))}
    _, state = opt.update({"w": xs.asarray(np.array([0.5, -1.0], dtype=np.float32))},
                          opt.init(params), params)
    refopt.save_state(tmp_path / "s.npz", state)
    back = refopt.load_state(tmp_path / "s.npz")
    assert type(back).__name__ == "NadamState" and back.t == 1
    assert back.mu_product == state.mu_product  # float repr round-trips exactly
    assert back.m["w"].dtype == xs.float32 and "array_api_strict" in type(back.m["w"]).__module__
    np.testing.assert_array_equal(np.asarray(back.v["w"]), np.asarray(state.v["w"]))


def test_state_file_is_safetensors_and_foreign_classes_need_like(tmp_path):
    import safetensors.numpy
    state = Pair(np.ones(2), {"t": 3, "x": [np.zeros(1), 2.5]})
    path = tmp_path / "s.ckpt"
    refopt.save_state(path, state)
    arrays = safetensors.numpy.load_file(path)  # plain tensors: nothing pickled
    assert sorted(arrays) == ["leaf_0", "leaf_1"]
    assert refopt.checkpoint_info(path)["format"] == "refopt-checkpoint"
    with pytest.raises(ValueError, match="not a registered refopt state class.*pass like="):
        refopt.load_state(path)
    back = refopt.load_state(path, like=state)
    assert isinstance(back, Pair)
    assert_trees_equal(back, state)


def test_state_file_rejects_other_files(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, __structure__=np.array(json.dumps({"format": "something"})))
    with pytest.raises(ValueError, match="not a valid refopt checkpoint"):
        refopt.load_state(path)


def test_update_never_mutates_inputs_even_for_numpy_views():
    params = {"w": np.arange(6.0).reshape(2, 3)[:, 1:]}  # a non-contiguous view
    snapshot = params["w"].copy()
    opt = refopt.adam(lr=0.1)
    state = opt.init(params)
    opt.update({"w": np.ones((2, 2))}, state, params)
    np.testing.assert_array_equal(params["w"], snapshot)
