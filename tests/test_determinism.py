"""Reproducibility: one seed, one result; replications differ; a replication does not depend on its company."""

from __future__ import annotations

import gc
import hashlib
import io
import os
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import simpy
from conftest import BASELINE, small_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.calendar import DAYS_PER_MONTH
from sim.capacity.params import ProjectType
from sim.capacity.projects import STAGES, Menu, Plan, Project, _chosen, _lateness_exponent, choose_index, stage_days
from sim.capacity.projects import run as run_project
from sim.cli import main
from sim.executors import ProcessExecutor
from sim.inflow import SORT_BLOCK_DAYS, _moved_to_days, _routed, _sort_days, draw_arrivals
from sim.memory import YOUNG_OBJECTS, frozen_heap
from sim.model import Chain, simulate
from sim.people import AMV, ELSEWHERE, EXIT_SPONSOR, FAMILY, FIRST, GONE, HOUSED, IN_PROCEDURE, STATUS_HOLDER
from sim.runner import run_replication
from sim.scenario import load_scenario
from sim.store import load_results
from sim.streams import Keyed, Streams, Uniforms

ROOT = Path(__file__).resolve().parent.parent


def parquet_digest(df: pd.DataFrame) -> str:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return hashlib.sha256(buf.getvalue()).hexdigest()


def test_the_same_seed_gives_byte_identical_results():
    s = small_scenario()
    a, b = simulate(s, seed=5, keep_records=True), simulate(s, seed=5, keep_records=True)
    assert parquet_digest(a.timeseries) == parquet_digest(b.timeseries)
    assert a.summary == b.summary
    assert a.people.equals(b.people)


def test_the_same_seed_gives_identical_results_for_the_national_baseline():
    s = load_scenario(BASELINE, ["end_date=2026-04-01"])
    a, b = simulate(s, seed=3), simulate(s, seed=3)
    assert a.timeseries.equals(b.timeseries)
    assert a.summary == b.summary


def test_the_collectors_thresholds_come_back_after_a_run_that_fails_and_collection_off_stays_off():
    """The run's block raises the young generation's threshold and freezes what is alive; both come back when
    the block ends by an exception, and a process that turned automatic collection off (threshold 0) keeps it
    off during the block."""
    before = gc.get_threshold()
    try:
        with pytest.raises(RuntimeError), frozen_heap():
            assert gc.get_threshold()[0] == YOUNG_OBJECTS
            raise RuntimeError("a run fails")
        assert gc.get_threshold() == before and gc.get_freeze_count() == 0
        gc.set_threshold(0)
        with frozen_heap():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


def test_a_finished_run_frees_its_run_long_arrays_without_waiting_for_the_garbage_collector(monkeypatch):
    """The run's processes still waiting at the horizon keep the chain in reference cycles; its run-long arrays
    (the records, the registration plan, the residents' log: the bulk of a run's memory) must not wait for a
    full collection, or a sweep worker carries several runs' arrays at once. The result, taken before, keeps
    its own copies."""
    seen = []
    run = Chain.run

    def remembering_run(self):
        run(self)
        seen.extend(weakref.ref(a) for a in (self.people.t_arrive, self.centres[0]._end, self.placement.residents_of.ids))

    monkeypatch.setattr(Chain, "run", remembering_run)
    gc.disable()
    try:
        r = simulate(small_scenario(), seed=2, keep_records=True)
        assert [ref() is None for ref in seen] == [True, True, True]  # freed by reference counting alone
    finally:
        gc.enable()
    assert len(r.people) > 0 and r.people["t_arrive"].notna().any()


def test_a_run_freezes_the_objects_alive_before_it_and_leaves_a_callers_freezing_alone(monkeypatch):
    """The garbage collector skips the libraries' objects during a run (a full collection walked them ~80 ms) and
    collects young objects less often, the same seed gives the same result frozen or not, and the process's
    freezing and thresholds are as they were after the run."""
    s = small_scenario()
    seen = []
    run = Chain.run

    def spying_run(self):
        seen.append(gc.get_freeze_count())
        thresholds.append(gc.get_threshold())
        run(self)

    thresholds = []
    monkeypatch.setattr(Chain, "run", spying_run)
    gc.collect()  # nothing young left over from earlier tests
    before_thresholds = gc.get_threshold()
    plain = simulate(s, seed=3)
    assert seen[-1] > 10_000  # the imported libraries' objects (numpy, pandas, SimPy...) were frozen
    assert gc.get_freeze_count() == 0  # and thawed afterwards
    # the young generation is collected less often during the run, and as before after it
    assert before_thresholds[0] < YOUNG_OBJECTS and thresholds[-1] == (YOUNG_OBJECTS, *before_thresholds[1:])
    assert gc.get_threshold() == before_thresholds
    gc.freeze()  # a caller that freezes objects itself: the run neither adds to them nor thaws them
    try:
        before = gc.get_freeze_count()
        caller_frozen = simulate(s, seed=3)
        # (frozen objects still die when their last reference goes, so the count may drop a little)
        assert 0.99 * before < seen[-1] <= before and 0.99 * before < gc.get_freeze_count() <= before
    finally:
        gc.unfreeze()
    assert parquet_digest(plain.timeseries) == parquet_digest(caller_frozen.timeseries)


def _freeze_count(_) -> int:
    return gc.get_freeze_count()


def test_a_process_pool_freezes_its_parent_while_it_runs_and_its_workers_start_thawed():
    """While a pool runs, the parent's collections (it writes the parts) skip the objects alive when the pool
    started, and thaw them when it ends; a worker, forked from the frozen parent, starts thawed, so that each
    of its runs freezes what is alive at its start (as in the parent: the test above)."""
    gc.collect()
    assert gc.get_freeze_count() == 0
    with ProcessExecutor(1) as pool:
        assert gc.get_freeze_count() > 10_000
        assert list(pool.imap_unordered(_freeze_count, [0])) == [0]
    assert gc.get_freeze_count() == 0


def test_replications_differ():
    s = small_scenario()
    (ts0, sum0, _), (ts1, sum1, _) = run_replication(s, 1, 0), run_replication(s, 1, 1)
    assert sum0["seed"] != sum1["seed"]
    assert not ts0["arrivals"].equals(ts1["arrivals"])
    assert sum0["total_cost_eur"] != sum1["total_cost_eur"]


def test_a_replication_does_not_depend_on_how_many_run_alongside_or_on_the_workers(tmp_path):
    args = [str(BASELINE), "--seed", "9", "--until", "2026-03-01", "--quiet"]
    assert main(["run", *args, "--replications", "1", "--out", str(tmp_path / "one")]) == 0
    assert main(["run", *args, "--replications", "3", "--out", str(tmp_path / "three")]) == 0
    assert main(["run", *args, "--replications", "3", "--workers", "2", "--out", str(tmp_path / "parallel")]) == 0
    one, three, parallel = (load_results(tmp_path / d) for d in ("one", "three", "parallel"))
    first = three.timeseries[three.timeseries["replication"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(one.timeseries, first)
    pd.testing.assert_frame_equal(one.summary, three.summary.iloc[:1])
    pd.testing.assert_frame_equal(three.timeseries, parallel.timeseries)
    pd.testing.assert_frame_equal(three.summary, parallel.summary)
    assert three.summary["seed"].nunique() == 3


def test_a_seed_gives_the_same_days_whatever_the_horizon():
    """Common random numbers across --until: a shorter run is exactly the first days of a longer one
    (arrivals, COA's search, the capacity cycle and the replayed inflow draw nothing that depends on
    the horizon)."""
    for path, ends in (
        (BASELINE, ("2026-09-15", "2027-07-01")),
        (BASELINE.parent / "backtest_2022.toml", ("2022-03-15", "2022-06-10")),
    ):
        short, long = (simulate(load_scenario(path, [f"end_date={e}"]), seed=4).timeseries for e in ends)
        pd.testing.assert_frame_equal(short, long.iloc[: len(short)].reset_index(drop=True))


@settings(max_examples=200, deadline=None)
@given(entropy=st.integers(0, 2**64), key=st.lists(st.integers(0, 2**70), max_size=6))
def test_a_keyed_generator_draws_the_numbers_of_numpys_own_seeding(entropy, key):
    """The fast keyed generators (sim.streams.Keyed, with their own compiled seed hashing) must not change a
    single number: a decision's or a project's generator is the one np.random.default_rng([entropy, *key])
    gives, for keys of any size (fewer words than the seed's pool, and many more)."""
    expected, fast = np.random.default_rng([entropy, *key]), Keyed(entropy)(*key)
    assert fast.bit_generator.state == expected.bit_generator.state  # the whole PCG64 state, not a few draws
    assert np.array_equal(fast.random(4), expected.random(4))


@pytest.mark.parametrize(
    "key",
    [
        (0,),
        (2**32 - 1, 2**32, 2**63 - 1),  # one word, two words, the largest key the compiled path takes
        (2**63, 5),  # beyond int64: word by word in Python
        (np.int16(3), 7, np.int64(2**40)),  # mixed integer types, as numpy scalars come
        (np.uint64(2**63 + 1), np.uint32(9)),
    ],
)
def test_keys_at_the_word_boundaries_and_of_mixed_types_seed_as_numpy_does(key):
    """Keys reach the compiled seeding as they are (no conversion in Python): each must still give numpy's own
    generator, at the sizes where a key takes a second 32-bit word or no longer fits a 64-bit integer."""
    entropy = 2**62 + 11
    expected = np.random.default_rng([entropy, *(int(k) for k in key)])
    assert Keyed(entropy)(*key).bit_generator.state == expected.bit_generator.state


@settings(max_examples=50, deadline=None)
@given(entropy=st.integers(0, 2**64), keys=st.lists(st.lists(st.integers(0, 2**63 - 1), max_size=6), min_size=2, max_size=5))
def test_keyed_generators_made_one_after_another_each_keep_their_own_numbers(entropy, keys):
    """A keyed generator's seed is computed into a buffer the next key overwrites: every generator made from one
    ``Keyed``, in turn and held together, still draws numpy's own numbers for its key, and its seed sequence cannot
    hand out the (since overwritten) words again."""
    keyed = Keyed(entropy)
    made = [keyed(*key) for key in keys]
    for key, fast in zip(keys, made):
        assert fast.bit_generator.state == np.random.default_rng([entropy, *key]).bit_generator.state
    with pytest.raises(RuntimeError, match="once"):
        made[0].bit_generator.seed_seq.generate_state(4, np.uint64)


@settings(max_examples=200, deadline=None)
@given(
    entropy=st.integers(0, 2**64),
    key=st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=6),
    draws=st.lists(st.one_of(st.none(), st.integers(0, 11), st.tuples(st.floats(-1e6, 1e6), st.floats(0, 1e6))), max_size=12),
)
def test_a_keyed_uniform_source_draws_numpys_own_numbers_in_any_mix_of_draws(entropy, key, draws):
    """``Keyed.uniforms`` computes PCG64 itself instead of making numpy's objects: every draw, scalar or array,
    ``random`` or ``uniform``, must be the number numpy's own generator for the key gives at that point of its
    stream, also past the first block of doubles (up to 12 draws of up to 11 numbers)."""
    fast, expected = Keyed(entropy).uniforms(*key), np.random.default_rng([entropy, *key])
    assert isinstance(fast, Uniforms)  # the compiled path, not numpy's generator handed back
    for draw in draws:
        if draw is None:
            got, want = fast.random(), expected.random()
            assert type(got) is type(want) is float
        elif isinstance(draw, int):
            got, want = fast.random(draw), expected.random(draw)
            assert got.dtype == want.dtype and got.shape == want.shape
        else:
            low, span = draw
            got, want = fast.uniform(low, low + span), expected.uniform(low, low + span)
        assert np.array_equal(got, want)  # to the bit


def test_a_keyed_uniform_source_refuses_what_numpy_refuses_and_hands_other_keys_to_numpy():
    keyed = Keyed(7)
    with pytest.raises(ValueError, match="got -3"):
        keyed.uniforms(2, -3)
    for low, high, refused in ((2.0, 1.0, ValueError), (0.0, np.inf, OverflowError)):  # as numpy refuses them
        with pytest.raises(refused, match="high - low"):
            np.random.default_rng(1).uniform(low, high)
        with pytest.raises(refused, match="high - low"):
            keyed.uniforms(1).uniform(low, high)
    beyond = keyed.uniforms(2**64 + 5, 1)  # beyond int64: numpy's generator, seeded word by word
    assert isinstance(beyond, np.random.Generator)
    assert beyond.random() == np.random.default_rng([7, 2**64 + 5, 1]).random()


@pytest.mark.parametrize("key", [(-1,), (3, np.int64(-2))])
def test_a_negative_key_is_refused_with_its_value(key):
    with pytest.raises(ValueError, match=f"got {int(key[-1])}"):
        Keyed(1)(*key)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_types=st.integers(1, 4), data=st.data())
def test_a_menu_draws_each_types_plan_as_one_draw_per_stage_would(seed, n_types, data):
    """A site's plans for every type come from one vectorised gamma call; each stage must get the length
    one draw per stage (type by type) gives, stages of zero mean or no variation drawing nothing, and the
    planned lead time the builder's sum of the stages, expected appeal and delay, whatever the types are.
    Menus whose drawn stages share one variation (the shipped ones) take a cheaper path: half the cases."""
    common_cv = data.draw(st.one_of(st.none(), st.floats(0.05, 2)))
    stage = st.builds(
        lambda mean, cv: {"mean_months": mean, "cv": cv if common_cv is None or cv == 0 else common_cv},
        st.one_of(st.just(0.0), st.floats(0.1, 30)),
        st.one_of(st.just(0.0), st.floats(0.05, 2)),
    )
    types = {
        f"t{i}": ProjectType(
            **{name: data.draw(stage) for name in STAGES},
            appeal_probability=data.draw(st.floats(0, 1)),
            delay_probability=data.draw(st.floats(0, 1)),
            size_places=100,
            lifespan_years=15,
        )
        for i in range(n_types)
    }
    vectorised, rng = np.random.default_rng(seed), np.random.default_rng(seed)
    days, planned = Menu(types).draw(vectorised)
    for i, t in enumerate(types.values()):
        one_by_one = {name: stage_days(rng, getattr(t, name)) for name in STAGES}
        assert dict(zip(STAGES, days[i].tolist())) == one_by_one
        expected = sum(v for name, v in one_by_one.items() if name != "appeal")
        expected += t.appeal_probability * t.appeal.mean_months * DAYS_PER_MONTH
        expected += t.delay_probability * sum(t.delay_months) / 2 * DAYS_PER_MONTH
        assert planned[i] == expected
    assert vectorised.random() == rng.random()  # and it used up the same numbers: later draws agree
    one = Plan.draw("t0", types["t0"], np.random.default_rng(seed))
    assert one.durations == dict(zip(STAGES, days[0].tolist())) and one.planned_days == planned[0]


@settings(max_examples=300, deadline=None)
@given(
    planned=st.lists(st.floats(0, 3000), min_size=1, max_size=9),
    data=st.data(),
    days_left=st.floats(-500, 1500),
    aversion=st.floats(0, 2),
    u=st.one_of(st.floats(0, 1, exclude_max=True), st.sampled_from([0.0, 0.2, 0.25, 0.5, 1 / 3, 2 / 3, 0.75])),
)
def test_the_compiled_choice_of_a_project_type_is_choose_index(planned, data, days_left, aversion, u):
    """Menu.choose picks a type with compiled loops around numpy's exp: for fewer than eight types with finite
    weights of zero or more (every menu a run has) it must pick the type choose_index picks, ties of the
    cumulative shares with the uniform and all-zero weights included; for more types it leaves the choice to
    choose_index (numpy sums eight or more numbers pairwise)."""
    n = len(planned)
    weights = np.array(data.draw(st.lists(st.one_of(st.just(0.0), st.just(1.0), st.floats(0, 10)), min_size=n, max_size=n)))
    planned = np.array(planned)
    exponent = np.empty(n)
    _lateness_exponent(planned, days_left, aversion, exponent)
    got = _chosen(weights, np.exp(exponent), u)
    if n < 8:
        assert got == choose_index(planned, weights, days_left, aversion, u)
    else:
        assert got == -1


def _stage_by_stage(env, plan, rng, fail_probability, pause, out):
    """The reference for :func:`sim.capacity.projects.run`: one wait per stage (the draws in the same order)."""
    ptype, d = plan.ptype, plan.durations
    appeal = rng.random() < ptype.appeal_probability
    fails = rng.random() < fail_probability
    delayed = rng.random() < ptype.delay_probability
    delay = rng.uniform(*ptype.delay_months) * DAYS_PER_MONTH if delayed else 0.0
    for days in (d["site_and_council"], d["participation"], d["permit"] + (d["appeal"] if appeal else 0.0)):
        yield env.timeout(days + pause(rng, env.now))
    if fails:
        out.append(("failed", env.now))
        return
    yield env.timeout(d["construction"] + delay)
    out.append(("open", env.now))


def _project_outcomes(start, durations, fail_probability, window, seed, delay_probability=0.5):
    """How a project ends (status, clock) under run() and under the stage-by-stage reference, and how many
    times run() waited."""
    ptype = ProjectType(appeal_probability=0.5, delay_probability=delay_probability, size_places=100, lifespan_years=15)
    plan = Plan("t", ptype, dict(zip(STAGES, durations)), 0.0)
    a, b = window

    def pause(rng, now):
        u = rng.random()
        return b - now if a <= now < b and u < 0.5 else 0.0

    env, got, waits = simpy.Environment(initial_time=start), [], []
    proj = Project("coa", 0, 0, "t", 0, 100, start, start, False)
    ended = lambda p: got.append((p.status, env.now))  # noqa: E731
    project = run_project(env, proj, plan, np.random.default_rng(seed), fail_probability, pause, ended, ended)

    def counting():  # the routine as a SimPy process (what sim.routines.as_process does), counting its waits
        for delay in project:
            waits.append(delay)
            yield env.timeout(delay)

    env.process(counting())
    env.run()
    ref, expected = simpy.Environment(initial_time=start), []
    ref.process(_stage_by_stage(ref, plan, np.random.default_rng(seed), fail_probability, pause, expected))
    ref.run()
    return got, expected, len(waits)


@settings(max_examples=200, deadline=None)
@given(
    start=st.floats(0, 4000),
    durations=st.lists(st.floats(0, 500), min_size=5, max_size=5),
    fail_probability=st.sampled_from([0.0, 1.0]),
    window=st.tuples(st.floats(0, 3000), st.floats(0, 3000)).map(sorted),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_project_ends_when_and_as_waiting_stage_by_stage_would_end_it(start, durations, fail_probability, window, seed):
    """A project sleeps through its stages in one wait (nothing happens to it between them); it must fail or
    open at the very clock reading that one wait per stage reaches, pauses for the debate on the law read at
    each stage's start included."""
    got, expected, waits = _project_outcomes(start, durations, fail_probability, window, seed)
    assert got == expected and len(got) == 1
    end = expected[0][1]
    assert waits == 1 or start + (end - start) != end  # one wait, unless no single delay reaches the end


def test_a_project_whose_end_one_addition_cannot_reach_waits_stage_by_stage():
    """From 54.758176179738584 no single delay reaches the sum of these four waits (a rounding tie), so the
    project waits stage by stage, and still ends at that sum."""
    start, steps = 54.758176179738584, [32.61749948792537, 56.1043454272661, 48.95121324729193, 0.1643100102088857]
    t = start
    for step in steps:
        t = t + step
    assert start + (t - start) != t  # the case the one wait cannot serve
    durations = [steps[0], steps[1], steps[2], 0.0, steps[3]]  # no appeal length: the permit stage is one step
    got, expected, waits = _project_outcomes(start, durations, 0.0, (0.0, 0.0), seed=3, delay_probability=0.0)
    assert got == expected == [("open", t)]
    assert waits == 4


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    counts=st.lists(st.tuples(*[st.one_of(st.integers(0, 6), st.integers(0, 700))] * 3), min_size=1, max_size=30),
)
def test_the_arrivals_of_a_run_are_the_day_by_day_draws_of_the_inflow_stream(seed, counts):
    """The run's arrivals are drawn at once, in place: each day's categories must be the inflow stream's
    permutation of that day's counts and its arrival times the sorted uniforms the stream gives next, as drawn
    day by day (empty days drawing nothing), so a day's arrivals do not depend on how they are drawn; and the
    same for the streams that give each arrival two uniforms. Days of up to 2,100 arrivals: a shuffle draws each
    swap partner below a bound whose bit mask grows with the day's size. The stream goes on as numpy's would."""
    s = small_scenario()
    chain = Chain(s, seed)
    counts = np.array(counts, np.int64)
    streams = Streams(seed)
    drawn = draw_arrivals(s, streams, counts, chain.centres)
    rng = Streams(seed).inflow
    cats = np.array([FIRST, AMV, FAMILY])
    cat, times = [], []
    for day, row in enumerate(counts):
        if row.sum():
            cat.append(rng.permutation(np.repeat(cats, row)))
            times.append(day + np.sort(rng.random(int(row.sum()))) * 0.98)
    expected_cat = np.concatenate(cat) if cat else np.empty(0, np.int8)
    expected_times = np.concatenate(times) if times else np.empty(0)
    assert np.array_equal(drawn["cat"], expected_cat) and np.array_equal(drawn["t_arrive"], expected_times)
    # the compiled shuffles leave the stream where numpy's leave it, a half-used 32-bit word included
    assert streams.inflow.integers(0, 2**31, 5).tolist() == rng.integers(0, 2**31, 5).tolist()
    assert np.array_equal(drawn["offset"], np.concatenate([[0], np.cumsum(counts.sum(axis=1))]))
    # the departure stream gives two uniforms per person, day by day: the day's delays, then its returns
    departure = Streams(seed).departure
    firsts, seconds = [], []
    for k in counts.sum(axis=1).tolist():
        firsts.append(departure.random(k))
        seconds.append(departure.random(k))
    assert np.array_equal(drawn["u_delay"], np.concatenate(firsts))
    assert np.array_equal(drawn["returns"], np.concatenate(seconds) < s.departure.return_share)


@settings(max_examples=60, deadline=None)
@given(
    per_day=st.lists(st.one_of(st.integers(0, 3), st.integers(0, 400)), min_size=1, max_size=3 * SORT_BLOCK_DAYS),
    seed=st.integers(0, 2**32 - 1),
    ties=st.booleans(),
)
def test_each_days_arrival_times_are_sorted_as_numpy_sorts_the_day_alone(per_day, seed, ties):
    """The run's arrival times are sorted day by day as padded tables of many days (blocks of days, each as wide
    as its busiest day): every day must hold exactly its own values in numpy's order, whatever the days' sizes,
    empty days and repeated values included, and blocks must not leak into each other."""
    per_day = np.array(per_day, np.int64)
    offset = np.concatenate([[0], np.cumsum(per_day)])
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 5, offset[-1]).astype(float) / 5 if ties else rng.random(offset[-1])
    expected = np.concatenate([np.sort(t[a:b]) for a, b in zip(offset[:-1], offset[1:])])
    _sort_days(t, offset)
    assert np.array_equal(t, expected)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 300),
    shares=st.lists(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)), min_size=3, max_size=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_each_arrivals_route_and_first_records_follow_the_shares_as_numpy_masks_give_them(n, shares, seed):
    """The routes on arrival are drawn in one compiled pass: each record must be what the elementwise numpy
    definition gives (family members below the sponsor share join their sponsor, of the rest those below the
    elsewhere share register elsewhere, everyone else goes to an application centre), shares of 0 and 1
    included; and the times moved to their days must be numpy's product then sum."""
    rng = np.random.default_rng(seed)
    cat = rng.integers(0, 3, n).astype(np.int8)
    t = rng.random(n)
    u_sponsor, u_elsewhere, u_return = rng.random(n), rng.random(n), rng.random(n)
    got = _routed(cat, t, u_sponsor, u_elsewhere, u_return, *shares)
    family = cat == FAMILY
    sponsor = family & (u_sponsor < shares[0])
    elsewhere = family & ~sponsor & (u_elsewhere < shares[1])
    status = np.where(sponsor, HOUSED, np.where(family, STATUS_HOLDER, IN_PROCEDURE))
    expected = (
        sponsor,
        elsewhere,
        ~sponsor & ~elsewhere,
        status,
        np.where(elsewhere, ELSEWHERE, GONE),
        np.where(sponsor | elsewhere, t, np.nan),
        np.where(sponsor, t, np.nan),
        np.where(sponsor, EXIT_SPONSOR, 0),
        u_return < shares[2],
    )
    for g, e in zip(got, expected, strict=True):
        assert np.array_equal(g, e, equal_nan=True)
    # the records' types: masks, int8 codes (status, where, exit kind), float days
    assert [g.dtype for g in got] == [np.bool_] * 3 + [np.int8] * 2 + [np.float64] * 2 + [np.int8, np.bool_]
    per_day = np.bincount(rng.integers(0, 9, n), minlength=9)
    offset = np.concatenate([[0], np.cumsum(per_day)])
    moved = t.copy()
    _moved_to_days(moved, offset, 0.98)
    assert np.array_equal(moved, t * 0.98 + np.repeat(np.arange(9, dtype=float), per_day))


def test_the_compiled_loops_give_what_their_python_source_gives():
    """The record keeping runs compiled (numba); run as the plain Python it is written in (NUMBA_DISABLE_JIT=1,
    as for debugging), a run gives the same numbers, without an integer overflow warning on the way."""
    code = (
        "import hashlib; from sim import load_scenario, simulate; "
        "s = load_scenario('scenarios/baseline.toml', ['horizon_years=0.3']); "
        "print(hashlib.sha256(simulate(s, seed=2).timeseries.to_csv().encode()).hexdigest())"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    compiled = simulate(load_scenario(ROOT / "scenarios" / "baseline.toml", ["horizon_years=0.3"]), seed=2)
    assert done.stdout.strip() == hashlib.sha256(compiled.timeseries.to_csv().encode()).hexdigest()


def _family_weeks_with_numpy(apps, production, pending, share, per_approval, travel_days, decide_rng, travel_rng):
    """The family queue's days as numpy draws them (the loop :func:`sim.procedure._family_weeks` compiles)."""
    h = len(apps)
    backlog, landing = np.empty(h, np.int64), []
    for day in range(h):
        pending += int(apps[day])
        if day % 7 == 0:
            decided = min(pending, int(round(production[day])))
            pending -= decided
            approved = decide_rng.binomial(decided, share)
            persons = decide_rng.poisson(approved * per_approval)
            if persons:
                travel = travel_rng.exponential(travel_days, persons) if travel_days > 0 else np.zeros(persons)
                landing.append(day + np.floor(travel).astype(np.int64))
        backlog[day] = pending
    when = np.concatenate(landing) if landing else np.empty(0, np.int64)
    return backlog, np.bincount(when[when < h], minlength=h)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 400),
    st.sampled_from([0.0, 0.3, 4.0, 60.0]),  # applications a day
    st.sampled_from([0.0, 11.5, 40.0, 300.5]),  # decisions a week (halves: Python rounds them to even, 12 and 300)
    st.integers(0, 500),
    st.floats(0.0, 1.0),
    st.floats(0.0, 3.0),
    st.sampled_from([0.0, 1.0, 45.0]),  # travel days (none: arrival on the day of the decision)
)
def test_the_family_queue_draws_numpys_own_numbers(seed, h, apps_a_day, production, pending, share, per_approval, travel):
    """The compiled family queue gives the nights' backlog and the arrivals per day of the same loop with numpy's
    generators (binomial, Poisson and exponential draws in the same order), to the bit."""
    from sim.procedure import _family_weeks

    apps = np.random.default_rng(seed).poisson(apps_a_day, h)
    prod = np.full(h, production)
    expected = _family_weeks_with_numpy(
        apps, prod, pending, share, per_approval, travel, np.random.default_rng([seed, 1]), np.random.default_rng([seed, 2])
    )
    backlog, arrivals = np.empty(h, np.int64), np.zeros(h, np.int64)
    _family_weeks(
        apps,
        prod,
        pending,
        share,
        per_approval,
        travel,
        np.random.default_rng([seed, 1]),
        np.random.default_rng([seed, 2]),
        backlog,
        arrivals,
    )
    assert backlog.tolist() == expected[0].tolist()
    assert arrivals.tolist() == expected[1].tolist()
