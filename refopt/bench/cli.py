"""The benchmark's command line: sizes, dtypes, rules and sections, checked before anything runs."""

from __future__ import annotations

import argparse

from refopt.registry import SPECS

SECTIONS = ("rules", "peers", "many_leaves", "mlp")
DTYPES = ("float32", "float64")
_DEFAULT_N = {"numpy": [10**6, 10**7], "cupy": [10**6, 10**8]}
_DEFAULT_DTYPES = {"numpy": ["float64"], "cupy": ["float32", "float64"]}
QUICK_N = 1000


def _size(text: str) -> int:
    message = f"--n must be a positive integer such as 1e6, got {text!r}"
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(message) from None
    if not (value.is_integer() and value >= 1):
        raise argparse.ArgumentTypeError(message)
    return int(value)


def _names(values: list[str] | None, allowed: tuple[str, ...] | list[str], flag: str) -> list[str] | None:
    if values is None:
        return None
    names = [v.strip() for item in values for v in item.split(",") if v.strip()]
    bad = [v for v in names if v not in allowed]
    if bad or not names:
        raise SystemExit(f"{flag} must be a comma-separated subset of {list(allowed)}, got {bad or values}")
    return list(dict.fromkeys(names))


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m refopt.bench",
        description="refopt against the bandwidth floor and its peers (docs/performance.md)")
    ap.add_argument("--backend", choices=["numpy", "cupy"], default="numpy")
    ap.add_argument("--dtype", action="append", help="float32, float64 or both (repeatable or a list)")
    ap.add_argument("--n", action="append", type=_size,
                    help="parameters (repeatable; default 1e6 and 1e7 on numpy, 1e6 and 1e8 on cupy)")
    ap.add_argument("--rules", default="adam", help="'all' or a comma-separated list of registry rules")
    ap.add_argument("--sections", default=",".join(SECTIONS), help=f"a subset of {list(SECTIONS)}")
    ap.add_argument("--json", metavar="PATH", help="also write the numbers to this JSON file")
    ap.add_argument("--repeat", type=int, help="timed calls per measurement (default 20; 1 with --quick)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    args = ap.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        ap.error(f"--repeat must be a positive integer, got {args.repeat}")
    args.repeat = args.repeat or (1 if args.quick else 20)
    args.dtype = _names(args.dtype, DTYPES, "--dtype") or _DEFAULT_DTYPES[args.backend]
    args.n = args.n or ([QUICK_N] if args.quick else _DEFAULT_N[args.backend])
    args.rule_names = None if args.rules == "all" else _names([args.rules], list(SPECS), "--rules")
    args.sections = _names([args.sections], SECTIONS, "--sections")
    return args
