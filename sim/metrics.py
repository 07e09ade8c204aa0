"""Daily snapshot, per-run summary, costs and penalties.

The monitor records one row per simulated day (taken at night, when occupancy
is counted). :class:`DailyCost` prices the night: places by location type
(occupied and empty), crisis shelter, nights at the application centres and
the penalty payments (dwangsom) a centre above its norm incurs. The summary
condenses a run into the headline metrics; the definitions are in each key's
comment and in docs/model.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.calendar import DAYS_PER_YEAR
from sim.people import EXIT_RETURN, FAMILY, GONE, People
from sim.reception.locations import TYPE_NAMES
from sim.registration import ApplicationCentre
from sim.scenario import Scenario

if TYPE_CHECKING:
    from sim.capacity.cycle import CapacityCycle
    from sim.reception.placement import Placement

DAY_FLOWS = ("arrivals", "housed", "departed", "decisions")  # persons per day, counted by the day's steps
FLOAT_COLUMNS = ("cost_eur", "penalty_eur")  # euros
# The daily records: Monitor.night writes a night's integers as one row in exactly this order and its
# penalties; Monitor.settle_costs prices the nights at the end (tests/test_invariants.py checks the columns
# against what they count, e.g. the centres' columns, and the cost against its definition)
INT_COLUMNS = (
    *DAY_FLOWS,
    "moves",
    "ac_occupancy",
    "ac_registering",
    "ac_above_norm",
    "ac_in_relief",
    "sleeping_outside",
    "waiting_elsewhere",
    *(f"occupancy_{t}" for t in TYPE_NAMES),
    "occupancy_total",
    *(f"places_{t}" for t in TYPE_NAMES),
    "places_in_pipeline",
    "places_durable_task",
    "ind_backlog",
    "ind_backlog_family",
    "status_holders_waiting",
    "housing_task",
    "awaiting_departure",
)
COLUMNS = INT_COLUMNS + FLOAT_COLUMNS


class DailyCost:
    """The cost of a night (euros): places by type, crisis shelter, application centres, penalties."""

    def __init__(self, scenario: Scenario, n_centres: int):
        c = scenario.costs
        types = (c.durable, c.temporary, c.emergency, c.amv, c.crisis)  # the order of the location type codes
        self.occupied = [float(t.occupied_eur_per_day) for t in types]
        self.empty = [float(t.empty_eur_per_day) for t in types]
        self.ac = c.ac_eur_per_person_night
        self._penalty_paid = np.zeros(n_centres)  # euros paid per centre so far (each has a cap)

    def penalty(self, centres: list[ApplicationCentre], today: dt.date) -> float:
        """Penalty payments of today: each centre above its norm pays its daily amount, up to its cap, once its
        penalty applies."""
        total = 0.0
        for i, c in enumerate(centres):
            since = c.cfg.penalty_from_date
            if since is not None and today < since:
                continue
            if c.above_norm > 0 and self._penalty_paid[i] < c.cfg.penalty_cap_eur:
                pay = min(c.cfg.penalty_eur_per_day, c.cfg.penalty_cap_eur - self._penalty_paid[i])
                self._penalty_paid[i] += pay
                total += pay
        return total

    def nights(self, occupancy: np.ndarray, places: np.ndarray, at_centres: np.ndarray) -> np.ndarray:
        """Places (by location type, occupied and empty; nights × type codes, persons and places) and the
        application centres (persons per night) for each night (euros)."""
        # summed in type order, night by night elementwise: the same products and sums as one night at a time
        # (a numpy dot product's BLAS kernel may round differently from one CPU to another)
        occupied, empty = np.zeros(len(at_centres)), np.zeros(len(at_centres))
        for t, (c_occ, c_empty) in enumerate(zip(self.occupied, self.empty)):
            occupied = occupied + occupancy[:, t] * c_occ
            empty = empty + (places[:, t] - occupancy[:, t]) * c_empty
        return occupied + empty + at_centres * self.ac


class Monitor:
    """Daily records: one row per night in two tables (persons and places; euros); ``data`` gives each
    column as an array (a view of its table)."""

    def __init__(self, horizon_days: int, start: dt.date, costs: DailyCost):
        self.h = horizon_days
        self.start = start
        self.costs = costs
        # two tables, one row per night (a row is written in one step); ``data`` names their columns
        self._ints = np.zeros((horizon_days, len(INT_COLUMNS)), np.int64)
        self._floats = np.zeros((horizon_days, len(FLOAT_COLUMNS)))  # cost: priced at the end (settle_costs)
        self._incentives = np.zeros(horizon_days)  # euros paid per durable place opened, each day (cycle only)
        self.data = {c: self._ints[:, i] for i, c in enumerate(INT_COLUMNS)}
        self.data.update({c: self._floats[:, i] for i, c in enumerate(FLOAT_COLUMNS)})
        self.any_above_norm = np.zeros(horizon_days, bool)
        # nights with a centre above its norm before each day (Python ints): the pressure over a window is a
        # difference of two, not a count over the window each time it is asked (thousands of times a run)
        self._nights_above_before = [0] * (horizon_days + 1)
        # the day's flows (persons), added to by the day's steps and counted at night
        self.today = dict.fromkeys(DAY_FLOWS, 0)

    def occupancy_on(self, day: int, initial_total: int) -> float:
        """Persons with a right to reception on the night of ``day`` (before day 0: ``initial_total``, the start state)."""
        return float(self.data["occupancy_total"][day]) if day >= 0 else float(initial_total)

    def pressure(self, day: int, window_days: int) -> float:
        """Share of the ``window_days`` nights before ``day`` on which an application centre was above its norm."""
        before = self._nights_above_before
        return (before[day] - before[max(day - window_days, 0)]) / window_days

    def night(self, day: int, centres, locations, placement, procedure, housing, capacity) -> None:
        """Count the night of ``day``: the day's flows, where everyone is, the places, the backlog and queues,
        the penalties and the incentives paid (the night is priced with the others, :meth:`settle_costs`);
        then start the next day's flows at zero."""
        costs, today = self.costs, self.today
        places, occ = locations.open_places, locations.occupied  # read only
        ac = registering = above_norm = in_relief = outside = 0
        for c in centres:
            present, reg, above, relief, out = c.tonight()
            ac += present
            registering += reg
            above_norm += above
            in_relief += relief
            outside += out
        # only a centre above its norm pays (most nights none is)
        penalty = costs.penalty(centres, self.start + dt.timedelta(days=day)) if above_norm else 0.0
        occupied, places = occ.tolist(), places.tolist()  # Python ints: their sums below are exact, without numpy calls
        if capacity is not None:
            self._incentives[day] = capacity.take_cost()  # incentives paid per durable place opened
        self.any_above_norm[day] = above_norm > 0
        self._nights_above_before[day + 1] = self._nights_above_before[day] + (above_norm > 0)
        # one row write per table, in the order of INT_COLUMNS
        self._ints[day] = (
            *map(today.__getitem__, DAY_FLOWS),
            placement.moves,
            ac,
            registering,
            above_norm,
            in_relief,
            outside,
            placement.waiting_elsewhere,
            *occupied,  # durable, temporary, emergency, amv, crisis: the order of the type codes
            ac + sum(occupied),  # occupancy_total, COA's count: a right to reception tonight, not waiting at home
            *places,
            capacity.places_in_pipeline() if capacity else 0,
            capacity.current_task() if capacity else 0,
            procedure.size,
            procedure.family_backlog[day],
            housing.waiting - placement.waiting_elsewhere,  # status holders waiting in reception (COA's count)
            housing.task,
            procedure.awaiting_departure,
        )
        self._floats[day, 1] = penalty
        for flow in DAY_FLOWS:  # in place: the day's steps hold this dict
            today[flow] = 0

    def settle_costs(self) -> None:
        """Each night's cost (euros; the run calls this when it ends, :meth:`sim.model.Chain.run`): its places
        and centres priced from the night's counts (:meth:`DailyCost.nights`, all nights at once rather than one
        call a night), plus its penalties, plus its incentives (none without the cycle: adding zeros changes no
        sum of costs, which are never below zero); in that order, as one night's sum. Nights not counted cost
        nothing."""
        d = self.data
        occupancy = self._ints[:, [INT_COLUMNS.index(f"occupancy_{t}") for t in TYPE_NAMES]]
        places = self._ints[:, [INT_COLUMNS.index(f"places_{t}") for t in TYPE_NAMES]]
        d["cost_eur"][:] = (self.costs.nights(occupancy, places, d["ac_occupancy"]) + d["penalty_eur"]) + self._incentives

    def frame(self, dates: np.ndarray, replication: int) -> pd.DataFrame:
        head = {"replication": np.full(self.h, replication, np.int32), "date": dates, "day": np.arange(self.h, dtype=np.int32)}
        return pd.DataFrame({**head, **{c: self.data[c] for c in COLUMNS}})  # one frame, not a column at a time


def _censored_mean(start: np.ndarray, end: np.ndarray, horizon: float) -> float:
    """Mean of end − start, with cases still open at the horizon counted up to the horizon."""
    if len(start) == 0:
        return float("nan")
    end = np.where(np.isnan(end), horizon, end)
    return float(np.mean(end - start))


def summarise(
    monitor: Monitor,
    people: People,
    horizon: float,
    legal_term_days: float,
    placed_ever: int,
    total_moves: int,
    window: tuple[int, int] | None = None,
) -> dict:
    """The headline metrics of one run (persons, person-nights, days, euros).

    Metrics of the night (shelter, the centres, costs) count the evaluation ``window`` of days
    [first, end) only, so peaks are not set by the start state and scenarios compare over the same
    days; metrics of people (waits, moves) count everyone who arrived during the run.
    """
    d = monitor.data
    a, b = window if window is not None else (0, monitor.h)
    days = max(b - a, 1)
    n = people.n
    new = ~people.initial[:n]
    emergency = (d["occupancy_emergency"] + d["occupancy_crisis"])[a:b]
    above = monitor.any_above_norm[a:b]
    outside = d["sleeping_outside"][a:b]
    # the groups below as ids, not boolean masks: selecting by a mask of a run's records (random, ~400,000 rows)
    # took ten times as long as finding the ids once and taking by them
    # registration wait: time from arrival to the start of registration (the queue wait, Wq)
    reg = np.flatnonzero(new & ~np.isnan(people.t_reg_start[:n]) & (people.t_reg_start[:n] < horizon))
    # time to decision: from entering the procedure (end of registration) to the decision, censored at the horizon
    in_proc = new & (people.cat[:n] != FAMILY) & ~np.isnan(people.t_reg_end[:n]) & (people.t_reg_end[:n] < horizon)
    in_proc = np.flatnonzero(in_proc)
    t_dec = people.t_decision[in_proc]
    t_in = people.t_reg_end[in_proc]
    # housing wait: permit to home, censored at the horizon (family joining a sponsor wait 0)
    holders = np.flatnonzero(~np.isnan(people.t_permit[:n]) & (people.t_permit[:n] >= 0))
    housed_end = np.where(people.where[holders] == GONE, people.t_exit[holders], np.nan)
    over_term = np.where(np.isnan(t_dec), horizon, t_dec) - t_in > legal_term_days
    return {
        "window_first_day": int(a),  # the evaluation window, simulation days [first, first + days)
        "window_days": int(b - a),
        "emergency_person_nights": float(emergency.sum()),  # emergency + crisis shelter in the window, person-nights
        "emergency_persons_per_night": float(emergency.sum() / days),  # the same as an average night (persons)
        "peak_emergency_occupancy": int(emergency.max(initial=0)),  # persons, in the window
        "ac_days_above_norm": int(above.sum()),  # days any centre is above its norm, in the window
        "ac_person_nights_above_norm": float(d["ac_above_norm"][a:b].sum()),  # person-nights above the norms
        "ac_peak_occupancy": int(d["ac_occupancy"][a:b].max(initial=0)),  # persons
        "person_nights_outside": float(outside.sum()),  # person-nights
        "nights_anyone_outside": int(np.count_nonzero(outside)),  # nights
        "moves_per_person": total_moves / placed_ever if placed_ever else 0.0,  # moves between locations per person ever placed
        "mean_registration_wait_days": float(np.mean(people.t_reg_start[reg] - people.t_arrive[reg]))
        if len(reg)
        else float("nan"),
        "mean_days_to_decision": _censored_mean(t_in, t_dec, horizon),
        "mean_housing_wait_days": _censored_mean(people.t_permit[holders], housed_end, horizon),
        "cases_over_legal_term": int(over_term.sum()),  # cases decided after, or still pending beyond, the legal term
        "total_cost_eur": float(d["cost_eur"][a:b].sum()),  # in the window
        "cost_eur_per_year": float(d["cost_eur"][a:b].sum() / days * DAYS_PER_YEAR),
        "penalty_cost_eur": float(d["penalty_eur"][a:b].sum()),
        "arrivals_total": int(d["arrivals"].sum()),  # the whole run
        "housed_total": int(d["housed"].sum()),
        "departed_total": int(d["departed"].sum()),
        "returns_total": int(np.count_nonzero(people.exit_kind[:n] == EXIT_RETURN)),  # departures that were a return
        "final_occupancy_total": int(d["occupancy_total"][-1]) if monitor.h else 0,
    }


@dataclass
class Result:
    """What one run returns: daily time series, headline summary, and (on request) the records."""

    timeseries: pd.DataFrame
    summary: dict
    cycles: pd.DataFrame = field(default_factory=pd.DataFrame)
    people: pd.DataFrame | None = None
    locations: pd.DataFrame | None = None
    municipalities: pd.DataFrame | None = None


def result(
    scenario: Scenario,
    *,
    seed: int,
    replication: int,
    particle: int | None,
    monitor: Monitor,
    people: People,
    placement: Placement,
    capacity: CapacityCycle | None,
    dates: np.ndarray,
    municipalities: pd.DataFrame | None,
    keep_records: bool,
) -> Result:
    """One finished run as a :class:`Result`: the summary (:func:`summarise`, plus the cycle's), the daily
    time series (``moves`` per day), the cycles and, with ``keep_records``, the person and location records."""
    summary = {"replication": int(replication), "seed": int(seed)}
    if particle is not None:
        summary["particle"] = particle  # row of the posterior file this run's parameters came from
    window = scenario.evaluation_window()
    P = placement
    legal_term = scenario.procedure.legal_term_days
    summary.update(summarise(monitor, people, float(monitor.h), legal_term, P.placed_ever, P.moves, window))
    cycles = pd.DataFrame()
    if capacity is not None:
        summary.update(capacity.summary(window))
        cycles = capacity.cycles_frame(replication)
    ts = monitor.frame(dates, replication)
    ts["moves"] = np.diff(ts["moves"].to_numpy(), prepend=0)  # the monitor counts moves since the start
    return Result(
        timeseries=ts,
        summary=summary,
        cycles=cycles,
        people=people.frame() if keep_records else None,
        locations=P.locations.frame() if keep_records else None,
        municipalities=municipalities,
    )
