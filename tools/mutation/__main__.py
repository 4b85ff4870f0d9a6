"""``python -m tools.mutation {list,check,run,report}``: see ``docs/mutation.md``."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import subprocess
import sys
import threading
from pathlib import Path

from tools.mutation import report as _report
from tools.mutation import runner
from tools.mutation.catalog import MUTANT_DIR, check, load

ROOT = Path(__file__).resolve().parents[2]


def _select(args) -> list:
    mutants = load(args.area or None, Path(args.mutants))
    if getattr(args, "id", None):
        unknown = sorted(set(args.id) - {m.id for m in mutants})
        if unknown:
            sys.exit(f"unknown mutant id(s): {unknown}")
        mutants = [m for m in mutants if m.id in args.id]
    if getattr(args, "smoke", False):
        mutants = [m for m in mutants if m.smoke]
    return mutants


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.mutation", description=__doc__)
    p.add_argument("--mutants", default=None,
                   help="folder of <area>.toml lists (default: ROOT/tools/mutation/mutants, else this "
                        "package's)")
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("list", "check", "run", "report"):
        s = sub.add_parser(name)
        s.add_argument("--area", action="append", help="an area (the .toml file's stem); repeatable")
        s.add_argument("--root", default=str(ROOT), help="the repository tree to mutate and test")
        if name in ("list", "run"):
            s.add_argument("--id", action="append", help="one mutant id; repeatable")
            s.add_argument("--smoke", action="store_true", help="only mutants marked smoke = true")
        if name == "run":
            s.add_argument("--jobs", type=int, default=1, help="parallel copies of the tree")
            s.add_argument("--timeout", type=float, default=300.0,
                           help="seconds per pytest run (one test file of one mutant)")
            s.add_argument("--no-baseline", action="store_true",
                           help="skip re-running each killing test selection on the unmutated tree")
            s.add_argument("--include-equivalent", action="store_true")
            s.add_argument("--json", help="write the results here (read by `report`)")
        if name == "report":
            s.add_argument("--by", choices=("area", "file"), default="area")
            s.add_argument("--write", action="store_true",
                           help="also rewrite the score block of README.md and docs/mutation.md")
            s.add_argument("json", nargs="*", help=f"result files (default: {_report.RESULT_DIR}/*.json)")
    args = p.parse_args(argv)
    root = Path(args.root).resolve()
    if args.mutants is None:   # the lists that belong to the tree being mutated
        own = root / "tools" / "mutation" / "mutants"
        args.mutants = str(own if own.is_dir() else MUTANT_DIR)

    if args.cmd == "list":
        for m in _select(args):
            flag = " [equivalent]" if m.equivalent else (" [smoke]" if m.smoke else "")
            print(f"{m.area:12} {m.id:48} {m.file}{flag}")
        return 0

    if args.cmd == "check":
        mutants = load(args.area or None, Path(args.mutants))
        problems = check(mutants, root)
        print("\n".join(problems) if problems else f"{len(mutants)} mutants apply cleanly to {root}")
        return 1 if problems else 0

    if args.cmd == "report":
        result_dir = root / "tools" / "mutation" / "results"
        paths = [Path(j) for j in args.json] or sorted((result_dir if result_dir.is_dir()
                                                        else _report.RESULT_DIR).glob("*.json"))
        mutants = load(args.area or None, Path(args.mutants))
        results, dates = _report.read_results(paths)
        print(f"Mutation score ({', '.join(dates) or 'no runs'}):\n")
        print(_report.table(mutants, results, args.by))
        surv = _report.survivors(mutants, results)
        print("\nSurvivors:\n" + ("\n".join(surv) if surv else "none"))
        print("\nEquivalent mutants:\n" + ("\n".join(_report.equivalents(mutants)) or "none"))
        if args.write:
            section = _report.score_section(mutants, results, dates)
            for doc in (root / "README.md", root / "docs" / "mutation.md"):
                print(f"{doc}: {'updated' if _report.write_section(doc, section) else 'no markers'}")
        return 0

    mutants = [m for m in _select(args) if args.include_equivalent or not m.equivalent]
    problems = check(mutants, root)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2

    def log(msg: str) -> None:
        print(msg, flush=True)

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                            capture_output=True, text=True).stdout.strip()

    lock = threading.Lock()

    def save(results: list) -> None:   # after every mutant: an interrupted run keeps its results
        with lock:
            _save(results)

    def _save(results: list) -> None:
        if args.json:
            payload = {"date": _dt.date.today().isoformat(), "commit": commit, "root": str(root),
                       "results": [r for r in results if r is not None]}
            Path(args.json).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")

    results = runner.run_all(root, mutants, args.timeout, args.jobs, log, on_result=save)
    if not args.no_baseline:
        results = runner.verify_kills(root, results, args.timeout, args.jobs, log)
    save(results)
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print("summary: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for r in results:
        if r["status"] in ("survived", "untested"):
            print(f"  {r['status'].upper()}: {r['id']} ({r['file']}): {r['why']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
