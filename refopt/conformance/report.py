"""Results as data: :class:`Report` (from ``compare``) and :class:`Diagnosis` (from ``diagnose``).

Both print as plain-text tables and convert to JSON with ``.to_json()``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProbeResult:
    """One probe: worst relative error, tolerance, first step/coordinate over it, verdict."""

    probe: str
    dtype: str
    steps: int
    max_rel_error: float
    tolerance: float
    first_step: int | None     # 1-based update index of the first coordinate over tolerance
    first_coord: str | None    # e.g. "w[3]"
    passed: bool
    error: str | None = None   # the exception the candidate raised, if any


@dataclass(frozen=True)
class Report:
    """Per-probe agreement of a candidate with a refopt rule; ``passed`` when every probe passes."""

    candidate: str
    results: tuple[ProbeResult, ...]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def failures(self) -> list[ProbeResult]:
        return [r for r in self.results if not r.passed]

    def to_json(self) -> str:
        return json.dumps({"candidate": self.candidate, "passed": self.passed,
                           "results": [_clean(asdict(r)) for r in self.results]}, indent=1)

    def __str__(self) -> str:
        head = f"{self.candidate}: {'PASS' if self.passed else 'FAIL'}"
        rows = [(r.probe, r.dtype, f"{r.max_rel_error:.2e}", f"{r.tolerance:.1e}",
                 "" if r.first_step is None else str(r.first_step), r.first_coord or "",
                 "pass" if r.passed else "FAIL" + (f" ({r.error})" if r.error else ""))
                for r in self.results]
        return head + "\n" + table(("probe", "dtype", "max rel err", "tol", "step", "coord", ""), rows)


@dataclass(frozen=True)
class Match:
    """A refopt configuration: ``call`` as a string, ``optimizer`` built from it, its error."""

    rule: str
    kwargs: dict
    max_rel_error: float
    probe: str | None = None       # worst probe
    first_step: int | None = None  # first step over tolerance on that probe (None: reproduces)
    conventions: tuple[str, ...] = ()   # table rows this configuration equals
    passed_probes: int = 0              # probes on which it reproduces the candidate

    @property
    def call(self) -> str:
        from refopt.conventions import format_call
        return format_call(f"refopt.{self.rule}", self.kwargs)

    @property
    def optimizer(self) -> Any:
        from refopt.registry import SPECS
        return SPECS[self.rule].build(**self.kwargs)


@dataclass(frozen=True)
class Diagnosis:
    """``match``: the best reproducing configuration or None; ``candidates``: ranked; ``explanation``."""

    candidate: str
    rule: str
    match: Match | None
    candidates: tuple[Match, ...]
    explanation: str = ""
    details: dict = field(default_factory=dict)

    def to_json(self) -> str:
        def m(x):
            return None if x is None else {**_clean(asdict(x)), "call": x.call}
        return json.dumps({"candidate": self.candidate, "rule": self.rule, "match": m(self.match),
                           "candidates": [m(c) for c in self.candidates],
                           "explanation": self.explanation, "details": _clean(self.details)},
                          indent=1)

    def __str__(self) -> str:
        if self.match is not None:
            head = f"{self.candidate} reproduces {self.match.call}"
            if self.match.conventions:
                head += f"  (= {', '.join(self.match.conventions)})"
        else:
            head = f"{self.candidate}: no refopt.{self.rule} configuration reproduces it"
        rows = [(str(i + 1), c.call, f"{c.max_rel_error:.2e}", c.probe or "",
                 "" if c.first_step is None else str(c.first_step))
                for i, c in enumerate(self.candidates[:5])]
        body = table(("#", "configuration", "max rel err", "worst probe", "split at"), rows)
        return head + "\n" + body + ("\n" + self.explanation if self.explanation else "")


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths))]
                     + [fmt.format(*r) for r in rows]).rstrip()


def _clean(x: Any) -> Any:
    """JSON has no inf/nan: write them as strings."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x
