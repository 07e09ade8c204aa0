"""The state of the chain on the start date: existing locations, their residents, the backlog, the queues.

A run starts where the country is, not from empty (no warm-up): the
scenario's ``initial_state`` gives occupancy by location type, the status
holders waiting for a home, the people awaiting departure and the people at
the application centres; existing locations come from the municipalities file
(places per municipality) and from the scenario's scheduled locations.
Residents are spread over the open locations of their type in proportion to
places; everyone in a location who is neither a status holder nor awaiting
departure is in the IND procedure.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from sim.calendar import DAYS_PER_YEAR, Calendar
from sim.housing import Housing
from sim.people import AC_WAITING, AMV, DUBLIN, FIRST, IN_PROCEDURE, LOCATION, REJECTION, STATUS_HOLDER, TO_DEPART, People
from sim.procedure import Procedure, departure_delays
from sim.reception.locations import (
    AMV_PLACES,
    DURABLE,
    EMERGENCY,
    N_TYPES,
    NEVER,
    TEMPORARY,
    TYPE_CODE,
    Locations,
    read_municipalities,
)
from sim.reception.placement import Placement
from sim.registration import ApplicationCentre, route_to_centres
from sim.scenario import Scenario, ScenarioError

KEY_INITIAL = 1_000_000_000  # lease keys of the locations open on the start date


# each location type and the start-state key that says how many people live in it on the start date
OCCUPANCY_KEYS = (
    (DURABLE, "occupancy_durable"),
    (TEMPORARY, "occupancy_temporary"),
    (EMERGENCY, "occupancy_emergency"),
    (AMV_PLACES, "occupancy_amv"),
)


def initial_locations(scenario: Scenario, municipalities: pd.DataFrame | None) -> list[tuple[int, int, float, int, str]]:
    """Existing locations on the start date as (type, places, close_day, municipality index, origin).

    Regular places per municipality (November 2025) become a durable location
    and an AMV location (the AMV share); emergency places an emergency
    location. Remaining lifetimes are spread evenly over the scenario's ranges
    in municipality-code order: a deterministic estimate, the same in every run.
    """
    ist = scenario.initial_state
    out: list[tuple[int, int, float, int, str]] = []
    if municipalities is None or not ist.use_municipal_places:
        return out
    df = municipalities
    regular = np.round(
        df.get("regular_places_2025_11", pd.Series(0, index=df.index)).to_numpy(float) * ist.regular_places_scale
    ).astype(np.int64)
    emergency = np.round(
        df.get("emergency_places_2025_11", pd.Series(0, index=df.index)).to_numpy(float) * ist.emergency_places_scale
    ).astype(np.int64)
    ac = np.flatnonzero(df["cbs_code"].to_numpy() == ist.ac_municipality)
    if len(ac):
        regular[ac[0]] = max(0, regular[ac[0]] - ist.ac_places_in_regular)
    with_regular = np.flatnonzero(regular > 0)
    lo, hi = ist.durable_remaining_years
    for rank, m in enumerate(with_regular):
        frac = (rank + 0.5) / len(with_regular)
        close = (lo + (hi - lo) * frac) * DAYS_PER_YEAR
        amv = int(round(regular[m] * ist.amv_share_of_regular))
        if regular[m] - amv > 0:
            out.append((DURABLE, int(regular[m] - amv), close, int(m), "initial"))
        if amv > 0:
            out.append((AMV_PLACES, amv, close, int(m), "initial"))
    with_emergency = np.flatnonzero(emergency > 0)
    lo, hi = ist.emergency_remaining_days
    for rank, m in enumerate(with_emergency):
        frac = (rank + 0.5) / len(with_emergency)
        out.append((EMERGENCY, int(emergency[m]), lo + (hi - lo) * frac, int(m), "initial"))
    return out


def persons_on_start_date(scenario: Scenario) -> int:
    """Persons in the chain on the start date: at the application centres and in each type of location."""
    ist = scenario.initial_state
    return ist.ac_occupancy + ist.occupancy_durable + ist.occupancy_temporary + ist.occupancy_emergency + ist.occupancy_amv


def municipalities_of(scenario: Scenario) -> pd.DataFrame | None:
    """The municipalities table when the start state (municipal places) or the Spreidingswet uses it, else None."""
    ist = scenario.initial_state
    if ist.use_municipal_places or scenario.capacity.spreidingswet.enabled:
        path = scenario.resolve_path(ist.municipalities_file)
        if not path.exists():
            return read_municipalities(path)  # its own message
        st = path.stat()
        return _municipalities(str(path), st.st_mtime_ns, st.st_size).copy()  # parsed once per file version
    return None


@functools.lru_cache(maxsize=8)
def _municipalities(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    return read_municipalities(path)


def places_on_start_date(scenario: Scenario) -> np.ndarray:
    """Places per location type open on the start date (the municipalities file's and scheduled ones)."""
    ist = scenario.initial_state
    municipalities = None
    if ist.use_municipal_places:
        path = scenario.resolve_path(ist.municipalities_file)
        st = path.stat()
        municipalities = _municipalities(str(path), st.st_mtime_ns, st.st_size)
    places = np.zeros(N_TYPES, np.int64)
    for type_code, n, _close, _muni, _origin in initial_locations(scenario, municipalities):
        places[type_code] += n
    for loc in scenario.capacity.scheduled:
        opens = (loc.opens - scenario.start_date).days
        closes = (loc.closes - scenario.start_date).days if loc.closes else np.inf
        if opens <= 0 < closes:
            places[TYPE_CODE[loc.type]] += loc.places
    return places


def start_state_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """(key, problem) for each location type whose start-state occupancy exceeds the places open on day 0."""
    places = places_on_start_date(scenario)
    ist = scenario.initial_state
    out = []
    for type_code, key in OCCUPANCY_KEYS:
        want = getattr(ist, key)
        if want > places[type_code]:
            out.append(
                (
                    f"initial_state.{key}",
                    f"{want} persons exceed the {int(places[type_code])} {key.split('_')[1]} places open on the start date",
                )
            )
    return out


def municipality_index(municipalities: pd.DataFrame | None, code: str | None) -> int:
    """Row of a CBS code in the municipalities table, or -1 (none given, or no table)."""
    if code is None or municipalities is None:
        return -1
    hits = np.flatnonzero(municipalities["cbs_code"].to_numpy() == code)
    return int(hits[0]) if len(hits) else -1


def add_locations(scenario: Scenario, cal: Calendar, locations: Locations, municipalities: pd.DataFrame | None) -> None:
    """The locations open on the start date, and the scheduled ones that open later (not yet open)."""
    L = locations
    open_now = []  # opened together at the end, in this order
    for i, (type_code, places, close, muni, origin) in enumerate(initial_locations(scenario, municipalities)):
        # existing emergency locations are on leases like the ones COA finds (extended while needed)
        leased = type_code == EMERGENCY
        # the true closing day even beyond the horizon: COA plans with it (a run's days do not depend on its length)
        open_now.append(L.add(type_code, places, 0.0, close, muni, origin, extendable=leased, key=KEY_INITIAL + i))
    for loc in scenario.capacity.scheduled:
        open_day = cal.day(loc.opens)
        close_day = cal.day(loc.closes) if loc.closes else NEVER
        if close_day <= 0:
            continue
        muni = municipality_index(municipalities, loc.municipality)
        lid = L.add(TYPE_CODE[loc.type], loc.places, max(open_day, 0), close_day, muni, "scheduled")
        if open_day <= 0:
            open_now.append(lid)
    L.open_many(open_now)


def populate(
    scenario: Scenario,
    rng: np.random.Generator,
    people: People,
    placement: Placement,
    centres: list[ApplicationCentre],
    procedure: Procedure,
    housing: Housing,
) -> int:
    """Create the people present on the start date and put them where they are; returns their number."""
    s, p, L = scenario, people, placement.locations
    ist = s.initial_state
    # residents of existing locations, spread over them in proportion to their places
    residents = []
    for type_code, key in OCCUPANCY_KEYS:
        want = getattr(ist, key)
        lids = np.flatnonzero(L.is_open[: L.n] & (L.type[: L.n] == type_code))
        places = L.places[lids]
        if want > places.sum():
            raise ScenarioError(
                s.source_file,
                f"initial_state.{key}",
                f"{want} persons exceed the {int(places.sum())} {key.split('_')[1]} places open on the start date",
            )
        if want == 0:
            continue
        share = places / places.sum() * want
        occ = np.floor(share).astype(np.int64)
        rest = want - occ.sum()
        occ[np.argsort(-(share - occ), kind="stable")[:rest]] += 1
        ids = p.add(want)
        p.cat[ids] = AMV if type_code == AMV_PLACES else FIRST
        p.loc[ids] = np.repeat(lids, occ)
        placement.residents_of.add(ids, p.loc[ids])
        p.where[ids] = LOCATION
        p.t_place[ids] = -1.0
        L.fill(p.loc[ids])
        residents.append(ids)
    placement.placed_ever += sum(len(r) for r in residents)
    residents = np.concatenate(residents) if residents else np.empty(0, np.int64)
    ac_ids = p.add(ist.ac_occupancy)
    p.cat[ac_ids] = FIRST
    centre_of = route_to_centres(rng.random(len(ac_ids)), [c.share_of_arrivals for c in s.registration.centres])
    p.centre[ac_ids] = centre_of
    p.where[ac_ids] = AC_WAITING
    p.t_arrive[ac_ids] = 0.0  # present on the start date (registered, waiting for a place)
    p.t_reg_start[ac_ids] = p.t_arrive[ac_ids]
    p.t_reg_end[ac_ids] = p.t_arrive[ac_ids]
    for c in centres:
        c.present += int((centre_of == c.index).sum())
    everyone = np.concatenate([residents, ac_ids])
    p.initial[everyone] = True
    # statuses: status holders and people awaiting departure among the residents, the rest in procedure
    order = rng.permutation(residents)
    holders = order[: ist.status_holders_waiting]
    leaving = order[ist.status_holders_waiting : ist.status_holders_waiting + ist.awaiting_departure]
    pending = np.concatenate([order[ist.status_holders_waiting + ist.awaiting_departure :], ac_ids])
    p.status[holders] = STATUS_HOLDER
    p.t_permit[holders] = -np.sort(rng.uniform(0, ist.status_holder_wait_days, len(holders)))[::-1]
    housing.enter(holders)
    p.status[leaving] = TO_DEPART
    o = s.procedure.outcomes_first
    p.outcome[leaving] = np.where(rng.random(len(leaving)) < o.rejection / max(o.rejection + o.dublin, 1e-12), REJECTION, DUBLIN)
    p.returns[leaving] = rng.random(len(leaving)) < s.departure.return_share
    procedure.schedule_departures(leaving, departure_delays(s, p.outcome[leaving], rng.random(len(leaving))))
    p.status[pending] = IN_PROCEDURE
    p.u_outcome[pending] = rng.random(len(pending))  # outcome and delay are read off these at the decision
    p.u_delay[pending] = rng.random(len(pending))
    p.returns[pending] = rng.random(len(pending)) < s.departure.return_share
    # the backlog's order: residents in random order, then the newest (at the centres)
    weeks = max(len(pending) / max(s.procedure.decisions_per_week, 1.0), 1.0)
    entered = -np.sort(rng.uniform(0, 7 * weeks, len(pending) - len(ac_ids)))[::-1]
    p.t_reg_end[pending[: len(pending) - len(ac_ids)]] = entered
    procedure.enter(pending)
    placement.queues[0].push(ac_ids)
    placement.waiting[0] += len(ac_ids)
    return len(everyone)
