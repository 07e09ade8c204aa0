"""Named random streams from one root seed.

Each part of the chain draws from its own :class:`numpy.random.Generator`,
spawned from ``SeedSequence(root_seed)`` in a fixed order. Adding a draw to
one part therefore never shifts the numbers of another, and replication r of
every scenario sees the same streams: common random numbers. The global
``random`` and ``np.random`` states are never used.
"""

from __future__ import annotations

import numpy as np

# Fixed order: append new names at the end so existing streams keep their numbers.
STREAM_NAMES = (
    "inflow",
    "registration",
    "procedure",
    "housing",
    "departure",
    "initial",
    "reception",
    "projects",
    "estimate",
    "decisions",
    "analysis",  # bootstrap resampling in sim.analysis (never used inside a run)
    "requests",  # the ministry's requests (each party keyed from one entropy value)
    "acquisition",  # COA's regular projects (each keyed from one entropy value)
)


def replication_seed(root_seed: int, replication: int) -> int:
    """Seed of replication ``r`` of an experiment with root seed ``root_seed`` (independent of other runs)."""
    seq = np.random.SeedSequence([int(root_seed), int(replication)])
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


class Streams:
    """One Generator per named stream, all derived from a single seed."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        children = np.random.SeedSequence(self.seed).spawn(len(STREAM_NAMES))
        self._gens = {name: np.random.Generator(np.random.PCG64(child)) for name, child in zip(STREAM_NAMES, children)}

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._gens[name]

    def __getattr__(self, name: str) -> np.random.Generator:
        try:
            return self._gens[name]
        except KeyError:
            raise AttributeError(name) from None


def _words(x: int) -> list[int]:
    """``x`` (>= 0) as the little-endian 32-bit words numpy's SeedSequence makes of it (one at least)."""
    if x < 0:
        raise ValueError(f"a stream key must be >= 0, got {x}")
    out = [x & 0xFFFFFFFF]
    x >>= 32
    while x:
        out.append(x & 0xFFFFFFFF)
        x >>= 32
    return out


class Keyed:
    """Generators keyed by (entropy, key...) for draws that must not depend on the order events happen
    in (a municipality's decision, a project, a lease): ``Keyed(entropy)(*key)`` gives the same numbers
    as ``np.random.default_rng([entropy, *key])``. It costs half as much (a run makes thousands):
    the entropy's words are converted once and the key is handed to SeedSequence as 32-bit words, which
    skips numpy's per-call conversion of a list of Python ints."""

    def __init__(self, entropy: int):
        self._head = _words(int(entropy))

    def __call__(self, *key: int) -> np.random.Generator:
        words = list(self._head)
        for k in key:
            words += _words(int(k))
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(np.array(words, np.uint32))))
