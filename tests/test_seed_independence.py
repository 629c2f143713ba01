"""Two runs of `once` on the same feeds form the same stories whatever hash seed each draws.

Python randomises string hashes per process, so a decision that follows a set's order (a tie
among equals, the order of a float sum over a set) makes two daemons, or one daemon before and
after a restart, disagree about the same items. The bench's generated feeds are full of such
ties: templated reports, many alike, most matching no rule.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.cycle import server_config
from bench.server import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
FEEDS = 20


def stories_after_once(workdir: Path, port: int, seed: str) -> set[tuple[object, ...]]:
    """Each story `once` formed: its items' links, independent sources and rules."""
    workdir.mkdir()
    config = server_config(workdir, port, FEEDS, rules=100, concurrency=1)
    env = {**os.environ, "PYTHONHASHSEED": seed}
    command = [sys.executable, "-m", "monitor", "--config", str(config)]
    once = subprocess.run(
        [*command, "once"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert once.returncode == 0, once.stderr[-2000:]
    listed = subprocess.run(
        [*command, "stories", "--json", "--since", "3650d"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    stories = [json.loads(line) for line in listed.stdout.splitlines()]
    assert stories, "the bench's feeds should form stories"
    return {
        (frozenset(i["link"] for i in s["items"]), s["sources"], tuple(sorted(s["rules"])))
        for s in stories
    }


def test_stories_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    with ServerProcess(FEEDS) as server:
        first = stories_after_once(tmp_path / "one", server.port, "1")
        second = stories_after_once(tmp_path / "two", server.port, "2")
    assert first == second
