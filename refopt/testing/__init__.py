"""Public testing tools: gradient checks and observed-order fitting (and, later, strategies)."""

from refopt.testing.conformance import assert_conforms
from refopt.testing.gradcheck import (
    assert_grad_close,
    check_grad,
    check_vjp,
    random_like,
    relative_error,
)
from refopt.testing.orders import observed_order

__all__ = ["assert_conforms", "assert_grad_close", "check_grad", "check_vjp", "observed_order",
           "random_like", "relative_error"]
