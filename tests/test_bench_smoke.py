"""`python -m bench --smoke`: every benchmark still runs end to end (tiny sizes, no timed assertions)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def available_sections() -> list[str]:
    """The peers come with the `bench` extra, which CI does not install. The transport section
    (about 40 s under load) is left to `python -m bench`: the smoke run must fit its timeout."""
    sections = [
        "pipeline",
        "polls",
        "cycle",
        "latency",
        "page",
        "stories",
        "processes",
        "replicas",
        "lanes",
    ]
    if all(importlib.util.find_spec(name) for name in ("reader", "feed2exec", "sgmllib")):
        sections.append("peers")
    return sections


class TestBenchSmoke:
    def test_every_benchmark_runs_and_prints_its_table(self, tmp_path: Path) -> None:
        """The one benchmark command finishes, prints each section's table and saves its figures."""
        sections = available_sections()
        figures = tmp_path / "bench.json"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench",
                "--smoke",
                "--only",
                ",".join(sections),
                "--json",
                str(figures),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        titles = (
            "Pipeline throughput",
            "Poll cycle at scale",
            "Detection latency",
            "The page at /",
            "Story step",
            "Whole processes",
            "Rulebook load",
            "CPU per poll",
        )
        for title in titles:
            assert title in done.stdout
        report = figures.read_text()
        for section in sections:
            assert f'"{section}"' in report
        assert '"missed": 0' in report  # every latency probe reached the webhook receiver
