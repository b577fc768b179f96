"""Giving memory back to the system once a session or a training run is done with it.

glibc's allocator keeps freed memory for reuse, in one arena per thread that allocated it (up to
eight a core), and seldom returns it: a server whose worker threads each once held a training
run's tensors keeps their peak for good. So the app caps the arenas at start-up and asks glibc to
trim its heaps after the large frees (a session's end, a finished training run). Elsewhere than
glibc (macOS, musl) both are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
ARENAS = 2


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 - glibc only: raises AttributeError elsewhere
        return libc
    except (OSError, AttributeError):
        return None


_LIBC = _glibc()


def limit_arenas(arenas: int = ARENAS) -> None:
    """Cap glibc's allocator arenas (call before worker threads start)."""
    if _LIBC is not None:
        _LIBC.mallopt(M_ARENA_MAX, arenas)


def trim() -> None:
    """Return freed heap memory to the system."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
