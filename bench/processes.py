"""Starting and watching server processes for the benchmarks (and the tests that
reuse them): free ports, a process group stopped as a whole, children and RSS
read from ``/proc``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def children(pid: int) -> list[int]:
    """The direct child processes of ``pid`` (Sanic's workers, for ``rasa run``)."""
    return _children_by_parent().get(pid, [])


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB."""
    children = _children_by_parent()
    total_kb, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            pass
        todo += children.get(current, [])
    return round(total_kb / 1024, 1)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and all its living
    descendants (Sanic's workers), from ``/proc/<pid>/stat``."""
    children = _children_by_parent()
    ticks, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
        todo += children.get(current, [])
    return ticks / CLOCK_TICKS


@contextmanager
def process(args: Sequence[str], cwd: Path, log: Path, env: dict) -> Iterator[Any]:
    with log.open("w") as out:
        proc = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: Sanic workers stop with it
        )
        try:
            yield proc
        finally:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
