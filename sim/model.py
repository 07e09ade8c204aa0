"""Wires the parts of the chain into one SimPy environment: ``simulate(scenario, seed)``.

The day's timeline (times are fractions of the day, so the order within a day
is fixed and the same in every run):

    .00  inflow         arrivals of the day; family joining a sponsor leave at once,
                        the rest register at an application centre or elsewhere
    .01  departures     rejected and Dublin cases whose delay has passed leave
    .02  housing        status holders housed under the housing task
    .03  IND            weekly production decides the oldest cases (every seventh day of the run)
    .20  locations      places open and close (scheduled, on demand, Spreidingswet)
    .50  transfer       registered people move from the centres to free places;
                        crisis and emergency residents move up into regular places
    .60  COA            emergency places requested or closed
    .99  monitor        the night's occupancy and the day's costs

Each part lives in its own module; this one only says who acts when and what
they call. The Spreidingswet cycle (:mod:`sim.capacity`) sees the chain through
:class:`sim.capacity.interface.ChainPort`, which :class:`Chain` implements.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import simpy

from sim import inflow, posterior
from sim.calendar import Calendar
from sim.housing import Housing
from sim.initial_state import add_locations, populate
from sim.metrics import DailyCost, Monitor, summarise
from sim.people import DEPARTED, DUBLIN, EXIT_DUBLIN, EXIT_HOUSED, EXIT_RETURN, EXIT_UNKNOWN, FAMILY, GONE, HOUSED, People
from sim.procedure import Procedure, family_queue
from sim.reception import CRISIS_PLACES, EMERGENCY, Locations, read_municipalities
from sim.reception.acquisition import Acquisition
from sim.reception.emergency import EmergencySearch
from sim.reception.placement import Placement
from sim.reception.requests import request_process
from sim.registration import ApplicationCentre
from sim.scenario import Scenario
from sim.streams import Streams

T_INFLOW, T_DEPART, T_HOUSING, T_IND, T_LOCATIONS, T_TRANSFER, T_COA, T_MONITOR = 0.0, 0.01, 0.02, 0.03, 0.2, 0.5, 0.6, 0.99


@dataclass
class Result:
    """What one run returns: daily time series, headline summary, and (on request) the records."""

    timeseries: pd.DataFrame
    summary: dict
    cycles: pd.DataFrame = field(default_factory=pd.DataFrame)
    people: pd.DataFrame | None = None
    locations: pd.DataFrame | None = None
    municipalities: pd.DataFrame | None = None


class Chain:
    """The reception chain of one run: people, parts, and the SimPy processes that move people."""

    def __init__(self, scenario: Scenario, seed: int):
        s = self.s = scenario
        self.seed = int(seed)
        self.streams = Streams(seed)
        self.cal = Calendar(s.start_date, s.horizon_days)
        self.h = s.horizon_days
        self.counts = inflow.daily_counts(s, self.cal, self.streams.inflow)
        ist = s.initial_state
        n_initial = (
            ist.ac_occupancy + ist.occupancy_durable + ist.occupancy_temporary + ist.occupancy_emergency + ist.occupancy_amv
        )
        self.people = People(n_initial + int(self.counts.sum()) + 16)
        self.municipalities = None
        if ist.use_municipal_places or s.capacity.spreidingswet.enabled:
            self.municipalities = read_municipalities(s.resolve_path(ist.municipalities_file))
        self._locations = Locations()
        self.centres = [ApplicationCentre(c, i) for i, c in enumerate(s.registration.centres)]
        self.placement = Placement(s, self.people, self._locations, self.centres)
        self.search = EmergencySearch(s, self._locations, self.placement, self.streams.reception, self.h)
        self.acquisition = Acquisition(s, self._locations, int(self.streams.acquisition.integers(2**62)))
        self.procedure = Procedure(s, self.people, self.cal)
        replay = inflow.read_replay(s.resolve_path(s.inflow.replay_file)) if s.inflow.mode == "replay" else None
        self.procedure.family_backlog, family_arrivals = family_queue(s, self.cal, self.streams.procedure, replay)
        if s.procedure.family.drives_arrivals:
            self.counts[:, FAMILY] = family_arrivals
        self.housing = Housing(s, self.people, self.cal, self.streams.housing)
        self.monitor = Monitor(self.h, s.start_date)
        self.costs = DailyCost(s, len(self.centres))
        self.today = dict(arrivals=0, housed=0, departed=0, decisions=0)
        self.capacity = None  # the Spreidingswet cycle, if enabled (sim.capacity)
        self.env: simpy.Environment | None = None
        add_locations(s, self.cal, self._locations, self.municipalities)
        self.initial_total = populate(
            s, self.streams.initial, self.people, self.placement, self.centres, self.procedure, self.housing
        )

    # ------------------------------------------------------------------ ChainPort (sim.capacity.interface)

    @property
    def locations(self) -> Locations:
        return self._locations

    def open_location(
        self, type_code, places, open_day, close_day, municipality=-1, origin="search", *, reserved=False, open_now=False, key=-1
    ) -> int:
        L = self._locations
        leased = type_code in (EMERGENCY, CRISIS_PLACES) and bool(np.isfinite(close_day))
        if leased and key < 0:
            raise ValueError(f"a leased location needs a key for its extension draws (origin {origin})")
        lid = L.add(type_code, places, open_day, close_day, municipality, origin, origin == "search", leased, key)
        L.reserved[lid] = reserved
        if open_now:
            self._open(lid)
        elif type_code in (EMERGENCY, CRISIS_PLACES):
            self.search.promise(lid)  # COA counts emergency and crisis places that will open as coming
        self.env.process(self.location_process(self.env, lid))
        return lid

    def occupancy_on(self, day: int) -> float:
        return float(self.monitor.data["occupancy_total"][day]) if day >= 0 else float(self.initial_total)

    def pressure(self, window_days: int) -> float:
        day = int(self.env.now)
        return np.count_nonzero(self.monitor.any_above_norm[max(day - window_days, 0) : day]) / window_days

    def stream(self, name: str) -> np.random.Generator:
        return self.streams[name]

    # ------------------------------------------------------------------ people leave, places open and close

    def exit(self, ids: np.ndarray, kind: np.ndarray | int, now: float) -> None:
        """People leave the chain (housed, joined a sponsor, departed)."""
        if len(ids) == 0:
            return
        self.placement.leave(ids, now)
        p = self.people
        p.where[ids] = GONE
        p.t_exit[ids] = now
        p.exit_kind[ids] = kind

    def _open(self, lid: int) -> None:
        self._locations.is_open[lid] = True
        self.search.opened(lid)

    def location_process(self, env: simpy.Environment, lid: int):
        """A location's life: it opens, lives, its lease may be extended, it closes (its residents move)."""
        L = self._locations
        if not L.is_open[lid]:
            yield env.timeout(max(L.open_day[lid] + T_LOCATIONS - env.now, 0))
            if L.close_day[lid] <= env.now:
                self.search.opened(lid)  # it never opens: no longer coming
                return
            self._open(lid)
        while np.isfinite(L.close_day[lid]) and L.close_day[lid] < self.h:
            yield env.timeout(max(L.close_day[lid] + T_LOCATIONS - env.now, 0))
            if not L.is_open[lid]:
                return  # COA ended the lease early
            extended = self.search.extend(lid, env.now)
            if extended is None:
                self.placement.close_location(lid, env.now)
                if self.capacity is not None:
                    self.capacity.location_closed(lid)  # a task stands: the municipality's gap reopens
                return
            L.close_day[lid] = extended

    # ------------------------------------------------------------------ the flows

    def inflow_process(self, env: simpy.Environment):
        """Arrivals of each day: records copied from :func:`sim.inflow.draw_arrivals`, then routed."""
        p = self.people
        A = inflow.draw_arrivals(self.s, self.streams, self.counts, self.centres)
        offset = A.pop("offset")
        sponsor, elsewhere, to_ac, centre = A.pop("sponsor"), A.pop("elsewhere"), A.pop("to_ac"), A.pop("centre")
        for day in range(self.h):
            yield env.timeout(day + T_INFLOW - env.now)
            a = slice(offset[day], offset[day + 1])
            k = a.stop - a.start
            self.today["arrivals"] = k
            if k == 0:
                continue
            ids = p.add(k)
            rows = slice(ids[0], ids[0] + k)  # new records are contiguous: slices instead of fancy indexing
            for name, values in A.items():
                getattr(p, name)[rows] = values[a]
            joined = int(sponsor[a].sum())  # joined their sponsor on arrival
            self.today["housed"] += joined
            self.housing.joined_sponsor(day, joined)
            # registering elsewhere: wait for a place at home/with the sponsor, and for a home
            el = ids[elsewhere[a]]
            self.placement.wait_elsewhere(el)
            self.housing.enter(el)
            # everyone else registers at an application centre
            ac, centre_of = ids[to_ac[a]], centre[a][to_ac[a]]
            for c in self.centres:
                c.admit(p, ac if len(self.centres) == 1 else ac[centre_of == c.index])

    def departure_process(self, env: simpy.Environment):
        p = self.people
        for day in range(self.h):
            yield env.timeout(day + T_DEPART - env.now)
            ids = self.procedure.due(day)
            ids = ids[p.where[ids] != GONE]
            kind = np.where(p.outcome[ids] == DUBLIN, EXIT_DUBLIN, np.where(p.returns[ids], EXIT_RETURN, EXIT_UNKNOWN))
            self.exit(ids, kind, env.now)
            p.status[ids] = DEPARTED
            self.today["departed"] = len(ids)

    def housing_process(self, env: simpy.Environment):
        for day in range(self.h):
            yield env.timeout(day + T_HOUSING - env.now)
            ids = self.housing.intake(day, env.now)
            self.exit(ids, EXIT_HOUSED, env.now)
            self.people.status[ids] = HOUSED
            self.today["housed"] += len(ids)

    def ind_process(self, env: simpy.Environment):
        """The IND decides a week's production at once, every seventh day."""
        for day in range(0, self.h, 7):
            yield env.timeout(day + T_IND - env.now)
            k = self.procedure.production(day, self.monitor.data["ind_backlog"])
            holders, leavers = self.procedure.decide(k, env.now)
            self.housing.enter(holders)
            self.today["decisions"] = len(holders) + len(leavers)

    def transfer_process(self, env: simpy.Environment):
        """Registered people wait for a place (family hold a permit and also wait for a home); COA places them."""
        p = self.people
        for day in range(self.h):
            yield env.timeout(day + T_TRANSFER - env.now)
            done = [c.completed(p, env.now) for c in self.centres]
            done = np.concatenate(done) if len(done) > 1 else done[0]
            if len(self.centres) > 1:
                done = done[np.argsort(p.t_reg_end[done], kind="stable")]
            fam = p.cat[done] == FAMILY
            self.procedure.enter(done[~fam])
            p.t_permit[done[fam]] = p.t_reg_end[done[fam]]
            self.housing.enter(done[fam])
            self.placement.wait_at_centre(done)
            self.placement.transfer(day, env.now)

    def coa_process(self, env: simpy.Environment):
        """COA searches for emergency locations while people need places, and ends leases not needed."""
        window = self.s.reception.emergency.pressure_window_days
        for day in range(self.h):
            yield env.timeout(day + T_COA - env.now)
            self.search.review(day, env.now, self.pressure(window), self.open_location, self.placement.close_location)

    def acquisition_process(self, env: simpy.Environment):
        """COA reviews its regular capacity against its forecast need and starts projects for the gap."""
        cfg = self.s.reception.acquisition
        for day in range(cfg.review_interval_days, self.h, cfg.review_interval_days):
            yield env.timeout(day + T_COA - env.now)
            cap = self.capacity
            others, committed = (cap.pipeline, cap.task_now) if cap is not None else (0, 0)
            then = self.occupancy_on(day - 1 - cfg.trend_window_days)
            gap = self.acquisition.gap(env.now, self.occupancy_on(day - 1), then, others, committed)
            self.acquisition.review(env, gap, self.open_location)

    def monitor_process(self, env: simpy.Environment):
        """The night's count and the day's costs."""
        for day in range(self.h):
            yield env.timeout(day + T_MONITOR - env.now)
            self.monitor.night(
                day,
                self.today,
                self.centres,
                self._locations,
                self.placement,
                self.procedure,
                self.housing,
                self.capacity,
                self.costs,
            )
            self.today = dict(arrivals=0, housed=0, departed=0, decisions=0)

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        env = self.env = simpy.Environment()
        flows = (self.inflow_process, self.departure_process, self.housing_process, self.ind_process)
        for proc in (*flows, self.transfer_process, self.coa_process, self.acquisition_process, self.monitor_process):
            env.process(proc(env))
        for lid in range(self._locations.n):
            env.process(self.location_process(env, lid))
        entropy = int(self.streams.requests.integers(2**62))
        env.process(request_process(env, self.s.reception.requests, self.cal.day, entropy, self.open_location))
        if self.s.capacity.spreidingswet.enabled:
            from sim.capacity.cycle import CapacityCycle

            self.capacity = CapacityCycle(self.s, self.cal, self.municipalities, self, env)
        env.run(until=self.h)


def simulate(scenario: Scenario, seed: int = 1, replication: int = 0, keep_records: bool = False) -> Result:
    """Run one replication of ``scenario`` with root seed ``seed``.

    A scenario that names a posterior (``[parameters] posterior``) runs with the parameters of the
    particle its seed draws (:mod:`sim.posterior`); the summary then names the particle.

    Returns a :class:`Result` with ``.timeseries`` (one row per day), ``.summary``
    (headline metrics) and, with ``keep_records``, the person and location records.
    """
    scenario, particle = posterior.with_particle(scenario, seed)  # a scenario naming a posterior draws its parameters
    chain = Chain(scenario, seed)
    chain.run()
    P = chain.placement
    summary = {"replication": int(replication), "seed": int(seed)}
    if particle is not None:
        summary["particle"] = particle  # row of the posterior file this run's parameters came from
    window = scenario.evaluation_window()
    summary.update(
        summarise(chain.monitor, chain.people, float(chain.h), scenario.procedure.legal_term_days, P.placed_ever, P.moves, window)
    )
    cycles = pd.DataFrame()
    if chain.capacity is not None:
        summary.update(chain.capacity.summary(window))
        cycles = chain.capacity.cycles_frame(replication)
    ts = chain.monitor.frame(chain.cal.dates, replication)
    ts["moves"] = np.diff(ts["moves"].to_numpy(), prepend=0)
    return Result(
        timeseries=ts,
        summary=summary,
        cycles=cycles,
        people=chain.people.frame() if keep_records else None,
        locations=chain._locations.frame() if keep_records else None,
        municipalities=chain.municipalities,
    )
