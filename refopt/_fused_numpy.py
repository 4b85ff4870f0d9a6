"""Run a traced per-leaf function on NumPy in one pass over memory (see :mod:`refopt.elementwise`).

The readable path allocates a full-size temporary per operator, so an Adam step over n
parameters streams some 15 arrays of n elements through memory. Here the flattened leaves are
cut into blocks of ``BLOCK`` elements; each block runs the recorded operations with the same
NumPy ufuncs, in the same order, writing into a few block-sized buffers (reused as soon as a
value is dead) and straight into the freshly allocated outputs. The inputs are read once and
the outputs written once; everything in between stays in cache. Each ufunc rounds every
element independently of the others, so the result is the readable path's bit for bit.

Why not numexpr: it fuses the same way in C, but it rewrites expressions (``x**2`` as ``x*x``,
constants folded in its own precision, its own casting of Python floats for float32), so
bit-identity with the readable NumPy path would have to be re-established operation by
operation; these ufunc calls are the readable path's own.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from refopt import _buffers, _trace

# 16384 elements: 128 KiB per float64 buffer, so the ~11 block slices an Adam step touches
# (4 inputs, 3 outputs, ~4 buffers) stay in a 2 MiB L2; on the development CPU (loaded) 4096
# paid ~15 % more in per-call overhead and 65536 spilled out of L2 (docs/performance.md).
BLOCK = 16384


def _where(c: Any, a: Any, b: Any, out: Any) -> None:
    np.copyto(out, b)
    np.copyto(out, a, where=c)


def _clip(x: Any, lo: Any, hi: Any, out: Any) -> None:
    # as array_api_compat's clip: the bounds are cast to x's dtype first
    dt = x.dtype if hasattr(x, "dtype") else out.dtype
    np.clip(x, None if lo is None else np.asarray(lo, dt), None if hi is None else np.asarray(hi, dt),
            out=out)


def _function(op: str) -> Callable[..., Any]:
    if op == "where":
        return _where
    if op == "clip":
        return _clip
    return _trace.UFUNCS[op]


class Program:
    """A compiled graph: call it with one leaf per input and the step's scalars."""

    def __init__(self, graph: _trace.Graph) -> None:
        self.graph = graph
        n_in = len(graph.in_dtypes)
        steps = graph.array_steps
        outputs = graph.outputs
        # last use of every array node (outputs live to the end)
        last: dict[int, int] = {}
        for i, st in enumerate(steps):
            for r in st.args:
                if r.kind == "a":
                    last[r.index] = i
        for r in outputs:
            if r.kind == "a":
                last[r.index] = len(steps)
        out_of_node = {r.index: k for k, r in enumerate(outputs) if r.kind == "a"}
        # slots: inputs | outputs | registers | statics (scalars, constants, fulls)
        self.n_in = n_in
        self.n_out = len(outputs)
        free: dict[np.dtype, list[int]] = {}
        self.reg_dtypes: list[np.dtype] = []
        node_slot: dict[int, int] = {}
        reg_base = n_in + self.n_out
        claimed_outputs: set[int] = set()
        self.statics: list[tuple[int, str, Any]] = []  # (slot, kind, payload)
        n_slots = reg_base
        self.instructions: list[tuple[Callable[..., Any], Callable[[list], tuple], int]] = []
        static_slot: dict[tuple, int] = {}

        def slot_of(r: _trace.Ref) -> int:
            nonlocal n_slots
            if r.kind == "in":
                return r.index
            if r.kind == "a":
                return node_slot[r.index]
            key = (r.kind, r.index if r.kind != "c" else _trace.constant_key(r.index))
            if key not in static_slot:
                static_slot[key] = -1 - len(self.statics)
                self.statics.append((0, r.kind, r.index))
            return static_slot[key]

        for i, st in enumerate(steps):
            args = tuple(slot_of(r) for r in st.args)
            dying = sorted({r.index for r in st.args if r.kind == "a" and last.get(r.index) == i
                            and r.index not in out_of_node})
            k = out_of_node.get(i)
            if k is not None and k not in claimed_outputs:
                slot = n_in + k
                claimed_outputs.add(k)
            else:
                pool = free.setdefault(st.dtype, [])
                if st.op != "where":  # where's copy-in must not overwrite its operands
                    for d in dying:
                        ds = node_slot[d]
                        if ds >= reg_base and self.reg_dtypes[ds - reg_base] == st.dtype:
                            dying.remove(d)
                            pool.append(ds)
                            break
                if pool:
                    slot = pool.pop()
                else:
                    slot = reg_base + len(self.reg_dtypes)
                    self.reg_dtypes.append(st.dtype)
            node_slot[i] = slot
            # operand fetch as one C call per instruction (a tuple of the slots' current views)
            fetch = (operator.itemgetter(*args) if len(args) > 1
                     else (lambda slots, a=args[0]: (slots[a],)))
            self.instructions.append((_function(st.op), fetch, slot))
            for d in dying:
                ds = node_slot[d]
                if ds >= reg_base:
                    free.setdefault(self.reg_dtypes[ds - reg_base], []).append(ds)
        # outputs not written by their own step: inputs passed through, constants, or an
        # array node that is a second output
        self.copies: list[tuple[int, int]] = []
        for k, r in enumerate(outputs):
            if not (r.kind == "a" and node_slot[r.index] == n_in + k):
                self.copies.append((k, slot_of(r)))
        self.out_dtypes = [_trace.ref_dtype(graph, r) for r in outputs]
        self.n_slots = reg_base + len(self.reg_dtypes) + len(self.statics)
        self._reg_base = reg_base
        # donation: output k may be written into input j's buffer only if, within a block, no
        # instruction reads input j after output k's slot is first written
        first_write: dict[int, int] = {}
        last_read: dict[int, int] = {}
        for i, (_, fetch_args, slot) in enumerate(zip(steps, (st.args for st in steps),
                                                      (ins[2] for ins in self.instructions))):
            for r in fetch_args:
                if r.kind == "in":
                    last_read[r.index] = i
            if n_in <= slot < reg_base:
                first_write.setdefault(slot - n_in, i)
        copied = {k for k, _ in self.copies}
        self.can_overwrite = {
            (k, j) for k in range(self.n_out) for j in range(n_in)
            if self.out_dtypes[k] == graph.in_dtypes[j]
            and (k in copied and k not in first_write  # written only by the end-of-block copy
                 or last_read.get(j, -1) <= first_write.get(k, len(steps)))}

    def _donor(self, k: int, donate: Any, leaves: tuple[Any, ...]) -> int | None:
        if donate is None or donate[k] is None:
            return None
        j = donate[k]
        a = leaves[j]
        if ((k, j) not in self.can_overwrite or not isinstance(a, np.ndarray)
                or not a.flags.c_contiguous or not a.flags.writeable
                or any(i != j and np.may_share_memory(a, b) for i, b in enumerate(leaves))
                or j in donate[:k]):
            return None
        return j

    def __call__(self, leaves: tuple[Any, ...], scalars: dict[str, Any],
                 donate: tuple[int | None, ...] | None = None) -> tuple[Any, ...]:
        """Run on one leaf per input (see :meth:`run`)."""
        return self.run([leaves], scalars, donate)[0]

    def run(self, calls: list[tuple[Any, ...]], scalars: dict[str, Any],
            donate: tuple[int | None, ...] | None = None) -> list[tuple[Any, ...]]:
        """Run on several leaves (one tuple of inputs each) with one step's scalars.

        The scalars are replayed and the block buffers allocated once for all the leaves.
        ``donate[k] = j`` lets output k be written into input j's buffer (opt-in, see
        :func:`refopt.execution`); it is used only where that is safe: the program reads input
        j of a block before writing output k there, input j is a writeable C-contiguous array
        of output k's dtype, and it overlaps no other input.
        """
        g = self.graph
        svals = _trace.scalar_values(g, scalars)
        static_vals = []
        for _, kind, payload in self.statics:
            if kind == "s":
                static_vals.append(svals[payload])
            elif kind == "full":
                value, dtype = g.fulls[payload]
                static_vals.append(dtype.type(value))
            else:
                static_vals.append(payload)
        largest = max((leaves[0].size for leaves in calls), default=0)
        block = min(BLOCK, largest)
        regs = [np.empty(block, d) for d in self.reg_dtypes]
        # statics are addressed by negative slots: slot -1 - j is static j
        slots: list[Any] = [None] * (self._reg_base + len(regs)) + static_vals[::-1]
        instr = self.instructions
        n_in, reg_base = self.n_in, self._reg_base
        results = []
        for leaves in calls:
            shape = leaves[0].shape
            flat_in = [np.ascontiguousarray(a).reshape(-1) for a in leaves]
            outs = [_buffers.empty(shape, d) if (j := self._donor(k, donate, leaves)) is None
                    else leaves[j] for k, d in enumerate(self.out_dtypes)]
            flat_out = [o.reshape(-1) for o in outs]
            n = flat_in[0].size if flat_in else 0
            for start in range(0, n, BLOCK):
                stop = min(start + BLOCK, n)
                for i, a in enumerate(flat_in):
                    slots[i] = a[start:stop]
                for k, o in enumerate(flat_out):
                    slots[n_in + k] = o[start:stop]
                size = stop - start
                for j, r in enumerate(regs):
                    slots[reg_base + j] = r if size == block else r[:size]
                for fn, fetch, out in instr:
                    fn(*fetch(slots), out=slots[out])
                for k, src in self.copies:
                    np.copyto(slots[n_in + k], slots[src])
            results.append(tuple(outs))
        return results


def compile_graph(graph: _trace.Graph) -> Program:
    return Program(graph)
