"""Shared helpers for the check scripts.

Every ``check_*`` function takes its *claim* as keyword arguments with the page's statement as
default, derives the other side from refopt's own objects where one exists (see _symbolic.py),
and asserts they agree. ``@wrong(name=dict(...))`` registers wrong variants of the claim;
tests/test_proofs.py asserts each of them makes the check fail, so a check that cannot fail is
caught, and the status page reports the score.
"""

import sympy as sp


def is_zero(expr) -> bool:
    """Exact zero test: simplify, then expand; raises nothing, returns a bool."""
    return sp.simplify(sp.expand(expr)) == 0


def wrong(**variants):
    """Register wrong variants of a check's claim: ``name=dict(keyword=wrong_value, ...)``."""
    if not variants:
        raise ValueError("a check needs at least one wrong variant")

    def deco(fn):
        fn.wrong_variants = variants
        return fn
    return deco


def positive_on(poly, x, lo, hi) -> bool:
    """Exact proof that the polynomial ``poly(x)`` is > 0 on the whole open interval (lo, hi):
    no real root inside (Sturm-sequence root counting, ``Poly.count_roots``) and positive at the
    midpoint. Endpoints may be roots."""
    p = sp.Poly(sp.expand(poly), x)
    if p.is_zero:
        return False
    lo, hi = sp.nsimplify(lo), sp.nsimplify(hi)
    inside = p.count_roots(lo, hi) - (p.eval(lo) == 0) - (p.eval(hi) == 0)
    return inside == 0 and p.eval((lo + hi) / 2) > 0


def schur_stable_quadratic_on(a1, a0, x, lo, hi) -> bool:
    """Both roots of ζ² + a1(x)ζ + a0(x) lie strictly inside the unit disc for every x in
    (lo, hi) (a1, a0 polynomials in x). Jury's conditions for a real quadratic:
    1 − a0 > 0, 1 + a1 + a0 > 0, 1 − a1 + a0 > 0, each proved on the whole interval."""
    return all(positive_on(c, x, lo, hi) for c in (1 - a0, 1 + a1 + a0, 1 - a1 + a0))
