"""Training yields the CPU to the people drawing: a training run's threads run at a lower
scheduling priority than the threads answering requests.

On Linux every thread has its own nice value, and the threads a thread starts (PyTorch's intra-op
workers among them) inherit it; so a run's thread lowers its own priority before its first tensor
operation, and requests keep theirs. Elsewhere `lower` does nothing.
"""

from __future__ import annotations

import os
import sys
import threading

BACKGROUND_NICE = 10


def lower(nice: int = BACKGROUND_NICE) -> bool:
    """Lower the calling thread's priority to `nice` (never raise it); whether it could."""
    if not sys.platform.startswith("linux"):
        return False
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
    except OSError:
        return False
    try:  # below any nice value: the CPU a request wakes up wanting is given to it at once
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError):
        pass  # nice alone
    return True
