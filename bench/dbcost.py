"""What PostgreSQL itself spends on a measured cycle, apart from the time its clients wait for
a CPU on a loaded machine: the server's execution time per statement (pg_stat_statements), the
CPU its processes used (from /proc: time only counts while a process runs), and the round trip
of a trivial statement on an idle connection (the fastest tenth of many), which times the round
trips the seam counted to give the cost a quiet machine would see.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

# The server preloads pg_stat_statements for these figures (tests/postgres.py settings).
SETTINGS = (
    "shared_preload_libraries = 'pg_stat_statements'",
    "pg_stat_statements.track = all",
    "pg_stat_statements.max = 1000",
)
PINGS = 1000
TOP = 6  # statements listed in the profile


def _ticks(pid: int) -> tuple[int, int]:
    """(utime + stime, cutime + cstime) of `pid`, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def cluster_cpu(postmaster: int) -> float:
    """CPU seconds the cluster used so far: the postmaster and its live children, plus the
    children that exited (counted into the postmaster once reaped, as backends of closed
    connections are)."""
    own, reaped = _ticks(postmaster)
    children = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == postmaster:
            children += int(fields[11]) + int(fields[12])
    return (own + reaped + children) / os.sysconf("SC_CLK_TCK")


def quiet_round_trip(url: str) -> dict[str, float]:
    """`SELECT 1` on one connection PINGS times: the fastest tenth's mean, the median, in ms."""
    with psycopg.connect(url, autocommit=True) as conn:
        times = []
        for _ in range(PINGS):
            started = time.perf_counter()
            conn.execute("SELECT 1").fetchall()
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    fastest = times[: PINGS // 10]
    return {"fastest_tenth_ms": statistics.fmean(fastest), "median_ms": statistics.median(times)}


@dataclass
class ServerCost:
    """Watches one measured cycle: `start()` at its start, `stop()` after it."""

    url: str
    postmaster: int
    _cpu: float = 0.0

    def start(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SELECT pg_stat_statements_reset()")
        self._cpu = cluster_cpu(self.postmaster)

    def stop(self, polled: int) -> dict[str, Any]:
        """Per polled feed: server execution ms (less the waits for the recording lock, given
        apart), cluster CPU ms, and the costliest statements."""
        cpu = cluster_cpu(self.postmaster) - self._cpu
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                """SELECT query, calls, total_exec_time FROM pg_stat_statements
                   WHERE query NOT ILIKE '%pg_stat_statements%'
                   ORDER BY total_exec_time DESC"""
            ).fetchall()
        per = max(polled, 1)
        # Waiting for the advisory lock that serialises recording is time the other replica
        # holds it (its statements, its commit, and its waits for a CPU meanwhile), not work.
        waits = sum(row[2] for row in rows if "pg_advisory_xact_lock" in row[0])
        return {
            "server_exec_ms_per_feed": (sum(row[2] for row in rows) - waits) / per,
            "lock_wait_ms_per_feed": waits / per,
            "server_calls_per_feed": sum(row[1] for row in rows) / per,
            "cluster_cpu_ms_per_feed": cpu * 1000 / per,
            "top": [
                {
                    "query": " ".join(query.split())[:90],
                    "calls_per_feed": calls / per,
                    "exec_ms_per_feed": total / per,
                    "ms_per_call": total / max(calls, 1),
                }
                for query, calls, total in rows[:TOP]
            ],
        }
