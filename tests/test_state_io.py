"""Checkpoint promises of :func:`refopt.save_state` / :func:`refopt.load_state` (issue 18).

Each test pins one documented promise that a plausible implementation mistake breaks: types
round-trip exactly (a ``bool`` stays a ``bool``), the checksum covers the recorded rule, a
checkpoint of another configuration of the same rule is refused, and ``like=`` with a
different number of leaves is refused with a message giving both counts.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import safetensors.numpy as st

import refopt


def test_bool_int_float_and_none_leaves_keep_their_type(tmp_path):
    state = {"flag": True, "off": False, "count": 1, "zero": 0, "x": 0.1, "none": None,
             "a": np.arange(3.0)}
    refopt.save_state(tmp_path / "s.ckpt", state)
    back = refopt.load_state(tmp_path / "s.ckpt")
    for key in ("flag", "off", "count", "zero", "x", "none"):
        assert type(back[key]) is type(state[key]) and back[key] == state[key], key
    np.testing.assert_array_equal(back["a"], state["a"])


def _rewrite_metadata(path, **changes):
    """Re-save a checkpoint's tensors with edited metadata (keeping the old checksum)."""
    with open(path, "rb") as fh:
        data = fh.read()
    n = int.from_bytes(data[:8], "little")
    meta = json.loads(data[8:8 + n])["__metadata__"]
    meta.update(changes)
    path.write_bytes(st.save(st.load(data), metadata=meta))


def test_the_checksum_covers_the_recorded_rule(tmp_path):
    opt = refopt.adam(lr=0.01)
    params = np.array([1.0, -2.0])
    _, state = opt.update(params, opt.init(params), params)
    path = tmp_path / "s.ckpt"
    refopt.save_state(path, state, rule=opt)
    other = json.dumps({"name": "adam", "config": {**refopt.base.rule_tag(opt).config,
                                                   "lr": repr(0.02)}})
    _rewrite_metadata(path, rule=other)
    with pytest.raises(ValueError, match="checksum does not match"):
        refopt.load_state(path, rule=refopt.adam(lr=0.02))


def test_a_checkpoint_of_another_configuration_is_refused_naming_the_difference(tmp_path):
    opt = refopt.adam(lr=0.01)
    params = np.array([1.0, -2.0])
    _, state = opt.update(params, opt.init(params), params)
    refopt.save_state(tmp_path / "s.ckpt", state, rule=opt)
    with pytest.raises(ValueError, match=r"differ in \['lr'\]"):
        refopt.load_state(tmp_path / "s.ckpt", rule=refopt.adam(lr=0.02))
    with pytest.raises(ValueError, match=r"differ in \['eps_hat'\]"):
        refopt.load_state(tmp_path / "s.ckpt", rule=refopt.adam(lr=0.01, eps_hat=True))
    back = refopt.load_state(tmp_path / "s.ckpt", rule=refopt.adam(lr=0.01))   # the same one
    np.testing.assert_array_equal(back.m, state.m)


@pytest.mark.parametrize("extra", [1, -1], ids=["like-has-more-leaves", "like-has-fewer-leaves"])
def test_like_with_another_number_of_leaves_is_refused(tmp_path, extra):
    state = (np.zeros(2), np.ones(3))
    refopt.save_state(tmp_path / "s.ckpt", state)
    like = (np.zeros(2), np.ones(3), np.ones(1)) if extra > 0 else (np.zeros(2),)
    with pytest.raises(ValueError, match=f"the checkpoint has 2 leaves but like= has {2 + extra}"):
        refopt.load_state(tmp_path / "s.ckpt", like=like)


def test_a_wrapped_rule_records_its_inner_rule_configuration(tmp_path):
    opt = refopt.lookahead(refopt.adam(lr=0.01), sync_period=2)
    params = np.array([1.0, -2.0])
    _, state = opt.update(params, opt.init(params), params)
    refopt.save_state(tmp_path / "s.ckpt", state, rule=opt)
    assert refopt.checkpoint_info(tmp_path / "s.ckpt")["config"]["inner"]["config"]["lr"] == repr(0.01)
    with pytest.raises(ValueError, match=r"differ in \['inner'\]"):
        refopt.load_state(tmp_path / "s.ckpt",
                          rule=refopt.lookahead(refopt.adam(lr=0.02), sync_period=2))
