"""Real file systems for the disk tests: a small tmpfs and read-only bind mounts (root only).

In CI (`CI` set, as .ci/run does) a missing privilege fails the test instead of skipping it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _require_root() -> None:
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the disk tests mount file systems and need root")
        pytest.skip("mounting a tmpfs needs root")


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"mount {' '.join(args)}: {done.stderr.strip()}")
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")


def _unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "2m") mounted at `path` while the context lasts."""
    _require_root()
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path))
    try:
        yield path
    finally:
        _unmount(path)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """`path` (a file or folder) bound read-only onto itself while the context lasts."""
    _require_root()
    _mount("--bind", str(path), str(path))
    try:
        _mount("-o", "remount,bind,ro", str(path))
        yield path
    finally:
        _unmount(path)
