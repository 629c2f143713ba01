"""The offline demo shows a new user alerts and silence on look-alikes, with no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_the_demo_alerts_on_escalation_and_stays_quiet_on_look_alikes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bombers near Venezuela alert; the band and the jacket do not."""
    monkeypatch.chdir(REPO)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    alerts = [line for line in out.splitlines() if line.startswith("ALERT")]
    quiet = [line for line in out.splitlines() if line.startswith("quiet")]
    assert any("B-52 bombers" in line for line in alerts)
    assert any("covert CIA" in line for line in alerts)
    assert any("The B-52s" in line for line in quiet)
    assert any("Bomber jackets" in line for line in quiet)
    assert any("Ground operations staff" in line for line in quiet)
