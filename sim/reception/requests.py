"""The ministry's requests for places: events a scenario schedules.

In 2022 the ministry asked the 25 safety regions for municipal crisis
emergency shelter (crisisnoodopvang), 150 beds each in spring and 450 each from
the summer; in 2025 it asked the provinces short of their Spreidingswet task
for 325 emergency places each. A request names a date, a kind (crisis or
emergency), the places asked for and how many parties deliver them; each party
delivers a share of its part after a lead time, for a duration, after which its
places are leased like COA's emergency locations (extended while needed).
Each party's draws come from its own generator keyed by the request and the
party, so they do not depend on anything else in the run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.reception.locations import CRISIS_PLACES, EMERGENCY
from sim.scenario import Request

KEY_REQUESTS = 2_000_000_000  # lease keys of requested places (search offers count up from 0)


def deliveries(req: Request, index: int, now: float, entropy: int) -> list[tuple[int, int, float, float, int]]:
    """What the parties deliver for request number ``index`` made on day ``now``: one
    (type code, places, open day, close day, lease key) per party that delivers any places."""
    type_code = CRISIS_PLACES if req.kind == "crisis" else EMERGENCY
    out = []
    for unit in range(req.units):
        rng = np.random.default_rng([entropy, index, unit])
        u_share, u_lead, u_duration = rng.random(3)
        share = req.delivered_share[0] + u_share * (req.delivered_share[1] - req.delivered_share[0])
        places = int(round(req.places / req.units * share))
        if places <= 0:
            continue
        lead = req.lead_time_days[0] + u_lead * (req.lead_time_days[1] - req.lead_time_days[0])
        duration = req.duration_days[0] + u_duration * (req.duration_days[1] - req.duration_days[0])
        out.append((type_code, places, now + lead, now + lead + duration, KEY_REQUESTS + 1000 * index + unit))
    return out


def request_process(env, requests: list[Request], day_of: Callable, entropy: int, open_location: Callable[..., int]):
    """A SimPy process: on each request's date, the parties' locations are registered (they open later)."""
    for index, req in sorted(enumerate(requests), key=lambda r: r[1].date):
        t = day_of(req.date)
        if t < 0:
            continue  # made before the run: its places are part of the start state
        if t > env.now:
            yield env.timeout(t - env.now)
        for type_code, places, open_day, close_day, key in deliveries(req, index, env.now, entropy):
            open_location(type_code, places, open_day, close_day, key=key, origin=f"request{index}")
