"""Process memory: the objects alive before long work are frozen for its duration.

Python's garbage collector walks every tracked object at a full collection. After the imports a process holds
~200,000 of them (numba's type system is most), so a full collection costs ~80-100 ms, and a run or a sweep's
writing of parts allocates enough to set one off every few runs or parts. Frozen objects (``gc.freeze``) are
left out of collections. Freezing is bookkeeping: it changes when garbage is found, never what is alive, so
results are the same.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Freeze the objects alive now until the block ends. Garbage alive when the block starts waits for a full
    collection after it. A caller that froze objects itself (``gc.get_freeze_count() > 0``) manages freezing:
    the block leaves it alone (a run inside a process pool's parent, a caller's own freezing)."""
    if gc.get_freeze_count() > 0:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
