"""Issue 12's targets read off one run's numbers: measured ratio, limit, and whether it holds.

Only the comparisons the run measured appear; nothing here is asserted in a test.
"""

from __future__ import annotations

from typing import Any

from refopt.registry import SPECS

FLOOR_FRACTION_MIN = 0.85   # GPU, element-wise rules at 1e8: fused/floor ≥ this
ADAM_OVER_FUSED = {10**8: 1.0, 10**6: 1.5}   # GPU: refopt Adam / torch fused ≤ this, by n
ADAM_OVER_FOREACH = 1.3     # CPU: refopt Adam / torch foreach ≤ this at 1e6 and 1e7 float64
MLP_OVER_TORCH = 1.05
MANY_OVER_ONE = 1.2


def _row(what: str, measured: float, limit: float, at_most: bool = True) -> dict:
    return {"target": what, "measured": measured, "limit": limit,
            "met": measured <= limit if at_most else measured >= limit}


def check(result: dict) -> list[dict]:
    gpu = result["settings"]["backend"] == "cupy"
    rows = []
    for block in result["rules"]:
        ew = [r for r in block["rows"] if SPECS[r["rule"]].elementwise]
        if gpu and block["n"] >= 10**8 and ew:
            worst = min(ew, key=lambda r: r["fused_fraction_of_floor"])
            rows.append(_row(f"fused/floor ≥ {FLOOR_FRACTION_MIN}, every element-wise rule "
                             f"(worst: {worst['rule']}), n={block['n']:.0e} {block['dtype']}",
                             worst["fused_fraction_of_floor"], FLOOR_FRACTION_MIN, at_most=False))
    for block in result["peers"]:
        peers: dict[str, Any] = {p["name"]: p for p in block["peers"]}
        where = f"n={block['n']:.0e} {block['dtype']}"
        if gpu and block["n"] in ADAM_OVER_FUSED and "torch.optim.Adam fused" in peers:
            rows.append(_row(f"Adam fused / torch fused, {where}",
                             peers["torch.optim.Adam fused"]["refopt_fused_over_peer"],
                             ADAM_OVER_FUSED[block["n"]]))
        if not gpu and block["dtype"] == "float64" and "torch.optim.Adam foreach" in peers:
            for mode in ("fused", "donated", "compiled", "compiled+donated"):
                if f"refopt_{mode}_over_peer" not in peers["torch.optim.Adam foreach"]:
                    continue
                rows.append(_row(f"Adam {mode} / torch foreach, {where}",
                                 peers["torch.optim.Adam foreach"][f"refopt_{mode}_over_peer"],
                                 ADAM_OVER_FOREACH))
    for block in result["many_leaves"]:
        for mode in ("fused", "donated", "compiled", "compiled+donated") if not gpu else ("fused",):
            if mode not in block:
                continue
            rows.append(_row(f"50 leaves / 1 leaf ({mode}), n={block['n']:.0e} {block['dtype']}",
                             block[mode]["ratio"], MANY_OVER_ONE))
    mlp = result.get("mlp") or {}
    for mode in ("fused", "compiled"):
        if f"refopt_{mode}_over_torch" in mlp:
            rows.append(_row(f"MLP step ({mode}) / torch, {mlp['case']}",
                             mlp[f"refopt_{mode}_over_torch"], MLP_OVER_TORCH))
    return rows


def text(rows: list[dict]) -> str:
    from refopt.bench.report import table
    return ("Targets (issue 12), as measured in this run\n"
            + table(["target", "measured", "limit", "met"],
                    [[r["target"], r["measured"], r["limit"], "yes" if r["met"] else "NO"]
                     for r in rows]))
