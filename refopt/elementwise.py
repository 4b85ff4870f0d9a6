"""One per-leaf function, two ways to run it: readable (operator by operator) or fused.

An element-wise rule writes its math once, as a pure function of the leaf arrays and of the
step's scalars, given as keyword arguments::

    def leaf(xp, p, g, m, v, *, lr_t, bc1, bc2):
        m = beta1 * m + (1.0 - beta1) * g
        ...
        return p_new, m, v

Configuration constants (β1, ε, switches) may be closure constants: a :class:`Kernel` belongs
to one optimizer instance, i.e. one configuration. Scalars that change from step to step
(η_t, bias corrections) must be keyword arguments, so that the fused form is built once per
(configuration, dtype) and reused at every step.

**Readable** (``refopt.execution("readable")``, and always for namespaces other than NumPy and
CuPy): ``leaf`` is called on each leaf with the namespace's own operators, one temporary array
per operator — the code the docs show.

**Fused** (the default): ``leaf`` is called once on symbolic values (:mod:`refopt._trace`),
which record every operation. Operations among scalars only are replayed in Python at each
step, exactly as the readable path computes them; operations that touch an array become a
program that is executed

* on NumPy by :mod:`refopt._fused_numpy`: the same ufuncs, in the same order, on blocks of
  the flattened leaves small enough to stay in cache, writing into a few reused buffers and
  straight into the freshly allocated outputs — one pass over memory instead of one per
  operator. Element-wise results do not depend on blocking, so fused = readable bit for bit;
* on CuPy by :mod:`refopt._fused_cupy`: one generated CUDA kernel per (configuration, dtype),
  compiled without FMA contraction (``--fmad=false``) so that every operation is rounded as
  the readable path's separate kernels round it.

A function that is not element-wise (a reduction, a data-dependent Python ``if``) is refused
while tracing with a ``TypeError`` naming the operation; rules with reductions keep using
:func:`refopt.tree.map`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from refopt import _buffers, _trace
from refopt import tree as _tree
from refopt.execution_mode import donation_allowed, get_execution

_FUSABLE = ("numpy", "cupy")

#: how many leaves each kernel (by name) has run fused in this process — read by the tests
#: that every element-wise rule takes the fused path, never used to compute anything
FUSED_LEAVES: Counter[str] = Counter()


def _plain_scalar(name: str, value: Any) -> Any:
    """Per-step scalars as Python bool / int / float, the same object for both paths."""
    if isinstance(value, (bool, int, float)):
        return value
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "shape", None) in ((), None):
        return item()
    raise TypeError(f"per-step scalar {name} must be a real number, got {type(value).__name__}")


class Kernel:
    """A per-leaf function of one rule configuration, runnable readable or fused.

    ``Kernel(leaf, n_out)(xp, (params, grads, *state_trees), **scalars)`` returns a tuple of
    ``n_out`` trees with the structure of ``params``. All trees must have the structure of
    ``params``; the fused path also needs every leaf of a position to have that leaf's shape
    and is used only for NumPy and CuPy arrays (anything else runs readable).
    """

    def __init__(self, leaf: Callable[..., Any], n_out: int, name: str = "leaf",
                 donate: tuple[int | None, ...] | None = None) -> None:
        self.leaf = leaf
        self.n_out = n_out
        self.name = name
        # donate[k] = j: under donation, output k may reuse input j's buffer (new params into
        # the old params, new state into the old state — never into grads)
        self.donate = donate
        self._programs: dict[tuple, Any] = {}

    def readable(self, xp: Any, arrays: tuple[Any, ...], scalars: dict[str, Any]) -> tuple:
        def one(*leaves: Any) -> Any:
            out = self.leaf(xp, *leaves, **scalars)
            return out if self.n_out > 1 else (out,)
        return _tree.map(one, *arrays, n_out=self.n_out) if self.n_out > 1 else (
            _tree.map(lambda *a: one(*a)[0], *arrays),)

    def program(self, backend: str, dtypes: tuple[Any, ...], scalars: dict[str, Any]) -> Any:
        """The compiled program for one backend and one tuple of input dtypes (cached)."""
        key = (backend, dtypes, tuple(type(v) for v in scalars.values()))
        prog = self._programs.get(key)
        if prog is None:
            graph = _trace.trace(self.leaf, tuple(str(d) for d in dtypes), scalars, self.n_out,
                                 self.name)
            if backend == "numpy-compiled":
                from refopt import _compiled_numpy
                prog = _compiled_numpy.compile_graph(graph)
            elif backend == "numpy":
                from refopt import _fused_numpy
                prog = _fused_numpy.compile_graph(graph)
            else:
                from refopt import _fused_cupy
                prog = _fused_cupy.compile_graph(graph)
            self._programs[key] = prog
        return prog

    def __call__(self, xp: Any, arrays: tuple[Any, ...], **scalars: Any) -> tuple:
        scalars = {k: _plain_scalar(k, v) for k, v in scalars.items()}
        mode = get_execution()
        if mode == "readable":
            return self.readable(xp, arrays, scalars)
        flat = [_tree.flatten(a) for a in arrays]
        treedef = flat[0][1]
        columns = [leaves for leaves, _ in flat]
        backend = _backend(columns[0][0]) if columns[0] else None
        if (backend is None or any(td != treedef for _, td in flat[1:])
                or any(_backend(leaf) != backend or leaf.shape != ref.shape
                       for leaves in columns[1:] for leaf, ref in zip(leaves, columns[0]))):
            return self.readable(xp, arrays, scalars)
        FUSED_LEAVES[self.name] += len(columns[0])
        donate = self.donate if backend == "numpy" and donation_allowed() else None
        if backend == "numpy":
            _buffers.tick()
        # leaves grouped by dtypes: one program run (scalars replayed once) per group
        groups: dict[tuple, list[int]] = {}
        rows = list(zip(*columns))
        for i, leaves in enumerate(rows):
            groups.setdefault(tuple(a.dtype for a in leaves), []).append(i)
        results: list[Any] = [None] * len(rows)
        if backend == "numpy":
            # NumPy turns 0-d array arithmetic into NumPy-scalar arithmetic, whose float32 power
            # (and other transcendental functions) is not the ufunc's: a 0-d leaf's readable
            # result is the reference, so it is computed that way
            for dtypes, idx in list(groups.items()):
                scalar_rows = [i for i in idx if rows[i][0].shape == ()]
                for i in scalar_rows:
                    out = self.leaf(xp, *rows[i], **scalars)
                    results[i] = tuple(_tree._keep_array(o) for o in (out if self.n_out > 1 else (out,)))
                groups[dtypes] = [i for i in idx if rows[i][0].shape != ()]
        for dtypes, idx in groups.items():
            if not idx:
                continue
            engine = "numpy-compiled" if backend == "numpy" and mode == "compiled" else backend
            prog = self.program(engine, dtypes, scalars)
            for i, res in zip(idx, prog.run([rows[i] for i in idx], scalars, donate)):
                results[i] = res
        return tuple(_tree.unflatten(treedef, [r[k] for r in results]) for k in range(self.n_out))


_BACKENDS: dict[type, str | None] = {}


def _backend(leaf: Any) -> str | None:
    """"numpy" or "cupy" for the arrays a fused program can take; None for anything else."""
    kind = type(leaf)
    if kind not in _BACKENDS:
        name = kind.__module__.split(".")[0]
        _BACKENDS[kind] = name if name in _FUSABLE and hasattr(leaf, "dtype") else None
    return _BACKENDS[kind]
