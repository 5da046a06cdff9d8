"""Start-up settings of the long-running commands: OpenMP wait policy and the frozen heap."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from bot.process_tuning import (
    OMP_WAIT_POLICY,
    freeze_start_up_objects,
    prefer_passive_openmp_threads,
)

REPO = Path(__file__).resolve().parents[2]


def test_idle_openmp_threads_sleep_by_default() -> None:
    environ: dict[str, str] = {}
    prefer_passive_openmp_threads(environ)
    assert environ == {OMP_WAIT_POLICY: "PASSIVE"}


def test_a_wait_policy_the_user_set_is_kept() -> None:
    environ = {OMP_WAIT_POLICY: "ACTIVE"}
    prefer_passive_openmp_threads(environ)
    assert environ == {OMP_WAIT_POLICY: "ACTIVE"}


def test_the_cli_loads_without_torch_so_the_policy_is_set_in_time() -> None:
    # OpenMP reads OMP_WAIT_POLICY when torch loads it: `bot serve` and `bot worker` set it after
    # the CLI module is imported, which is only in time while that import leaves torch alone.
    probe = "import sys, bot.cli.main; print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == "[]"


def test_start_up_objects_are_frozen_out_of_later_collections() -> None:
    survivors = [[n] for n in range(1000)]
    try:
        freeze_start_up_objects()
        assert gc.get_freeze_count() >= len(survivors)
        # Frozen objects are in no generation, so no collection walks them.
        tracked = {id(o) for o in gc.get_objects()}
        assert not any(id(o) in tracked for o in survivors)
    finally:
        gc.unfreeze()
