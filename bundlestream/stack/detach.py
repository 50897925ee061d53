"""Start a service as an orphan: ``python -m bundlestream.stack.detach PIDFILE [UID GID] -- ARGV``.

The caller runs this small intermediate and waits for it; the intermediate starts the
service in a new session (so the service leads its own process group) and exits at
once. The service is adopted by init, which reaps it when it stops, so no Python
parent ever holds a ``Popen`` of it (a zombie or a ResourceWarning when it ends).
The intermediate writes the pid file itself: ``<pid> <start time>``. Standard output,
error, working directory and environment are inherited from the caller.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def start_time(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat (clock ticks since boot): with the pid, an identity."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may contain spaces; fields after it follow the last ')'.
    return stat[stat.rindex(")") + 2 :].split()[19]


def main(args: list[str]) -> int:
    separator = args.index("--")
    pid_file, *identity = args[:separator]
    uid, gid = (int(identity[0]), int(identity[1])) if identity else (None, None)
    service = subprocess.Popen(
        args[separator + 1 :],
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        user=uid,
        group=gid,
        extra_groups=None if uid is None else [],  # dropping root drops its groups too
    )
    Path(pid_file).write_text(f"{service.pid} {start_time(service.pid)}\n")
    return 0  # never waited for: init adopts the service when we exit


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
