"""Running mutants: one copy of the tree per job; per mutant, its test files in order."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tools.mutation.catalog import Mutant

# A mutant is killed when one of its test runs fails (pytest exit 1), times out, or ends in an
# error (exit 2-4: a collection/import error or an internal error the mutant caused). Exit 5 (no
# test selected) means the mapping selects nothing. A mutant whose every run passes survives.
KILLED = ("killed", "timeout", "error")


def tree_files(root: Path) -> list[str]:
    """The files git tracks in ``root`` plus untracked ones it does not ignore."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, capture_output=True, check=True).stdout
    return sorted({f for f in out.decode().split("\0") if f and (root / f).is_file()})


def copy_tree(root: Path, dest: Path) -> None:
    for rel in tree_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # No bytecode: a mutant of equal size written within the same second could otherwise be
    # served from a stale .pyc of the original.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("HYPOTHESIS_PROFILE", "ci")   # derandomized: a run reproduces
    env.setdefault("KERAS_BACKEND", "jax")
    env.pop("PYTHONPATH", None)
    return env


def pytest_once(workdir: Path, args: tuple[str, ...], timeout: float) -> tuple[str, float, str]:
    """(outcome, seconds, last output lines) of one pytest run in ``workdir`` as it is now;
    outcome is passed, failed, timeout, error or no-tests."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "--no-header", "-p", "no:cacheprovider", *args]
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=workdir, env=_env(), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start, f"no result within {timeout:.0f} s"
    seconds = time.perf_counter() - start
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
    outcome = {0: "passed", 1: "failed", 5: "no-tests"}.get(proc.returncode, "error")
    return outcome, seconds, tail


def run_one(workdir: Path, root: Path, m: Mutant, timeout: float) -> dict:
    """Plant m in ``workdir``, run its test files in order until one kills it, restore."""
    src = workdir / m.file
    original = (root / m.file).read_text(encoding="utf-8")
    if original.count(m.find) != 1:
        return _result(m, "inapplicable", 0.0, f"find occurs {original.count(m.find)} times", None)
    src.write_text(original.replace(m.find, m.replace), encoding="utf-8")
    total, status, tail, by, selected = 0.0, "survived", "", None, False
    try:
        for args in m.runs():
            outcome, seconds, tail = pytest_once(workdir, args, timeout)
            total += seconds
            selected = selected or outcome != "no-tests"
            if outcome in ("failed", "timeout", "error"):
                status, by = ("killed" if outcome == "failed" else outcome), list(args)
                break
    finally:
        src.write_text(original, encoding="utf-8")
    if status == "survived" and not selected:
        status = "untested"   # no run selected a test: the mapping is wrong
    return _result(m, status, total, tail, by)


def _result(m: Mutant, status: str, seconds: float, tail: str, by) -> dict:
    return {"id": m.id, "area": m.area, "file": m.file, "status": status, "killed_by": by,
            "seconds": round(seconds, 1), "tests": list(m.tests), "why": m.why, "tail": tail}


def pool(root: Path, items: list, jobs: int, fn, log, label, on_result=None) -> list:
    """``fn(workdir, item)`` for every item, ``jobs`` copies of ``root`` working in parallel;
    ``on_result(results)`` (the list so far, None where not done) after each item."""
    jobs = max(1, min(jobs, len(items)))
    results: list = [None] * len(items)
    with tempfile.TemporaryDirectory(prefix="refopt-mut-") as tmp:
        workdirs = []
        for j in range(jobs):
            workdirs.append(Path(tmp) / f"job{j}")
            copy_tree(root, workdirs[-1])
        done = [0]

        def worker(j: int) -> None:
            for i in range(j, len(items), jobs):
                results[i] = fn(workdirs[j], items[i])
                done[0] += 1
                log(f"[{done[0]}/{len(items)}] {label(items[i], results[i])}")
                if on_result is not None:
                    on_result(results)

        with ThreadPoolExecutor(jobs) as ex:
            list(ex.map(worker, range(jobs)))
    return results


def run_all(root: Path, mutants: list[Mutant], timeout: float, jobs: int, log,
            on_result=None) -> list[dict]:
    return pool(root, mutants, jobs, lambda wd, m: run_one(wd, root, m, timeout), log,
                lambda m, r: f"{m.id}: {r['status']} ({r['seconds']:.0f} s)", on_result)


def verify_kills(root: Path, results: list[dict], timeout: float, jobs: int, log) -> list[dict]:
    """Run every test selection that killed a mutant on the unmutated tree. A selection that
    fails there too proves nothing: its mutants become ``baseline-failed`` (not counted)."""
    selections = sorted({tuple(r["killed_by"]) for r in results if r["killed_by"]})
    outcomes = pool(root, selections, jobs, lambda wd, args: pytest_once(wd, args, timeout), log,
                    lambda args, o: f"baseline {' '.join(args)}: {o[0]} ({o[1]:.0f} s)")
    bad = {args: o for args, o in zip(selections, outcomes) if o[0] != "passed"}
    for r in results:
        if r["killed_by"] and tuple(r["killed_by"]) in bad:
            r["status"], r["tail"] = "baseline-failed", bad[tuple(r["killed_by"])][2]
    return results
