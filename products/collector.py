"""Pausing Python's cyclic garbage collector while a large answer is built.

An export of thousands of records builds hundreds of thousands of dicts and lists with no reference cycles:
reference counting frees them all. While they are built, the cyclic collector runs again and again over the
growing heap and finds nothing: half the time of a 5,000-event FHIR export (make bench). It is paused for the
build only, and restored afterwards whatever happens.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector inside the block. Nested or concurrent pauses leave it as the outermost found
    it: only a block that found it running turns it back on."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()
