"""The mutation catalogue stays applicable, and a smoke subset of it is killed (issue 18).

The full run (``python -m tools.mutation run``, docs/mutation.md) is too slow for CI; here every
mutant must still apply (its ``find`` occurs exactly once, its test files exist, ids are
unique), and the ~10 mutants marked ``smoke = true`` are planted and must be killed by the tests
they name — a refactor that makes a mapped test blind to its mutant fails here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools.mutation import check, load
from tools.mutation.runner import run_all

ROOT = Path(__file__).resolve().parents[1]


def test_every_mutant_applies_to_the_tree():
    mutants = load()
    assert len(mutants) >= 150
    assert check(mutants, ROOT) == []


def test_equivalent_mutants_say_why_and_others_name_tests():
    for m in load():
        assert m.why.strip(), m.id
        assert m.equivalent.strip() or m.test_paths, m.id


@pytest.mark.skipif(not (ROOT / ".git").exists() or shutil.which("git") is None,
                    reason="the runner copies the git tree")
def test_smoke_mutants_are_killed():
    smoke = [m for m in load() if m.smoke and not m.equivalent]
    assert 5 <= len(smoke) <= 12, "keep the smoke subset small: it runs in CI"
    results = run_all(ROOT, smoke, timeout=120.0, jobs=2, log=lambda msg: None)
    alive = [(r["id"], r["status"]) for r in results if r["status"] != "killed"]
    assert not alive, alive
