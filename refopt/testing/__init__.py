"""Public testing tools: gradient checks (and, as they land, strategies and order fitting)."""

from refopt.testing.gradcheck import check_grad, check_vjp, random_like, relative_error

__all__ = ["check_grad", "check_vjp", "random_like", "relative_error"]
