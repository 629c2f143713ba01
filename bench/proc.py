"""Run one measurement in a fresh Python process and read back its JSON result.

A fresh process per measurement keeps peak RSS (ru_maxrss) and CPU time honest: nothing loaded
by an earlier measurement is counted, and nothing is shared between the compared implementations.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "BENCH-RESULT "


class MeasurementError(RuntimeError):
    """A measurement process failed or ran past its time limit."""


def run_measurement(
    module: str, args: list[str], timeout: float, python: str | None = None
) -> dict[str, Any]:
    """Run `python -m module args...`, which must print one `BENCH-RESULT {json}` line."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        done = subprocess.run(
            [python or sys.executable, "-m", module, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=ROOT,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise MeasurementError(f"{module} {' '.join(args)} ran past {timeout:.0f}s") from None
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line.removeprefix(RESULT_PREFIX))
            return result
    tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
    raise MeasurementError(
        f"{module} {' '.join(args)} exited {done.returncode}:\n" + "\n".join(tail)
    )


def emit(result: dict[str, Any]) -> None:
    """Print a measurement result, with this process's peak RSS, for `run_measurement`."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.setdefault("peak_rss_mb", usage.ru_maxrss / 1024)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _tree(root: int) -> dict[int, tuple[int, float]]:
    """`root` and every process below it: pid -> (resident bytes, own CPU seconds so far)."""
    parents: dict[int, int] = {}
    figures: dict[int, tuple[int, float]] = {}
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        # utime, stime (fields 14, 15); rss in pages (field 24)
        figures[pid] = (int(fields[21]) * page, (int(fields[11]) + int(fields[12])) / tick)
    members, frontier = {root}, {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier}
        members |= frontier
    return {pid: figures[pid] for pid in members if pid in figures}


class TreeSampler:
    """Samples `root` and its descendants every `interval` seconds in a thread: `.peak_mb`, the
    largest sum of their resident memory, and `.descendants_cpu_s`, the CPU the processes below
    `root` used (each counted by its own time when last seen: worker processes that fork from a
    forkserver are not waited for by `root`, so its rusage never includes them)."""

    def __init__(self, root: int, interval: float = 0.1) -> None:
        import threading

        self.root = root
        self.peak_mb = 0.0
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    @property
    def descendants_cpu_s(self) -> float:
        return sum(cpu for pid, cpu in self._cpu.items() if pid != self.root)

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            tree = _tree(self.root)
            self.peak_mb = max(self.peak_mb, sum(rss for rss, _ in tree.values()) / 2**20)
            for pid, (_, cpu) in tree.items():
                self._cpu[pid] = max(self._cpu.get(pid, 0.0), cpu)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
