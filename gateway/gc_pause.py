"""Cyclic garbage collection paused while a bulk load runs.

A load holds hundreds of thousands of small containers (the package's documents, the rows and
records built from them); allocating them triggers collections that walk every one of them again
and again, about a third of a bulk job's CPU time. Reference counting still frees what the load
drops; only reference cycles wait for the end. Pauses nest and may overlap (two jobs in one
worker): collection resumes when the last one ends, unless it was off before the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_enabled_before = True


@contextmanager
def collection_paused() -> Iterator[None]:
    global _pauses, _enabled_before
    with _lock:
        if _pauses == 0:
            _enabled_before = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _enabled_before:
                gc.enable()
