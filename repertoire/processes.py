"""Child processes that never outlive the process that started them.

A pool's workers wait on pipes that they themselves hold open, so when the
parent is killed (``kill -9``, the OOM killer) nothing tells them to stop:
they would live on, holding whatever they inherited — the index writer's lock
among others. Each child therefore asks Linux to kill it with its parent
(``prctl(PR_SET_PDEATHSIG)``), and exits at once if the parent died before
it could ask. Elsewhere, a thread watches the parent instead.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int):
    """Pool initializer: end this process when ``parent_pid`` (its parent) ends, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:  # died between our fork and prctl: no signal will come
        os._exit(1)


def _watch_parent(parent_pid: int):
    while os.getppid() == parent_pid:
        time.sleep(0.5)
    os._exit(1)
