"""Every registry rule that takes plain gradients, fused and readable, against the bandwidth floor.

**The floor.** An update has to read θ, g and every state array the size of θ, and write θ and
every such state array, at least once: ``traffic_bytes`` counts those bytes from the actual state
after ``init`` (array leaves with the parameters' shape; counters and scalars are free). No
implementation can move them faster than the device copies memory, so the floor is the time of a
copy that moves the same number of bytes — a buffer of half of them copied into another (a copy
reads and writes each byte once) — measured in the same run. ``fraction of floor`` = floor time /
rule time (1.0 = at the bandwidth limit).
"""

from __future__ import annotations

from typing import Any

import refopt
from refopt import tree
from refopt.registry import SPECS, Spec

EXECUTIONS = ("fused", "readable")
#: how each measured mode runs: (refopt.execution mode, donate)
MODE_SETTINGS = {"fused": ("fused", False), "readable": ("readable", False),
                 "donated": ("fused", True), "compiled": ("compiled", False),
                 "compiled+donated": ("compiled", True)}


def executions(backend: Any) -> tuple[str, ...]:
    """The pure execution modes worth timing here: "compiled" on the CPU when Numba is installed
    (on CuPy it is the fused kernel again)."""
    from refopt import _compiled_numpy
    extra = ("compiled",) if not backend.on_gpu and _compiled_numpy.available() else ()
    return (*EXECUTIONS, *extra)
_ORACLE_ARGS = ("grad_fn", "objective")  # the rule evaluates gradients itself: not a plain update
_VALUE = 1.0  # the loss handed to rules that take ``value`` (Polyak's step); any finite number


def grad_rules(names: list[str] | None = None) -> tuple[list[Spec], list[dict]]:
    """The specs whose ``update`` takes plain grads, and the others with the reason they're left out.

    ``names=None`` means every registry rule.
    """
    chosen, skipped = [], []
    for name in (list(SPECS) if names is None else names):
        spec = SPECS[name]
        needs = sorted(set(spec.build(**spec.configs[0]).extra_args) & set(_ORACLE_ARGS))
        if needs:
            skipped.append({"rule": name, "reason": f"update needs {' and '.join(needs)}, "
                                                    "not plain gradients"})
        else:
            chosen.append(spec)
    return chosen, skipped


def traffic_bytes(params: Any, grads: Any, state: Any) -> tuple[int, int]:
    """(bytes read, bytes written) by one update at the least: θ, g and the state arrays read,
    θ and the state arrays written. State leaves count when they are arrays shaped like a
    parameter leaf."""
    p_leaves, g_leaves = tree.leaves(params), tree.leaves(grads)
    shapes = {tuple(p.shape) for p in p_leaves}
    s_bytes = sum(int(s.nbytes) for s in tree.leaves(state)
                  if hasattr(s, "shape") and tuple(s.shape) in shapes and s.ndim > 0)
    p_bytes = sum(int(p.nbytes) for p in p_leaves)
    g_bytes = sum(int(g.nbytes) for g in g_leaves)
    return p_bytes + g_bytes + s_bytes, p_bytes + s_bytes


def update_kwargs(opt: refopt.Optimizer) -> dict:
    return {"value": _VALUE} if "value" in opt.extra_args else {}


def time_updates(backend: Any, opt: refopt.Optimizer, params: Any, grads: Any, repeat: int,
                 mode: str) -> float:
    """Median seconds of one ``opt.update`` under execution ``mode``, chaining the updates from
    a fresh ``init`` (the state evolves as in training)."""
    kw = update_kwargs(opt)
    execution, donate = MODE_SETTINGS[mode]   # donate: θ and the state into the buffers passed in
    if donate:  # the caller's θ must survive for the other measurements
        params = refopt.tree.map(lambda a: a.copy(), params)
    box = {"p": params, "s": opt.init(params)}

    def step() -> None:
        box["p"], box["s"] = opt.update(grads, box["s"], box["p"], **kw)

    with refopt.execution(execution, donate=donate):
        t = backend.time(step, repeat)
    box.clear()
    backend.free()
    return t


class FloorCache:
    """Copy times by byte count, measured once per run."""

    def __init__(self, backend: Any, repeat: int):
        self.backend, self.repeat, self.seconds = backend, repeat, {}

    def __call__(self, moved: int) -> float:
        if moved not in self.seconds:
            self.seconds[moved] = self.backend.copy_time((moved + 1) // 2, self.repeat)
        return self.seconds[moved]


def bench_rule(backend: Any, spec: Spec, params: Any, grads: Any, repeat: int,
               floor: FloorCache) -> dict:
    """One row of the per-rule table (times in milliseconds)."""
    config = spec.configs[0]
    opt = spec.build(**config)
    read, written = traffic_bytes(params, grads, opt.init(params))
    row: dict[str, Any] = {"rule": spec.name, "config": {k: repr(v) for k, v in config.items()},
                           "bytes_read": read, "bytes_written": written}
    for mode in executions(backend):
        row[f"{mode}_ms"] = 1e3 * time_updates(backend, opt, params, grads, repeat, mode)
    row["floor_ms"] = 1e3 * floor(read + written)
    for mode in executions(backend):
        row[f"{mode}_fraction_of_floor"] = row["floor_ms"] / row[f"{mode}_ms"]
    row["fused_speedup"] = row["readable_ms"] / row["fused_ms"]
    return row
