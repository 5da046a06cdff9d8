"""Process settings for `bot serve` and `bot worker`, both measured in bench/RESULTS.md.

- OpenMP threads (torch's then, multilingual-e5's engine now) busy-wait for work between calls
  by default. At low load the model embeds one or two questions at a time, and the spinning
  threads take the CPU the event loop needs: fp32 at 50 messages/s had a p95 of 287 ms, 141 ms
  with OMP_WAIT_POLICY=PASSIVE. OpenMP reads the variable once, when its runtime loads, so it
  is set before the model loads.
- After start-up the heap holds about 660,000 long-lived objects (the model, transformers,
  python-telegram-bot). Every full garbage collection walked them all and stopped the event loop
  for 250-440 ms; frozen, they are skipped and a full collection takes 13-26 ms.
- glibc keeps the heap that grew while a first start ingested and calibrated the knowledge base
  (about 120 MiB more than a restart held); trimming once start-up is over hands it back.
"""

from __future__ import annotations

import ctypes
import gc
import os
from collections.abc import MutableMapping

import structlog

log = structlog.get_logger(__name__)

OMP_WAIT_POLICY = "OMP_WAIT_POLICY"


def prefer_passive_openmp_threads(environ: MutableMapping[str, str] = os.environ) -> None:
    """Let idle OpenMP threads sleep (OMP_WAIT_POLICY=PASSIVE) unless a policy is already set.

    Call before the model loads: once torch is imported the setting no longer has an effect.
    """
    environ.setdefault(OMP_WAIT_POLICY, "PASSIVE")


def freeze_start_up_objects() -> None:
    """Collect once, move every surviving object out of reach of later collections, trim the heap.

    Call once, when the model is loaded and the services are open: what exists then lives as
    long as the process does.
    """
    gc.collect()
    gc.freeze()
    log.info("start_up_objects_frozen", count=gc.get_freeze_count())
    _trim_heap()


def return_freed_memory() -> None:
    """Hand memory freed by a released model back to the system (glibc keeps it otherwise)."""
    gc.collect()
    _trim_heap()


def _trim_heap() -> None:
    """Ask glibc to give free heap pages back to the system."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: the allocator keeps what it keeps
        return
    libc.malloc_trim(0)
