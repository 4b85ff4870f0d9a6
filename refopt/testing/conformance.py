"""``assert_conforms``: the conformance verdict as a test assertion for users' own suites."""

from __future__ import annotations

from typing import Any


def assert_conforms(candidate: Any, reference: Any, **kwargs: Any) -> Any:
    """Raise ``AssertionError`` (its message is the report's table) unless ``candidate`` matches.

    ``kwargs`` go to :func:`refopt.conformance.compare` (``probes``, ``steps``, ``dtype``); the
    report is returned when it passes and attached as ``err.report`` when it does not.

    >>> import refopt
    >>> from refopt.conformance import from_step
    >>> rule = refopt.sgd(lr=0.1)
    >>> assert_conforms(from_step(rule.init, rule.update), refopt.sgd(lr=0.1), steps=3).passed
    True
    """
    from refopt.conformance import compare

    report = compare(candidate, reference, **kwargs)
    if not report.passed:
        err = AssertionError(f"candidate does not conform:\n{report}")
        err.report = report
        raise err
    return report
