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
