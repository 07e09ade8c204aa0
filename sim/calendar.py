"""Simulation days <-> calendar dates.

The clock is days since the scenario's start date (day 0 = start_date, a float
within the day); calendar dates appear only at the edges, so that "1 July of
year 2" means what the law means.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

DAYS_PER_YEAR = 365.25  # the Julian year: calendar dates are used at the edges, this for rates and spans
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
HALF_YEAR_DAYS = DAYS_PER_YEAR / 2


class Calendar:
    """Converts between simulation days and dates for one scenario."""

    def __init__(self, start: dt.date, horizon_days: int):
        self.start = start
        self.horizon_days = int(horizon_days)
        self._dates = np.arange(np.datetime64(start, "D"), np.datetime64(start, "D") + self.horizon_days)

    def day(self, date: dt.date) -> int:
        """Simulation day of a date (may be negative or beyond the horizon)."""
        return (date - self.start).days

    def date(self, day: float) -> dt.date:
        """Calendar date of a simulation day."""
        return self.start + dt.timedelta(days=int(np.floor(day)))

    @property
    def dates(self) -> np.ndarray:
        """datetime64[D] of every simulated day."""
        return self._dates

    def months(self) -> np.ndarray:
        """Month (1..12) of every simulated day."""
        return (self._dates.astype("datetime64[M]").astype(int) % 12) + 1

    def half_year_starts(self) -> list[int]:
        """Simulation days on which a half-year (1 Jan, 1 Jul) begins, within the horizon."""
        out = []
        for year in range(self.start.year, self.start.year + self.horizon_days // 365 + 2):
            for month in (1, 7):
                d = self.day(dt.date(year, month, 1))
                if 0 <= d < self.horizon_days:
                    out.append(d)
        return out

    def next_anniversary(self, month: int, day: int, after: int) -> int:
        """First simulation day ≥ ``after`` that falls on the given month and day."""
        date = self.date(after)
        for year in range(date.year, date.year + 3):
            d = self.day(dt.date(year, month, day))
            if d >= after:
                return d
        raise ValueError("no anniversary found")


def step_series(start: dt.date, horizon_days: int, base: float, changes: list[tuple[dt.date, float]]) -> np.ndarray:
    """A daily step function: ``base`` from day 0, replaced by each (date, value) from its date on."""
    out = np.full(horizon_days, float(base))
    for date, value in sorted(changes):
        d = max((date - start).days, 0)
        if d < horizon_days:
            out[d:] = value
    return out
