"""What the two sweep tools share: the command line of a sweep, its progress bar, its output."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from typing import Any

from refopt.registry import SPECS


def parser(doc: str, *, rule: str, base: float, base_help: str, seed: int,
           schedules: Sequence[str], example: str) -> argparse.ArgumentParser:
    """The arguments every sweep takes (``--rule --base --draws --seed --schedules --set
    --json``); a tool adds its own before parsing."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--rule", default=rule, choices=sorted(SPECS))
    p.add_argument("--base", type=float, default=base, help=base_help)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--seed", type=int, default=seed)
    p.add_argument("--schedules", default=",".join(schedules),
                   help="comma-separated, from " + ", ".join(schedules))
    p.add_argument("--set", action="append", default=[], metavar="NAME=FLOAT",
                   help=f"another hyperparameter of the rule, e.g. --set {example}")
    p.add_argument("--json", help="also write every record to this file")
    return p


def checked(p: argparse.ArgumentParser, args: argparse.Namespace,
            schedules: Sequence[str]) -> tuple[tuple[str, ...], dict[str, float]]:
    """(the schedules, the rule's other hyperparameters) from parsed arguments; a bad value ends
    the run with a message naming the argument and what it accepts."""
    if args.draws < 1:
        p.error(f"--draws must be a positive integer, got {args.draws}")
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
