"""Named random streams from one root seed.

Each part of the chain draws from its own :class:`numpy.random.Generator`,
spawned from ``SeedSequence(root_seed)`` in a fixed order. Adding a draw to
one part therefore never shifts the numbers of another, and replication r of
every scenario sees the same streams: common random numbers. The global
``random`` and ``np.random`` states are never used.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from numba import literal_unroll
from numpy.random.bit_generator import ISeedSequence

from sim.compiled import jit

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


# O'Neill's seed_seq as numpy's SeedSequence runs it (numpy/random/bit_generator.pyx): a pool of four 32-bit
# words mixed from the entropy with multiply-xorshift hashes. Its constants define the numbers, so they are
# numpy's; a test checks that every keyed generator is numpy's own seeding, state for state.
_POOL = 4
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875  # hashing the entropy into the pool
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED  # hashing the pool out into a generator's seed
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_M32 = 0xFFFFFFFF


@jit
def _mul32(a: int, b: int) -> int:
    """``a * b`` modulo 2**32 (both below 2**32), in halves of ``b`` so no product leaves a 64-bit signed integer
    (compiled or, with NUMBA_DISABLE_JIT, on numpy integers, which would warn of overflow)."""
    return (a * (b & 0xFFFF) + (((a * (b >> 16)) & _M32) << 16)) & _M32


@jit
def _hashed(value: int, h: int, mult: int = _MULT_A) -> tuple[int, int]:
    """One multiply-xorshift hash of ``value`` with the running multiplier ``h`` (stepped by ``mult``); returns
    it and the next ``h``."""
    h2 = _mul32(h, mult)
    value = _mul32((value ^ h) & _M32, h2)
    return value ^ (value >> 16), h2


@jit
def _mixed(x: int, y: int) -> int:
    r = (_mul32(_MIX_L, x) - _mul32(_MIX_R, y)) & _M32
    return r ^ (r >> 16)


@jit
def _pcg64_seed(entropy: np.ndarray) -> np.ndarray:
    """The four 64-bit words ``SeedSequence(entropy).generate_state(4, np.uint64)`` gives (``entropy``: 32-bit
    words). In 64-bit integers masked to 32 bits (products by halves, :func:`_mul32`): 32-bit unsigned arithmetic."""
    pool = np.zeros(_POOL, np.int64)
    h = _INIT_A
    for i in range(_POOL):
        pool[i], h = _hashed(np.int64(entropy[i]) if i < len(entropy) else 0, h)
    for src in range(_POOL):  # every word of the pool into every other
        for dst in range(_POOL):
            if src != dst:
                v, h = _hashed(pool[src], h)
                pool[dst] = _mixed(pool[dst], v)
    for src in range(_POOL, len(entropy)):  # entropy beyond the pool: into every word
        for dst in range(_POOL):
            v, h = _hashed(np.int64(entropy[src]), h)
            pool[dst] = _mixed(pool[dst], v)
    out = np.zeros(4, np.uint64)
    h = _INIT_B
    for i in range(8):  # eight 32-bit words, the pool over and over, paired little-endian into four 64-bit ones
        v, h = _hashed(pool[i % _POOL], h, _MULT_B)
        out[i // 2] |= np.uint64(v) << np.uint64(32 * (i % 2))
    return out


@jit
def _keyed_seed(head: np.ndarray, key: tuple, out: np.ndarray) -> bool:
    """:func:`_pcg64_seed` of the entropy words ``head`` followed by each key's words (:func:`_words`: one below
    2**32, else two), written to ``out``, in one compiled call for integer keys below 2**63; false (nothing
    written) for a key below zero. Unrolled over the keys: numba iterates a tuple of mixed integer types (an int16
    among int64) only so. Into the caller's array rather than a new one handed back (each costs a Python call,
    :mod:`sim.compiled`)."""
    n = len(head)
    negative = False
    for k in literal_unroll(key):
        negative = negative or k < 0
        n += 1 if k <= _M32 else 2
    if negative:
        return False
    entropy = np.empty(n, np.uint32)
    entropy[: len(head)] = head
    i = len(head)
    for k in literal_unroll(key):
        if k <= _M32:  # (not masked: a narrow numpy integer cannot take the mask, uncompiled)
            entropy[i] = k
            i += 1
        else:
            entropy[i] = k & _M32
            entropy[i + 1] = k >> 32
            i += 2
    out[:] = _pcg64_seed(entropy)
    return True


_INT64_END = 2**63


class _Seed(ISeedSequence):
    """A seed sequence that only hands out the PCG64 seed computed for it (:func:`_pcg64_seed`), once: to the bit
    generator made from it, which copies the words into its state (they may be a buffer the next key
    overwrites). A keyed generator cannot ``spawn`` (nothing in a run does: each draw has its own key instead)."""

    def __init__(self, words: np.ndarray):
        self._words = words

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        if n_words != 4 or np.dtype(dtype) != np.uint64:
            raise ValueError("a keyed seed serves PCG64 only (four 64-bit words)")
        words, self._words = self._words, None
        if words is None:
            raise RuntimeError("a keyed seed hands out its words once, to the generator made from it")
        return words


# numpy's PCG64 (numpy/random/src/pcg64): a 128-bit linear congruential generator, its state and increment kept
# here as (high, low) 64-bit halves, with the XSL-RR output; its constants define the numbers, so they are numpy's
_PCG_MULT_HIGH, _PCG_MULT_LOW = np.uint64(2549297995355413924), np.uint64(4865540595714422341)
_U32 = np.uint64(0xFFFFFFFF)
_DOUBLE_UNIT = 1.0 / 9007199254740992.0  # 2**-53: numpy's next_double keeps a draw's top 53 bits


# 64-bit unsigned arithmetic modulo 2**64 in steps that never overflow (products of 32-bit halves, sums of halves
# with their carry): compiled it costs a few operations more; run as Python (NUMBA_DISABLE_JIT) on numpy's uint64
# scalars it raises no overflow warning, which the check of the compiled loops against their source treats as errors


@jit
def _add64(a: np.uint64, b: np.uint64) -> np.uint64:
    """``a + b`` modulo 2**64."""
    low = (a & _U32) + (b & _U32)
    high = ((a >> np.uint64(32)) + (b >> np.uint64(32)) + (low >> np.uint64(32))) & _U32
    return (high << np.uint64(32)) | (low & _U32)


@jit
def _mul64(a: np.uint64, b: np.uint64) -> tuple[np.uint64, np.uint64]:
    """The 128-bit product ``a * b`` as its (high, low) 64-bit halves, by 32-bit halves."""
    a_lo, a_hi, b_lo, b_hi = a & _U32, a >> np.uint64(32), b & _U32, b >> np.uint64(32)
    lo_lo, hi_lo, lo_hi = a_lo * b_lo, a_hi * b_lo, a_lo * b_hi
    cross = (lo_lo >> np.uint64(32)) + (hi_lo & _U32) + lo_hi  # at most 2**64 - 1
    high = _add64(_add64(a_hi * b_hi, hi_lo >> np.uint64(32)), cross >> np.uint64(32))
    return high, ((cross & _U32) << np.uint64(32)) | (lo_lo & _U32)


@jit
def _add128(a_hi: np.uint64, a_lo: np.uint64, b_hi: np.uint64, b_lo: np.uint64) -> tuple[np.uint64, np.uint64]:
    """``a + b`` modulo 2**128, each as its (high, low) 64-bit halves."""
    lo = _add64(a_lo, b_lo)
    return _add64(_add64(a_hi, b_hi), np.uint64(1) if lo < a_lo else np.uint64(0)), lo


@jit
def _pcg_step(s_hi: np.uint64, s_lo: np.uint64, i_hi: np.uint64, i_lo: np.uint64) -> tuple[np.uint64, np.uint64]:
    """One step of the generator: ``state * multiplier + increment`` modulo 2**128."""
    carry_hi, lo = _mul64(s_lo, _PCG_MULT_LOW)
    hi = _add64(_add64(carry_hi, _mul64(s_hi, _PCG_MULT_LOW)[1]), _mul64(s_lo, _PCG_MULT_HIGH)[1])
    return _add128(hi, lo, i_hi, i_lo)


@jit
def _keyed_doubles(head: np.ndarray, key: tuple, seed: np.ndarray, skip: int, out: np.ndarray) -> bool:
    """Into ``out``, the doubles ``Generator.random()`` of numpy's PCG64 seeded as ``default_rng([head..., *key])``
    draws after its first ``skip`` (the seeding of :func:`_keyed_seed`, into ``seed``); false (nothing written)
    for a key below zero. Draw for draw numpy's own numbers: PCG64's seeding from the seed's four words
    (``pcg64_set_seed``), its step and XSL-RR output, and ``next_double``."""
    if not _keyed_seed(head, key, seed):
        return False
    i_hi = (seed[2] << np.uint64(1)) | (seed[3] >> np.uint64(63))  # the increment: the sequence's words, odd
    i_lo = (seed[3] << np.uint64(1)) | np.uint64(1)
    s_hi, s_lo = _pcg_step(np.uint64(0), np.uint64(0), i_hi, i_lo)
    s_hi, s_lo = _pcg_step(*_add128(s_hi, s_lo, seed[0], seed[1]), i_hi, i_lo)  # plus the state's words
    for k in range(skip + len(out)):
        s_hi, s_lo = _pcg_step(s_hi, s_lo, i_hi, i_lo)
        if k >= skip:
            x = s_hi ^ s_lo
            r = s_hi >> np.uint64(58)
            x = (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))
            out[k - skip] = np.float64(x >> np.uint64(11)) * _DOUBLE_UNIT
    return True


class UniformSource(Protocol):
    """What draws only uniform numbers needs of a generator (numpy's :class:`~numpy.random.Generator` has it)."""

    def random(self, size: int | None = None) -> float | np.ndarray: ...

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float: ...


class Uniforms:
    """A keyed generator that draws only uniform numbers (:meth:`Keyed.uniforms`): numpy's own numbers for its
    key, computed compiled in blocks, without making numpy's bit generator and Generator objects (about 10 us
    each; a run makes thousands of project and decision generators that draw a few uniforms each)."""

    BLOCK = 8  # doubles computed at a time: a project draws six or seven, a decision four and one per site

    __slots__ = ("_keyed", "_key", "_drawn", "_next", "_block")

    def __init__(self, keyed: Keyed, key: tuple, block: list[float]):
        self._keyed, self._key, self._block = keyed, key, block
        self._drawn = 0  # doubles computed before this block
        self._next = 0  # the next double's place in the block

    def _take(self) -> float:
        if self._next == len(self._block):
            self._drawn += len(self._block)
            self._block = self._keyed._doubles(self._key, self._drawn)
            self._next = 0
        u = self._block[self._next]
        self._next += 1
        return u

    def random(self, size: int | None = None) -> float | np.ndarray:
        """As :meth:`numpy.random.Generator.random` (a float, or an array of ``size`` floats)."""
        if size is None:
            return self._take()
        return np.array([self._take() for _ in range(size)], dtype=np.float64)

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        """As :meth:`numpy.random.Generator.uniform` for scalar bounds: ``low + (high - low) * u``."""
        low, high = float(low), float(high)
        span = high - low
        if not math.isfinite(span):
            raise OverflowError("high - low range exceeds valid bounds")
        if span < 0:
            raise ValueError("high - low < 0")
        return low + span * self._take()


class Keyed:
    """Generators keyed by (entropy, key...) for draws that must not depend on the order events happen
    in (a municipality's decision, a project, a lease): ``Keyed(entropy)(*key)`` gives the same numbers
    as ``np.random.default_rng([entropy, *key])``. It costs a fifth as much (a run makes thousands): the
    entropy's words are converted once, and the keys' words and the seed sequence's hashing run compiled in
    one call (numpy's hashing, with its Python-level checks, took most of the time)."""

    def __init__(self, entropy: int):
        self._head = _words(int(entropy))
        self._head_words = np.array(self._head, np.uint32)
        self._seed = np.empty(4, np.uint64)  # each key's seed is written here, then copied into its generator
        self._block = np.empty(Uniforms.BLOCK)  # a key's doubles are written here, then copied into a list

    def __call__(self, *key: int) -> np.random.Generator:
        # keys of int64 (all a run makes) go to the compiled words-and-hashing as they are (one compilation per
        # number of keys); others, and negative keys (refused with the key's value), word by word in Python
        if key and max(key) < _INT64_END and _keyed_seed(self._head_words, key, self._seed):
            seed = self._seed
        else:
            words = list(self._head)
            for k in key:
                words += _words(int(k))
            seed = _pcg64_seed(np.array(words, np.uint32))
        return np.random.Generator(np.random.PCG64(_Seed(seed)))

    def uniforms(self, *key: int) -> UniformSource:
        """The generator of ``self(*key)`` for draws of uniform numbers only (``random``, ``uniform``): the same
        numbers (:class:`Uniforms`)."""
        if key and max(key) < _INT64_END:
            block = self._doubles(key, 0)
            if block is not None:
                return Uniforms(self, key, block)
        return self(*key)  # keys the compiled seeding does not take (and negative ones, refused there)

    def _doubles(self, key: tuple, skip: int) -> list[float] | None:
        """The key's doubles after its first ``skip`` (:attr:`Uniforms.BLOCK` of them; None for a negative key)."""
        if not _keyed_doubles(self._head_words, key, self._seed, skip, self._block):
            return None
        return self._block.tolist()
