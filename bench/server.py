"""The benchmarks' local feed server and webhook receiver, on 127.0.0.1, in its own process.

A raw asyncio HTTP/1.1 server with keep-alive (a few thousand requests/s on one core, so it is
never what a benchmark measures). It serves `/feed/N` with the scenario mix of issue 7:
  - 70% "conditional": ETag + Last-Modified, answer 304 to a matching conditional GET;
  - 20% "plain": no validators, the same body every time;
  - 10% "growing": validators, and 1-3 new items each time the site advances a cycle.
`POST /hook` records webhook arrivals with their arrival time (for detection latency).
Admin endpoints drive the scenario: `POST /admin/advance`, `POST /admin/publish?feed=N`,
`GET /admin/arrivals`, `GET /admin/state`, `GET /admin/stats`.

Run it with `python -m bench.server --feeds N`; it prints `PORT <n>` and serves until its
standard input closes or it gets SIGTERM. `ServerProcess` does that from a benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import json
import random
import select
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bench.corpus import FeedModel, Story, default_epoch, story_pool

KINDS = ("conditional",) * 7 + ("plain",) * 2 + ("growing",)


def probe_story(number: int) -> Story:
    """A probe is a new occurrence each time (its own ordinal), so each one is a story of its own
    and alerts, instead of updating the previous probe's story."""
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return Story(
        title=f"Latency probe {number}: the {number}{suffix} flight of US bombers near Caracas",
        html="<p>Two B-52 bombers flew a <strong>show of force</strong> near Caracas, "
        "the Pentagon said.</p>",
        categories=("probe",),
    )


def kind_of(n: int) -> str:
    return KINDS[n % 10]


class FeedSite:
    """What every feed shows now. Pure state: no sockets."""

    def __init__(
        self, feeds: int, seed: int = 1, pool_size: int = 2000, epoch: datetime | None = None
    ) -> None:
        if feeds < 1:
            raise ValueError(f"feeds must be at least 1, got {feeds!r}")
        pool = story_pool(seed, pool_size)
        start = epoch or default_epoch()
        self.models = [FeedModel(n, pool, start) for n in range(feeds)]
        self.published = [model.window for model in self.models]
        self.changed = [start] * feeds  # Last-Modified of each feed
        self.cycle = 0
        self.rng = random.Random(seed + 1)
        self._bodies: dict[int, tuple[int, bytes, str]] = {}  # feed -> (published, body, type)
        self.probes = 0

    def advance(self) -> int:
        """One cycle: every growing feed publishes 1-3 items. Returns how many were published."""
        self.cycle += 1
        now = datetime.now(UTC).replace(microsecond=0)
        added = 0
        for n in range(len(self.models)):
            if kind_of(n) == "growing":
                count = self.rng.randint(1, 3)
                self.published[n] += count
                self.changed[n] = now
                added += count
        return added

    def publish(self, n: int) -> dict[str, Any]:
        """Publish one probe item on feed `n` now (it matches the latency rule)."""
        model = self.models[n]
        seq = self.published[n]
        now = datetime.now(UTC)
        self.probes += 1
        model.extra[seq] = (probe_story(self.probes), now.replace(microsecond=0))
        self.published[n] += 1
        self.changed[n] = now.replace(microsecond=0)
        return {"feed": n, "link": model.item(seq).link, "published_at": now.timestamp()}

    def body(self, n: int) -> tuple[bytes, str]:
        cached = self._bodies.get(n)
        if cached is not None and cached[0] == self.published[n]:
            return cached[1], cached[2]
        body, content_type = self.models[n].render(self.published[n])
        if kind_of(n) != "conditional":
            # Plain and growing bodies are re-served often; conditional ones mostly get 304.
            self._bodies[n] = (self.published[n], body, content_type)
        return body, content_type

    def validators(self, n: int) -> dict[str, str]:
        if kind_of(n) == "plain":
            return {}
        return {
            "ETag": f'"f{n}-{self.published[n]}"',
            "Last-Modified": format_datetime(self.changed[n], usegmt=True),
        }

    def respond(self, n: int, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        validators = self.validators(n)
        if validators and _not_modified(validators, headers):
            return 304, validators, b""
        body, content_type = self.body(n)
        return 200, {**validators, "Content-Type": content_type}, body

    def state(self) -> list[dict[str, Any]]:
        """Per feed: what a client that polled just now would remember (to prime a store)."""
        result = []
        for n, model in enumerate(self.models):
            body, _ = self.body(n)
            validators = self.validators(n)
            result.append(
                {
                    "feed": n,
                    "etag": validators.get("ETag"),
                    "last_modified": validators.get("Last-Modified"),
                    "body_sha256": hashlib.sha256(body).hexdigest(),
                    "guids": [item.guid for item in model.items(self.published[n])],
                }
            )
        return result


def _not_modified(validators: dict[str, str], headers: dict[str, str]) -> bool:
    if "if-none-match" in headers:
        return headers["if-none-match"] == validators["ETag"]
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(validators["Last-Modified"])
    except (TypeError, ValueError):
        return False


_REASONS = {200: "OK", 204: "No Content", 304: "Not Modified", 400: "Bad Request", 404: "Not Found"}
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 4 * 1024 * 1024


class BenchServer:
    """The HTTP front of a FeedSite, plus the webhook receiver."""

    def __init__(self, site: FeedSite) -> None:
        self.site = site
        self.arrivals: list[dict[str, Any]] = []
        self.stats: collections.Counter[str] = collections.Counter()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                body = await reader.readexactly(min(length, MAX_BODY_BYTES)) if length else b""
                status, out_headers, out_body = self.route(method, target, headers, body)
                self.stats[str(status)] += 1
                keep = headers.get("connection", "").lower() != "close"
                head_lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}"]
                head_lines += [f"{k}: {v}" for k, v in out_headers.items()]
                head_lines.append(f"Content-Length: {len(out_body)}")
                head_lines.append("Connection: keep-alive" if keep else "Connection: close")
                writer.write(("\r\n".join(head_lines) + "\r\n\r\n").encode("latin-1") + out_body)
                await writer.drain()
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    def route(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(target)
        path = url.path
        if path.startswith("/feed/") and method in ("GET", "HEAD"):
            try:
                n = int(path.removeprefix("/feed/"))
            except ValueError:
                return 404, {}, b""
            if not 0 <= n < len(self.site.models):
                return 404, {}, b""
            return self.site.respond(n, headers)
        if path == "/hook" and method == "POST":
            received = time.time()
            try:
                payload = json.loads(body)
            except ValueError:
                return 400, {}, b""
            item = payload.get("item", {}) if isinstance(payload, dict) else {}
            self.arrivals.append(
                {"received_at": received, "link": item.get("link"), "id": payload.get("id")}
            )
            return 204, {}, b""
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if path == "/admin/advance" and method == "POST":
            return _json({"cycle": self.site.cycle + 1, "added": self.site.advance()})
        if path == "/admin/publish" and method == "POST":
            return _json(self.site.publish(int(query["feed"])))
        if path == "/admin/arrivals":
            return _json(self.arrivals)
        if path == "/admin/state":
            return _json(self.site.state())
        if path == "/admin/stats":
            return _json(dict(self.stats))
        return 404, {}, b""


def _json(value: object) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(value).encode()


async def serve(feeds: int, seed: int, port: int) -> None:
    server = BenchServer(FeedSite(feeds, seed))
    listener = await asyncio.start_server(
        server.handle, "127.0.0.1", port, limit=MAX_HEADER_BYTES, backlog=1024
    )
    print(f"PORT {listener.sockets[0].getsockname()[1]}", flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    # The parent closing our stdin (or dying) also stops us: no orphan servers.
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    stdin_closed.add_done_callback(lambda _: stop.set())
    async with listener:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.feeds, args.seed, args.port))


class ServerProcess:
    """Start the bench server in a child process; stop it on exit. Admin calls are blocking."""

    def __init__(self, feeds: int, seed: int = 1, startup_timeout: float = 60.0) -> None:
        self.feeds = feeds
        self.seed = seed
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.server",
                "--feeds",
                str(self.feeds),
                "--seed",
                str(self.seed),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], self.startup_timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("PORT "):
            self.__exit__(None, None, None)
            raise RuntimeError(f"bench server did not start: {line!r}")
        self.port = int(line.split()[1])
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def feed_url(self, n: int) -> str:
        return f"{self.base}/feed/{n}"

    def admin(self, path: str, *, post: bool = False) -> Any:
        request = urllib.request.Request(
            self.base + path, method="POST" if post else "GET", data=b"" if post else None
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())


if __name__ == "__main__":
    main()
