"""The compiled-rulebook cache beside the state: the same rules as a full load, a miss on any
change to the rule files, errors always from a full load, a damaged cache ignored."""

from __future__ import annotations

import asyncio
import json
import pickle
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from monitor.app import App
from monitor.config import Config, load_config
from monitor.errors import RuleError
from monitor.health import rulebook_cache_path
from monitor.models import Item
from monitor.rules import Rulebook, RulePin, load_rulebook
from monitor.rules import cache as rule_cache
from monitor.rules.load import load

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "data" / "labelled.jsonl"

RULE = """rules:
  - id: bombers
    title: Bombers near Venezuela
    severity: high
    match:
      all:
        - any: [B-52, bomber*]
        - any: [Venezuela]
"""


def verdicts(rulebook: Rulebook) -> list[object]:
    found = []
    for n, line in enumerate(LABELLED.read_text("utf-8").splitlines()):
        row = json.loads(line)
        item = Item(
            feed="f", key=str(n), link="", title=row["title"], summary=row.get("summary", "")
        )
        found.append([(m.rule.id, m.matched, m.values) for m in rulebook.match(item)])
    return found


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", folder)
    return folder


class TestRulebookCache:
    def test_a_cached_rulebook_matches_as_a_full_load(self, tmp_path: Path, rules: Path) -> None:
        """The second load comes from the file beside the state and gives the same alerts."""
        cache = rulebook_cache_path(tmp_path / "state.db")
        assert cache == tmp_path / "state.db.rulebook"
        full = load_rulebook([rules])
        first = load_rulebook([rules], cache=cache)
        written = cache.stat()
        again = load_rulebook([rules], cache=cache)
        assert cache.stat().st_mtime_ns == written.st_mtime_ns  # read, not rewritten
        assert [r.info for r in again.rules] == [r.info for r in full.rules]
        assert again.example_failures() == full.example_failures() == []
        assert verdicts(again) == verdicts(full) == verdicts(first)

    def test_a_changed_rule_file_is_loaded_again(self, tmp_path: Path) -> None:
        """Editing a rule changes what matches at once, cache or not."""
        path = tmp_path / "rules.yaml"
        path.write_text(RULE)
        cache = tmp_path / "state.db.rulebook"
        item = Item(feed="f", key="k", link="", title="B-52 bombers fly near Venezuela")
        assert [m.rule.id for m in load_rulebook([path], cache=cache).match(item)] == ["bombers"]
        path.write_text(RULE.replace("[Venezuela]", "[Cuba]"))
        assert load_rulebook([path], cache=cache).match(item) == []

    def test_errors_come_from_a_full_load_whatever_the_cache(self, tmp_path: Path) -> None:
        """A broken file is reported with its file:line exactly as without a cache."""
        path = tmp_path / "rules.yaml"
        path.write_text(RULE)
        cache = tmp_path / "state.db.rulebook"
        load_rulebook([path], cache=cache)
        path.write_text(RULE.replace("severity: high", "severity: huge"))
        with pytest.raises(RuleError) as uncached:
            load_rulebook([path])
        with pytest.raises(RuleError) as cached:
            load_rulebook([path], cache=cache)
        assert str(cached.value) == str(uncached.value)
        assert f"{path}:4" in str(cached.value)

    @pytest.mark.parametrize("damage", [b"", b"garbage\n", None])
    def test_a_damaged_cache_is_ignored_and_replaced(
        self, tmp_path: Path, damage: bytes | None
    ) -> None:
        """An empty, foreign or truncated cache file costs a full load, never an error."""
        path = tmp_path / "rules.yaml"
        path.write_text(RULE)
        cache = tmp_path / "state.db.rulebook"
        load_rulebook([path], cache=cache)
        whole = cache.read_bytes()
        key = whole.split(b"\n", 1)[0] + b"\n"
        cache.write_bytes(key + whole[len(key) : len(key) + 20] if damage is None else damage)
        item = Item(feed="f", key="k", link="", title="B-52 bombers fly near Venezuela")
        assert [m.rule.id for m in load_rulebook([path], cache=cache).match(item)] == ["bombers"]
        assert cache.read_bytes() == whole

    def test_a_read_only_folder_only_costs_the_cache(self, tmp_path: Path) -> None:
        """Where the cache cannot be written the rules load all the same."""
        path = tmp_path / "rules.yaml"
        path.write_text(RULE)
        missing = tmp_path / "no such folder" / "state.db.rulebook"
        assert [r.info.id for r in load_rulebook([path], cache=missing).rules] == ["bombers"]
        assert not missing.parent.exists()

    def test_a_cache_others_may_write_is_never_read(self, tmp_path: Path) -> None:
        """Only a cache file this user owns and nobody else may write is unpickled."""
        path = tmp_path / "rules.yaml"
        path.write_text(RULE)
        cache = tmp_path / "state.db.rulebook"
        load_rulebook([path], cache=cache)
        key = cache.read_bytes().split(b"\n", 1)[0] + b"\n"
        other = tmp_path / "other.yaml"
        other.write_text(RULE.replace("id: bombers", "id: planted"))
        # Rules of another file under the key of this one: what a planted cache would give.
        planted = key + pickle.dumps(load([other]))
        cache.write_bytes(planted)
        cache.chmod(0o600)
        assert [r.info.id for r in load_rulebook([path], cache=cache).rules] == ["planted"]
        cache.write_bytes(planted)
        cache.chmod(0o666)
        assert [r.info.id for r in load_rulebook([path], cache=cache).rules] == ["bombers"]
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600  # replaced by a full load's rules

    def test_a_change_to_the_compiler_is_a_miss(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Rules cached by other code are loaded again: the key covers the compiler's source."""
        source = tmp_path / "compiler.py"
        source.write_text("# the rule language, version 1\n")
        monkeypatch.setattr(rule_cache, "_COMPILER", [source])
        rule_cache._compiler_hash.cache_clear()
        path = tmp_path / "rules.yaml"
        path.write_text(RULE)
        cache = tmp_path / "state.db.rulebook"
        try:
            load_rulebook([path], cache=cache)
            first = cache.read_bytes()
            load_rulebook([path], cache=cache)
            assert cache.read_bytes() == first
            source.write_text("# the rule language, version 2\n")
            rule_cache._compiler_hash.cache_clear()
            load_rulebook([path], cache=cache)
            assert cache.read_bytes().split(b"\n", 1)[0] != first.split(b"\n", 1)[0]
        finally:
            rule_cache._compiler_hash.cache_clear()


def write_config(directory: Path, state: Path | str, rules: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.yaml"
    path.write_text(
        f"state: '{state}'\nrules: [{rules}]\nfeeds:\n  - {{name: f, url: 'http://127.0.0.1:9/'}}\n"
        "notifiers:\n  - {name: console, type: log}\nroutes:\n  - {notify: [console]}\n"
    )
    return path


def test_once_and_run_load_from_a_cache_on_either_backend(
    state: Path | str, rules: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside a SQLite state, in the temporary folder for a PostgreSQL one; the second start
    reads it, and pins the rules for the worker processes to the same cache."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    config = load_config(write_config(tmp_path / "config", state, rules))
    cache = rulebook_cache_path(state)
    assert cache.parent == tmp_path
    first = asyncio.run(_open(config))
    written = cache.stat()
    again = asyncio.run(_open(config))
    assert cache.stat().st_mtime_ns == written.st_mtime_ns  # read, not rewritten
    assert again == first
    assert again[1] is not None and again[1].cache == cache


async def _open(config: Config) -> tuple[list[object], RulePin | None]:
    async with App.open(config) as app:
        return [r.info for r in app.rulebook.rules], app.pin


def test_check_reports_a_broken_rule_file_the_same_after_a_cached_load(
    rules: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path, tmp_path / "state.db", rules)
    check = [sys.executable, "-m", "monitor", "check", "--config", str(config)]
    good = subprocess.run(check, capture_output=True, text=True, timeout=120, check=False)
    assert good.returncode == 0, good.stderr
    assert (tmp_path / "state.db.rulebook").exists()
    broken = rules / "escalation.yaml"
    text = broken.read_text()
    line = text[: text.index("severity: high")].count("\n") + 1
    broken.write_text(text.replace("severity: high", "severity: huge", 1))
    bad = subprocess.run(check, capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 1
    assert f"{broken}:{line}:" in bad.stderr and "Traceback" not in bad.stderr
