"""What a query worker does to itself: leave the network, ignore the server's signals, and die
with its parent."""

from __future__ import annotations

import contextlib
import ctypes
import signal

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
PR_SET_PDEATHSIG = 1  # prctl(2): a signal for this process when its parent dies


def leave_network() -> bool:
    """Move this process into an empty network namespace. True if it worked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    attempts = (CLONE_NEWNET, CLONE_NEWUSER | CLONE_NEWNET)  # as root; else a user namespace
    return any(libc.unshare(flags) == 0 for flags in attempts)


def ignore_server_signals() -> None:
    """A reload signal is sent to the whole process group, and Ctrl-C too: the server
    decides what its workers do, not the signal."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Ask Linux for ``signum`` when this process's parent dies (a no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)
