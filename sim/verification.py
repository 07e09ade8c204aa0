"""Verification against queueing theory and flow balances.

Each check builds a small scenario in which theory gives an answer, runs the
model with a fixed seed, and returns a :class:`Check` (theory, simulated value,
tolerance, verdict). ``tests/test_verification.py`` asserts them and
``python -m sim.docs`` writes them into ``docs/validation.md``.

The scenarios start empty (no initial state) and discard a warm-up; inflow is
Poisson with no season, so the arrival process is (close to) a Poisson process:
a day's count is Poisson and its arrival times are uniform over the first 98 %
of the day.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from sim.calendar import DAYS_PER_YEAR, HALF_YEAR_DAYS
from sim.initial_state import persons_on_start_date
from sim.model import simulate
from sim.scenario import scenario_from_dict


@dataclass
class Check:
    name: str
    theory: float
    simulated: float
    tolerance: float  # absolute, in the unit of the values
    unit: str
    detail: str = ""

    @property
    def passed(self) -> bool:
        return bool(abs(self.simulated - self.theory) <= self.tolerance)

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def _empty_world(**over) -> dict:
    """A scenario dict with no initial state, flat Poisson inflow, no family reunification."""
    base = {
        "name": "verification",
        "start_date": "2030-01-01",
        "inflow": {
            "mode": "rate",
            "first_applications_per_year": 10_000,
            "amv_share_of_first": 0.0,
            "family_reunification_per_year": 0,
            "seasonal_factors": [1.0] * 12,
            "dispersion": "poisson",
        },
        "initial_state": {
            "use_municipal_places": False,
            "ac_occupancy": 0,
            "occupancy_durable": 0,
            "occupancy_emergency": 0,
            "occupancy_amv": 0,
            "occupancy_temporary": 0,
            "status_holders_waiting": 0,
            "awaiting_departure": 0,
        },
        "reception": {"emergency": {"on_demand": False}, "acquisition": {"enabled": False}},  # fixed capacity
        "registration": {"transfer_limit_per_day": 100_000},
        "capacity": {"spreidingswet": {"enabled": False}},  # no new capacity but the places each check names
    }
    return _merge(base, over)


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


# --------------------------------------------------------------------------- queueing formulas


def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in an M/M/c queue with offered load ``a`` = λ/μ (Erlang C), a < c."""
    # Erlang B by its stable recurrence, then C = B / (1 − ρ(1 − B))
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1 - rho * (1 - b))


def mmc_wait_days(lam: float, mean_service: float, c: int) -> float:
    """Mean wait in queue Wq (days) of an M/M/c queue: C(c, a) / (cμ − λ)."""
    mu = 1.0 / mean_service
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmck_distribution(lam: float, mean_service: float, c: int, K: int) -> np.ndarray:
    """Stationary distribution P(N = n), n = 0..K, of the M/M/c/K queue (birth–death, computed in logs)."""
    mu = 1.0 / mean_service
    logp = np.zeros(K + 1)
    for n in range(1, K + 1):
        logp[n] = logp[n - 1] + math.log(lam) - math.log(min(n, c) * mu)
    p = np.exp(logp - logp.max())
    return p / p.sum()


# --------------------------------------------------------------------------- checks


def erlang_c_registration(seed: int = 11, replications: int = 6, years: float = 10) -> Check:
    """Mean registration wait (arrival to start of registration) of an M/M/c centre against Erlang C.

    At ρ = 0.9 the mean wait of one run is a noisy statistic (runs of 15 years spread by ±20 %), so the
    check pools independent replications and allows three standard errors of their mean."""
    c, mean_s, lam = 20, 3.0, 6.0  # ρ = λ·S / c = 0.9
    scen = scenario_from_dict(
        _empty_world(
            horizon_years=years,
            inflow={"first_applications_per_year": lam * DAYS_PER_YEAR},
            registration={"centres": [{"slots": c, "service_mean_days": mean_s, "service_distribution": "exponential"}]},
            capacity={"scheduled": [{"type": "durable", "places": 20_000, "opens": "2029-12-31"}]},
            procedure={"decisions_per_week": 2_000},
            housing={"task_per_half_year": 20_000},
        )
    )
    waits = np.array([simulate(scen, seed=seed + r).summary["mean_registration_wait_days"] for r in range(replications)])
    theory = mmc_wait_days(lam, mean_s, c)
    se = float(waits.std(ddof=1) / math.sqrt(replications))
    return Check(
        "Erlang C: mean registration wait, M/M/20, ρ = 0.9",
        theory,
        float(waits.mean()),
        3 * se,
        "days",
        f"λ = {lam}/day, mean service {mean_s} d, c = {c}; {replications} replications of {years:g} years from seed {seed}; "
        f"tolerance three standard errors ({3 * se / theory:.0%})",
    )


def centre_above_norm(seed: int = 12) -> Check:
    """P(centre above its norm at night) with unlimited onward places, against the M/M/c law.

    At night (.99 of a day) the centre holds the N people in registration (queue
    or service: an M/M/c system) plus those who finished since the day's
    transfer at .50. In an M/M/c queue in equilibrium departures form a Poisson
    process independent of the current state (Burke), so the second group is
    Poisson(0.49 λ) and independent of N. N's law is the M/M/c/K distribution
    with K far beyond reach (the model turns nobody away: above the physical
    limit people sleep outside, they are not blocked).
    """
    c, mean_s, lam, norm = 40, 3.0, 12.0, 50
    scen = scenario_from_dict(
        _empty_world(
            horizon_years=20,
            inflow={"first_applications_per_year": lam * DAYS_PER_YEAR},
            registration={
                "centres": [{"slots": c, "service_mean_days": mean_s, "norm_persons": norm, "physical_limit_persons": norm}]
            },
            capacity={"scheduled": [{"type": "durable", "places": 20_000, "opens": "2029-12-31"}]},
            procedure={"decisions_per_week": 2_000},
            housing={"task_per_half_year": 20_000},
        )
    )
    r = simulate(scen, seed=seed)
    ts = r.timeseries.iloc[365:]
    sim_p = float((ts["ac_occupancy"] > norm).mean())
    K = 10 * norm
    pn = mmck_distribution(lam, mean_s, c, K)
    pm = stats.poisson.pmf(np.arange(K + 1), 0.49 * lam)
    present = np.convolve(pn, pm)[: K + 1]
    theory = float(present[norm + 1 :].sum())
    return Check(
        "M/M/c/K: P(application centre above norm at night), onward places unlimited",
        theory,
        sim_p,
        0.04,
        "probability",
        f"λ = {lam}/day, mean service {mean_s} d, c = {c}, norm {norm}, K = {K}; 19 years after a 1-year warm-up, seed {seed}; tolerance ±0.04",
    )


def _stage_world(location_type: str, seed: int):
    """A stable chain in which every adult stays in one location type from placement to exit."""
    places = {"durable": 0, "temporary": 0, "emergency": 0}
    places[location_type] = 30_000
    sched = [{"type": t, "places": n, "opens": "2029-12-31"} for t, n in places.items() if n]
    sched.append({"type": "amv", "places": 5_000, "opens": "2029-12-31"})
    scen = scenario_from_dict(
        _empty_world(
            horizon_years=7,
            inflow={"first_applications_per_year": 10_000, "amv_share_of_first": 0.1},
            # no search and no acquisition: nobody moves to another location type
            reception={"amv_overflow_to_emergency": False, "emergency": {"on_demand": False}, "acquisition": {"enabled": False}},
            registration={"centres": [{"slots": 120}]},  # ρ = 27.4 × 3 / 120 ≈ 0.68
            capacity={"scheduled": sched},
            procedure={"decisions_per_week": 260},  # ρ ≈ 192/260 per week
            housing={"task_per_half_year": 4_000},  # ≈ 22/day against ≈ 19.6 permits/day
        )
    )
    return scen, simulate(scen, seed=seed, keep_records=True)


def _little(
    name: str, L_series: np.ndarray, t_in: np.ndarray, t_out: np.ndarray, window: tuple[float, float], unit: str = "persons"
) -> Check:
    """L = λW on a window: L the mean nightly count, λ the entry rate into the stage in the window, W the
    mean time in the stage of those entries (all of whom must have left by the end of the run)."""
    lo, hi = window
    L = float(np.mean(L_series[int(lo) : int(hi)]))
    entered = (t_in >= lo) & (t_in < hi)
    lam = entered.sum() / (hi - lo)
    w = t_out[entered] - t_in[entered]
    done = ~np.isnan(w)
    W = float(np.mean(w[done]))
    return Check(
        f"Little's law: {name}",
        L,
        float(lam * W),
        0.05 * L,
        unit,
        f"λ = {lam:.2f}/day, W = {W:.1f} d, {int(done.sum())} of {int(entered.sum())} entries finished; tolerance 5 % of L",
    )


def little_checks(seed: int = 13) -> list[Check]:
    """Little's law per stage (registration, IND backlog, housing wait, departure wait) and per location type."""
    out = []
    for i, ltype in enumerate(("durable", "temporary", "emergency")):
        scen, r = _stage_world(ltype, seed + i)
        p, ts = r.people, r.timeseries
        h = scen.horizon_days
        window = (730.0, h - 730.0)  # two-year warm-up; the last two years let the window's entries finish
        adult = (p["category"] != "amv").to_numpy()
        amv = ~adult
        t_place, t_exit = p["t_place"].to_numpy(), p["t_exit"].to_numpy()
        # nightly counts are taken at .99 of the day: shift exits that happen later on the same day
        out.append(_little(f"{ltype} locations", ts[f"occupancy_{ltype}"].to_numpy(), t_place[adult], t_exit[adult], window))
        if i == 0:
            out.append(_little("AMV locations", ts["occupancy_amv"].to_numpy(), t_place[amv], t_exit[amv], window))
            # the registering count drops at the day's transfer (.50) after registration ends, so the stage ends there
            reg_counted_until = np.ceil(p["t_reg_end"].to_numpy() - 0.5) + 0.5
            out.append(
                _little(
                    "registration (queue + service, until the next transfer)",
                    ts["ac_registering"].to_numpy(),
                    p["t_arrive"].to_numpy(),
                    reg_counted_until,
                    window,
                )
            )
            out.append(
                _little(
                    "IND backlog", ts["ind_backlog"].to_numpy(), p["t_reg_end"].to_numpy(), p["t_decision"].to_numpy(), window
                )
            )
            holders = ~np.isnan(p["t_permit"].to_numpy())
            exit_h = np.where(p["exit_kind"].to_numpy() == "housed", t_exit, np.nan)
            out.append(
                _little(
                    "status holders waiting for a home",
                    ts["status_holders_waiting"].to_numpy(),
                    np.where(holders, p["t_permit"].to_numpy(), np.nan),
                    exit_h,
                    window,
                )
            )
            leaving = (p["outcome"].to_numpy() >= 2) & ~np.isnan(p["t_decision"].to_numpy())
            out.append(
                _little(
                    "awaiting departure",
                    ts["awaiting_departure"].to_numpy(),
                    np.where(leaving, p["t_decision"].to_numpy(), np.nan),
                    np.where(leaving, t_exit, np.nan),
                    window,
                )
            )
    return out


def flow_balance_checks(seed: int = 14) -> list[Check]:
    """Conservation of persons through housing and departure in a run that starts from an occupied state."""
    data = _empty_world(
        horizon_years=3,
        inflow={"first_applications_per_year": 20_000, "amv_share_of_first": 0.1, "family_reunification_per_year": 6_000},
        initial_state={
            "ac_occupancy": 500,
            "occupancy_durable": 20_000,
            "occupancy_amv": 1_000,
            "status_holders_waiting": 8_000,
            "awaiting_departure": 2_000,
        },
        capacity={
            "scheduled": [
                {"type": "durable", "places": 60_000, "opens": "2029-12-31"},
                {"type": "amv", "places": 5_000, "opens": "2029-12-31"},
            ]
        },
        procedure={"decisions_per_week": 450},
        # a published task below the permit rate, realised in full, no matching delay: status holders wait all the time
        housing={
            "task_mode": "series",
            "task_per_half_year": 5_000,
            "realisation_mean": 1.0,
            "realisation_sd": 0.0,
            "matching_delay_days": 0,
        },
    )
    scen = scenario_from_dict(data)
    r = simulate(scen, seed=seed, keep_records=True)
    ts, p = r.timeseries, r.people
    ist = scen.initial_state
    initial_total = persons_on_start_date(scen)
    out = []
    # every person who arrived is still in the chain, housed (incl. joining a sponsor) or departed
    final = int(ts["occupancy_total"].iloc[-1])
    expected = initial_total + int(ts["arrivals"].sum()) - int(ts["housed"].sum()) - int(ts["departed"].sum())
    out.append(
        Check(
            "flow balance: initial + arrivals − housed − departed = final occupancy",
            expected,
            final,
            0,
            "persons",
            f"{initial_total} + {int(ts['arrivals'].sum())} − {int(ts['housed'].sum())} − {int(ts['departed'].sum())}",
        )
    )
    # housing: with status holders waiting throughout, municipalities house exactly the task, nareizigers who
    # join their sponsor included (they count towards it: housing.family_joiners_in_task)
    sponsor = (p["exit_kind"] == "joined_sponsor").to_numpy()
    t_exit = p["t_exit"].to_numpy()
    housed_task = (p["exit_kind"] == "housed").to_numpy() | sponsor
    days = scen.horizon_days
    half = HALF_YEAR_DAYS
    n_halves = int(days // half)
    housed_per_half = [int((housed_task & (t_exit >= k * half) & (t_exit < (k + 1) * half)).sum()) for k in range(n_halves)]
    assert ts["status_holders_waiting"].min() > 0, "the flow-balance world must keep status holders waiting"
    out.append(
        Check(
            "housing: persons housed per half-year = housing task while status holders wait",
            5_000.0,
            float(np.mean(housed_per_half)),
            2.0,
            "persons/half-year",
            f"per half-year: {housed_per_half}; {int(sponsor.sum())} of them nareizigers who joined a sponsor",
        )
    )
    # departure: everyone decided against leaves after the drawn delay; stock = initial + decided − departed
    decided_leave = int(((p["outcome"] >= 2) & (p["t_decision"] >= 0)).sum())
    expected_stock = ist.awaiting_departure + decided_leave - int(ts["departed"].sum())
    out.append(
        Check(
            "departure: awaiting departure = initial + rejections/Dublin decided − departed",
            float(expected_stock),
            float(ts["awaiting_departure"].iloc[-1]),
            0.0,
            "persons",
            f"{ist.awaiting_departure} + {decided_leave} − {int(ts['departed'].sum())}",
        )
    )
    # no one left twice, no one left before arriving
    gone = (p["where"] == "gone").to_numpy()
    t_arr = p["t_arrive"].to_numpy()
    bad = int((gone & ~np.isnan(t_arr) & (t_exit < t_arr)).sum())
    out.append(Check("no exit before arrival", 0.0, float(bad), 0.0, "persons", ""))
    return out


def all_checks() -> list[Check]:
    """Every verification check (takes about a minute on one core)."""
    return [erlang_c_registration(), centre_above_norm(), *little_checks(), *flow_balance_checks()]
