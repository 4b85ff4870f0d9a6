"""Running mutants: one copy of the tree per job, one mutant at a time, pytest on its mapped tests."""

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

# A mutant is killed when its tests fail (exit 1), time out, or end in an error (exit 2-4: a
# collection/import error or an internal error the mutant caused). Exit 5 (no test ran) means
# the mapping selects nothing: the mutant is reported "untested" and counts as surviving.
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


def pytest_command(m: Mutant) -> list[str]:
    return [sys.executable, "-m", "pytest", "-x", "-q", "--no-header", "-p", "no:cacheprovider",
            *m.pytest_args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # No bytecode: a mutant of equal size written within the same second could otherwise be
    # served from a stale .pyc of the original.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("HYPOTHESIS_PROFILE", "ci")   # derandomized: a run reproduces
    env.setdefault("KERAS_BACKEND", "jax")
    env.pop("PYTHONPATH", None)
    return env


def run_tests(workdir: Path, m: Mutant, timeout: float) -> tuple[str, float, str]:
    """(status, seconds, last output lines) of m's tests run in ``workdir`` as it is now."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(pytest_command(m), cwd=workdir, env=_env(), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start, f"no result within {timeout:.0f} s"
    seconds = time.perf_counter() - start
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
    status = {0: "survived", 1: "killed", 5: "untested"}.get(proc.returncode, "error")
    return status, seconds, tail


def run_one(workdir: Path, root: Path, m: Mutant, timeout: float) -> dict:
    src = workdir / m.file
    original = (root / m.file).read_text(encoding="utf-8")
    if original.count(m.find) != 1:
        return _result(m, "inapplicable", 0.0, f"find occurs {original.count(m.find)} times")
    src.write_text(original.replace(m.find, m.replace), encoding="utf-8")
    try:
        status, seconds, tail = run_tests(workdir, m, timeout)
    finally:
        src.write_text(original, encoding="utf-8")
    return _result(m, status, seconds, tail)


def _result(m: Mutant, status: str, seconds: float, tail: str) -> dict:
    return {"id": m.id, "area": m.area, "file": m.file, "status": status,
            "seconds": round(seconds, 1), "tests": list(m.tests), "why": m.why, "tail": tail}


def baseline(root: Path, mutants: list[Mutant], timeout: float, jobs: int, log) -> dict[tuple, dict]:
    """Each distinct test selection run on the unmutated tree: it must pass, or every mutant
    mapped to it would count as killed for nothing."""
    groups: dict[tuple, Mutant] = {}
    for m in mutants:
        groups.setdefault(m.tests, m)
    results = _pool(root, list(groups.values()), jobs,
                    lambda wd, m: _baseline_one(wd, m, timeout),
                    log, "baseline")
    return dict(zip(groups, results))


def _baseline_one(workdir: Path, m: Mutant, timeout: float) -> dict:
    status, seconds, tail = run_tests(workdir, m, timeout)
    return {"status": "passed" if status == "survived" else status, "seconds": seconds, "tail": tail}


def run_all(root: Path, mutants: list[Mutant], timeout_of, jobs: int, log) -> list[dict]:
    """Results of every mutant; ``timeout_of(m)`` is m's time limit in seconds."""
    return _pool(root, mutants, jobs, lambda wd, m: run_one(wd, root, m, timeout_of(m)), log, "mutant")


def _pool(root: Path, items: list[Mutant], jobs: int, fn, log, what: str) -> list[dict]:
    jobs = max(1, min(jobs, len(items)))
    with tempfile.TemporaryDirectory(prefix="refopt-mut-") as tmp:
        workdirs = []
        for j in range(jobs):
            wd = Path(tmp) / f"job{j}"
            copy_tree(root, wd)
            workdirs.append(wd)
        results: list[dict | None] = [None] * len(items)
        done = [0]

        def worker(j: int) -> None:
            for i in range(j, len(items), jobs):
                res = fn(workdirs[j], items[i])
                results[i] = res
                done[0] += 1
                log(f"[{done[0]}/{len(items)}] {what} {items[i].id}: {res['status']} "
                    f"({res['seconds']:.0f} s)")

        with ThreadPoolExecutor(jobs) as ex:
            list(ex.map(worker, range(jobs)))
    return results
