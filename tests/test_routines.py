"""Routines (sim.routines) run their steps in exactly the order a SimPy process per routine would: on random
schedules full of ties, with other processes, processes started by the steps, and a horizon that cuts them off."""

from __future__ import annotations

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.routines import Routines

# times on a coarse grid, so that steps of different routines and of the other processes often fall together
times = st.lists(st.integers(0, 24).map(lambda q: q / 4), max_size=12).map(sorted)
spawn = st.lists(st.tuples(st.integers(0, 11), st.integers(0, 8).map(lambda q: q / 4)), max_size=4)
world = st.fixed_dictionaries(
    {
        "routines": st.lists(st.tuples(times, spawn), min_size=1, max_size=5),
        "others": st.lists(st.lists(st.integers(0, 8).map(lambda q: q / 4), max_size=8), max_size=4),
        "until": st.one_of(st.none(), st.integers(1, 26).map(lambda q: q / 4)),
    }
)


def _routine(env: simpy.Environment, log: list, name: int, steps: list[float], spawns: dict[int, float]):
    """Steps at ``steps``; the k-th step starts a process that logs once after ``spawns[k]`` days."""
    log.append(("start", name, env.now))
    for k, at in enumerate(steps):
        yield at
        log.append(("step", name, k, env.now))
        if k in spawns:
            env.process(_other(env, log, ("spawned", name, k), [spawns[k]]))


def _other(env: simpy.Environment, log: list, name, delays: list[float]):
    for k, delay in enumerate(delays):
        yield env.timeout(delay)
        log.append(("other", name, k, env.now))


def _as_process(env: simpy.Environment, routine):
    """The routine as the SimPy process it stands for."""
    for at in routine:
        yield env.timeout(at - env.now)


def _log(world: dict, together: bool) -> list:
    env, log = simpy.Environment(), []
    routines = [_routine(env, log, i, steps, dict(spawns)) for i, (steps, spawns) in enumerate(world["routines"])]
    if together:
        Routines(env, routines)
    else:
        for r in routines:
            env.process(_as_process(env, r))
    for j, delays in enumerate(world["others"]):
        env.process(_other(env, log, ("other", j), delays))
    env.run(until=world["until"])
    return log


@settings(max_examples=300, deadline=None)
@given(world=world)
def test_routines_run_in_the_order_of_a_process_each(world):
    """Every step, of the routines and of every other process, happens at the same time and in the same order
    whether each routine has a process of its own or all share one."""
    assert _log(world, together=True) == _log(world, together=False)


def test_a_routine_cannot_step_back_in_time():
    env = simpy.Environment()

    def back():
        yield 2.0
        yield 1.0

    Routines(env, [back()])
    try:
        env.run()
    except ValueError as e:
        assert "in the past" in str(e)
    else:
        raise AssertionError("a step in the past was taken")


def test_steps_with_nothing_between_them_take_no_event():
    """Steps that follow one another with nothing scheduled in between run without an event each: the run's
    events are the driver's start only, while a process per routine takes one per step."""
    counts = []
    for together in (True, False):
        env = simpy.Environment()
        steps = [[d + 0.0 for d in range(50)], [d + 0.5 for d in range(50)]]
        routines = [(at for at in s) for s in steps]
        if together:
            Routines(env, routines)
        else:
            for r in routines:
                env.process(_as_process(env, r))
        n = 0
        while env.peek() < float("inf"):
            env.step()
            n += 1
        counts.append(n)
    assert counts[0] <= 2 < 100 <= counts[1]
