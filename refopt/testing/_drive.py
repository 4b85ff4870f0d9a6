"""One update of an optimizer on a problem, with the arguments its rule declares.

Shared by the convergence tests and the sweep tools (tools/*_sweep.py), so a rule that reads
more than its gradient is driven the same way in both.
"""

from __future__ import annotations

from typing import Any


def step_on(opt: Any, prob: Any, x: Any, state: Any) -> tuple[Any, Any]:
    """``opt.update`` at ``x`` on ``prob`` (an object with ``grad`` and ``value``), passing what
    ``opt.extra_args`` declares: the problem itself (``objective``: Big Batch samples from it),
    its gradient function (``grad_fn``: SAM, look-ahead rules evaluate it themselves), or the
    loss at ``x`` (``value``: Polyak's step size)."""
    needs = opt.extra_args
    if "objective" in needs:
        return opt.update(None, state, x, objective=prob)
    if "grad_fn" in needs:
        return opt.update(None, state, x, grad_fn=prob.grad)
    if "value" in needs:
        return opt.update(prob.grad(x), state, x, value=float(prob.value(x)))
    return opt.update(prob.grad(x), state, x)
