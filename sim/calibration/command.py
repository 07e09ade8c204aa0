"""``opvangsim calibrate SCENARIO --until DATE``: ABC-SMC against the shipped observations up to a cut-off."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from sim.calibration.priors import DEFAULT_PRIORS, load_priors
from sim.calibration.run import CALIBRATION_DIR, DEFAULT_GENERATIONS, DEFAULT_POPULATION, calibrate, posterior_summary
from sim.executors import add_executor_arguments
from sim.scenario import ScenarioError, load_scenario


def add_arguments(p) -> None:
    p.add_argument("scenario", help="scenario TOML file (e.g. scenarios/backtest_2015.toml)")
    p.add_argument("--until", required=True, help="cut-off: only observations up to this date (YYYY-MM-DD, at most 2022-12-31)")
    p.add_argument("--name", help="calibration/<name>/ (default: <scenario name>_<cut-off year>)")
    p.add_argument("--priors", default=str(DEFAULT_PRIORS), help="priors file (default calibration/priors.toml)")
    p.add_argument(
        "--population", type=int, default=DEFAULT_POPULATION, help=f"particles per generation (default {DEFAULT_POPULATION})"
    )
    p.add_argument(
        "--generations",
        type=int,
        default=DEFAULT_GENERATIONS,
        help=f"generations, the first from the prior (default {DEFAULT_GENERATIONS})",
    )
    p.add_argument("--seed", type=int, default=1, help="root seed (default 1): the same seed gives the same posterior")
    add_executor_arguments(p, 2)
    p.add_argument("--out-dir", default=str(CALIBRATION_DIR), help="where calibration/<name>/ goes (default calibration/)")
    p.add_argument("--fresh", action="store_true", help="start again, discarding calibration/<name>/")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ScenarioError(None, option, f"needs a date YYYY-MM-DD, got {text!r}") from None


def main(args) -> int:
    from sim.errors import MAX_SEED, require_range
    from sim.executors import executor_from_args

    until = parse_date(args.until, "--until")
    require_range("--population", args.population, 1, 100_000)
    require_range("--generations", args.generations, 1, 1000)
    require_range("--seed", args.seed, 0, MAX_SEED)
    executor = executor_from_args(args)
    # the run must include the cut-off day
    scenario = load_scenario(args.scenario, [f"end_date={until + dt.timedelta(days=1)}"])
    if scenario.parameters.posterior is not None:
        print(
            f"note: {args.scenario} names a posterior ({scenario.parameters.posterior}); calibration draws its parameters "
            "from the priors instead",
            file=sys.stderr,
        )
    priors = load_priors(args.priors, scenario)
    name = args.name or f"{scenario.name}_{until.year}"
    out = Path(args.out_dir) / name
    print(
        f"calibrating {scenario.name} on observations {scenario.start_date} to {until}: {len(priors.prior)} parameters, "
        f"population {args.population}, {args.generations} generations, seed {args.seed}, {executor.label}",
        file=sys.stderr,
    )
    result = calibrate(
        scenario,
        until,
        priors,
        out,
        executor,
        population=args.population,
        generations=args.generations,
        seed=args.seed,
        fresh=args.fresh,
        quiet=args.quiet,
        command=" ".join(["opvangsim", *sys.argv[1:]]),
    )
    table = posterior_summary(result.posterior)
    print(f"\nposterior of {scenario.name} up to {until} ({len(result.posterior)} particles):")
    print(f"{'key':<46} {'mean':>10} {'90 % credible interval':>26}")
    for r in table.itertuples(index=False):
        print(f"{r.key:<46} {r.mean:>10.4g} {f'[{r.q05:.4g}, {r.q95:.4g}]':>26}")
    last = result.manifest["generation_table"][-1]
    print(f"\nlast generation {last['generation']}: ε {last['epsilon']:.4g}, effective sample size {last['ess']:.0f}")
    print(f"written to {out}/ (posterior.parquet, predictive.parquet, abc.db, manifest.json)")
    return 0
