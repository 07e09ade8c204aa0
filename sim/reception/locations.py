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


ALL_OPEN = N_TYPES  # the row of the open lists that holds every open location (the others: one type each)


@jit
def _listed_open(tab, n_open, is_open, open_places, types, places, lid) -> None:
    """Location ``lid`` opens: it is marked open, its places count for its type, and its id joins its type's
    row and the row of all (``tab``: the rows of open ids, ascending, each valid up to its count in ``n_open``);
    in place, in one call (a new array handed back costs a Python call, :mod:`sim.compiled`)."""
    is_open[lid] = True
    t = np.int64(types[lid])  # as ALL_OPEN: the pair of rows is one tuple type
    open_places[t] += places[lid]
    for row in (t, ALL_OPEN):
        i = n_open[row]
        while i > 0 and tab[row, i - 1] > lid:  # a new location's id is mostly the largest: nothing moves
            tab[row, i] = tab[row, i - 1]
            i -= 1
        tab[row, i] = lid
        n_open[row] += 1


@jit
def _unlisted_open(tab, n_open, is_open, open_places, types, places, lid) -> None:
    """The inverse of :func:`_listed_open`: location ``lid`` closes (the rows keep their order)."""
    is_open[lid] = False
    t = np.int64(types[lid])
    open_places[t] -= places[lid]
    for row in (t, ALL_OPEN):
        k = 0
        for i in range(n_open[row]):
            if tab[row, i] != lid:
                tab[row, k] = tab[row, i]
                k += 1
        n_open[row] = k


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
        # ids of the open locations, ascending, per type (row = type code) and in all (row ALL_OPEN), each row
        # valid up to its count in ``n_open``: a day's search for free places reads these instead of every
        # location ever registered (half of them closed by year ten). Kept in place (as wide as the table): an
        # opening or closing changes them in one compiled call
        self.open_tab = np.empty((N_TYPES + 1, capacity), np.int64)
        self.n_open = np.zeros(N_TYPES + 1, np.int64)
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
            tab = np.empty((N_TYPES + 1, len(self.type)), np.int64)
            tab[:, : self.open_tab.shape[1]] = self.open_tab
            self.open_tab = tab
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
            _listed_open(self.open_tab, self.n_open, self.is_open, self.open_places, self.type, self.places, lid)
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
        for row, joining in [*((t, ids[types == t]) for t in np.unique(types).tolist()), (ALL_OPEN, ids)]:
            now_open = np.union1d(self.open_tab[row, : self.n_open[row]], joining)
            self.open_tab[row, : len(now_open)] = now_open
            self.n_open[row] = len(now_open)
        self.changes.extend((lid, True) for lid in new)

    def close(self, lid: int) -> None:
        """Location ``lid`` closes; nobody may be placed in it any more (its residents have moved)."""
        if self.occ[lid]:
            raise RuntimeError(f"location {lid} closes with {self.occ[lid]} residents placed in it")
        if self.is_open[lid]:
            _unlisted_open(self.open_tab, self.n_open, self.is_open, self.open_places, self.type, self.places, lid)
            self.changes.append((lid, False))

    @property
    def open_ids(self) -> np.ndarray:
        """Ids of the open locations, ascending (a view: read it before the next opening or closing)."""
        return self.open_tab[ALL_OPEN, : self.n_open[ALL_OPEN]]

    @property
    def open_of_type(self) -> tuple[np.ndarray, ...]:
        """Ids of the open locations of each type (by type code), ascending (views, as :attr:`open_ids`)."""
        return tuple(self.open_tab[t, : self.n_open[t]] for t in range(N_TYPES))

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
