"""Golden regression results: fixed runs whose outputs may change only on purpose.

Four cases cover the paths a change can disturb: a three-month national
baseline, a two-year baseline with the Spreidingswet cycle, a two-point sweep
run through the sweep machinery, and the first quarter of the 2022 back-test.
Each case is reduced to SHA-256 digests of its frames (summary, time series,
cycle rows) and a few readable numbers, stored in ``tests/golden/<case>.json``.
``tests/test_golden.py`` recomputes them; a commit that claims "results
identical" is then checked, not asserted by hand.

    python -m sim.golden            # compare, print what differs (exit 1 if anything does)
    python -m sim.golden --update   # regenerate: the commit must say why the results changed

Floats are rounded to 10 significant digits before hashing, so a last-bit
difference of a libm function on another CPU does not count as a change;
integers are hashed exactly.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_DIR = ROOT / "tests" / "golden"
SCENARIOS = ROOT / "scenarios"
SIGNIFICANT_DIGITS = 10
# columns that measure the machine, not the model
VOLATILE = ("run_seconds",)
# summary values shown next to the digests, so a diff says what moved
HEADLINE = (
    "emergency_person_nights",
    "ac_days_above_norm",
    "mean_days_to_decision",
    "mean_housing_wait_days",
    "total_cost_eur",
    "final_occupancy_total",
    "share_realised_by_deadline",
)


def _canonical_column(values: pd.Series) -> bytes:
    v = values.to_numpy()
    if v.dtype.kind == "f":
        with np.errstate(all="ignore"):
            mag = np.where(np.isfinite(v) & (v != 0), np.floor(np.log10(np.abs(np.where(v == 0, 1, v)))), 0)
            scale = 10.0 ** (SIGNIFICANT_DIGITS - 1 - mag)
            rounded = np.where(np.isfinite(v), np.round(v * scale) / scale, v)
        return np.ascontiguousarray(rounded.astype("<f8")).tobytes()
    if v.dtype.kind in "iub":
        return np.ascontiguousarray(v.astype("<i8")).tobytes()
    return "\x1f".join(map(str, v.tolist())).encode()


def frame_digests(df: pd.DataFrame) -> dict[str, str]:
    """One digest per column (name → SHA-256 prefix), so a change names the columns it touched."""
    df = df.drop(columns=[c for c in VOLATILE if c in df])
    out = {"__rows__": str(len(df))}
    for col in df.columns:
        out[str(col)] = hashlib.sha256(_canonical_column(df[col])).hexdigest()[:16]
    return out


def _summary_numbers(summary: pd.DataFrame) -> dict[str, float]:
    means = {k: float(summary[k].mean()) for k in HEADLINE if k in summary}
    return {k: round(v, 3) if np.isfinite(v) else None for k, v in means.items()}  # JSON has no NaN


def _run_case(scenario_file: Path, overrides: list[str], replications: int = 1, seed: int = 1) -> dict:
    from sim.runner import run_replication
    from sim.scenario import load_scenario

    scenario = load_scenario(scenario_file, overrides)
    ts, summ, cyc = [], [], []
    for r in range(replications):
        t, s, c = run_replication(scenario, seed, r)
        ts.append(t), summ.append(s), cyc.append(c)
    summary = pd.DataFrame(summ)
    frames = {"summary": summary, "timeseries": pd.concat(ts, ignore_index=True)}
    cycles = [c for c in cyc if len(c)]
    if cycles:
        frames["cycles"] = pd.concat(cycles, ignore_index=True)
    return {"numbers": _summary_numbers(summary), "digests": {k: frame_digests(v) for k, v in frames.items()}}


def baseline_3_months() -> dict:
    return _run_case(SCENARIOS / "baseline.toml", ["end_date=2026-04-01"])


def baseline_2_years_cycle() -> dict:
    return _run_case(SCENARIOS / "baseline.toml", ["end_date=2028-01-01"])


def backtest_2022_q1() -> dict:
    return _run_case(SCENARIOS / "backtest_2022.toml", ["end_date=2022-04-01"], replications=2)


def sweep_two_points() -> dict:
    from sim.executors import SerialExecutor
    from sim.experiment import load_experiment
    from sim.store import load_results
    from sim.sweep import run_sweep

    exp_file = GOLDEN_DIR / "sweep_two_points.toml"
    exp = load_experiment(exp_file)
    with tempfile.TemporaryDirectory() as tmp:
        run_sweep(exp, exp_file, Path(tmp) / "out", SerialExecutor(), quiet=True)
        res = load_results(Path(tmp) / "out")
    frames = {"summary": res.summary, "timeseries": res.timeseries}
    if len(res.cycles):
        frames["cycles"] = res.cycles
    return {"numbers": _summary_numbers(res.summary), "digests": {k: frame_digests(v) for k, v in frames.items()}}


CASES: dict[str, Callable[[], dict]] = {
    "baseline_3_months": baseline_3_months,
    "baseline_2_years_cycle": baseline_2_years_cycle,
    "sweep_two_points": sweep_two_points,
    "backtest_2022_q1": backtest_2022_q1,
}


def path_of(case: str) -> Path:
    return GOLDEN_DIR / f"{case}.json"


def differences(stored: dict, now: dict) -> list[str]:
    """What differs between a stored and a fresh result, one line per frame column or number."""
    out = []
    for frame in sorted(set(stored["digests"]) | set(now["digests"])):
        a, b = stored["digests"].get(frame), now["digests"].get(frame)
        if a is None or b is None:
            out.append(f"{frame}: {'new' if a is None else 'gone'}")
            continue
        for col in sorted(set(a) | set(b)):
            if a.get(col) != b.get(col):
                out.append(f"{frame}.{col}: {'added' if col not in a else 'removed' if col not in b else 'changed'}")
    for k in sorted(set(stored["numbers"]) | set(now["numbers"])):
        if stored["numbers"].get(k) != now["numbers"].get(k):
            out.append(f"{k}: {stored['numbers'].get(k)} -> {now['numbers'].get(k)}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sim.golden", description="Compare or regenerate the golden regression results."
    )
    parser.add_argument("--update", action="store_true", help="regenerate tests/golden/*.json (say why in the commit)")
    parser.add_argument("cases", nargs="*", help=f"cases (default: all): {', '.join(CASES)}")
    args = parser.parse_args(argv)
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    failed = 0
    for case in args.cases or CASES:
        now = CASES[case]()
        path = path_of(case)
        if args.update:
            path.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
            print(f"{case}: written to {path.relative_to(ROOT)}")
            continue
        if not path.exists():
            print(f"{case}: no stored result ({path.relative_to(ROOT)}); run with --update")
            failed += 1
            continue
        diff = differences(json.loads(path.read_text()), now)
        print(f"{case}: {'identical' if not diff else 'DIFFERS'}")
        for line in diff[:40]:
            print(f"  {line}")
        failed += bool(diff)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
