"""Tools for rule authors behind `news-monitor test`, `backtest` and `evaluate`: read items from a
feed file, a URL or JSON lines, and render what each rule made of them.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from monitor.errors import FetchError, MonitorError
from monitor.feeds.fetch import Fetcher, FetchResult
from monitor.feeds.parse import parse_feed
from monitor.httpclient import make_client
from monitor.models import TEXT_FIELDS, Item
from monitor.rules import Rulebook, Verdict

MAX_INPUT_BYTES = 10 * 1024 * 1024
URL_TIMEOUT = 20.0
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson")


def read_items(source: str) -> list[Item]:
    """Items from a feed URL, a feed file (RSS, Atom, JSON Feed) or a JSON-lines file of items."""
    if source.startswith(("http://", "https://")):
        result = _download(source)
        return parse_feed(result.body, feed_name=source, base_url=result.url)
    path = Path(source)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise MonitorError(f"{source}: cannot read input: {exc.strerror}") from None
    if path.suffix in JSON_LINES_SUFFIXES:
        return _json_lines(source, body)
    return parse_feed(body, feed_name=path.name, base_url=path.resolve().as_uri())


def _download(url: str) -> FetchResult:
    """The feed at `url`, fetched as the daemon fetches it: size cap, total deadline, redirects
    followed hop by hop, bounded decompression."""

    async def fetch() -> FetchResult:
        async with make_client() as client:
            fetcher = Fetcher(client, max_bytes=MAX_INPUT_BYTES)
            return await fetcher.fetch(url, timeout=URL_TIMEOUT)

    try:
        return asyncio.run(fetch())
    except FetchError as exc:
        raise MonitorError(f"cannot fetch: {exc}") from None


def _json_lines(source: str, body: bytes) -> list[Item]:
    items = []
    for number, line in enumerate(body.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise MonitorError(f"{source}:{number}: not JSON: {exc.msg}") from None
        if not isinstance(data, dict) or not isinstance(data.get("title", ""), str):
            raise MonitorError(f"{source}:{number}: expected an object with a text title")
        items.append(
            Item(
                feed=Path(source).name,
                key=str(number),
                link=str(data.get("link") or ""),
                title=str(data.get("title") or ""),
                summary=str(data.get("summary") or ""),
                content=str(data.get("content") or ""),
            )
        )
    return items


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """The text with each span wrapped in [brackets] (overlapping spans merged)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, position = [], 0
    for start, end in merged:
        out += [text[position:start], "[", text[start:end], "]"]
        position = end
    out.append(text[position:])
    return "".join(out)


def _excerpt(text: str, spans: list[tuple[int, int]], width: int = 300) -> str:
    """The highlighted text around the spans, cut to about `width` characters."""
    first = min(s for s, _ in spans)
    last = max(e for _, e in spans)
    start = max(0, first - width // 3) if last - first < width else max(0, first - 40)
    end = min(len(text), max(last + width // 3, start + width))
    shifted = [(s - start, e - start) for s, e in spans if s >= start and e <= end]
    body = highlight(text[start:end], shifted).replace("\n", " ")
    return ("…" if start else "") + body + ("…" if end < len(text) else "")


def describe_item(rulebook: Rulebook, item: Item, *, explain: bool) -> str:
    """What the rulebook made of one item, for `news-monitor test`."""
    verdicts = rulebook.explain(item)
    fired = [v for v in verdicts if v.match is not None]
    status = "MATCH " + ", ".join(v.rule.info.id for v in fired) if fired else "no match"
    lines = [f"{status}: {item.title or '(untitled)'}"]
    for verdict in fired:
        lines.extend(_fired_lines(item, verdict))
        if explain:
            lines.extend(f"           decided by {note}" for note in verdict.notes)
    if explain:
        numbers = {k: v for k, v in rulebook.numbers(item).items() if v}
        if numbers:
            shown = "; ".join(f"{k}: {', '.join(f'{n:g}' for n in v)}" for k, v in numbers.items())
            lines.append(f"  numbers read: {shown}")
        for verdict in verdicts:
            if verdict.match is None:
                lines.append(f"  near miss {verdict.rule.info.id}: " + "; ".join(verdict.reasons))
    return "\n".join(lines)


def _fired_lines(item: Item, verdict: Verdict) -> list[str]:
    assert verdict.match is not None
    info = verdict.rule.info
    lines = [
        f"  {info.severity.label:<8} {info.id} ({info.title}): {', '.join(verdict.match.matched)}"
    ]
    if verdict.match.values:
        values = ", ".join(f"{k}={v:g}" for k, v in verdict.match.values.items())
        lines.append(f"           values: {values}")
    for name in TEXT_FIELDS:
        spans = [(s, e) for f, s, e in verdict.spans if f == name]
        if spans:
            lines.append(f"           {name}: {_excerpt(item.text(name), spans)}")
    return lines


def backtest(
    rulebook: Rulebook,
    items: Iterable[Item],
    progress: Callable[[int], None],
    *,
    explain: bool = False,
) -> tuple[int, Counter[str], list[tuple[Item, list[str]]], list[str]]:
    """Run the rules over stored items: (items read, alerts per rule, items that would alert,
    and with `explain` what decided each item that alerted or nearly did)."""
    per_rule: Counter[str] = Counter()
    alerted: list[tuple[Item, list[str]]] = []
    explained: list[str] = []
    count = 0
    for count, item in enumerate(items, start=1):
        fired = [m.rule.id for m in rulebook.match(item)]
        per_rule.update(fired)
        if fired:
            alerted.append((item, fired))
        if explain:
            report = describe_item(rulebook, item, explain=True)
            if fired or "\n" in report:
                explained.append(f"[{item.feed}] {report}")
        progress(count)
    return count, per_rule, alerted, explained
