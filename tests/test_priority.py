"""studio.priority: a training thread runs below the requests' priority, and so do the threads it starts."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from studio import priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_a_lowered_thread_and_the_threads_it_starts_run_at_the_background_priority() -> None:
    seen: dict[str, int] = {}

    def child() -> None:
        seen["child"] = _nice()

    def run() -> None:
        seen["lowered"] = priority.lower()
        seen["self"] = _nice()
        t = threading.Thread(target=child)
        t.start()
        t.join()

    before = _nice()
    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert seen == {"lowered": True, "self": priority.BACKGROUND_NICE, "child": priority.BACKGROUND_NICE}
    assert _nice() == before   # the thread that started it keeps its own


def test_a_lowered_thread_is_in_the_idle_scheduling_class() -> None:
    seen: dict[str, int] = {}

    def run() -> None:
        priority.lower()
        seen["policy"] = os.sched_getscheduler(0)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert seen["policy"] == os.SCHED_IDLE
    assert os.sched_getscheduler(0) != os.SCHED_IDLE   # the thread that started it keeps its own
