"""What the Spreidingswet cycle may see of the chain and do to it: a small typed interface.

The cycle reads the locations (to count places towards a task), opens new
locations (finished projects, the ministry's emergency requests, a reserve),
reads the occupancy of past nights (for the capacity estimate) and draws from
named random streams. :class:`sim.model.Chain` implements it; a test or another
model of the chain can too.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from sim.reception.locations import Locations


class ChainPort(Protocol):
    """The chain as the capacity cycle sees it."""

    @property
    def locations(self) -> Locations:
        """Every location of the run (open, closed and not yet open)."""
        ...

    def open_location(
        self,
        type_code: int,
        places: int,
        open_day: float,
        close_day: float,
        municipality: int,
        origin: str,
        *,
        reserved: bool = False,
        open_now: bool = False,
    ) -> int:
        """Register a location that opens on ``open_day`` (or at once with ``open_now``) and closes on
        ``close_day`` (simulation days; its residents then move); ``reserved`` places take only people
        from an application centre above its norm. Returns the location id."""
        ...

    def occupancy_on(self, day: int) -> float:
        """Persons with a right to reception on the night of ``day`` (before day 0: the start state)."""
        ...

    def pressure(self, window_days: int) -> float:
        """Share of the last ``window_days`` nights on which an application centre was above its norm."""
        ...

    def stream(self, name: str) -> np.random.Generator:
        """The named random stream of the run (see :mod:`sim.streams`)."""
        ...
