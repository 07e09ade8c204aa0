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
    .99  monitor        the night's occupancy, penalties and incentives (priced at the end)

Each part lives in its own module; this one only says who acts when and what
they call. The Spreidingswet cycle (:mod:`sim.capacity`) sees the chain through
:class:`sim.capacity.interface.ChainPort`, which :class:`Chain` implements.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from sim import inflow, posterior, registration
from sim.calendar import Calendar
from sim.housing import Housing
from sim.initial_state import add_locations, municipalities_of, persons_on_start_date, populate
from sim.memory import frozen_heap
from sim.metrics import DailyCost, Monitor, Result, result
from sim.people import DEPARTED, EXIT_HOUSED, HOUSED, People
from sim.procedure import Procedure
from sim.reception import Locations
from sim.reception.acquisition import Acquisition
from sim.reception.emergency import EmergencySearch
from sim.reception.placement import Placement
from sim.reception.requests import request_process
from sim.routines import Environment
from sim.scenario import Scenario
from sim.streams import Streams

T_INFLOW, T_DEPART, T_HOUSING, T_IND, T_LOCATIONS, T_TRANSFER, T_COA, T_MONITOR = 0.0, 0.01, 0.02, 0.03, 0.2, 0.5, 0.6, 0.99

__all__ = ["Chain", "Result", "simulate"]


class Chain:
    """The reception chain of one run: people, parts, and the SimPy processes and routines (:mod:`sim.routines`)
    that move people."""

    def __init__(self, scenario: Scenario, seed: int):
        s = self.s = scenario
        self.seed = int(seed)
        self.streams = Streams(seed)
        self.cal = Calendar(s.start_date, s.horizon_days)
        self.h = s.horizon_days
        self.counts = inflow.daily_counts(s, self.cal, self.streams.inflow)
        self.people = People(persons_on_start_date(s) + int(self.counts.sum()) + 16)
        self.municipalities = municipalities_of(s)
        self._locations = Locations()
        self.centres = registration.centres_of(s.registration.centres)
        self.placement = Placement(s, self.people, self._locations, self.centres)
        self.search = EmergencySearch(s, self._locations, self.placement, self.streams.reception, self.h)
        self.acquisition = Acquisition(s, self._locations, int(self.streams.acquisition.integers(2**62)))
        self.procedure = Procedure(s, self.people, self.cal)
        self.procedure.plan_family(self.streams.procedure, inflow.replay(s), self.counts)
        self.housing = Housing(s, self.people, self.cal, self.streams.housing)
        self.monitor = Monitor(self.h, s.start_date, DailyCost(s, len(self.centres)))
        self.today = self.monitor.today  # the day's flows (persons), counted at night
        self.capacity = None  # the Spreidingswet cycle, if enabled (sim.capacity)
        self.env: Environment | None = None
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
        lid = self._locations.register(type_code, places, open_day, close_day, municipality, origin, reserved=reserved, key=key)
        self.search.announce(lid, open_now)
        self.env.routine(self.location_process(self.env, lid))
        return lid

    def occupancy_on(self, day: int) -> float:
        return self.monitor.occupancy_on(day, self.initial_total)

    def pressure(self, window_days: int) -> float:
        return self.monitor.pressure(int(self.env.now), window_days)

    def stream(self, name: str) -> np.random.Generator:
        return self.streams[name]

    # ------------------------------------------------------------------ the flows

    def location_process(self, env: simpy.Environment, lid: int) -> Generator[float, None, None]:
        """A location's life: it opens, lives, its lease may be extended, it closes (its residents move)."""
        return self.search.lifetime(env, lid, T_LOCATIONS, self.h, self._location_closed)

    def _location_closed(self, lid: int) -> None:
        if self.capacity is not None:
            self.capacity.location_closed(lid)  # a task stands: the municipality's gap reopens

    def inflow_process(self, env: simpy.Environment):
        """Arrivals of each day: records drawn by :func:`sim.inflow.draw_arrivals`, then routed."""
        p = self.people
        A = inflow.draw_arrivals(self.s, self.streams, self.counts, self.centres)
        offset = A.pop("offset")
        sponsor, elsewhere, to_ac, centre = A.pop("sponsor"), A.pop("elsewhere"), A.pop("to_ac"), A.pop("centre")
        first = p.prefill(A)  # the records of the run's arrivals, in order: each day adds the next rows
        # the day's groups as slices of run-long id lists (one selection at the start, not several a day)
        joined = np.diff(np.concatenate(([0], np.cumsum(sponsor)))[offset]).tolist()  # joined their sponsor on arrival
        el_ids, ac_ids = first + np.flatnonzero(elsewhere), first + np.flatnonzero(to_ac)
        el_off = np.searchsorted(el_ids, first + offset).tolist()  # a day's rows are [offset[d], offset[d+1])
        at_centre = registration.by_centre(self.centres, ac_ids, centre[to_ac])  # each centre's, in order
        at_centre_off = [np.searchsorted(mine, first + offset).tolist() for mine in at_centre]
        registration.plan(self.centres, p, at_centre)
        admissions = list(zip(self.centres, at_centre, at_centre_off))
        offset = offset.tolist()
        for day in range(self.h):
            yield day + T_INFLOW - env.now
            k = offset[day + 1] - offset[day]
            self.today["arrivals"] = k
            if k == 0:
                continue
            start = p.reserve(k)
            assert start == first + offset[day], "a record was added during the run: the arrivals' rows moved"
            self.today["housed"] += joined[day]
            self.housing.joined_sponsor(joined[day])
            # registering elsewhere: wait for a place at home/with the sponsor, and for a home
            el = el_ids[el_off[day] : el_off[day + 1]]
            self.placement.wait_elsewhere(el)
            self.housing.enter(el)
            # everyone else registers at an application centre
            for c, mine, off in admissions:
                c.admit(p, mine[off[day] : off[day + 1]])

    def departure_process(self, env: simpy.Environment):
        """Rejected and Dublin cases whose departure delay has passed leave the chain."""
        for day in range(self.h):
            yield day + T_DEPART - env.now
            ids, kind = self.procedure.departures(day)
            self.placement.exit(ids, kind, env.now, DEPARTED)
            self.today["departed"] = len(ids)

    def housing_process(self, env: simpy.Environment):
        """Status holders move into a home under the housing task."""
        for day in range(self.h):
            yield day + T_HOUSING - env.now
            ids = self.housing.intake(day, env.now)
            self.placement.exit(ids, EXIT_HOUSED, env.now, HOUSED)
            self.today["housed"] += len(ids)

    def ind_process(self, env: simpy.Environment):
        """The IND decides a week's production at once, every seventh day."""
        for day in range(0, self.h, 7):
            yield day + T_IND - env.now
            k = self.procedure.production(day, self.monitor.data["ind_backlog"])
            holders, leavers = self.procedure.decide(k, env.now)
            self.housing.enter(holders)
            self.today["decisions"] = len(holders) + len(leavers)

    def transfer_process(self, env: simpy.Environment):
        """Registered people wait for a place (family hold a permit and also wait for a home); COA places them."""
        for day in range(self.h):
            yield day + T_TRANSFER - env.now
            done = registration.completed(self.centres, self.people, env.now)
            self.housing.enter(self.procedure.enter_registered(done))
            self.placement.wait_at_centre(done)
            self.placement.transfer(day, env.now)

    def coa_process(self, env: simpy.Environment):
        """COA searches for emergency locations while people need places, and ends leases not needed."""
        window = self.s.reception.emergency.pressure_window_days
        for day in range(self.h):
            yield day + T_COA - env.now
            self.search.review(day, env.now, self.pressure(window), self.open_location, self.placement.close_location)

    def acquisition_process(self, env: simpy.Environment):
        """COA reviews its regular capacity against its forecast need and starts projects for the gap."""
        interval = self.s.reception.acquisition.review_interval_days
        for day in range(interval, self.h, interval):
            yield day + T_COA - env.now
            self.acquisition.review_day(env, day, self.occupancy_on, self.capacity, self.open_location)

    def monitor_process(self, env: simpy.Environment):
        """The night's count (priced when the run ends, :meth:`sim.metrics.Monitor.settle_costs`)."""
        parts = (self.centres, self._locations, self.placement, self.procedure, self.housing)
        for day in range(self.h):
            yield day + T_MONITOR - env.now
            self.monitor.night(day, *parts, self.capacity)

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        env = self.env = Environment()
        flows = (self.inflow_process, self.departure_process, self.housing_process, self.ind_process)
        # routines (sim.routines): run by the environment in the order a SimPy process each would run them
        for proc in (*flows, self.transfer_process, self.coa_process, self.acquisition_process, self.monitor_process):
            env.routine(proc(env))
        for lid in range(self._locations.n):
            env.routine(self.location_process(env, lid))
        entropy = int(self.streams.requests.integers(2**62))
        env.process(request_process(env, self.s.reception.requests, self.cal.day, entropy, self.open_location))
        if self.s.capacity.spreidingswet.enabled:
            from sim.capacity.cycle import CapacityCycle

            self.capacity = CapacityCycle(self.s, self.cal, self.municipalities, self, env)
        env.run(until=self.h)
        self.monitor.settle_costs()  # the nights are priced together, once counted

    def release(self) -> None:
        """Free the arrays that hold the whole run (the records, the registration plans, the residents' log)
        once its results are taken. The run's processes and routines still waiting at the horizon keep the chain in reference
        cycles until a full collection, which may come several runs later (a run freezes what is alive at its
        start, the previous run's garbage too): a sweep worker carried several runs' arrays at once."""
        self.people.release()
        for c in self.centres:
            c.release()
        self.placement.residents_of.release()


def simulate(scenario: Scenario, seed: int = 1, replication: int = 0, keep_records: bool = False) -> Result:
    """Run one replication of ``scenario`` with root seed ``seed``.

    A scenario that names a posterior (``[parameters] posterior``) runs with the parameters of the
    particle its seed draws (:mod:`sim.posterior`); the summary then names the particle.

    Returns a :class:`Result` with ``.timeseries`` (one row per day), ``.summary``
    (headline metrics) and, with ``keep_records``, the person and location records.
    """
    scenario, particle = posterior.with_particle(scenario, seed)  # a scenario naming a posterior draws its parameters
    # a run keeps enough objects alive (processes, projects, lists) to set off about one full collection per
    # three runs: frozen, the libraries' objects are not walked (what earlier runs left waits for a later full
    # collection; their run-long arrays are freed at once, Chain.release)
    with frozen_heap():
        chain = Chain(scenario, seed)
        chain.run()
    done = result(
        scenario,
        seed=seed,
        replication=replication,
        particle=particle,
        monitor=chain.monitor,
        people=chain.people,
        placement=chain.placement,
        capacity=chain.capacity,
        dates=chain.cal.dates,
        municipalities=chain.municipalities,
        keep_records=keep_records,
    )
    chain.release()  # now, not when the collector finds the run's reference cycles
    return done
