"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests and benchmarks, from Debian's packages.

`PostgresServer().start()` finds initdb/pg_ctl under /usr/lib/postgresql/*/bin (installing the
`postgresql` package with apt-get when they are missing and we are root), creates a cluster in a
fresh temporary folder, starts it on a free loopback port and stops it by its pid. PostgreSQL
refuses to run as root, so as root the cluster belongs to the `postgres` user the package creates.

`python -m tests.postgres` starts one and prints its URL until Ctrl-C, for trying things by hand;
`python -m tests.postgres --install` only makes sure the binaries are there (CI's first step);
`--watch` is the watchdog each started cluster gets (see `watch`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent

INSTALL = (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "postgresql"])
STOP_WAIT = 30.0  # seconds pg_ctl gets to stop the server before its pid is killed


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL is not installed here and cannot be installed by this user."""


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def ensure_installed() -> Path:
    """The folder of initdb and pg_ctl, installing Debian's `postgresql` package if needed."""
    found = _bin_dir()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise PostgresUnavailableError(
            "PostgreSQL is not installed: run `sudo apt-get install -y postgresql` "
            "(the PostgreSQL tests need its initdb and pg_ctl)"
        )
    # Only the binaries: the package's own cluster on port 5432 would be a server no test started.
    conf = Path("/etc/postgresql-common/createcluster.conf")
    if not conf.exists():
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text("create_main_cluster = false\n")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in INSTALL:
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, timeout=900)
    found = _bin_dir()
    if found is None:
        raise PostgresUnavailableError("apt-get installed postgresql but no initdb was found")
    return found


class PostgresServer:
    """One cluster: `start()`, `url(database)`, `stop()` (also on restart tests: `start()` again)."""

    def __init__(self, *, durable: bool = False, settings: Sequence[str] = ()) -> None:
        # Tests trade durability for speed; a benchmark measuring the database keeps fsync on
        # (and may add `settings`, postgresql.conf lines, to profile it).
        self.durable = durable
        self.bin = ensure_installed()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="news-monitor-pg-"))
        self.data = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        self._watchdog: subprocess.Popen[bytes] | None = None
        if self.user is not None:
            shutil.chown(self.root, self.user)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        lines = [
            *settings,
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.root}'",
            "max_connections = 200",
            "shared_buffers = 64MB",
        ]
        if not durable:
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(lines) + "\n")

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin / tool), *args],
            user=self.user,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.root,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stderr.strip() or result.stdout.strip()}")

    def start(self) -> PostgresServer:
        log = self.root / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "60", "start")
        pid = self.pid
        if pid is not None:
            self._watchdog = subprocess.Popen(
                [
                    *(sys.executable, "-m", "tests.postgres", "--watch"),
                    *(str(os.getpid()), str(pid), str(self.root)),
                ],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return self

    @property
    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def url(self, database: str = "postgres", **params: str) -> str:
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}" + (
            f"?{query}" if query else ""
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown), killing its pid if it does not stop in time."""
        pid = self.pid
        if pid is None:
            return
        _stop(pid)
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        if self._watchdog is not None:
            self._watchdog.wait(timeout=10)  # it sees the postmaster gone within half a second
            self._watchdog = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _stop(pid: int) -> None:
    """Stop a postmaster (fast shutdown), killing it if it does not stop in time."""
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
    deadline = time.monotonic() + STOP_WAIT
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def watch(owner: int, postmaster: int, root: Path) -> None:
    """Stop the cluster of `postmaster` and remove its folder `root` when `owner`, the process
    that started it and this watcher's parent, is gone without stopping it (a test run killed,
    even with SIGKILL); return as soon as the postmaster is gone anyway."""
    while _alive(postmaster) and os.getppid() == owner:
        time.sleep(0.5)
    if _alive(postmaster):
        _stop(postmaster)
        shutil.rmtree(root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A stopped postmaster not yet reaped by its parent (pg_ctl's shell) is a zombie: gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def main() -> int:
    if sys.argv[1:2] == ["--watch"]:
        watch(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
        return 0
    if sys.argv[1:] == ["--install"]:
        print(f"PostgreSQL binaries in {ensure_installed()}")
        return 0
    server = PostgresServer().start()
    print(server.url(), flush=True)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        server.remove()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    sys.exit(main())
