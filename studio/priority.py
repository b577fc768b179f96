"""Training yields the CPU to the people drawing: the training process (`train_worker`) runs at a
lower scheduling priority than the app's threads answering requests.

On Linux every thread has its own nice value and scheduling class, and the threads a thread starts
(PyTorch's intra-op workers among them) inherit them; so the training process is lowered as soon as
it starts, before its imports, and requests keep their priority. Elsewhere `lower` does nothing.
"""

from __future__ import annotations

import os
import sys
import threading

BACKGROUND_NICE = 10


def lower(nice: int = BACKGROUND_NICE, tid: int | None = None) -> bool:
    """Lower a thread's priority (the calling one's, or thread `tid`'s, e.g. a process just started,
    whose only thread it is) to `nice` (never raise it) and, where Linux has it, to the idle
    scheduling class; whether it could."""
    if not sys.platform.startswith("linux"):
        return False
    tid = threading.get_native_id() if tid is None else tid
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
    except OSError:
        return False
    try:  # below any nice value: the CPU a request wakes up wanting is given to it at once
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError):
        pass  # nice alone
    return True
