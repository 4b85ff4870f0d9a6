"""Run refopt's own update rules on SymPy expressions.

refopt's per-leaf math is written against the array API (``xp.sqrt``, ``xp.maximum``...), and the
namespace is inferred from the arrays a rule receives. :class:`Sym` is a 0-d "array" whose
``__array_namespace__`` is :data:`NS`, a namespace whose functions build SymPy expressions, so
``rule.update`` runs unchanged and returns the *symbolic* iterate. NumPy object arrays do not
work here: refopt rejects them (``isdtype(object, "real floating")`` is false), which is the
right behaviour for numbers and the reason this adapter exists.

Hyperparameters are validated as Python floats by the constructors, so the checks use dyadic
values (1/2, 3/4, 2⁻⁸...) for which every float operation inside the rule (β^t, 1 − β^t, √c for
a perfect square c) is exact; :func:`exact` turns such a float back into the same rational.
Gradients, parameters and everything derived from them stay symbolic.
"""

from __future__ import annotations

import sympy as sp


def exact(x):
    """A Python float/int/Sym as an exact SymPy number or expression (floats are binary
    fractions, so ``Rational(x)`` is exact)."""
    if isinstance(x, Sym):
        return x.e
    if isinstance(x, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(x, float):
        return sp.Rational(x)
    return sp.sympify(x)


class _Dtype:
    name = "sympy"

    def __repr__(self):
        return "sympy"


DTYPE = _Dtype()


class Sym:
    """A 0-d array holding one SymPy expression."""

    shape = ()
    ndim = 0
    dtype = DTYPE
    device = "cpu"

    def __init__(self, e):
        self.e = exact(e)

    def __array_namespace__(self, api_version=None):
        return NS

    def __repr__(self):
        return f"Sym({self.e})"

    def _bin(op):
        def f(self, other):
            return Sym(op(self.e, exact(other)))

        def r(self, other):
            return Sym(op(exact(other), self.e))
        return f, r

    __add__, __radd__ = _bin(lambda a, b: a + b)
    __sub__, __rsub__ = _bin(lambda a, b: a - b)
    __mul__, __rmul__ = _bin(lambda a, b: a * b)
    __truediv__, __rtruediv__ = _bin(lambda a, b: a / b)
    __pow__, __rpow__ = _bin(lambda a, b: a ** b)

    # comparisons build relations; xp.where turns them into a Piecewise
    __gt__ = _bin(sp.Gt)[0]
    __ge__ = _bin(sp.Ge)[0]
    __lt__ = _bin(sp.Lt)[0]
    __le__ = _bin(sp.Le)[0]
    __eq__ = _bin(sp.Eq)[0]
    __hash__ = object.__hash__
    del _bin

    def __neg__(self):
        return Sym(-self.e)

    def __pos__(self):
        return self

    def __abs__(self):
        return Sym(sp.Abs(self.e))


class _Namespace:
    """The array-API functions refopt's rules call, on :class:`Sym` leaves."""

    __name__ = "sympy_array_namespace"
    float64 = DTYPE

    @staticmethod
    def isdtype(dtype, kind):
        return dtype is DTYPE and kind in ("real floating", "numeric")

    @staticmethod
    def asarray(x, dtype=None, device=None, copy=None):
        return x if isinstance(x, Sym) else Sym(x)

    zeros_like = staticmethod(lambda x, **_: Sym(0))
    ones_like = staticmethod(lambda x, **_: Sym(1))
    full_like = staticmethod(lambda x, value, **_: Sym(value))
    sqrt = staticmethod(lambda x: Sym(sp.sqrt(exact(x))))
    abs = staticmethod(lambda x: Sym(sp.Abs(exact(x))))
    sign = staticmethod(lambda x: Sym(sp.sign(exact(x))))
    exp = staticmethod(lambda x: Sym(sp.exp(exact(x))))
    log = staticmethod(lambda x: Sym(sp.log(exact(x))))
    maximum = staticmethod(lambda a, b: Sym(sp.Max(exact(a), exact(b))))
    minimum = staticmethod(lambda a, b: Sym(sp.Min(exact(a), exact(b))))
    where = staticmethod(lambda c, a, b: Sym(sp.Piecewise((exact(a), exact(c)), (exact(b), True))))
    greater = staticmethod(lambda a, b: Sym(sp.Gt(exact(a), exact(b))))
    clip = staticmethod(lambda x, lo=None, hi=None: Sym(
        sp.Min(sp.Max(exact(x), exact(lo) if lo is not None else -sp.oo),
               exact(hi) if hi is not None else sp.oo)))

    @staticmethod
    def sum(x, axis=None, **_):
        return x

    @staticmethod
    def vecdot(a, b, axis=-1):
        return Sym(exact(a) * exact(b))


NS = _Namespace()


def run(opt, grads, theta0):
    """Apply ``opt`` to the scalar parameter ``theta0`` with the gradient sequence ``grads``
    (each either a SymPy expression or a callable θ ↦ g); return [θ_0, θ_1, ...] as SymPy
    expressions, produced by refopt's own ``init``/``update``."""
    params = Sym(theta0)
    state = opt.init(params)
    out = [params.e]
    for g in grads:
        gt = g(params.e) if callable(g) else g
        params, state = opt.update(Sym(gt), state, params)
        out.append(sp.simplify(params.e))
    return out
