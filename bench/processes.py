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
    return _proc_table()[0]


def children(pid: int) -> list[int]:
    """The direct child processes of ``pid`` (Sanic's workers, for ``rasa run``)."""
    return _children_by_parent().get(pid, [])


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MiB."""
    return resident_mb(pid)["rss"]


def resident_mb(pid: int) -> dict[str, float]:
    """Resident memory of a process and its descendants, in MiB: all of it
    (``rss``), its anonymous part (``anon``: heap, Python objects, weights in
    TensorFlow's memory; the process's own) and its file-backed part (``file``:
    mapped libraries and data files, shared with every process mapping them).

    How much of a mapped library becomes resident depends on the kernel: one
    that maps a file's large page-cache folios whole on a fault (6.x, seen here
    at about 240 KB a fault instead of 64 KB) shows more ``file`` for the same
    code, so compare ``anon`` across machines.
    """
    children = _children_by_parent()
    fields = {"VmRSS:": "rss", "RssAnon:": "anon", "RssFile:": "file"}
    total_kb = dict.fromkeys(fields.values(), 0)
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                parts = line.split()
                if parts and parts[0] in fields:
                    total_kb[fields[parts[0]]] += int(parts[1])
        except OSError:
            pass
        todo += children.get(current, [])
    return {name: round(kb / 1024, 1) for name, kb in total_kb.items()}


TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _proc_table() -> tuple[dict[int, list[int]], dict[int, int]]:
    """One pass over ``/proc``: children by parent and CPU ticks by process
    (``utime + stime + cutime + cstime``: reaped children count too)."""
    children: dict[int, list[int]] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        # fields[0] is field 3 (state): utime..cstime are fields 14-17.
        ticks[pid] = sum(int(value) for value in fields[11:15])
    return children, ticks


def cpu_ms(roots: dict[str, Sequence[int]]) -> dict[str, float]:
    """CPU milliseconds used so far by each group's processes and descendants."""
    children, ticks = _proc_table()
    out: dict[str, float] = {}
    for group, pids in roots.items():
        total, todo, seen = 0, list(pids), set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            total += ticks.get(pid, 0)
            todo += children.get(pid, [])
        out[group] = total * TICK_MS
    return out


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
