"""Documented behaviours of single rules that a plausible mistake broke unnoticed (issue 18)."""

from __future__ import annotations

import numpy as np

import refopt


def test_lazy_adam_updates_a_whole_row_when_any_of_its_entries_has_a_gradient():
    """A row is present when it has a non-zero entry: all of it then moves as in dense Adam,
    the zero entries included (their m and v decay); a row of zeros is left untouched."""
    params = np.array([[1.0, 2.0], [3.0, 4.0]])
    grads = np.array([[0.5, 0.0], [0.0, 0.0]])
    lazy, dense = refopt.adam(lr=0.1, lazy=True), refopt.adam(lr=0.1)
    p_lazy, s_lazy = lazy.update(grads, lazy.init(params), params)
    p_dense, s_dense = dense.update(grads, dense.init(params), params)
    np.testing.assert_array_equal(p_lazy[0], p_dense[0])
    np.testing.assert_array_equal(p_lazy[1], params[1])
    # second step with a gradient on the other entry of row 0: its first-step state was kept
    g2 = np.array([[0.0, 1.0], [0.0, 0.0]])
    p_lazy, _ = lazy.update(g2, s_lazy, p_lazy)
    p_dense, _ = dense.update(g2, s_dense, p_dense)
    np.testing.assert_array_equal(p_lazy[0], p_dense[0])
    np.testing.assert_array_equal(p_lazy[1], params[1])
