"""Reception locations: the table of locations and the places in them.

A location has a type (durable azc, temporary, emergency/noodopvang, AMV,
municipal crisis shelter/crisisnoodopvang), a municipality, a number of places,
and opening and closing days (simulation days). Emergency and crisis locations
are on leases that can be extended while their places are needed
(``extendable``; the draws for each extension come from the location's ``key``).
Who is placed where is decided by :mod:`sim.reception.placement`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.compiled import jit

DURABLE, TEMPORARY, EMERGENCY, AMV_PLACES, CRISIS_PLACES = range(5)
TYPE_NAMES = ("durable", "temporary", "emergency", "amv", "crisis")
N_TYPES = len(TYPE_NAMES)
TYPE_CODE = {name: i for i, name in enumerate(TYPE_NAMES)}
ADULT_ORDER = (DURABLE, TEMPORARY, EMERGENCY, CRISIS_PLACES)  # COA's order of preference for adults and families
REGULAR = (DURABLE, TEMPORARY, AMV_PLACES)  # the types that are not emergency or crisis shelter
NEVER = np.inf

MUNICIPALITY_COLUMNS = ("cbs_code", "name", "province", "population_2024_01_01")


@jit
def per_type(counts: np.ndarray) -> tuple[int, int, int, int, int]:
    """A count per location type (``counts``, indexed by type code) as a tuple, which a compiled loop hands back
    to Python as Python ints: an array handed back costs more (numba fetches its type through a Python call)."""
    return counts[DURABLE], counts[TEMPORARY], counts[EMERGENCY], counts[AMV_PLACES], counts[CRISIS_PLACES]


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


@jit
def _with(ids: np.ndarray, lid: int) -> np.ndarray:
    """Ascending ``ids`` with ``lid`` added in its place (a new array)."""
    at = np.searchsorted(ids, lid)
    out = np.empty(len(ids) + 1, ids.dtype)
    out[:at] = ids[:at]
    out[at] = lid
    out[at + 1 :] = ids[at:]
    return out


@jit
def _with_both(of_type: np.ndarray, all_open: np.ndarray, lid: int) -> np.ndarray:
    """:func:`_with` of both lists of open ids (a location's type's and all), in one call and one array: the
    first ``len(of_type) + 1`` entries, then the rest (one array handed back costs less than two: numba fetches
    each one's type through a Python call)."""
    return np.concatenate((_with(of_type, lid), _with(all_open, lid)))


@jit
def _without_both(of_type: np.ndarray, all_open: np.ndarray, lid: int) -> tuple[np.ndarray, int]:
    """:func:`_without` of both lists of open ids, in one call and one array (as :func:`_with_both`), and
    where the second list starts in it."""
    first = _without(of_type, lid)
    return np.concatenate((first, _without(all_open, lid))), len(first)


@jit
def _without(ids: np.ndarray, lid: int) -> np.ndarray:
    """``ids`` without ``lid`` (a new array, order kept)."""
    out = np.empty(len(ids), ids.dtype)
    n = 0
    for x in ids:
        if x != lid:
            out[n] = x
            n += 1
    return out[:n]


@jit
def add_person(occ: np.ndarray, occupied: np.ndarray, types: np.ndarray, lid: int, delta: int) -> None:
    """One person more (``delta`` 1) or fewer (-1) in location ``lid`` and in the count of its type (for
    compiled loops that seat or unseat people one by one)."""
    occ[lid] += delta
    occupied[types[lid]] += delta


@jit
def _count(occ: np.ndarray, occupied: np.ndarray, types: np.ndarray, lids: np.ndarray, delta: int) -> None:
    """:func:`add_person` for each of ``lids`` (repeats count once each)."""
    for lid in lids:
        add_person(occ, occupied, types, lid, delta)


class Locations:
    """The table of locations (one row each) and the places in them."""

    # the arrays with one entry per location (they grow with the table; the per-type counts and id lists do not)
    COLUMNS = (
        "type",
        "places",
        "occ",
        "is_open",
        "open_day",
        "close_day",
        "municipality",
        "on_demand",
        "reserved",
        "extendable",
        "key",
        "extensions",
        "initial",
    )

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self.type = np.zeros(capacity, np.int8)
        self.places = np.zeros(capacity, np.int64)
        self.occ = np.zeros(capacity, np.int64)
        self.is_open = np.zeros(capacity, bool)
        self.open_day = np.full(capacity, NEVER)
        self.close_day = np.full(capacity, NEVER)
        self.municipality = np.full(capacity, -1, np.int32)
        self.on_demand = np.zeros(capacity, bool)  # found by COA's search
        self.reserved = np.zeros(capacity, bool)  # held back for application-centre overflow only
        self.extendable = np.zeros(capacity, bool)  # a lease: extended at its end while its places are needed
        self.key = np.full(capacity, -1, np.int64)  # identifies the lease's random draws (common random numbers)
        self.extensions = np.zeros(capacity, np.int16)
        self.initial = np.zeros(capacity, bool)  # open on the start date (origin "initial")
        self.origin: list[str] = []
        # kept on every change (open, close, fill, vacate) because the day's counts read them several times:
        # one bincount over every location ever registered cost more than all the changes together
        self.open_places = np.zeros(N_TYPES, np.int64)  # places in open locations, per type
        self.occupied = np.zeros(N_TYPES, np.int64)  # people placed, per type of their location
        self.reserved_ids = np.empty(0, np.int64)  # locations held back for application-centre overflow (few)
        # ids of the open locations, ascending, per type and in all: a day's search for free places reads
        # these instead of every location ever registered (half of them closed by year ten)
        self.open_of_type = tuple(np.empty(0, np.int64) for _ in range(N_TYPES))  # a tuple: compiled loops take it
        self.open_ids = np.empty(0, np.int64)
        # every opening and closing in order, as (id, opened): a reader keeping a figure over the open
        # locations (the Spreidingswet count) catches up from here instead of reading them all again
        self.changes: list[tuple[int, bool]] = []

    def add(
        self,
        type_code: int,
        places: int,
        open_day: float,
        close_day: float = NEVER,
        municipality: int = -1,
        origin: str = "scheduled",
        on_demand: bool = False,
        extendable: bool = False,
        key: int = -1,
    ) -> int:
        """Register a location (not yet open); returns its id."""
        if self.n == len(self.type):
            for name in self.COLUMNS:
                arr = getattr(self, name)
                fill = NEVER if arr.dtype.kind == "f" else (-1 if name in ("municipality", "key") else 0)
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
        self.extendable[i] = extendable
        self.key[i] = key
        self.initial[i] = origin == "initial"
        self.origin.append(origin)
        return i

    def register(
        self,
        type_code: int,
        places: int,
        open_day: float,
        close_day: float,
        municipality: int,
        origin: str,
        *,
        reserved: bool = False,
        key: int = -1,
    ) -> int:
        """Register a location opened during the run (found, requested, built); returns its id.

        Emergency and crisis locations with a closing day are leases (extended at their end while their
        places are needed); ``origin`` "search" marks the ones COA's search found (on demand)."""
        leased = type_code in (EMERGENCY, CRISIS_PLACES) and bool(np.isfinite(close_day))
        if leased and key < 0:
            raise ValueError(f"a leased location needs a key for its extension draws (origin {origin})")
        lid = self.add(type_code, places, open_day, close_day, municipality, origin, origin == "search", leased, key)
        self.reserved[lid] = reserved
        if reserved:
            self.reserved_ids = np.append(self.reserved_ids, lid)
        return lid

    def open(self, lid: int) -> None:
        """Location ``lid`` opens: its places can be used."""
        if not self.is_open[lid]:
            self.is_open[lid] = True
            t = self.type.item(lid)  # Python numbers (.item): numpy scalars made each step several times dearer
            self.open_places[t] += self.places.item(lid)
            of_type = self.open_of_type[t]
            both = _with_both(of_type, self.open_ids, lid)
            split = len(of_type) + 1
            self._set_open_of_type(t, both[:split])
            self.open_ids = both[split:]
            self.changes.append((lid, True))

    def open_many(self, lids: list[int]) -> None:
        """Locations ``lids`` open today: as :meth:`open` of each in that order (their changes in that order),
        with the lists of open ids rebuilt once instead of once per location (the hundreds open at the start)."""
        new = [lid for lid in dict.fromkeys(lids) if not self.is_open[lid]]
        if not new:
            return
        ids = np.array(new, np.int64)
        types = self.type[ids]
        self.is_open[ids] = True
        np.add.at(self.open_places, types, self.places[ids])
        for t in np.unique(types).tolist():
            self._set_open_of_type(t, np.union1d(self.open_of_type[t], ids[types == t]))
        self.open_ids = np.union1d(self.open_ids, ids)
        self.changes.extend((lid, True) for lid in new)

    def close(self, lid: int) -> None:
        """Location ``lid`` closes; nobody may be placed in it any more (its residents have moved)."""
        if self.occ[lid]:
            raise RuntimeError(f"location {lid} closes with {self.occ[lid]} residents placed in it")
        if self.is_open[lid]:
            self.is_open[lid] = False
            t = self.type.item(lid)
            self.open_places[t] -= self.places.item(lid)
            both, split = _without_both(self.open_of_type[t], self.open_ids, lid)
            self._set_open_of_type(t, both[:split])
            self.open_ids = both[split:]
            self.changes.append((lid, False))

    def _set_open_of_type(self, t: int, lids: np.ndarray) -> None:
        self.open_of_type = (*self.open_of_type[:t], lids, *self.open_of_type[t + 1 :])

    def fill(self, lids: np.ndarray) -> None:
        """One person more in each of ``lids`` (a location may repeat)."""
        _count(self.occ, self.occupied, self.type, lids, 1)

    def vacate(self, lids: np.ndarray) -> None:
        """One person fewer in each of ``lids`` (a location may repeat)."""
        _count(self.occ, self.occupied, self.type, lids, -1)

    def frame(self) -> pd.DataFrame:
        n = self.n
        return pd.DataFrame(
            {
                "type": pd.Categorical.from_codes(self.type[:n], TYPE_NAMES),
                "places": self.places[:n],
                "open_day": self.open_day[:n],
                "close_day": self.close_day[:n],
                "municipality": self.municipality[:n],
                "origin": self.origin[:n],
                "on_demand": self.on_demand[:n],
                "extensions": self.extensions[:n],
            }
        )
