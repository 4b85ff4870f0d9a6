"""``python -m refopt.conformance TARGET [key=value ...] [--rule RULE] [--steps N] [--dtype D] [--json]``

TARGET is a framework optimizer by dotted name (``torch.optim.Adam``, ``optax.adam``,
``keras.optimizers.Adam``, ``numpy_ml.neural_nets.optimizers.Adam``); ``key=value`` are its
arguments (values as Python literals). Without ``--rule``, the rule is the one the conventions
table pairs with TARGET (or with its lower-cased last name). Prints the diagnosis and the verdict
of ``compare`` against the best configuration; exits 0 when a configuration reproduces it.
"""

from __future__ import annotations

import argparse
import ast
import sys

from refopt import conventions
from refopt.conformance.compare import compare
from refopt.conformance.diagnose import diagnose
from refopt.conformance.targets import from_target
from refopt.registry import SPECS


def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _rule_for(target: str) -> str:
    rules = sorted({c.rule for c in conventions.CONVENTIONS if c.target == target})
    name = target.rpartition(".")[2].lower()
    if len(rules) == 1:
        return rules[0]
    if name in SPECS:
        return name
    raise SystemExit(f"cannot tell which rule {target} implements (table: {rules or 'none'}); pass --rule")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m refopt.conformance", description=__doc__.split("\n")[2])
    ap.add_argument("target")
    ap.add_argument("kwargs", nargs="*", help="key=value arguments of TARGET")
    ap.add_argument("--rule", choices=sorted(SPECS), help="refopt rule to search (default: from the table)")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    ap.add_argument("--json", action="store_true", help="print JSON instead of tables")
    args = ap.parse_args(argv)
    kwargs = {}
    for item in args.kwargs:
        key, sep, val = item.partition("=")
        if not sep:
            ap.error(f"arguments must be key=value, got {item!r}")
        kwargs[key] = _value(val)
    candidate = from_target(args.target, **kwargs)
    diagnosis = diagnose(candidate, args.rule or _rule_for(args.target), steps=args.steps)
    best = diagnosis.match or (diagnosis.candidates[0] if diagnosis.candidates else None)
    report = compare(candidate, best.optimizer, steps=args.steps, dtype=args.dtype) if best else None
    if args.json:
        print(diagnosis.to_json())
        if report:
            print(report.to_json())
    else:
        print(diagnosis)
        if report:
            print(f"\nverdict against {best.call}:")
            print(report)
    return 0 if diagnosis.match is not None and report is not None and report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
