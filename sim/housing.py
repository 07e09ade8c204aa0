"""Status holders (vergunninghouders) and the municipal housing task (taakstelling).

Status holders wait in reception for a home. The ministry sets a housing task
per half-year (1 January, 1 July): a published series, or, as the ministry does
it, the permits expected in the half-year (those of the previous half-year)
plus a share of the waiting list. Municipalities realise a share of each task
that varies from half-year to half-year (a beta distribution on [0, 1.5], one
draw per half-year from the housing stream). The realised number is spread
evenly over the half-year's days; a day's intake takes the status holders
whose permit is older than the matching delay, oldest permit first. Capacity
a day cannot use carries to later days of the same half-year, not beyond: a
task that finds nobody to house lapses. Nareizigers who move in with their
sponsor count towards the task: they use homes of the realisation first.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.calendar import HALF_YEAR_DAYS, Calendar, step_series
from sim.people import STATUS_HOLDER, IdQueue, People, status_is
from sim.scenario import Scenario

HOLDERS = status_is(STATUS_HOLDER)  # who may still be housed: the queue's validity test
REALISATION_MAX = 1.5  # a half-year can house more than its task (catching up), but not without bound


def realisation_shares(scenario: Scenario, u: np.ndarray) -> np.ndarray:
    """Shares of the task realised, from one uniform per half-year (beta with the scenario's mean and sd on [0, 1.5])."""
    cfg = scenario.housing
    m, sd = cfg.realisation_mean / REALISATION_MAX, cfg.realisation_sd / REALISATION_MAX
    if sd <= 0:
        return np.full(len(u), cfg.realisation_mean)
    var = min(sd**2, m * (1 - m) * 0.999)  # the largest variance a beta with this mean can have
    k = m * (1 - m) / var - 1
    return REALISATION_MAX * stats.beta.ppf(u, m * k, (1 - m) * k)


class Housing:
    """The queue of status holders waiting for a home and the daily intake by municipalities."""

    def __init__(self, scenario: Scenario, people: People, cal: Calendar, rng: np.random.Generator):
        cfg = self.cfg = scenario.housing
        self.people = people
        self.queue = IdQueue()
        self.waiting = 0
        self.h = cal.horizon_days
        # half-years: (first day, last day + 1), the first one starting on day 0
        starts = [0] + [d for d in cal.half_year_starts() if d > 0]
        self.periods = list(zip(starts, starts[1:] + [self.h]))
        # one draw of the housing stream seeds the half-years' shares: half-year h's share does not depend on the horizon
        shares_rng = np.random.default_rng(int(rng.integers(2**63)))
        self.shares = realisation_shares(scenario, shares_rng.random(len(self.periods)))
        if cfg.task_mode == "series":
            series = step_series(
                scenario.start_date, self.h, cfg.task_per_half_year, [(c.date, c.persons_per_half_year) for c in cfg.task_changes]
            )
            self.tasks = [float(series[a]) for a, _ in self.periods]
        else:
            self.tasks = [float(cfg.task_per_half_year)] + [np.nan] * (len(self.periods) - 1)
        self.period = -1
        self.entered = 0  # status holders who joined the queue since the period began (the next task's permits)
        self._per_day = 0.0
        self._credit = 0.0
        self._joined_today = 0  # nareizigers who joined their sponsor since the last intake

    @property
    def task(self) -> float:
        """The task of the current half-year (persons)."""
        return self.tasks[self.period] if self.period >= 0 else self.tasks[0]

    def enter(self, ids: np.ndarray) -> None:
        """New status holders join the queue (in order of their permit)."""
        self.queue.push(ids)
        self.waiting += len(ids)
        self.entered += len(ids)

    def joined_sponsor(self, n: int) -> None:
        """``n`` nareizigers moved in with their sponsor today. The municipality counts them in its task
        (``family_joiners_in_task``), so they take homes of the half-year's realisation before anyone in reception
        (at the day's intake); past the half-year's realisation they use nothing of the next one."""
        if self.cfg.family_joiners_in_task:
            self._joined_today += n

    def _new_period(self, day: int) -> None:
        """A half-year begins: the task is set, and how much of it will be realised."""
        self.period += 1
        a, b = self.periods[self.period]
        if np.isnan(self.tasks[self.period]):
            prev_days = max(self.periods[self.period - 1][1] - self.periods[self.period - 1][0], 1)
            expected_permits = self.entered * HALF_YEAR_DAYS / prev_days  # the last half-year's, as a forecast
            self.tasks[self.period] = expected_permits + self.cfg.task_backlog_share * self.waiting
        self.entered = 0
        self._per_day = self.tasks[self.period] * self.shares[self.period] / HALF_YEAR_DAYS
        self._credit = 0.0

    def intake(self, day: int, now: float) -> np.ndarray:
        """Status holders housed on ``day``: those past the matching delay, oldest permit first."""
        # today's joiners arrived before the half-year can turn (inflow comes first in the day): like everyone who
        # arrived today they count in the permits of the half-year that was running; their homes are this intake's
        self.entered += self._joined_today
        if self.period + 1 < len(self.periods) and day >= self.periods[self.period + 1][0]:
            self._new_period(day)
        self._credit += self._per_day - self._joined_today
        self._joined_today = 0
        k = int(self._credit)
        if k <= 0:
            return np.empty(0, np.int64)
        p = self.people
        ready = now - self.cfg.matching_delay_days
        ids = self.queue.pop_ready(k, HOLDERS, p.status, p.t_permit, ready)
        self.waiting -= len(ids)
        self._credit -= len(ids)  # what could not be used stays for later days of the half-year
        return ids
