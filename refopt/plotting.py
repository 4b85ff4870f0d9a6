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


def save_figure(fig: Any, path: str, dpi: int = 80) -> None:
    """Tight layout, write ``fig`` to ``path`` and say where it went."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    print(f"figure written to {path}")
