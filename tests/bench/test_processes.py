"""bench.processes: CPU accounting of the serving benches from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench import processes

BURN = """
import time
end = time.process_time() + 0.3
while time.process_time() < end:
    pass
time.sleep(30)
"""


def test_cpu_counts_the_process_and_its_live_children() -> None:
    parent = os.getpid()
    before = processes.cpu_ms({"me": [parent]})["me"]
    child = subprocess.Popen([sys.executable, "-c", BURN])
    try:
        deadline = time.monotonic() + 30
        while processes.cpu_ms({"child": [child.pid]})["child"] < 300:
            assert time.monotonic() < deadline and child.poll() is None
            time.sleep(0.05)
        after = processes.cpu_ms({"me": [parent]})["me"]
        assert after - before >= 300  # a live child counts in its parent's tree
    finally:
        child.kill()
        child.wait()


HOLD = """
import sys
block = bytearray(64 * 1024 * 1024)  # written: anonymous and resident
sys.stdout.write("ready\\n")
sys.stdout.flush()
sys.stdin.read()
"""


def test_resident_memory_is_split_into_anonymous_and_file_backed() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        memory = processes.resident_mb(child.pid)
        assert memory["anon"] >= 64  # the written block
        assert memory["file"] > 0  # the interpreter and its libraries
        assert abs(memory["rss"] - memory["anon"] - memory["file"]) < 1.0
        assert processes.rss_mb(child.pid) == memory["rss"]
        tree = processes.resident_mb(os.getpid())  # the child counts in its parent
        assert tree["anon"] >= memory["anon"]
    finally:
        child.kill()
        child.wait()
