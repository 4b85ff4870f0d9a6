"""Draw docs/figures/muon-ns-polynomial.png for proofs/rules/muon.md (``python
proofs/figures/muon_ns_polynomial.py``; the PNG lives under docs/ because .gitignore admits PNGs
only there).

Left: one step of each odd polynomial p(σ) = aσ + bσ³ + cσ⁵ on the singular values. Right: five
composed steps, as Muon applies them after normalising by the Frobenius norm (σ ≤ 1).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

POLYNOMIALS = {
    "Jordan (3.4445, −4.7750, 2.0315)": (3.4445, -4.7750, 2.0315),
    "quintic Newton–Schulz (15/8, −5/4, 3/8)": (15 / 8, -5 / 4, 3 / 8),
    "cubic Newton–Schulz (3/2, −1/2, 0)": (1.5, -0.5, 0.0),
}


def step(coeffs, s):
    a, b, c = coeffs
    return a * s + b * s**3 + c * s**5


OUT = Path(__file__).resolve().parents[2] / "docs" / "figures" / "muon-ns-polynomial.png"


def main(out: Path = OUT) -> None:
    s = np.linspace(0.0, 1.2, 600)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.4))
    for label, coeffs in POLYNOMIALS.items():
        ax1.plot(s, step(coeffs, s), label=label)
        y = s.copy()
        for _ in range(5):
            y = step(coeffs, y)
        ax2.plot(s[s <= 1.0], y[s <= 1.0], label=label)
    for ax, title in ((ax1, "one step p(σ)"), (ax2, "five steps p∘…∘p(σ)")):
        ax.axhline(1.0, color="grey", lw=0.6, ls="--")
        ax.set_xlabel("σ (singular value of X)")
        ax.set_title(title)
    ax1.plot(s, s, color="grey", lw=0.6, ls=":")
    ax1.set_ylim(0, 1.6)
    ax2.set_ylim(0, 1.4)
    ax1.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
