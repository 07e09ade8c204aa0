"""Invariants of the chain for hypothesis-generated small worlds.

People are conserved (nobody appears or vanishes outside arrivals, housing and
departure), no count is ever negative, no location type holds more people than
it has places (overflow goes to crisis shelter or stays at the application
centre, where it is counted), and the daily counters agree with the person
records they summarise.
"""

from __future__ import annotations

import numpy as np
from conftest import BASELINE, small_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.metrics import INT_COLUMNS
from sim.model import T_MONITOR, Chain, simulate
from sim.people import AC_REGISTERING, AC_WAITING, ELSEWHERE, GONE, IN_PROCEDURE, LOCATION, STATUS_HOLDER, TO_DEPART
from sim.reception.locations import N_TYPES
from sim.scenario import load_scenario, scenario_from_dict

TYPES = ("durable", "temporary", "emergency", "amv", "crisis")


@st.composite
def small_worlds(draw) -> dict:
    """A small scenario with its levers drawn: inflow, registration, procedure, housing, capacity."""
    closes = draw(st.sampled_from([None, "2026-02-15", "2026-04-01"]))
    extra = {
        "type": draw(st.sampled_from(TYPES)),
        "places": draw(st.integers(20, 400)),
        "opens": draw(st.sampled_from(["2025-06-01", "2026-01-20", "2026-03-10"])),
    }
    if closes and closes > extra["opens"]:
        extra["closes"] = closes
    locations = [
        {"type": "durable", "places": draw(st.integers(900, 1300)), "opens": "2025-01-01"},
        {
            "type": "temporary",
            "places": 150,
            "opens": "2025-01-01",
            "closes": draw(st.sampled_from(["2026-02-01", "2026-04-01", "2027-01-01"])),
        },
        {
            "type": "emergency",
            "places": 250,
            "opens": "2025-01-01",
            "closes": draw(st.sampled_from(["2026-01-10", "2026-03-01", "2027-01-01"])),
        },
        {"type": "amv", "places": draw(st.integers(100, 200)), "opens": "2025-01-01"},
        extra,
    ]
    return small_dict(
        horizon_years=draw(st.sampled_from([0.25, 0.4, 0.6])),
        inflow={
            "first_applications_per_year": draw(st.integers(0, 12_000)),
            "family_reunification_per_year": draw(st.integers(0, 4_000)),
            "amv_share_of_first": draw(st.floats(0, 0.5)),
            "dispersion": draw(st.sampled_from(["poisson", "negative_binomial"])),
            "shocks": draw(st.sampled_from([[], [{"start": "2026-02-01", "weeks": 4, "persons": 1500}]])),
        },
        registration={
            "centres": [
                {
                    "name": "AC",
                    "slots": draw(st.integers(1, 60)),
                    "service_mean_days": draw(st.floats(0.2, 4)),
                    "service_distribution": draw(st.sampled_from(["exponential", "lognormal", "deterministic"])),
                    "norm_persons": 200,
                    "physical_limit_persons": 260,
                    "chairs_persons": draw(st.integers(0, 40)),
                    "night_shelter_places": draw(st.integers(0, 40)),
                }
            ],
            "transfer_limit_per_day": draw(st.integers(0, 80)),
            "family_register_elsewhere_share": draw(st.floats(0, 1)),
        },
        reception={
            "amv_overflow_to_emergency": draw(st.booleans()),
            "consolidation_moves_per_day": draw(st.integers(0, 60)),
            "requests": draw(
                st.sampled_from(
                    [
                        [],
                        [
                            {
                                "date": "2026-01-20",
                                "kind": "crisis",
                                "places": draw(st.integers(10, 600)),
                                "units": draw(st.integers(1, 6)),
                            }
                        ],
                        [{"date": "2026-02-10", "kind": "emergency", "places": 200, "duration_days": [20, 60]}],
                    ]
                )
            ),
            "emergency": {
                "on_demand": draw(st.booleans()),
                "size_places": sorted(draw(st.lists(st.integers(10, 150), min_size=2, max_size=2))),
                "offers_per_week": draw(st.floats(0, 20)),
                "refusal_probability": draw(st.floats(0, 1)),
                "extension_probability": draw(st.floats(0, 1)),
                "ceiling_places": draw(st.integers(0, 1500)),
                "lead_time_days": sorted(draw(st.lists(st.integers(0, 30), min_size=2, max_size=2))),
                "lease_days": sorted(draw(st.lists(st.integers(10, 200), min_size=2, max_size=2))),
                "min_lease_days": draw(st.integers(0, 90)),
                "close_buffer_persons": draw(st.integers(0, 200)),
                "review_interval_days": draw(st.integers(1, 14)),
            },
        },
        procedure={
            "decisions_per_week": draw(st.integers(0, 150)),
            "production_changes": [{"date": "2026-03-01", "decisions_per_week": draw(st.integers(0, 150))}],
        },
        housing={"task_per_half_year": draw(st.integers(0, 3000)), "family_join_sponsor_share": draw(st.floats(0, 1))},
        capacity={"scheduled": locations},
    )


def conservation_residual(ts) -> np.ndarray:
    """People the chain is responsible for (in reception, or registered and waiting at home) minus
    (initial + cumulative arrivals − housed − departed), per day (persons)."""
    flow = (ts["arrivals"] - ts["housed"] - ts["departed"]).to_numpy()
    total = (ts["occupancy_total"] + ts["waiting_elsewhere"]).to_numpy()
    initial = total[0] - flow[0]
    return total - (initial + np.cumsum(flow))


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(world=small_worlds(), seed=st.integers(0, 2**31))
def test_people_are_conserved_counts_are_non_negative_and_places_are_never_exceeded(world, seed):
    result = simulate(scenario_from_dict(world), seed=seed)
    ts = result.timeseries
    assert not conservation_residual(ts).any(), "people appeared or vanished"
    for col in INT_COLUMNS:
        assert (ts[col] >= 0).all(), f"{col} negative"
    assert (ts["cost_eur"] >= 0).all()
    for t in TYPES:
        over = ts[f"occupancy_{t}"] > ts[f"places_{t}"]
        assert not over.any(), f"{t}: occupancy above places on day {ts['day'][over].iloc[0]}"
    # everyone with a right to reception tonight is somewhere COA counts
    where = ts[
        [
            "ac_occupancy",
            "occupancy_durable",
            "occupancy_temporary",
            "occupancy_emergency",
            "occupancy_amv",
            "occupancy_crisis",
        ]
    ].sum(axis=1)
    assert (where == ts["occupancy_total"]).all()
    # one centre: above the norm before above the physical limit, and both within the people present
    assert (ts["sleeping_outside"] <= ts["ac_above_norm"]).all()
    assert (ts["ac_above_norm"] <= ts["ac_occupancy"]).all()
    assert (ts["ac_registering"] <= ts["ac_occupancy"]).all()


@SETTINGS
@given(world=small_worlds(), seed=st.integers(0, 2**31))
def test_the_counters_agree_with_the_person_and_location_records(world, seed):
    chain = Chain(scenario_from_dict(world), seed)
    chain.run()
    p, L, R = chain.people, chain.locations, chain.placement
    n = p.n
    where, status = p.where[:n], p.status[:n]
    # every location's occupancy is the number of records placed there, and a closed location is empty
    placed = np.bincount(p.loc[:n][where == LOCATION], minlength=L.n)
    assert (placed == L.occ[: L.n]).all()
    assert (L.occ[: L.n][~L.is_open[: L.n]] == 0).all()
    # the per-type counts the day's figures read are kept on each change: they match the table
    types = L.type[: L.n]
    assert (L.occupied == np.bincount(types, weights=L.occ[: L.n], minlength=N_TYPES)).all()
    assert (L.open_places == np.bincount(types, weights=L.places[: L.n] * L.is_open[: L.n], minlength=N_TYPES)).all()
    assert np.array_equal(L.open_ids, np.flatnonzero(L.is_open[: L.n]))
    for t in range(N_TYPES):
        assert np.array_equal(L.open_of_type[t], np.flatnonzero(L.is_open[: L.n] & (types == t)))
    assert not (p.loc[:n][where != LOCATION] >= 0).any(), "a person outside a location still holds a place"
    # the residents index (what closing and moving up read) names exactly the people placed there
    for lid in range(L.n):
        truth = np.flatnonzero((p.loc[:n] == lid) & (where == LOCATION))
        assert np.array_equal(R.residents(lid), truth), f"location {lid}: residents index disagrees with the records"
    assert R.waiting_elsewhere == int((where == ELSEWHERE).sum())
    for c in chain.centres:
        mine = p.centre[:n] == c.index
        assert c.present == int((mine & ((where == AC_REGISTERING) | (where == AC_WAITING))).sum())
    # the IND backlog: registered, undecided, still here
    pending = (status == IN_PROCEDURE) & (where != AC_REGISTERING) & (where != GONE)
    assert chain.procedure.size == int(pending.sum())
    # status holders waiting for a home: registered (or registering elsewhere) and still here
    holders = (status == STATUS_HOLDER) & (where != AC_REGISTERING) & (where != GONE)
    assert chain.housing.waiting == int(holders.sum())
    # everyone decided to leave whose departure fell within the run has left (delays are in the records);
    # a departure due on the day of the decision itself may slip to the next day
    h = chain.h
    decided_to_leave = (status == TO_DEPART) & (where != GONE) & ~np.isnan(p.t_decision[:n])
    due = np.floor(p.t_decision[:n] + p.depart_delay_days[:n])[decided_to_leave]
    assert (due >= h - 1).all(), f"{int((due < h - 1).sum())} people past their departure day are still here"
    assert chain.procedure.awaiting_departure == int(((status == TO_DEPART) & (where != GONE)).sum())
    # nobody leaves twice or comes back
    gone = where == GONE
    assert not np.isnan(p.t_exit[:n][gone]).any()
    assert np.isnan(p.t_exit[:n][~gone]).all()
    ts = chain.monitor.frame(chain.cal.dates, 0)
    assert ts["occupancy_total"].iloc[-1] + ts["waiting_elsewhere"].iloc[-1] == int((~gone).sum())


def test_the_centres_nightly_columns_follow_from_the_people_present():
    """A centre that fills past its norm, its beds and its relief valves: every night, the people above the norm,
    on chairs or in the night shelter, and outside are what the number present implies (norm 200, beds 260,
    15 chairs and 20 shelter places). The night's row is written by position, so this also pins which
    column is which."""
    s = scenario_from_dict(small_dict(inflow={"first_applications_per_year": 20_000}, registration={"transfer_limit_per_day": 5}))
    ts = simulate(s, seed=4).timeseries
    present = ts["ac_occupancy"]
    assert (ts["ac_above_norm"] == (present - 200).clip(lower=0)).all()
    assert (ts["ac_in_relief"] == (present - 260).clip(lower=0, upper=35)).all()
    assert (ts["sleeping_outside"] == (present - 295).clip(lower=0)).all()
    assert (ts["sleeping_outside"] > 0).any(), "the scenario should fill the centre past its relief valves"


def test_pressure_is_the_share_of_the_windows_nights_with_a_centre_above_its_norm():
    """The pressure COA's search and the Spreidingswet cycle read on day d over a window of w nights: the share
    of the nights d - w ... d - 1 (those since day 0 only) on which a centre was above its norm, read off the
    daily table; at day 0 none."""
    s = scenario_from_dict(small_dict(inflow={"first_applications_per_year": 20_000}, registration={"transfer_limit_per_day": 5}))
    chain = Chain(s, seed=4)
    chain.run()
    above = (chain.monitor.frame(chain.cal.dates, 0)["ac_above_norm"] > 0).to_numpy()
    assert above.any() and not above.all(), "the scenario should have nights above the norm and nights below it"
    for window in (1, 7, 30, 1000):
        for day in range(chain.h):
            assert chain.monitor.pressure(day, window) == above[max(day - window, 0) : day].sum() / window


def _night_cost(ts, s, day: int) -> float:
    """One night's cost by its definition, in Python floats: each type's occupied places and empty places at
    their prices, summed in type order, then the persons at the centres, then the penalties."""
    c = s.costs
    occupied = empty = 0.0
    for name, price in zip(TYPES, (c.durable, c.temporary, c.emergency, c.amv, c.crisis)):
        o, p = int(ts[f"occupancy_{name}"].iloc[day]), int(ts[f"places_{name}"].iloc[day])
        occupied += o * price.occupied_eur_per_day
        empty += (p - o) * price.empty_eur_per_day
    return occupied + empty + int(ts["ac_occupancy"].iloc[day]) * c.ac_eur_per_person_night + ts["penalty_eur"].iloc[day]


def test_each_nights_cost_is_its_places_its_centre_nights_its_penalties_and_its_incentives():
    """The nights are priced together at the end of a run: each must cost exactly what pricing that night alone
    gives (places by type, occupied and empty; persons at the centre; penalties while above the norm), and
    with the Spreidingswet cycle, the incentives it paid on top, summing to what the cycle reports paid."""
    crowded = small_dict(inflow={"first_applications_per_year": 20_000}, registration={"transfer_limit_per_day": 5})
    crowded["registration"]["centres"][0].update(penalty_eur_per_day=15_000.0, penalty_cap_eur=400_000.0)
    # prices with cents: sums in another order would round differently
    prices = {t: {"occupied_eur_per_day": 61.37 + i, "empty_eur_per_day": 17.93 + i} for i, t in enumerate(TYPES)}
    crowded["costs"] = {"ac_eur_per_person_night": 83.71, **prices}
    s = scenario_from_dict(crowded)
    ts = simulate(s, seed=4).timeseries
    assert (ts["penalty_eur"] > 0).any() and ts["penalty_eur"].sum() == 400_000.0, "the centre should pay up to its cap"
    assert [ts["cost_eur"].iloc[d] for d in range(len(ts))] == [_night_cost(ts, s, d) for d in range(len(ts))]
    s = load_scenario(BASELINE, ["horizon_years=1.5"])
    run = simulate(s, seed=2, keep_records=True)
    ts = run.timeseries
    incentives = np.array([ts["cost_eur"].iloc[d] - _night_cost(ts, s, d) for d in range(len(ts))])
    # paid on the first night counted after a durable or AMV location the cycle's projects built opens
    L = run.locations
    built = L[L["origin"].str.startswith("cycle") & L["type"].isin(["durable", "amv"])]
    night = np.ceil(built["open_day"].to_numpy() - T_MONITOR).astype(int)
    paid = np.zeros(len(ts) + 1)
    np.add.at(paid, night, built["places"].to_numpy() * s.capacity.spreidingswet.incentive_eur_per_durable_place)
    paid = paid[: len(ts)]
    assert (paid > 0).sum() > 10
    assert np.allclose(incentives, paid, rtol=1e-9, atol=1e-3)
    assert abs(incentives.sum() - run.summary["incentive_cost_eur"]) < 1e-6 * run.summary["incentive_cost_eur"]


def test_a_frame_taken_before_the_results_has_its_nights_priced():
    """The nights are priced together when the run ends; a frame of the daily records taken from the chain
    itself (before the results are) must hold the results' costs, not zeros."""
    s = scenario_from_dict(small_dict())
    chain = Chain(s, seed=4)
    chain.run()
    costs = chain.monitor.frame(chain.cal.dates, 0)["cost_eur"].to_numpy()
    assert (costs > 0).all()
    assert np.array_equal(costs, simulate(s, seed=4).timeseries["cost_eur"].to_numpy())
