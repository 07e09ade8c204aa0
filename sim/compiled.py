"""Compiled loops for the chain's daily bookkeeping (numba).

Every day each part of the chain updates the records of a few hundred people: who sits where, who moved,
how many places of each type are taken. As numpy calls on such short arrays, each step costs about a
microsecond of call overhead whatever its length, and a step needs ten or more of them; as one loop
compiled by numba (``@jit``), it costs one call. The loops do the same integer and copy operations in the
same order, so results are the same as numpy's, to the bit.

Kernels compile on their first call and are cached next to their module (``__pycache__``), so only a
machine's first run pays for compiling (about ten seconds). ``NUMBA_DISABLE_JIT=1`` runs them as plain Python,
which is slow but lets a debugger step through them.
"""

from __future__ import annotations

from numba import njit

jit = njit(cache=True)  # decorator: compile in nopython mode, cache the machine code on disk
