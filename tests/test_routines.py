"""Routines (sim.routines) run in exactly the order SimPy processes would: on random schedules full of ties, with
routines and processes started by routines and by processes, events scheduled by their steps, at the start and
during the run, steps that raise, and horizons that cut them off."""

from __future__ import annotations

import simpy
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sim.routines import Environment, as_process, start

# delays on a coarse grid, so that steps of different routines and processes often fall at the same time; now and
# then a step waits days (the routines' steps are kept a day at a time), a very long time, past any day the
# environment numbers, or for ever
FAR = (1e6, 2.0**63, float("inf"))
delay = st.one_of(st.integers(0, 8).map(lambda q: q / 4), st.integers(0, 80).map(lambda q: q / 4 if q < 78 else FAR[q - 78]))
# an actor: its delays; after which of its steps it starts another actor (a routine or a process); after which
# it schedules a timeout whose processing is logged (a normal event made by a step); after which it raises
actor = st.tuples(
    st.lists(delay, max_size=8),
    st.lists(st.tuples(st.integers(0, 7), st.booleans()), max_size=3),
    st.lists(st.tuples(st.integers(0, 7), delay), max_size=2),
    st.one_of(st.none(), st.integers(0, 7)),
)
world = st.fixed_dictionaries(
    {
        "actors": st.lists(st.tuples(actor, st.booleans()), min_size=1, max_size=6),  # (actor, a routine?)
        "until": st.lists(st.integers(1, 40).map(lambda q: q / 4), max_size=3).map(sorted),  # run(until) in turn
    }
)


def _steps(env, log: list, name: tuple, spec: tuple, launch):
    """An actor's life as a routine: it logs its start and each step; after step k it starts another actor (a
    routine or a process, ``launch``), schedules a logged timeout, or raises, as ``spec`` says."""
    delays, starts, timeouts, fails = spec
    log.append(("start", name, env.now))
    for k, d in enumerate(delays):
        yield d
        log.append(("step", name, k, env.now))
        for j, (after, as_routine) in enumerate(starts):
            if after == k:
                launch((*name, k, j), ([d, d / 2, 0.25], [], [], None), as_routine)
        for j, (after, wait) in enumerate(timeouts):
            if after == k:
                env.timeout(wait).callbacks.append(lambda _, tag=(*name, k, j): log.append(("timeout", tag, env.now)))
        if fails == k:
            raise RuntimeError(f"{name} failed at step {k}")


def _log(world: dict, routines: bool) -> list:
    """The log of a world run with routines where asked (``routines``), or with a process for everything: run up
    to each horizon in turn, then to the end; a run that crashes is logged and run on."""
    env = Environment() if routines else simpy.Environment()
    log: list = []

    def launch(name, spec, as_routine):
        life = _steps(env, log, name, spec, launch)
        if as_routine and routines:
            env.routine(life)
        else:
            env.process(as_process(env, life))

    for i, (spec, as_routine) in enumerate(world["actors"]):
        launch((i,), spec, as_routine)
    for until in [*world["until"], None]:
        for _ in range(20):  # at most one crash per actor
            try:
                if until is None or until > env.now:
                    env.run(until=until)
                break
            except RuntimeError as exc:
                log.append(("crash", str(exc), env.now))
        log.append(("until", until, env.now))
    return log


@settings(max_examples=1000, deadline=None)
@given(world=world)
# two schedules that broke the per-day tiers: a routine started by a process, at day 0, after a routine's step was
# listed 2**63 days ahead; an urgent start, never due, after a routine's step never due
@example(world={"actors": [(([0.0], [(0, True)], [], None), False), (([2.0**63], [], [], None), True)], "until": []})
@example(
    world={"actors": [(([float("inf")], [(0, True)], [], None), False), (([float("inf")], [], [], None), True)], "until": []}
)
def test_routines_run_in_the_order_of_a_process_each(world):
    """Every step, of routines and processes alike, and every event a step schedules, happens at the same time and
    in the same order whether the routines run as routines or each as a process of its own; a step that raises
    crashes the run at the same point, and the run goes on alike when run again."""
    assert _log(world, routines=True) == _log(world, routines=False)


def test_a_routine_cannot_wait_a_negative_time():
    env = Environment()

    def back():
        yield -1.0

    env.routine(back())
    try:
        env.run()
    except ValueError as e:
        assert "Negative delay" in str(e)
    else:
        raise AssertionError("a negative delay was accepted")


def test_start_runs_a_routine_as_a_process_where_the_environment_has_no_routines():
    """``start`` gives a plain SimPy environment the routine as a process: the same steps at the same times."""
    logs = []
    for env in (Environment(), simpy.Environment()):
        log: list = []

        def life(env=env, log=log):
            for d in (0.5, 0.0, 2.0):
                yield d
                log.append(env.now)

        start(env, life())
        # an environment with routines lists it as one (a wake-up, no process); a plain one makes a process
        assert [type(event).__name__ for *_, event in env._queue] == ["Event" if isinstance(env, Environment) else "Initialize"]
        env.run()
        logs.append(log)
    assert logs[0] == logs[1] == [0.5, 0.5, 2.5]


def test_steps_with_nothing_between_them_take_no_event_each():
    """Routines whose steps follow one another with nothing else scheduled run on one wake-up event, where a
    process per routine takes one event per step."""
    counts = []
    for routines in (True, False):
        env = Environment() if routines else simpy.Environment()

        def daily(env, offset):
            for day in range(50):
                yield day + offset - env.now

        for offset in (0.0, 0.5):
            if routines:
                env.routine(daily(env, offset))
            else:
                env.process(as_process(env, daily(env, offset)))
        n = 0
        while env.peek() < float("inf"):
            env.step()
            n += 1
        counts.append(n)
    assert counts[0] == 1 and counts[1] >= 100
