"""Observed order of convergence: the slope of log(error) against log(h), with safeguards.

A slope is evidence of an order only where truncation error dominates. :func:`observed_order`
refuses (``ValueError``) a range where

* an error is within ``floor_ulps`` units of round-off of the solution's scale (round-off
  dominates, or the error is exactly 0), or
* the slopes between neighbouring points disagree with the fitted slope by more than
  ``max_spread`` (the range is not asymptotic: pre-asymptotic behaviour, error cancellation, or
  round-off noise — which makes the local slopes erratic).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EPS64 = float(np.finfo(np.float64).eps)


def observed_order(hs: Sequence[float], errors: Sequence[float], *, scale: float = 1.0,
                   floor_ulps: float = 1e3, max_spread: float = 0.25) -> float:
    r"""Least-squares slope of log\|error\| vs log h over a verified truncation-dominated range."""
    h = np.asarray(hs, dtype=np.float64)
    e = np.abs(np.asarray(errors, dtype=np.float64))
    if h.shape != e.shape or h.ndim != 1 or h.size < 3:
        raise ValueError("hs and errors must be 1-D sequences of equal length >= 3")
    if not np.all(np.isfinite(h)) or np.any(h <= 0):
        raise ValueError(f"hs must be finite and > 0, got {hs!r}")
    if not np.all(np.isfinite(e)):
        raise ValueError(f"errors must be finite, got {errors!r}")
    order = np.argsort(h)
    h, e = h[order], e[order]
    floor = floor_ulps * EPS64 * scale
    if np.any(e <= floor):
        raise ValueError(f"round-off dominates: smallest error {e.min():.3g} is below "
                         f"{floor_ulps:g} ulps of the scale {scale:g} ({floor:.3g}); use larger h")
    logh, loge = np.log(h), np.log(e)
    slope = float(np.polyfit(logh, loge, 1)[0])
    local = np.diff(loge) / np.diff(logh)
    if np.max(np.abs(local - slope)) > max_spread:
        raise ValueError(f"not a truncation-dominated range: local slopes {np.round(local, 3)} "
                         f"differ from the fitted slope {slope:.3f} by more than {max_spread}")
    return slope
