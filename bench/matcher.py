"""Matcher throughput alone: items/s of the compiled rulebook at 10 / 100 / 1,000 / 10,000
generated rules, beside the naive one-`re.search`-per-term loop on the same items and rules.

Items are plain text already (headline + 1-3 KB body), so only matching is measured.
Run: `python -m bench.matcher` (about a minute on a 2-core machine).

`python -m bench.matcher --cold --rules 1000` measures a cold start in this fresh process: the
first 2,000 items a new rulebook sees (every word new to its caches), then the same items again
(the steady rate), in CPU time, with peak RSS; `python -m bench --only matcher` runs it per size.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from bench import naive
from bench.corpus import generate_rules, story_pool, write_rulebook
from bench.proc import emit
from monitor.models import Item
from monitor.rules import Rulebook, load_rulebook

TAG_RE = re.compile(r"<[^>]+>")


def corpus(count: int) -> list[Item]:
    stories = story_pool(seed=1, size=count)
    return [
        Item(feed="bench", key=str(i), title=s.title, link="", content=TAG_RE.sub(" ", s.html))
        for i, s in enumerate(stories)
    ]


def compiled(rule_count: int) -> Rulebook:
    with tempfile.TemporaryDirectory() as folder:
        write_rulebook(Path(folder), rule_count)
        return load_rulebook([Path(folder)])


def ours(counts: list[int], items: list[Item], repeats: int) -> dict[int, tuple[float, int]]:
    """Median items/s and items fired per rule count. Runs are interleaved across rule counts so
    that load from other processes on the machine falls on every count alike."""
    rulebooks = {count: compiled(count) for count in counts}
    # One untimed pass warms the per-token caches, as they are in a daemon that has been running.
    fired = {c: sum(bool(rb.match(item)) for item in items) for c, rb in rulebooks.items()}
    rates: dict[int, list[float]] = {count: [] for count in counts}
    for _ in range(repeats):
        for count, rulebook in rulebooks.items():
            started = time.perf_counter()
            for item in items:
                rulebook.match(item)
            rates[count].append(len(items) / (time.perf_counter() - started))
    return {count: (statistics.median(rates[count]), fired[count]) for count in counts}


def baseline(rule_count: int, items: list[Item], budget: float) -> tuple[float, int]:
    rules = naive.load_rules(generate_rules(rule_count))
    texts = [f"{item.title}\n{item.content}" for item in items]
    started = time.perf_counter()
    done = fired = 0
    for text in texts:
        fired += any(naive.matches(rule, text) for rule in rules)
        done += 1
        if time.perf_counter() - started > budget:
            break
    return done / (time.perf_counter() - started), fired


def cold_start(rule_count: int, count: int, repeats: int) -> dict[str, float]:
    """CPU seconds of the first `count` items of a fresh rulebook, then of the same items warm."""
    items = corpus(count)
    rulebook = compiled(rule_count)
    started = time.process_time()
    for item in items:
        rulebook.match(item)
    first = time.process_time() - started
    steady = []
    for _ in range(repeats):
        started = time.process_time()
        for item in items:
            rulebook.match(item)
        steady.append(time.process_time() - started)
    best = min(steady)
    return {
        "rules": rule_count,
        "items": count,
        "cold_items_per_s": count / first,
        "steady_items_per_s": count / best,
        "cold_over_steady": first / best,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=400, help="items per run (default 400)")
    parser.add_argument("--repeats", type=int, default=7, help="runs per figure (median)")
    parser.add_argument("--naive-budget", type=float, default=5.0, help="seconds per naive run")
    parser.add_argument("--rules", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--cold", action="store_true", help="cold start vs steady, one size")
    args = parser.parse_args()
    if args.cold:
        emit(cold_start(args.rules[0], args.items, args.repeats))
        return
    items = corpus(args.items)
    print(
        f"{len(items)} items, median of {args.repeats} runs; naive capped at {args.naive_budget}s"
    )
    print(
        f"{'rules':>6} {'ours items/s':>13} {'naive items/s':>14} {'speed-up':>9} {'vs 10 rules':>12}"
    )
    measured = ours(args.rules, items, args.repeats)
    first = measured[args.rules[0]][0]
    for count in args.rules:
        ours_rate, ours_fired = measured[count]
        naive_rate, _ = baseline(count, items, args.naive_budget)
        print(
            f"{count:>6} {ours_rate:>13.0f} {naive_rate:>14.1f} {ours_rate / naive_rate:>8.0f}x "
            f"{first / ours_rate:>11.2f}x slower   ({ours_fired} of {len(items)} items fired)"
        )


if __name__ == "__main__":
    main()
