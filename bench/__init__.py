"""Benchmarks for issue 7: `python -m bench` (see bench/run.py). Not part of the installed package."""
