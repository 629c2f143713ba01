"""The operations endpoint, scraped with a real HTTP client and the Prometheus text parser."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor import http as http_module
from monitor import metrics
from monitor.app import App
from monitor.config import load_config
from monitor.errors import ConfigError
from monitor.health import Health, check_heartbeat, heartbeat_path
from monitor.http import (
    KEEP_ALIVE,
    MAX_CONNECTIONS,
    MAX_HEAD,
    READ_TIMEOUT,
    HttpServer,
    parse_listen,
    start_http_server,
)
from monitor.web.app import MAX_FORM

Scenario = Callable[[httpx.AsyncClient, Health], Awaitable[None]]

RULES = """\
rules:
  - id: http-test-rule
    title: A rule so the rulebook is not empty
    severity: low
    match: {any: [bombers]}
"""


@asynccontextmanager
async def listener(
    listen: str, health: Health, clock: Callable[[], float] = time.time
) -> AsyncIterator[HttpServer]:
    """The daemon's HTTP listener on `listen`, over an App of an empty config in a temp folder."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "rules.yaml").write_text(RULES)
        (root / "config.yaml").write_text("state: state.db\nrules: [rules.yaml]\nfeeds: []\n")
        async with App.open(load_config(root / "config.yaml")) as app:
            server = await start_http_server(listen, health, app, clock=clock)
            try:
                yield server
            finally:
                await server.close()


def serve(
    scenario: Scenario, health: Health | None = None, clock: Callable[[], float] = time.time
) -> None:
    """Run `scenario` against a server on an ephemeral loopback port, then stop it."""

    async def main() -> None:
        state = health or Health(last_tick=time.time(), ready=True)
        async with (
            listener("127.0.0.1:0", state, clock) as server,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as client,
        ):
            await scenario(client, state)

    asyncio.run(main())


class TestHealthz:
    def test_it_answers_200_while_the_loop_ticks(self) -> None:
        """A loop that ticked just now is alive."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            health.tick(time.time())
            response = await client.get("/healthz")
            assert response.status_code == 200
            assert response.text.startswith("ok")

        serve(scenario)

    def test_it_answers_503_with_the_age_when_the_loop_stalled(self) -> None:
        """A loop silent for longer than stale_after is reported with how long it has been."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            response = await client.get("/healthz")
            assert response.status_code == 503
            assert "120 s ago" in response.text

        serve(scenario, Health(last_tick=1_000_000, ready=True, stale_after=60), lambda: 1_000_120)


class TestReadyz:
    def test_it_turns_ready_once_the_daemon_says_so(self) -> None:
        """/readyz is 503 until the daemon has loaded config, opened the store and scheduled."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            assert (await client.get("/readyz")).status_code == 503
            health.ready = True
            assert (await client.get("/readyz")).status_code == 200

        serve(scenario, Health(last_tick=time.time(), ready=False))


class TestMetrics:
    def test_it_serves_the_counters_in_prometheus_text_format(self) -> None:
        """A scrape shows polls, deliveries and outbox depth as Prometheus parses them."""
        metrics.POLLS.labels(feed="http-test-feed", outcome="error").inc(3)
        metrics.DELIVERIES.labels(notifier="http-test-hook", outcome="sent").inc()
        metrics.OUTBOX_PENDING.set(7)
        timed = metrics.REGISTRY.get_sample_value("news_monitor_poll_duration_seconds_count") or 0
        metrics.POLL_DURATION.observe(0.3)

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            response = await client.get("/metrics")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain")
            samples = {
                (s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(response.text)
                for s in family.samples
            }
            polls = ("news_monitor_polls_total", (("feed", "http-test-feed"), ("outcome", "error")))
            assert samples[polls] == 3
            sent = (
                "news_monitor_deliveries_total",
                (("notifier", "http-test-hook"), ("outcome", "sent")),
            )
            assert samples[sent] == 1
            assert samples[("news_monitor_outbox_pending", ())] == 7
            assert samples[("news_monitor_poll_duration_seconds_count", ())] == timed + 1

        serve(scenario)

    def test_the_loop_tick_is_exported(self) -> None:
        """The last tick's unix time is a gauge, so an alert rule can fire on a stalled loop."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            health.tick(1_700_000_000.0)
            text = (await client.get("/metrics")).text
            families = {f.name: f for f in text_string_to_metric_families(text)}
            tick = families["news_monitor_loop_last_tick_timestamp_seconds"]
            assert tick.samples[0].value == 1_700_000_000.0

        serve(scenario)


class TestProtocol:
    def test_unknown_paths_are_404_and_other_methods_405(self) -> None:
        """Only the three endpoints exist, and only for reading."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            assert (await client.get("/nothing-here")).status_code == 404
            assert (await client.get("/healthz/../admin")).status_code == 404
            assert (await client.post("/metrics", content=b"x")).status_code == 405
            head = await client.head("/healthz")
            assert head.status_code == 200
            assert head.content == b""

        serve(scenario)

    def test_a_query_string_does_not_change_the_route(self) -> None:
        """Probes that add cache-busting parameters still reach the endpoint."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            assert (await client.get("/healthz?t=1")).status_code == 200

        serve(scenario)

    def test_a_stalled_client_does_not_block_others(self) -> None:
        """A client that sends half a request and waits never delays a health probe."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            port = client.base_url.port
            assert port is not None
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finishes its head
            await writer.drain()
            try:
                assert (await client.get("/healthz")).status_code == 200
            finally:
                writer.close()
                await writer.wait_closed()

        serve(scenario)

    def test_an_oversized_request_head_is_refused(self) -> None:
        """A request head beyond the cap gets 431 instead of growing the server's memory."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            response = await client.get("/healthz", headers={"X-Padding": "a" * (MAX_HEAD * 2)})
            assert response.status_code == 431
            almost = "a" * (MAX_HEAD - 200)
            assert (await client.get("/healthz", headers={"X-Padding": almost})).status_code == 200

        serve(scenario)

    def test_garbage_gets_400(self) -> None:
        """A request line that is not HTTP is answered, not crashed on."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            port = client.base_url.port
            assert port is not None
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"\x16\x03\x01 hello\r\n\r\n")
            answer = await reader.read()
            writer.close()
            await writer.wait_closed()
            assert answer.startswith(b"HTTP/1.1 400")

        serve(scenario)


class TestHostileClients:
    def test_a_head_sent_too_slowly_is_cut_off(self) -> None:
        """A client dripping its request head is disconnected at the head deadline."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            port = client.base_url.port
            assert port is not None
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            started = time.monotonic()
            closed_after = None
            try:
                for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n":
                    writer.write(bytes([byte]))
                    await writer.drain()
                    try:
                        if await asyncio.wait_for(reader.read(1), 0.25) == b"":
                            closed_after = time.monotonic() - started
                            break
                    except TimeoutError:
                        continue
            except ConnectionError:
                closed_after = time.monotonic() - started
            finally:
                writer.close()
            assert closed_after is not None, "the server kept a dripping client for 9 s"
            assert closed_after >= READ_TIMEOUT - 0.5

        serve(scenario)

    def test_connections_beyond_the_cap_are_closed_and_probes_work_after(self) -> None:
        """Idle connections past the cap are closed at once; once they go, probes answer again."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            port = client.base_url.port
            assert port is not None
            held = [
                await asyncio.open_connection("127.0.0.1", port) for _ in range(MAX_CONNECTIONS)
            ]
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                try:
                    answer = await asyncio.wait_for(reader.read(), 5)
                except ConnectionError:
                    answer = b""
                writer.close()
                assert answer == b""  # refused without an answer: no slot left
            finally:
                for _, idle in held:
                    idle.close()
            await asyncio.sleep(0.2)
            assert (await client.get("/healthz")).status_code == 200

        serve(scenario)

    def test_an_idle_keep_alive_connection_is_closed(self) -> None:
        """After its answer, a connection that sends nothing more is closed at KEEP_ALIVE."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            port = client.base_url.port
            assert port is not None
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            await reader.readuntil(b"ok: loop ticked")
            answered = time.monotonic()
            while await asyncio.wait_for(reader.read(4096), KEEP_ALIVE + 5):
                pass
            idle = time.monotonic() - answered
            writer.close()
            assert KEEP_ALIVE - 0.5 <= idle <= KEEP_ALIVE + 3

        serve(scenario)

    def test_a_client_that_stops_reading_is_dropped(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A scraper that never reads a large answer is cut off once the buffer stays full for
        WRITE_TIMEOUT (1 s here), instead of holding a request slot for ever."""
        monkeypatch.setattr(http_module, "WRITE_TIMEOUT", 1.0)
        feeds = [f"write-deadline-feed-{n:05d}-{'x' * 60}" for n in range(40_000)]
        for feed in feeds:
            metrics.POLLS.labels(feed=feed, outcome="ok").inc()

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            port = client.base_url.port
            assert port is not None
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(6)  # never read: the server's buffer fills and stays full
            received = 0
            try:
                while chunk := await asyncio.wait_for(reader.read(65536), 5):
                    received += len(chunk)
            except ConnectionError:
                pass
            writer.close()
            assert received < 3_000_000, "the whole answer was kept for a client not reading"
            assert (await client.get("/healthz")).status_code == 200

        try:
            serve(scenario)
        finally:
            for feed in feeds:
                metrics.POLLS.remove(feed, "ok")

    def test_a_form_body_beyond_the_cap_is_refused(self) -> None:
        """An action's body is read up to 16 kB, not into memory without bound."""

        async def scenario(client: httpx.AsyncClient, health: Health) -> None:
            response = await client.post("/actions/silence", content=b"a" * (MAX_FORM + 1))
            assert response.status_code == 413

        serve(scenario)


class TestListen:
    @pytest.mark.parametrize(
        ("listen", "expected"),
        [
            ("127.0.0.1:8080", ("127.0.0.1", 8080)),
            ("0.0.0.0:9100", ("0.0.0.0", 9100)),
            ("[::1]:8080", ("::1", 8080)),
        ],
    )
    def test_it_reads_host_and_port(self, listen: str, expected: tuple[str, int]) -> None:
        """IPv4, any-address and bracketed IPv6 forms are understood."""
        assert parse_listen(listen) == expected

    @pytest.mark.parametrize("listen", ["8080", "localhost", ":8080", "host:http", "h:70000"])
    def test_it_quotes_a_bad_address(self, listen: str) -> None:
        """A bad address is refused with the value quoted."""
        with pytest.raises(ValueError, match=repr(listen)):
            parse_listen(listen)

    def test_it_serves_on_ipv6_loopback(self) -> None:
        """`[::1]:port` binds the IPv6 loopback."""
        if not socket.has_ipv6:
            pytest.skip("no IPv6 on this machine")

        async def main() -> int:
            try:
                async with (
                    listener("[::1]:0", Health(last_tick=time.time())) as server,
                    httpx.AsyncClient(timeout=10) as client,
                ):
                    return (await client.get(f"http://[::1]:{server.port}/healthz")).status_code
            except ConfigError as exc:
                pytest.skip(f"cannot bind ::1 here: {exc}")

        assert asyncio.run(main()) == 200


class TestHeartbeat:
    def test_a_fresh_heartbeat_is_healthy_and_an_old_one_is_not(self, tmp_path: Path) -> None:
        """The container health check passes while the loop ticks and fails once it stalls."""
        beat = heartbeat_path(tmp_path / "news-monitor.db")
        health = Health(last_tick=0, heartbeat=beat)
        health.tick(1_000_000.0)
        assert check_heartbeat(beat, now=1_000_010.0) is None
        problem = check_heartbeat(beat, now=1_000_100.0)
        assert problem is not None
        assert "100 s ago" in problem

    def test_a_heartbeat_that_cannot_be_written_does_not_stop_the_loop(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A vanished /data makes the health check fail, not the tick that also watches files."""
        beat = tmp_path / "gone" / "news-monitor.db.heartbeat"
        health = Health(last_tick=0, heartbeat=beat)
        health.tick(1_000_000.0)
        health.tick(1_000_002.0)
        assert health.last_tick == 1_000_002.0
        assert [r.getMessage() for r in caplog.records if "heartbeat" in r.getMessage()] == [
            f"cannot write heartbeat {beat}: No such file or directory"
        ]

    def test_a_missing_heartbeat_is_unhealthy(self, tmp_path: Path) -> None:
        """Before the loop first ticks there is nothing to vouch for it."""
        problem = check_heartbeat(tmp_path / "absent.heartbeat", now=time.time())
        assert problem is not None
        assert "no heartbeat" in problem

    def test_stale_after_must_be_positive(self) -> None:
        """A zero limit would make every probe fail; it is refused where it is set."""
        with pytest.raises(ValueError, match="0"):
            Health(last_tick=0, stale_after=0)
