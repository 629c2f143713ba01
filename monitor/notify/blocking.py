"""Blocking channel libraries (smtplib, Apprise) run in threads of their own, each call under a
total deadline.

A channel gets a fixed number of thread slots. A call that outlives its deadline is abandoned
(and, when the channel can, aborted by closing its socket) but keeps its slot until its thread
really ends, so a stuck receiver can exhaust only its own channel's slots: never the event loop's
default executor, which parses feeds and ticks the heartbeat. The threads are daemon threads, so
a call stuck in a receiver that never answers cannot hold up the process's exit either.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

from monitor.errors import DeliveryError

_T = TypeVar("_T")


def _settle(future: asyncio.Future[_T], result: _T | None, error: BaseException | None) -> None:
    if future.done():
        return  # abandoned at its deadline
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


class BlockingRunner:
    """Runs blocking calls for one channel in at most `slots` threads at a time."""

    def __init__(self, name: str, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots!r}")
        self.name = name
        self.slots = slots
        self._free = asyncio.Semaphore(slots)
        self._busy = 0  # threads running now, including abandoned ones
        self._lock = threading.Lock()

    @property
    def busy(self) -> int:
        with self._lock:
            return self._busy

    async def run(
        self,
        call: Callable[[], _T],
        deadline: float,
        abort: Callable[[], None] | None = None,
    ) -> _T:
        """`call()` in a thread of this channel; DeliveryError once `deadline` seconds have passed,
        waiting for a free slot included (then `abort()` is asked to make the thread end soon)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        started = False
        try:
            async with asyncio.timeout(deadline):
                await self._free.acquire()
                started = True
                self._start(call, loop, future)
                return await asyncio.shield(future)
        except TimeoutError:
            if not started:
                raise DeliveryError(
                    f"no free worker within {deadline:g}s: all {self.slots} of {self.name}'s "
                    "sends are still waiting on a receiver that does not answer"
                ) from None
            raise DeliveryError(f"no answer within {deadline:g}s") from None
        finally:
            if started and not future.done():
                future.cancel()  # its thread's result, when it comes, is dropped
                if abort is not None:
                    abort()

    def _start(
        self, call: Callable[[], _T], loop: asyncio.AbstractEventLoop, future: asyncio.Future[_T]
    ) -> None:
        def work() -> None:
            result: _T | None = None
            error: BaseException | None = None
            try:
                result = call()
            except BaseException as exc:  # handed to the awaiting task, which decides
                error = exc
            with self._lock:
                self._busy -= 1
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
                loop.call_soon_threadsafe(self._free.release)
            except RuntimeError:
                pass  # the loop has closed: nobody waits for this call any more

        with self._lock:
            self._busy += 1
        threading.Thread(target=work, name=f"{self.name}-send", daemon=True).start()
