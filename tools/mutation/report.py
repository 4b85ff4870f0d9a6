"""The kill table: results of ``run --json`` files, per area (module) or per source file."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from tools.mutation.catalog import Mutant
from tools.mutation.runner import KILLED

RESULT_DIR = Path(__file__).parent / "results"


def read_results(paths: list[Path]) -> tuple[dict[str, dict], list[str]]:
    """Results by mutant id (a later file overrides an earlier one) and the run dates seen."""
    by_id, dates = {}, []
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        dates.append(data["date"])
        for res in data["results"]:
            by_id[res["id"]] = res
    return by_id, sorted(set(dates))


def table(mutants: list[Mutant], results: dict[str, dict], by: str = "area") -> str:
    """Markdown table: planted, equivalent, run, killed (of which by timeout/error), survived,
    not run, score = killed / run non-equivalent mutants."""
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for m in mutants:
        row = rows[getattr(m, by)]
        row["planted"] += 1
        if m.equivalent:
            row["equivalent"] += 1
            continue
        res = results.get(m.id)
        if res is None or res["status"] == "inapplicable":
            row["not run"] += 1
        elif res["status"] in KILLED:
            row["killed"] += 1
            if res["status"] != "killed":
                row["timeout/error"] += 1
        else:
            row["survived"] += 1
    head = [by if by != "area" else "module", "planted", "equivalent", "killed", "of which timeout/error",
            "survived", "not run", "score"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    total: dict[str, int] = defaultdict(int)
    for name in sorted(rows) + ["**all**"]:
        row = total if name == "**all**" else rows[name]
        if row is not total:
            for k, v in row.items():
                total[k] += v
        ran = row["killed"] + row["survived"]
        score = f"{100 * row['killed'] / ran:.0f}%" if ran else "–"
        cells = [name, row["planted"], row["equivalent"], row["killed"], row["timeout/error"],
                 row["survived"], row["not run"], score]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def survivors(mutants: list[Mutant], results: dict[str, dict]) -> list[str]:
    return [f"- `{m.id}` ({m.file}): {m.why}" for m in mutants
            if not m.equivalent and results.get(m.id, {}).get("status") in ("survived", "untested")]


def equivalents(mutants: list[Mutant]) -> list[str]:
    return [f"- `{m.id}` ({m.file}): {m.equivalent}" for m in mutants if m.equivalent]
