"""Process memory: the objects alive before long work are frozen for its duration.

Python's garbage collector walks every tracked object at a full collection. After the imports a process holds
~200,000 of them (numba's type system is most), so a full collection costs ~80-100 ms, and a run or a sweep's
writing of parts allocates enough to set one off every few runs or parts. Frozen objects (``gc.freeze``) are
left out of collections. Freezing is bookkeeping: it changes when garbage is found, never what is alive, so
results are the same.

The youngest generation is collected once ``YOUNG_OBJECTS`` more container objects are alive than at its last
collection, not Python's 700: a replication gathers ~9,000 objects (projects, locations, routines) that live
to its end, so with 700 it set off ~20 young and one or two middle collections (6-7 ms, over 1 % of a
replication), each walking the young objects to find little garbage; almost every object a run makes dies by
its reference count, which the threshold does not change.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNG_OBJECTS = 20_000  # objects alive since the last young collection that set off the next (Python's: 700)


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Freeze the objects alive now until the block ends, and collect the young generation at ``YOUNG_OBJECTS``
    (if its threshold is lower, and not 0: automatic collection off stays off). Garbage alive when the block
    starts waits for a full collection after it. A caller that froze objects itself (``gc.get_freeze_count() >
    0``) manages freezing and the thresholds: the block leaves them alone (a run inside a process pool's parent,
    a caller's own freezing)."""
    if gc.get_freeze_count() > 0:
        yield
        return
    thresholds = gc.get_threshold()
    gc.freeze()
    if 0 < thresholds[0] < YOUNG_OBJECTS:
        gc.set_threshold(YOUNG_OBJECTS, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
