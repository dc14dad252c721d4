"""Processes that end with their parent.

``rewards serve`` runs the HTTP server as a child, and the server runs its workers as
children of its own. Linux is asked to send each a SIGTERM when its parent dies, however it
dies (``kill -9`` included), so no worker is left serving, and holding the port, after the
process that supervised it is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent(expected_parent: int | None = None) -> None:
    """Have this process sent SIGTERM when its parent ends. If the parent has ended
    already (it is no longer ``expected_parent``), end now."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if expected_parent is not None and os.getppid() != expected_parent:
        os.kill(os.getpid(), signal.SIGTERM)
