"""The rule interface: declared extra update arguments, Literal mode switches, state types
without placeholder fields (issue 10 item 4)."""

from __future__ import annotations

import inspect
import typing

import numpy as np
import pytest

import refopt
from refopt import base, numdiff, rule
from refopt.nn import activations, losses
from refopt.nn import init as nn_init
from refopt.ode import multistep, rules, tableau
from refopt.problems import LeastSquares
from refopt.registry import SPECS
from refopt.train import train

from .helpers import describe

CASES = [(spec, cfg) for spec in SPECS.values() for cfg in spec.configs]
IDS = [f"{spec.name}-{describe(cfg)}" for spec, cfg in CASES]   # readable, the same in every process


@pytest.mark.parametrize(("make", "declared"), [
    (lambda: refopt.nag(lr=0.1), {"grad_fn"}),
    (lambda: refopt.nag_reparameterised(lr=0.1), set()),
    (lambda: refopt.ode.runge_kutta("heun", lr=0.1), {"grad_fn"}),
    (lambda: refopt.ode.runge_kutta("euler", lr=0.1), set()),
    (lambda: refopt.ode.linear_multistep("ab2", lr=0.1), set()),
    (lambda: refopt.ode.linear_multistep("ab2", lr=0.1, bootstrap="heun"), {"grad_fn"}),
    (lambda: refopt.bigbatch(lr=0.1), {"objective"}),
    (lambda: refopt.add_gradient_noise(refopt.nag(lr=0.1)), {"grad_fn"}),
    (lambda: refopt.project_box(refopt.bigbatch(lr=0.1), -1.0, 1.0), {"objective"}),
    (lambda: refopt.adam(), set()),
    (lambda: refopt.polyak_sgd(), {"value"}),
], ids=["nag", "nag_reparameterised", "heun", "euler", "ab2", "ab2-heun-start", "bigbatch",
        "noise-wrapper", "box-wrapper", "adam", "polyak_sgd"])
def test_rules_declare_the_extra_update_arguments_they_need(make, declared):
    assert make().extra_args == declared


@pytest.mark.parametrize(("spec", "cfg"), CASES, ids=IDS)
def test_declared_extra_arguments_are_keywords_of_update(spec, cfg):
    """Every declared name is accepted by update as a keyword (or passed through **kwargs)."""
    opt = spec.build(**cfg)
    assert opt.extra_args <= base.EXTRA_ARGS
    params = inspect.signature(opt.update).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    for name in opt.extra_args:
        assert takes_any or params[name].kind is inspect.Parameter.KEYWORD_ONLY, name


def test_a_declared_requirement_is_enforced():
    """Without the declared argument the rule refuses to step; the state is not advanced."""
    opt = refopt.nag(lr=0.1)
    params = np.ones(2)
    with pytest.raises(ValueError, match="grad_fn is required"):
        opt.update(None, opt.init(params), params)
    with pytest.raises(ValueError, match="grads must be None"):
        opt.update(params, opt.init(params), params, grad_fn=lambda p: p)


def test_optimizer_rejects_unknown_extra_arguments():
    with pytest.raises(ValueError, match=r"extra_args must be a subset of \['grad_fn', 'objective', 'value'\]"):
        base.optimizer(lambda p: None, lambda g, s, p: (p, s), {"hessian"})


def test_train_refuses_a_rule_that_samples_its_own_batches():
    rows = np.eye(2)
    with pytest.raises(ValueError, match="run_bigbatch"):
        train(LeastSquares(rows, np.zeros(2)), refopt.bigbatch(lr=0.1), np.ones(2), epochs=1,
              batch_size=1)


@pytest.mark.parametrize(("spec", "cfg"), CASES, ids=IDS)
def test_states_have_no_placeholder_fields(spec, cfg):
    """A configuration without a buffer has a state type without that field: no () anywhere."""
    opt = spec.build(**cfg)
    for params in (np.ones(3), {"a": np.ones(3), "b": np.zeros(2)}):
        state = opt.init(params)
        fields = state._asdict().values() if hasattr(state, "_asdict") else [state]
        assert all(not (isinstance(v, tuple) and v == ()) for v in fields), state


def test_rmsprop_state_types_follow_the_configuration():
    p = np.ones(2)
    fields = {(c, m): refopt.rmsprop(centered=c, momentum=m).init(p)._fields
              for c in (False, True) for m in (0.0, 0.5)}
    assert fields == {(False, 0.0): ("t", "mean_sq_grad"),
                      (True, 0.0): ("t", "mean_sq_grad", "mean_grad"),
                      (False, 0.5): ("t", "mean_sq_grad", "momentum_buffer"),
                      (True, 0.5): ("t", "mean_sq_grad", "mean_grad", "momentum_buffer")}


@pytest.mark.parametrize("amsgrad", [False, True])
def test_agd_sgd_fraction_on_a_bare_array(amsgrad):
    """Issue 15 item 12: agd(amsgrad=True) on a bare-array parameter used to raise ValueError
    (a () placeholder compared against an array). After step 1, √b̂_1 = |g_1|, so exactly the
    coordinate with |g| = 2e-6 ≤ δ = 1e-5 is in SGD mode: fraction 1/2."""
    opt = refopt.agd(lr=0.1, amsgrad=amsgrad)
    params = np.zeros(2)
    state = opt.init(params)
    assert refopt.research.agd_sgd_fraction(state) == 0.0
    _, state = opt.update(np.array([0.5, -2e-6]), state, params)
    assert refopt.research.agd_sgd_fraction(state) == 0.5


# ---------------------------------------------------------------------------------------------
# Literal mode switches

def _public_factories():
    for spec in SPECS.values():
        if spec.family != "ode":
            yield spec.name, spec.factory
    yield "runge_kutta", rules.runge_kutta
    yield "linear_multistep", rules.linear_multistep
    yield "train", train
    yield "numdiff.gradient", numdiff.gradient
    yield "MLP", refopt.nn.MLP.__init__


@pytest.mark.parametrize(("name", "fn"), list(_public_factories()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_string_mode_switch_is_a_literal(name, fn):
    """A parameter whose default is a string is a mode switch; its type must list the modes."""
    fn = inspect.unwrap(fn)
    if fn.__name__ == "<lambda>":
        pytest.skip(f"{name} is a registry adapter over another factory")
    hints = typing.get_type_hints(fn)
    for pname, p in inspect.signature(fn).parameters.items():
        if isinstance(p.default, str):
            hint = hints[pname]
            args = [a for a in typing.get_args(hint) if typing.get_origin(a) is typing.Literal] \
                if typing.get_origin(hint) is not typing.Literal else [hint]
            assert args, f"{name}({pname}=...) is annotated {hint}, not a Literal"
            assert p.default in typing.get_args(args[0]), (name, pname)


def test_literal_types_list_exactly_the_accepted_values():
    """Each Literal is the single list of modes: it must equal the table the code dispatches on."""
    assert rule.DECAY_KINDS == ("l2", "decoupled", "fixed")
    assert sorted(typing.get_args(rules.TableauName)) == sorted(tableau.TABLEAUX)
    assert sorted(typing.get_args(rules.MultistepName)) == sorted(multistep.METHODS)
    assert sorted(typing.get_args(numdiff.Method)) == sorted(numdiff.ORDERS)
    assert sorted(typing.get_args(losses.LossName)) == sorted(losses.LOSSES)
    assert typing.get_args(nn_init.Scheme) == nn_init.SCHEMES
    assert sorted(typing.get_args(activations.ActivationName)) == sorted(activations.ACTIVATIONS)
