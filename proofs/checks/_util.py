"""Shared helpers for the SymPy check scripts."""

import sympy as sp


def is_zero(expr) -> bool:
    """Exact zero test: simplify, then expand; raises nothing, returns a bool."""
    return sp.simplify(sp.expand(expr)) == 0
