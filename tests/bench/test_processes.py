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
