"""Time series over replications: the emergency sum, the days a row stands for, and fan bands.

Fan bands (quantiles over replications per date) are taken in one place,
:func:`fan_bands`, through the store's :func:`sim.store.timeseries_quantiles`,
the same function a sweep uses when it keeps quantiles instead of every
replication; the report and the back-test figure draw from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.store import timeseries_quantiles

EMERGENCY = "emergency"  # not a stored column: persons in emergency plus crisis shelter
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)  # the median, the 50 % and the 90 % band
KEYS = ["scenario", "design_point", "date"]


def emergency_series(ts: pd.DataFrame) -> pd.Series | None:
    """Persons in emergency and crisis shelter per row (the summary's definition of emergency)."""
    if "occupancy_emergency" not in ts:
        return None
    return ts["occupancy_emergency"] + (ts["occupancy_crisis"] if "occupancy_crisis" in ts else 0)


def row_days(ts: pd.DataFrame) -> np.ndarray:
    """Days each time-series row stands for: 1 for a daily series, the ``days`` column of a coarser one."""
    if "days" in ts:
        return ts["days"].to_numpy(float)
    return np.ones(len(ts))


def is_daily(ts: pd.DataFrame) -> bool:
    """Whether every row of the series is one day (not a weekly or monthly mean)."""
    return "days" not in ts or bool((ts["days"] == 1).all())


def column_values(ts: pd.DataFrame, column: str) -> pd.Series | None:
    """A time-series column, or the emergency sum for :data:`EMERGENCY`; None when the series lacks it."""
    if column == EMERGENCY:
        return emergency_series(ts)
    return ts[column] if column in ts else None


def band_name(q: float) -> str:
    """The column of quantile ``q`` in a band table: ``q05`` for 0.05."""
    return f"q{round(q * 100):02d}"


def fan_bands(ts: pd.DataFrame, column: str, quantiles: Sequence[float] = FAN_QUANTILES) -> pd.DataFrame | None:
    """Quantiles over replications of one column per scenario, design point and date (in the column's unit).

    One row per (scenario, design point, date), one column per quantile
    (:func:`band_name`). A series a sweep already reduced to quantiles (it has
    a ``quantile`` column) gives the quantiles it kept and leaves the others
    empty. None when the series has no dates, no replications or not the column.
    """
    if ts.empty or "date" not in ts or "replication" not in ts:
        return None
    values = column_values(ts, column)
    if values is None:
        return None
    if "quantile" in ts:
        long = ts[KEYS + ["quantile"]].assign(value=values.to_numpy())
    else:
        long = timeseries_quantiles(ts[KEYS + ["replication"]].assign(value=values.to_numpy()), list(quantiles))
    wide = long.set_index(KEYS + ["quantile"])["value"].unstack("quantile")
    wide.columns = [band_name(float(q)) for q in wide.columns]
    wide = wide.reindex(columns=[band_name(q) for q in quantiles]).reset_index()
    return wide.assign(date=pd.to_datetime(wide["date"]))
