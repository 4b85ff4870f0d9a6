"""Shared pieces of the studies: t-intervals, learning-rate tuning, tasks, verdict tables.

Every study tunes each rule's learning rate on a grid (no rule is compared untuned), repeats the
tuned run over several seeds (the seed sets the initialisation, the batch order and any rule
randomness) and reports means with 95% Student-t confidence intervals.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# two-sided 95% Student-t quantiles t_{0.975, n−1} for n = 2..11 samples
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228}


def ci(values: Sequence[float]) -> tuple[float, float]:
    """(mean, half-width of the 95% t-interval); (inf, 0) if any run failed (inf or nan)."""
    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v)):
        return math.inf, 0.0
    if v.size < 2:
        return float(v.mean()), math.nan
    return float(v.mean()), T975[v.size - 1] * float(v.std(ddof=1)) / math.sqrt(v.size)


def fmt_ci(values: Sequence[float], fmt: str = ".3f") -> str:
    mean, half = ci(values)
    if not math.isfinite(mean):
        failed = sum(not math.isfinite(x) for x in values)
        return f"— ({failed}/{len(values)} runs failed)"
    return f"{mean:{fmt}} ± {half:{fmt}}"


def progress(iterable: Iterable, desc: str, total: int | None = None) -> Iterable:
    """A tqdm bar on stderr when tqdm is installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False)


def tune(lrs: Sequence[float], seeds: Sequence[int], run: Callable[[float, int], dict], key: str,
         desc: str, lower_is_better: bool = True) -> tuple[float, dict[float, list[dict]]]:
    """Run every (lr, seed); return the lr with the best mean ``key`` and all results.

    A failed run (non-finite ``key``) ranks last, so an unstable lr is never chosen."""
    results: dict[float, list[dict]] = {}
    for lr in progress(lrs, desc):
        results[lr] = [run(lr, s) for s in seeds]

    def score(lr: float) -> float:
        vals = [r[key] for r in results[lr]]
        m = float(np.mean(vals)) if all(math.isfinite(x) for x in vals) else math.inf
        return m if lower_is_better else (-m if math.isfinite(m) else math.inf)
    best = min(lrs, key=score)
    return best, results


def compare(a: Sequence[float], b: Sequence[float]) -> str:
    """'<' / '>' if the 95% intervals of the two means are disjoint, '≈' otherwise."""
    (ma, ha), (mb, hb) = ci(a), ci(b)
    ha, hb = (0.0 if math.isnan(h) else h for h in (ha, hb))   # one sample: compare the points
    if ma + ha < mb - hb:
        return "<"
    if ma - ha > mb + hb:
        return ">"
    return "≈"


def verdict(direction: str, reverse: bool = False) -> str:
    """The verdict for a claim 'A < B' given ``compare(A, B)`` (``reverse``: the claim is A > B)."""
    if reverse:
        direction = {"<": ">", ">": "<"}.get(direction, direction)
    return {"<": "supported", ">": "not supported (the opposite, CIs disjoint)"}.get(
        direction, "not supported (no difference beyond the CIs)")


def edge_note(lrs: Sequence[float], best: float) -> str:
    """'' or a warning that the tuned lr sits on the edge of its grid."""
    if best == min(lrs) or best == max(lrs):
        return " (grid edge)"
    return ""


def digits_task(seed: int = 0):
    """(network, train objective, test objective) for the digits MLP 64–32–10 tanh."""
    from refopt.demo import load_data
    from refopt.nn import MLP
    from refopt.problems import MLPObjective
    _, s = load_data(seed)
    k = int(s.y_train.max()) + 1
    net = MLP([s.X_train.shape[1], 32, k], activation="tanh")
    return net, MLPObjective(net, s.X_train, s.y_train), MLPObjective(net, s.X_test, s.y_test)


def rst_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A reStructuredText list-table."""
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for row in [headers, *rows]:
        lines.append("   * - " + str(row[0]))
        lines += ["     - " + str(c) for c in row[1:]]
    return "\n".join(lines) + "\n"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print()


VERDICT_HEADERS = ("claim", "what we measured", "verdict", "why")


def report(name: str, title: str, setup: str, tables: list[tuple[str, Sequence[str], list]],
           verdicts: list[tuple[str, str, str, str]], results: str | None, started: float) -> str:
    """Print every table and the verdict table; write them as reStructuredText to ``results``."""
    for caption, headers, rows in tables:
        print(caption)
        print_table(headers, rows)
    print("Verdicts")
    print_table(VERDICT_HEADERS, verdicts)
    elapsed = time.time() - started
    parts = [f"Recorded by ``python examples/studies/{name}.py`` ({setup}; {elapsed:.0f} s on 2 CPU "
             "cores shared with other jobs).", "", "**Verdicts**", "", rst_table(VERDICT_HEADERS, verdicts)]
    for caption, headers, rows in tables:
        parts += [f"**{caption}**", "", rst_table(headers, rows)]
    text = "\n".join(parts)
    if results:
        Path(results).write_text(text)
        print(f"wrote {results}")
    return text


def arguments(name: str, doc: str | None, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(doc or "").strip().split("\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="a reduced run (seconds) for the test suite; writes no results file")
    parser.add_argument("--results", default=None,
                        help="where to write the results (default: results/<study>.rst for a full run)")
    args = parser.parse_args(argv)
    if args.results is None and not args.smoke:
        args.results = str(HERE / "results" / f"{name}.rst")
    return args
