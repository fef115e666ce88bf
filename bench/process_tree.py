"""Run a command and measure it: wall time, peak RSS summed over its whole process tree, CPU seconds."""

from __future__ import annotations

import subprocess
import threading
import time
from typing import NamedTuple, Optional

import psutil


class Measured(NamedTuple):
    returncode: int
    wall_seconds: float
    peak_rss_mb: float
    cpu_seconds: float
    output: str


def measure(command: list[str], env: Optional[dict] = None, interval: float = 0.1) -> Measured:
    """Run ``command``; sample the RSS of it and all its descendants every ``interval`` seconds."""
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    root = psutil.Process(proc.pid)
    peak = 0
    cpu: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            total = 0
            try:
                procs = [root] + root.children(recursive=True)
            except psutil.Error:
                procs = []
            for p in procs:
                try:
                    total += p.memory_info().rss
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system + times.children_user + times.children_system
                except psutil.Error:
                    continue
            peak = max(peak, total)
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    done.set()
    sampler.join()
    return Measured(proc.returncode, time.monotonic() - started, peak / 1e6, sum(cpu.values()), output)
