"""Run a stdio MCP server's command so that it dies with the worker, and all it started.

    python -I -S pdeathsig_exec.py PARENT_PID -- COMMAND [ARG ...]

The MCP SDK's ``stdio_client`` spawns its process itself, in a new session (its own
process group), with no hook to run code in the child before ``exec``. It spawns this
script instead, which stays as a small supervisor of the command:

- it asks the kernel for SIGTERM when the worker (the thread that spawned it) dies
  (``prctl(PR_SET_PDEATHSIG)``), and answers any SIGTERM, SIGINT or SIGHUP by killing
  its whole process group: the command and whatever the command started (``npx``
  starts ``node``, ``uvx`` starts ``python``), which PDEATHSIG alone would leave behind;
- the command runs as its child, with PR_SET_PDEATHSIG SIGKILL on the supervisor;
- when the command exits, the supervisor kills what is left of the group, itself too.

Both check, after ``prctl``, that their parent is still the one they were started by:
a parent that died before the call would never send the signal. The script runs by
path with ``-I -S`` and imports only the standard library: it starts in ~20 ms and
sees none of the worker's packages. It writes nothing to stdout, the MCP channel.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys

PR_SET_PDEATHSIG = 1
USAGE = "usage: pdeathsig_exec.py PARENT_PID -- COMMAND [ARG ...]"


def die_with_parent(sig: int, parent_pid: int) -> None:
    """Have the kernel send ``sig`` to this process when ``parent_pid`` dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    if os.getppid() != parent_pid:
        # The parent died before prctl: nothing will ever signal us.
        os._exit(1)


def _say(message: str) -> None:
    sys.stderr.write(f"pdeathsig_exec: {message}\n")
    sys.stderr.flush()


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        _say(USAGE)
        return 2
    parent_pid, command = int(argv[1]), argv[3:]
    if os.getsid(0) != os.getpid():
        os.setsid()  # the SDK starts us in a new session already; anyone else may not
    group = os.getpgrp()

    def kill_group(signum: int, frame: object) -> None:
        os.killpg(group, signal.SIGKILL)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, kill_group)
    die_with_parent(signal.SIGTERM, parent_pid)
    if shutil.which(command[0]) is None:
        _say(f"command not found: {command[0]}")
        return 127

    supervisor = os.getpid()
    child = os.fork()
    if child == 0:
        try:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            die_with_parent(signal.SIGKILL, supervisor)
            os.execvp(command[0], command)
        except BaseException as exc:
            _say(f"cannot run {command[0]}: {exc}")
        os._exit(127)

    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        _say(f"{command[0]} exited with {code}")
    # The server is gone: take whatever it started with it (this process too).
    os.killpg(group, signal.SIGKILL)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
