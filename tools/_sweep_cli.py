"""What the sweep tools share: the command line of a sweep, its progress bar, its output."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from typing import Any

from refopt.registry import SPECS


def base_parser(doc: str, *, base: float, base_help: str, seed: int, draws: int = 1000
                ) -> argparse.ArgumentParser:
    """The arguments of every sweep (``--base --draws --seed --json``)."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--base", type=float, default=base, help=base_help)
    p.add_argument("--draws", type=int, default=draws)
    p.add_argument("--seed", type=int, default=seed)
    p.add_argument("--json", help="also write every record to this file")
    return p


def parser(doc: str, *, rule: str, base: float, base_help: str, seed: int,
           schedules: Sequence[str], example: str) -> argparse.ArgumentParser:
    """The arguments of a sweep over rules and schedules (:func:`base_parser`'s, ``--rule
    --schedules --set``); a tool adds its own before parsing."""
    p = base_parser(doc, base=base, base_help=base_help, seed=seed)
    p.add_argument("--rule", default=rule, choices=sorted(SPECS))
    p.add_argument("--schedules", default=",".join(schedules),
                   help="comma-separated, from " + ", ".join(schedules))
    p.add_argument("--set", action="append", default=[], metavar="NAME=FLOAT",
                   help=f"another hyperparameter of the rule, e.g. --set {example}")
    return p


def positive(p: argparse.ArgumentParser, args: argparse.Namespace, *names: str) -> None:
    """End the run with a message naming the first of the integer arguments ``names`` below 1."""
    for name in names:
        value = getattr(args, name)
        if value < 1:
            p.error(f"--{name} must be a positive integer, got {value}")


def checked(p: argparse.ArgumentParser, args: argparse.Namespace,
            schedules: Sequence[str]) -> tuple[tuple[str, ...], dict[str, float]]:
    """(the schedules, the rule's other hyperparameters) from parsed arguments; a bad value ends
    the run with a message naming the argument and what it accepts."""
    positive(p, args, "draws")
    kinds = tuple(args.schedules.split(","))
    if not kinds or any(k not in schedules for k in kinds):
        p.error(f"--schedules takes names from {', '.join(schedules)}, got {args.schedules!r}")
    options = {}
    for item in args.set:
        name, _, value = item.partition("=")
        try:
            options[name] = float(value)
        except ValueError:
            p.error(f"--set takes NAME=FLOAT, got {item!r}")
    return kinds, options


def with_progress(items: Iterable[Any], total: int, desc: str, progress: bool) -> Iterable[Any]:
    """``items`` with a progress bar when asked for and tqdm is installed (the demo extra)."""
    if progress:
        try:
            from tqdm import tqdm
            return tqdm(items, total=total, desc=desc)
        except ImportError:
            pass
    return items


def write_json(path: str | None, records: list[dict[str, Any]]) -> None:
    if path:
        with open(path, "w") as fh:
            json.dump(records, fh)
