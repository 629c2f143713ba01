"""Liveness and readiness of the daemon: the loop's last tick, what keeps it from doing its job,
a heartbeat file for container health checks, and what `news-monitor status` tells about a
daemon from outside.

The heartbeat is the mtime of a file beside the SQLite state, touched on every tick, so a
`HEALTHCHECK` can tell a stalled scheduler loop from a live one without the HTTP endpoint
being enabled and without opening the database. While something keeps the daemon from working
(its state file is failing or gone, no feed poll starts any more) the file holds that sentence,
and the health check fails with it whatever the clocks say. Beside it the daemon keeps a small
JSON file saying since when it runs and which config and rules it loaded. With the state in
PostgreSQL, several replicas may run on one host: each keeps its own heartbeat, named by its
pid, in the temporary folder, and the health check wants every live one fresh; what each
loaded is in the database's replicas table, where every host's replicas are.

The daemon ticks with the monotonic clock, which a wall-clock step cannot move; the heartbeat's
mtime is wall time, since another process reads it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from monitor import metrics

log = logging.getLogger("monitor.health")

STALE_AFTER = 60.0  # seconds without a tick before the loop counts as stalled
HEARTBEAT_SIZE = 1024  # bytes the heartbeat file always has: room for the trouble sentence


def _beside(state: Path | str, suffix: str) -> Path:
    """A local file beside the SQLite state, or in the temporary folder for a database URL."""
    if isinstance(state, str):
        digest = hashlib.sha256(state.encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"news-monitor-{digest}{suffix}"
    return state.with_name(state.name + suffix)


def heartbeat_path(state: Path | str, pid: int | None = None) -> Path:
    """Where the daemon whose state is `state` keeps its heartbeat; for a database URL, the
    replica process `pid`'s own (this process's by default)."""
    if isinstance(state, str):
        return _beside(state, f".{os.getpid() if pid is None else pid}.heartbeat")
    return _beside(state, ".heartbeat")


def _replica_files(state: str) -> list[tuple[str, Path]]:
    """(pid as written, path) of every replica heartbeat of the database `state` on this host."""
    stem = heartbeat_path(state, 0).name.removesuffix(".0.heartbeat")
    return [
        (path.name[len(stem) + 1 : -len(".heartbeat")], path)
        for path in Path(tempfile.gettempdir()).glob(f"{stem}.*.heartbeat")
    ]


def replica_heartbeats(state: str) -> dict[int, Path]:
    """The heartbeat of every replica process on this host working on the database `state`
    that is still running (a killed replica's file stays behind; its pid is gone)."""
    return {
        int(pid): path
        for pid, path in _replica_files(state)
        if pid.isdigit() and _running(int(pid))
    }


def forget_dead_replicas(state: str) -> None:
    """Remove the heartbeats that killed replicas of `state` left on this host."""
    alive = set(replica_heartbeats(state).values())
    for _, path in _replica_files(state):
        if path not in alive:
            with contextlib.suppress(OSError):
                path.unlink()


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def lock_path(state: Path | str) -> Path:
    """The lock file a process delivering from `state` holds (see app.StateLock)."""
    return _beside(state, ".lock")


def rulebook_cache_path(state: Path | str) -> Path:
    """Where the compiled rules of the daemon whose state is `state` are cached (see
    monitor/rules/cache.py): beside a SQLite state, in the temporary folder for a database URL,
    like the other files of this host's processes."""
    return _beside(state, ".rulebook")


def run_info_path(state: Path) -> Path:
    """Where the daemon of a SQLite state says since when it runs and what it loaded (each
    replica of a PostgreSQL state says it in the replicas table, with its heartbeat)."""
    return _beside(state, ".daemon.json")


@dataclass(frozen=True)
class RunInfo:
    """What a daemon loaded and since when it runs; rewritten on every applied reload."""

    pid: int
    started_at: float
    loaded_at: float
    config: str
    rules: int
    rule_files: tuple[str, ...]
    feeds: int
    notifiers: int

    def encode(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def decode(cls, text: str | None) -> RunInfo | None:
        """The RunInfo `text` holds, or None when it holds none (or not a readable one)."""
        try:
            data = json.loads(text or "")
            return cls(**{**data, "rule_files": tuple(data["rule_files"])})
        except (ValueError, TypeError, KeyError):
            return None

    def same_setup(self, other: RunInfo) -> bool:
        """Whether both run the same config and rules (as far as the counts tell)."""
        return (self.config, self.rules, self.rule_files, self.feeds, self.notifiers) == (
            other.config,
            other.rules,
            other.rule_files,
            other.feeds,
            other.notifiers,
        )


def write_run_info(path: Path, info: RunInfo) -> None:
    """Replace the file whole, so a reader never sees half of it."""
    partial = path.with_name(path.name + ".tmp")
    try:
        partial.write_text(info.encode(), encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        log.warning("cannot write %s: %s", path, exc.strerror)


def read_run_info(path: Path) -> RunInfo | None:
    """The daemon's last RunInfo, or None when there is none (or it cannot be read)."""
    try:
        return RunInfo.decode(path.read_text(encoding="utf-8"))
    except OSError:
        return None


def lock_is_held(path: Path) -> bool:
    """True while another process (a daemon or a `once`) holds the state lock at `path`."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False  # no lock file: nothing ever ran on this state
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing also releases the lock if this probe took it
    return False


@dataclass
class Health:
    """What `/healthz` and `/readyz` report; the daemon calls `tick` from its loop."""

    last_tick: float
    ready: bool = False
    stale_after: float = STALE_AFTER
    heartbeat: Path | None = field(default=None)
    stuck: str | None = None  # why the loop is alive but not polling (fails /healthz)
    problem: str | None = None  # why the daemon cannot deliver (fails /readyz)
    _heartbeat_failing: bool = field(default=False, init=False, repr=False)
    _written: str = field(default="", init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.stale_after > 0:
            raise ValueError(f"stale_after must be above zero seconds, got {self.stale_after!r}")

    @property
    def trouble(self) -> str | None:
        """Everything that keeps the daemon from its job, as one sentence, or None."""
        found = [t for t in (self.stuck, self.problem) if t]
        return "; ".join(found) or None

    def tick(self, now: float, wall: float | None = None) -> None:
        """Record that the loop is alive at `now` (on the clock `age` is asked with) and touch
        the heartbeat with `wall` (unix time; `now` when not given)."""
        wall = now if wall is None else wall
        self.last_tick = now
        metrics.LOOP_LAST_TICK.set(wall)
        if self.heartbeat is None:
            return
        content = self.trouble or ""
        try:
            if content != self._written or not self.heartbeat.exists():
                _write_in_place(self.heartbeat, content)
                self._written = content
            os.utime(self.heartbeat, (wall, wall))
        except OSError as exc:
            # The loop itself is fine; a stale heartbeat will make the health check say so.
            if not self._heartbeat_failing:
                log.warning("cannot write heartbeat %s: %s", self.heartbeat, exc.strerror)
            self._heartbeat_failing = True
        else:
            self._heartbeat_failing = False

    def age(self, now: float) -> float:
        """Seconds since the last tick."""
        return max(0.0, now - self.last_tick)

    def alive(self, now: float) -> bool:
        return self.age(now) <= self.stale_after and self.stuck is None


def _write_in_place(path: Path, content: str) -> None:
    """Overwrite the file's first HEARTBEAT_SIZE bytes: once it exists, a full disk (the trouble
    it may have to report) needs no new block for it. If even that fails, the caller leaves the
    mtime alone, so the health check fails as stalled instead of passing."""
    data = content.encode("utf-8")[: HEARTBEAT_SIZE - 1].ljust(HEARTBEAT_SIZE - 1) + b"\n"
    with path.open("r+b" if path.exists() else "wb") as out:
        out.write(data)


def polls_stalled(since_last_poll: float, shortest_interval: float) -> str | None:
    """Why the loop counts as stuck when no feed poll started for `since_last_poll` seconds
    although some feed is due every `shortest_interval` seconds (a slow poll or a missed run
    is allowed for), or None."""
    limit = 2 * shortest_interval + STALE_AFTER
    if since_last_poll <= limit:
        return None
    return (
        f"stuck: no feed poll has started for {since_last_poll:.0f} s although feeds are due "
        f"every {shortest_interval:.0f} s"
    )


def stale_heartbeat(path: Path, now: float, stale_after: float = STALE_AFTER) -> str | None:
    """None if the heartbeat at `path` was touched in the last `stale_after` seconds, else a
    sentence saying what is wrong."""
    try:
        touched = path.stat().st_mtime
    except FileNotFoundError:
        return f"no heartbeat at {path}: the daemon has not started its loop"
    except OSError as exc:
        return f"cannot read heartbeat {path}: {exc.strerror}"
    age = now - touched
    if age > stale_after:
        return f"stalled: the loop last ticked {age:.0f} s ago (limit {stale_after:.0f} s)"
    return None


def heartbeat_trouble(path: Path) -> str | None:
    """What the daemon says keeps it from its job (the heartbeat's text), or None."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


def check_heartbeat(path: Path, now: float, stale_after: float = STALE_AFTER) -> str | None:
    """None if the heartbeat at `path` is fresh and the daemon reports no trouble, else a
    sentence saying what is wrong."""
    return stale_heartbeat(path, now, stale_after) or heartbeat_trouble(path)


def check_replica_heartbeats(
    state: str, now: float, stale_after: float = STALE_AFTER
) -> str | None:
    """None if at least one replica of the database `state` runs on this host and every one
    that runs ticks and reports no trouble, else a sentence saying which does not and why."""
    beats = replica_heartbeats(state)
    if not beats:
        return (
            f"no heartbeat in {tempfile.gettempdir()}: no replica on this host has started its loop"
        )
    problems = [
        f"replica pid {pid}: {problem}"
        for pid, path in sorted(beats.items())
        if (problem := check_heartbeat(path, now, stale_after)) is not None
    ]
    return "; ".join(problems) or None
