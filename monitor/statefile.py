"""The state file on disk, apart from what it holds: can it be written, is it intact, and is it
still the file this process opened.

SQLite fails late and vaguely on these ("attempt to write a readonly database" on every poll,
"database disk image is malformed" on every round), so the daemon asks here first, at start and
after an error, and refuses or stops with a sentence that names the file and what to do.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from monitor.errors import StateError

QUICK_CHECK_ROWS = 3  # problems quoted from SQLite's report; the first ones say enough


def ensure_writable(state: Path) -> None:
    """Raise StateError unless the folder of `state` and the file itself (if it exists) can be
    written; SQLite needs the folder too, for its -wal and -shm files."""
    folder = state.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise StateError(
            f"cannot write in {folder} ({exc.strerror}): news-monitor keeps its state, lock and "
            "heartbeat there; mount it read-write (in a container: a volume on /data) or point "
            "`state:` in config.yaml somewhere writable"
        ) from None
    for path in (state, state.with_name(state.name + "-wal")):
        if not path.exists():
            continue
        try:
            with path.open("r+b"):
                pass
        except OSError as exc:
            raise StateError(
                f"cannot write the state file {path} ({exc.strerror}): make it writable by "
                f"the user news-monitor runs as (uid {os.getuid()})"
            ) from None


def damage(state: Path) -> str | None:
    """What SQLite's quick integrity check finds wrong with `state`, or None if it is intact
    (or does not exist yet)."""
    if not state.exists():
        return None
    try:
        with contextlib.closing(sqlite3.connect(state)) as conn:
            rows = conn.execute(f"PRAGMA quick_check({QUICK_CHECK_ROWS})").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    findings = [str(row[0]) for row in rows]
    return None if findings == ["ok"] else "; ".join(findings)


def damaged_advice(state: Path | str, finding: str) -> str:
    """The sentence for a damaged state file."""
    return (
        f"the state file {state} is damaged (SQLite: {finding}). Stop news-monitor and restore "
        f"the file from a backup; or move it aside (mv {state} {state}.damaged) to start from an "
        "empty state, in which case items still in the feeds alert again"
    )


def unreadable(state: Path | str, exc: sqlite3.Error) -> StateError:
    """The StateError for an SQLite error met while reading `state`."""
    message = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and (
        "malformed" in message or "not a database" in message
    ):
        return StateError(damaged_advice(state, message))
    return StateError(f"cannot read the state file {state} (SQLite: {message})")


def check_intact(state: Path) -> None:
    """Raise StateError when `state` is damaged."""
    finding = damage(state)
    if finding is not None:
        raise StateError(damaged_advice(state, finding))


@dataclass(frozen=True)
class Identity:
    """Which file a path named when this process opened it (device and inode)."""

    path: Path
    device: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> Identity:
        info = path.stat()
        return cls(path, info.st_dev, info.st_ino)

    def lost(self) -> str | None:
        """'deleted' or 'replaced' when the path no longer names this file, else None."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return "deleted"
        except OSError:
            return None  # cannot tell (a transient error); asked again on the next tick
        if (info.st_dev, info.st_ino) != (self.device, self.inode):
            return "replaced"
        return None
