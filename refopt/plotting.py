"""Optional plotting for the demo and the examples: matplotlib when installed, else a notice."""

from __future__ import annotations

from typing import Any


def pyplot() -> Any:
    """Return ``matplotlib.pyplot`` on the file-only Agg backend, or None (with a notice)."""
    try:
        import matplotlib
    except ImportError:
        print("(matplotlib not installed: no figure)")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt
