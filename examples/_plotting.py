"""Shared helper for the example scripts: matplotlib when installed, otherwise a notice."""

from __future__ import annotations


def pyplot():
    """Return matplotlib.pyplot with a file-only backend, or None when matplotlib is absent."""
    try:
        import matplotlib
    except ImportError:
        print("(matplotlib not installed: no figure)")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt
