"""Reception locations and COA's allocation policy.

A location has a type (durable azc, temporary, emergency/noodopvang, AMV), a
municipality, a number of places, and opening and closing days. COA fills
durable places first, then temporary, then emergency; unaccompanied minors
(AMV) only AMV places (optionally emergency, see the scenario). When a location
closes its residents move (one move each) to a free place or, if none is free,
to crisis emergency shelter (crisisnoodopvang), which has no place limit and is
the overflow tier. Emergency locations open on demand after a lead time, up to
a ceiling, and close again when not needed after their minimum lease.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.people import AMV, CRISIS, ELSEWHERE, LOCATION, People

DURABLE, TEMPORARY, EMERGENCY, AMV_PLACES = range(4)
TYPE_NAMES = ("durable", "temporary", "emergency", "amv")
TYPE_CODE = {name: i for i, name in enumerate(TYPE_NAMES)}
ADULT_ORDER = (DURABLE, TEMPORARY, EMERGENCY)
NEVER = np.inf

MUNICIPALITY_COLUMNS = ("cbs_code", "name", "province", "population_2024_01_01")


def read_municipalities(path: str | Path) -> pd.DataFrame:
    """Municipalities with population and places (columns as in sim/data/municipalities.csv)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"municipalities file not found: {path}")
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # any parser error means the file is unusable
        raise ValueError(f"{path.name} is not a readable CSV file: {exc}") from None
    missing = [c for c in MUNICIPALITY_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path.name} lacks column(s) {', '.join(missing)}")
    if df["cbs_code"].duplicated().any():
        raise ValueError(f"{path.name}: duplicate cbs_code {df['cbs_code'][df['cbs_code'].duplicated()].iloc[0]}")
    for col in ("population_2024_01_01", "regular_places_2025_11", "emergency_places_2025_11"):
        if col in df and (pd.to_numeric(df[col], errors="coerce").isna().any() or (df[col] < 0).any()):
            raise ValueError(f"{path.name}: column {col} must hold numbers ≥ 0")
    return df.reset_index(drop=True)


class Locations:
    """The table of locations (one row each) and the places in them."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self.type = np.zeros(capacity, np.int8)
        self.places = np.zeros(capacity, np.int64)
        self.occ = np.zeros(capacity, np.int64)
        self.is_open = np.zeros(capacity, bool)
        self.open_day = np.full(capacity, NEVER)
        self.close_day = np.full(capacity, NEVER)
        self.municipality = np.full(capacity, -1, np.int32)
        self.on_demand = np.zeros(capacity, bool)
        self.reserved = np.zeros(capacity, bool)  # held back for application-centre overflow only
        self.origin: list[str] = []

    def add(
        self,
        type_code: int,
        places: int,
        open_day: float,
        close_day: float = NEVER,
        municipality: int = -1,
        origin: str = "scheduled",
        on_demand: bool = False,
    ) -> int:
        """Register a location (not yet open); returns its id."""
        if self.n == len(self.type):
            for name, arr in list(vars(self).items()):
                if isinstance(arr, np.ndarray):
                    fill = NEVER if arr.dtype.kind == "f" else (-1 if name == "municipality" else 0)
                    new = np.full(2 * len(arr), fill, arr.dtype)
                    new[: len(arr)] = arr
                    setattr(self, name, new)
        i = self.n
        self.n += 1
        self.type[i] = type_code
        self.places[i] = places
        self.occ[i] = 0
        self.open_day[i] = open_day
        self.close_day[i] = close_day
        self.municipality[i] = municipality
        self.on_demand[i] = on_demand
        self.origin.append(origin)
        return i

    def places_by_type(self) -> np.ndarray:
        n = self.n
        return np.bincount(self.type[:n], weights=self.places[:n] * self.is_open[:n], minlength=4).astype(np.int64)

    def occupancy_by_type(self) -> np.ndarray:
        n = self.n
        return np.bincount(self.type[:n], weights=self.occ[:n], minlength=4).astype(np.int64)

    def frame(self, cal=None) -> pd.DataFrame:
        n = self.n
        df = pd.DataFrame(
            {
                "type": pd.Categorical.from_codes(self.type[:n], TYPE_NAMES),
                "places": self.places[:n],
                "open_day": self.open_day[:n],
                "close_day": self.close_day[:n],
                "municipality": self.municipality[:n],
                "origin": self.origin[:n],
                "on_demand": self.on_demand[:n],
            }
        )
        return df


def initial_locations(scenario, municipalities: pd.DataFrame | None) -> list[tuple[int, int, float, int, str]]:
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
        close = (lo + (hi - lo) * frac) * 365.25
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


class Reception:
    """Locations, the queues of people waiting for a place, crisis shelter, and COA's rules."""

    def __init__(self, scenario, people: People):
        self.cfg = scenario.reception
        self.people = people
        self.locations = Locations()
        self.crisis = 0
        self.waiting_elsewhere = 0
        self.requested_places = 0  # emergency places requested, not yet open
        self.moves = 0
        self.placed_ever = 0
        self.allow_reserved = False  # the model opens the reserve only while a centre is above its norm

    # --- places -----------------------------------------------------------------------

    def free_places(self, types: tuple[int, ...], exclude: np.ndarray | None = None) -> int:
        n = self.locations.n
        L = self.locations
        mask = L.is_open[:n] & (self.allow_reserved | ~L.reserved[:n])
        if exclude is not None:
            mask &= ~exclude
        # free places per type in one pass (np.isin on the type column was the hot spot of a run)
        free = np.bincount(L.type[:n], weights=(L.places[:n] - L.occ[:n]) * mask, minlength=4)
        return int(round(sum(free[t] for t in types)))

    def _slots(self, types: tuple[int, ...], k: int, exclude: int = -1) -> np.ndarray:
        """Location ids for up to ``k`` people: free places by type priority, then by location id."""
        L = self.locations
        n = L.n
        free = L.places[:n] - L.occ[:n]
        usable = L.is_open[:n] & (free > 0)
        if not self.allow_reserved:
            usable &= ~L.reserved[:n]
        if exclude >= 0:
            usable[exclude] = False
        cand = np.flatnonzero(usable)
        cand_type = L.type[cand]
        out = []
        need = k
        for t in types:
            c = cand[cand_type == t]
            if len(c) == 0:
                continue
            # only the first locations that cover the need, not one entry per free place of the type
            upto = int(np.searchsorted(np.cumsum(free[c]), need)) + 1
            slots = np.repeat(c[:upto], free[c[:upto]])[:need]
            out.append(slots)
            need -= len(slots)
            if need == 0:
                break
        return np.concatenate(out) if len(out) > 1 else (out[0] if out else np.empty(0, np.int64))

    def types_for(self, amv: bool) -> tuple[int, ...]:
        if amv:
            return (AMV_PLACES, EMERGENCY) if self.cfg.amv_overflow_to_emergency else (AMV_PLACES,)
        return ADULT_ORDER

    def slots_for(self, amv: bool, k: int) -> np.ndarray:
        """Location ids of free places for up to ``k`` people, in allocation order (one entry per person)."""
        return self._slots(self.types_for(amv), k)

    def place(self, ids: np.ndarray, now: float, amv: bool, exclude: int = -1, slots: np.ndarray | None = None) -> np.ndarray:
        """Put ``ids`` (in order) into free places (``slots`` from :meth:`slots_for` if already found);
        returns the ids that found a place."""
        if len(ids) == 0:
            return ids
        if slots is None:
            slots = self._slots(self.types_for(amv), len(ids), exclude)
        placed = ids[: len(slots)]
        if len(placed) == 0:
            return placed
        p = self.people
        first_time = np.isnan(p.t_place[placed])
        self.placed_ever += int(np.count_nonzero(first_time))
        p.t_place[placed[first_time]] = now
        was_at = p.where[placed]
        self.waiting_elsewhere -= int(np.count_nonzero(was_at == ELSEWHERE))
        self.crisis -= int(np.count_nonzero(was_at == CRISIS))
        moved = placed[~first_time]
        p.moves[moved] += 1
        self.moves += len(moved)
        p.loc[placed] = slots
        p.where[placed] = LOCATION
        # bincount counts repeated slots like np.add.at would, at a fraction of its cost
        occ = self.locations.occ
        occ += np.bincount(slots, minlength=len(occ))
        return placed

    def release(self, ids: np.ndarray) -> None:
        """People leave their place (housed, departed, moved): free their places."""
        p = self.people
        at = p.where[ids]
        in_loc = ids[at == LOCATION]
        if len(in_loc):
            occ = self.locations.occ
            occ -= np.bincount(p.loc[in_loc], minlength=len(occ))
            p.loc[in_loc] = -1
        self.crisis -= int(np.count_nonzero(at == CRISIS))
        self.waiting_elsewhere -= int(np.count_nonzero(at == ELSEWHERE))

    # --- opening and closing ---------------------------------------------------------

    def open(self, lid: int) -> None:
        self.locations.is_open[lid] = True
        if self.locations.on_demand[lid]:
            self.requested_places -= int(self.locations.places[lid])

    def close(self, lid: int, now: float, residents: np.ndarray) -> None:
        """Close a location; its residents move to free places or to crisis shelter (a move each)."""
        L = self.locations
        if not L.is_open[lid]:
            return
        p = self.people
        residents = residents[p.loc[residents] == lid]
        L.occ[lid] -= len(residents)
        p.loc[residents] = -1
        p.where[residents] = CRISIS  # provisional: the placement below moves whoever finds a place
        self.crisis += len(residents)
        L.is_open[lid] = False
        L.close_day[lid] = min(L.close_day[lid], now)
        amv = p.cat[residents] == AMV
        for group, is_amv in ((residents[~amv], False), (residents[amv], True)):
            placed = self.place(group, now, is_amv, exclude=lid)
            stranded = np.setdiff1d(group, placed, assume_unique=True)
            p.moves[stranded] += 1  # a move into crisis shelter is a move too
            self.moves += len(stranded)

    # --- COA's emergency rules --------------------------------------------------------

    def emergency_shortfall(self, now: float, demand: int) -> int:
        """People who need an adult place (``demand``) minus free and requested places, counting
        places of locations that close within the lead time as already gone (COA knows its lease ends)."""
        L = self.locations
        n = L.n
        horizon = now + self.cfg.emergency.lead_time_days
        closing = L.is_open[:n] & (L.close_day[:n] <= horizon)
        leaving = int(L.occ[:n][closing & (L.type[:n] != AMV_PLACES)].sum())  # ADULT_ORDER: every type but AMV
        free = self.free_places(ADULT_ORDER, exclude=closing)
        return demand + leaving - free - self.requested_places

    def request_emergency(self, now: float, shortfall: int) -> list[int]:
        """Request emergency locations to cover ``shortfall`` (up to the ceiling); returns their ids."""
        cfg = self.cfg.emergency
        if not cfg.on_demand or shortfall <= cfg.open_trigger_persons:
            return []
        L = self.locations
        n = L.n
        current = int(L.places[:n][(L.type[:n] == EMERGENCY) & L.is_open[:n]].sum()) + self.requested_places
        room = max(0, cfg.ceiling_places - current)
        k = min(int(np.ceil(shortfall / cfg.location_size)), room // cfg.location_size)
        ids = []
        for _ in range(k):
            lid = L.add(EMERGENCY, cfg.location_size, now + cfg.lead_time_days, NEVER, -1, "on_demand", on_demand=True)
            self.requested_places += cfg.location_size
            ids.append(lid)
        return ids

    def closable_emergency(self, now: float, demand: int) -> list[int]:
        """On-demand emergency locations past their minimum lease whose residents fit elsewhere with a
        buffer of free places to spare: emptiest first."""
        cfg = self.cfg.emergency
        L = self.locations
        n = L.n
        cand = np.flatnonzero(L.on_demand[:n] & L.is_open[:n] & (now - L.open_day[:n] >= cfg.min_lease_days))
        if len(cand) == 0:
            return []
        spare = self.free_places(ADULT_ORDER) - demand
        out = []
        for lid in cand[np.argsort(L.occ[cand], kind="stable")]:
            # closing frees nothing: its empty places go, its residents take places elsewhere
            cost = int(L.places[lid] - L.occ[lid]) + int(L.occ[lid])
            if spare - cost >= cfg.close_buffer_persons:
                out.append(int(lid))
                spare -= cost
        return out
