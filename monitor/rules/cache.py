"""Loading a rulebook's rules, the one way every process does it: from a compiled-rulebook cache
when the rule files and the code that compiles them are unchanged, else by a full load, and pinned
to a digest of what was read so that worker processes can check they load the same rules.

The cache is one file (its place is the caller's: see `health.rulebook_cache_path`): a key line,
then the pickled rules. The key is the pin's digest: the rule files' paths and bytes, the source
of the code that compiles them, the Python and PyYAML versions, so any change to a rule file or to
the rule language is a miss. Only rules that loaded without error are written, so errors
(file:line) always come from a full load. The file is as trusted as the state beside it: it is
read only when this user owns it and nobody else may write it; a cache that cannot be read or
written is ignored and the rules load as they would without it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from monitor.errors import MonitorError
from monitor.rules.load import MAX_RULE_FILE, Loaded, load, rule_files

_PACKAGE = Path(__file__).resolve().parent
# Modules whose classes are pickled, or whose code decides what a rule file compiles to.
_COMPILER = sorted(_PACKAGE.glob("*.py")) + [
    _PACKAGE.parent / name for name in ("yamlfile.py", "models.py", "durations.py")
]


@dataclass(frozen=True)
class RulePin:
    """The rule files a rulebook was loaded from, the digest of what was read (see above), and
    the cache a worker process may load the same rules from."""

    paths: tuple[Path, ...]
    digest: str
    cache: Path | None


@cache
def _compiler_hash() -> bytes | None:
    """None where the source is not installed (bytecode only): no cache then."""
    digest = hashlib.sha256(f"{sys.version}\0{yaml.__version__}\0".encode())
    try:
        for path in _COMPILER:
            digest.update(path.read_bytes())
    except OSError:
        return None
    return digest.digest()


def _digest(paths: Sequence[Path]) -> str | None:
    """The digest of the rule files under `paths` as they are now; None when one cannot be read
    (the full load says what is wrong with it)."""
    digest = hashlib.sha256(_compiler_hash() or b"")
    try:
        for path in rule_files(paths):
            if path.stat().st_size > MAX_RULE_FILE:
                return None
            data = path.read_bytes()
            # The path as given too: rules carry it into "file:line" messages.
            digest.update(f"{path}\0{path.resolve()}\0{len(data)}\0".encode() + data)
    except (OSError, MonitorError):
        return None
    return digest.hexdigest()


def load_pinned(paths: Sequence[Path], cache_path: Path | None) -> tuple[Loaded, RulePin | None]:
    """The rules of `paths` (RuleError "file:line: what is wrong"), from `cache_path` when it
    holds these very files' rules; pinned unless a file changed while the rules loaded."""
    paths = tuple(paths)
    before = _digest(paths)
    usable = cache_path if before is not None and _compiler_hash() is not None else None
    if usable is not None and before is not None:
        cached = _read(usable, before)
        if cached is not None:
            return cached, RulePin(paths, before, cache_path)
    loaded = load(paths)
    after = _digest(paths)
    if before is None or after != before:
        return loaded, None
    if usable is not None:
        _store(usable, before, loaded)
    return loaded, RulePin(paths, before, cache_path)


def _read(cache_path: Path, digest: str) -> Loaded | None:
    try:
        with cache_path.open("rb") as stored:
            info = os.fstat(stored.fileno())
            if info.st_uid != os.geteuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None  # someone else could have written it: never unpickled
            if stored.readline() != digest.encode() + b"\n":
                return None
            loaded = pickle.load(stored)
    except Exception:  # pickle raises many kinds: a missing, truncated or stale cache is a miss
        return None
    return loaded if isinstance(loaded, Loaded) else None


def _store(cache_path: Path, digest: str, loaded: Loaded) -> None:
    try:
        descriptor, temporary = tempfile.mkstemp(  # mode 0600: only this user reads or writes it
            dir=cache_path.parent, prefix=cache_path.name, suffix=".tmp"
        )
    except OSError:
        return  # a read-only folder: no cache, as before
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(digest.encode() + b"\n")
            pickle.dump(loaded, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, cache_path)
    except (OSError, pickle.PicklingError):
        Path(temporary).unlink(missing_ok=True)
