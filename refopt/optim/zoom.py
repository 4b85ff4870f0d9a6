"""A line search by doubling, then three-point cubic / quadratic / bisection zoom, with an optional
approximate-Wolfe decrease test (Nocedal & Wright Alg. 3.5–3.6; Hager & Zhang 2006)."""

from __future__ import annotations

import math
from collections.abc import Callable


def _nan_on_zero(f: Callable[[], float]) -> float:
    try:
        return f()
    except (ZeroDivisionError, ValueError, OverflowError):   # degenerate fit: no point
        return math.nan


def cubic_through(a: float, fa: float, da: float, b: float, fb: float, c: float, fc: float) -> float:
    """Critical point of the cubic p with p(a) = fa, p'(a) = da, p(b) = fb, p(c) = fc
    (NaN when the fit is degenerate or p has no real critical point)."""
    a, fa, da, b, fb, c, fc = map(float, (a, fa, da, b, fb, c, fc))   # Python floats: 0-division raises

    def solve() -> float:
        db, dc = b - a, c - a
        denom = (db * dc) ** 2 * (db - dc)
        u, v = fb - fa - da * db, fc - fa - da * dc
        cube = (dc ** 2 * u - db ** 2 * v) / denom            # p = cube·x³ + square·x² + da·x + fa
        square = (-(dc ** 3) * u + db ** 3 * v) / denom
        return a + (-square + math.sqrt(square * square - 3.0 * cube * da)) / (3.0 * cube)
    return _nan_on_zero(solve)


def quadratic_through(a: float, fa: float, da: float, b: float, fb: float) -> float:
    """Critical point of the quadratic with p(a) = fa, p'(a) = da, p(b) = fb (NaN if degenerate)."""
    a, fa, da, b, fb = map(float, (a, fa, da, b, fb))
    return _nan_on_zero(lambda: a - da / (2.0 * ((fb - fa - da * (b - a)) / (b - a) ** 2)))


def doubling_zoom(phi: Callable[[float], tuple], guess: float, f0: float, g0, slope0: float, *,
                  c1: float, c2: float, max_ls: int, approx_decrease: float | None,
                  interval_threshold: float, increase: float = 2.0) -> tuple:
    """A step t whose decrease error and curvature error are both 0, or a safe fallback.

    decrease error: max(0, min(f(t) − f0 − c1·t·φ'(0), A)) with A = max(φ'(t) − (2c1 − 1)φ'(0),
    f(t) − f0 − δ·abs(f0)) when ``approx_decrease`` = δ is set (the approximate Wolfe test), else
    without A; curvature error: max(0, abs(φ'(t)) − c2·abs(φ'(0))); NaN counts as ∞. Phase 1 tries
    ``guess``, then multiplies by ``increase`` until [low, high] brackets an acceptable step;
    phase 2 evaluates the cubic through (low, high, the previous end) when it lies 20% inside
    the interval, else the quadratic through (low, high) when 10% inside, else the midpoint.
    After ``max_ls`` evaluations (or an interval shorter than ``interval_threshold`` once a step
    with decrease error 0 was seen) it returns the lowest such step, or the last trial if none.
    ``phi(t)`` returns (f, g, φ'(t)). Returns (t, f, g).
    """
    def errors(t: float, f: float, s: float) -> tuple[float, float]:
        dec = f - f0 - c1 * t * slope0
        if approx_decrease is not None:
            dec = min(max(s - (2.0 * c1 - 1.0) * slope0, f - f0 - approx_decrease * abs(f0)), dec)
        curv = abs(s) - c2 * abs(slope0)
        return tuple(math.inf if math.isnan(e) else max(e, 0.0) for e in (dec, curv))

    cur = (0.0, f0, g0, slope0)          # the last trial (t, f, g, φ'(t))
    low = high = ref = (0.0, f0, slope0)  # interval ends and the cubic's third point (t, f, φ')
    safe = (0.0, f0, g0)                  # the best trial with decrease error 0 (t = 0: none)
    found, count, dec = False, 0, math.inf
    while True:
        if not found:                     # phase 1: grow the step until a bracket appears
            t = guess if count == 0 else increase * cur[0]
            new = (t, *phi(t))
            dec, curv = errors(t, new[1], new[3])
            if dec <= 0.0:
                safe = (t, new[1], new[2])
            to_high = dec > 0.0 or (count > 0 and new[1] >= cur[1])
            to_low = new[3] >= 0.0 and not to_high
            prev = (cur[0], cur[1], cur[3])
            low, high = ((t, new[1], new[3]), prev) if to_low else (prev, (t, new[1], new[3]))
            ref = low
            done = max(dec, curv) <= 0.0
            found = to_high or to_low or done
            stop_early = False
        else:                             # phase 2: shrink [low, high]
            width, left, right = abs(high[0] - low[0]), min(high[0], low[0]), max(high[0], low[0])
            t = cubic_through(*low, high[0], high[1], ref[0], ref[1])
            if not left + 0.2 * width < t < right - 0.2 * width:
                t = quadratic_through(*low, high[0], high[1])
                if not left + 0.1 * width < t < right - 0.1 * width:
                    t = (low[0] + high[0]) / 2.0
            new = (t, *phi(t))
            dec, curv = errors(t, new[1], new[3])
            if dec <= 0.0 and new[1] < safe[1]:
                safe = (t, new[1], new[2])
            done = max(dec, curv) <= 0.0
            point = (t, new[1], new[3])
            to_high = dec > 0.0 or new[1] >= low[1]
            ref = high if to_high or new[3] * (high[0] - low[0]) >= 0.0 else low
            if to_high:
                high = point
            else:
                if new[3] * (high[0] - low[0]) >= 0.0:
                    high = low
                low = point
            stop_early = width <= interval_threshold and safe[0] > 0.0
        cur, count = new, count + 1
        if done:
            return cur[0], cur[1], cur[2]
        if count >= max_ls or stop_early:
            if safe[0] > 0.0 or math.isinf(dec):
                return safe
            return cur[0], cur[1], cur[2]
