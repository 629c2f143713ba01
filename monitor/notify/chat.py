"""The `apprise` channel: chat and push services (Slack, Discord, Teams, Telegram, ntfy, Matrix...)
through the Apprise library, run in threads of this notifier's own because Apprise blocks.

`timeout` bounds each service's send whole. Apprise cannot be interrupted, so a send to a service
that drips its answer keeps its thread until the service lets go; such threads count against
this notifier's slots only (see monitor/notify/blocking.py).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import apprise

from monitor.errors import DeliveryError
from monitor.models import Alert, Severity
from monitor.notify.batch import batch_chat_body, batch_chat_title
from monitor.notify.blocking import BlockingRunner
from monitor.notify.render import Template, chat_body, chat_title
from monitor.notify.settings import AppriseSettings

_NOTIFY_TYPES = {
    Severity.INFO: apprise.NotifyType.INFO,
    Severity.LOW: apprise.NotifyType.INFO,
    Severity.MEDIUM: apprise.NotifyType.WARNING,
    Severity.HIGH: apprise.NotifyType.WARNING,
    Severity.CRITICAL: apprise.NotifyType.FAILURE,
}
# Apprise sends one notifier may have running at once, stuck ones included, at least (more when
# its `concurrency` asks for more in flight).
SLOTS = 4


class AppriseNotifier:
    """Sends each alert to every configured URL. A retry after a partial failure goes only to
    the URLs that failed, so one service being down does not duplicate the alert on the others
    (while this process runs; after a restart the retry goes to all of them)."""

    def __init__(self, settings: AppriseSettings) -> None:
        self.name = settings.name
        self.settings = settings
        self._template = Template(settings.template, html=False, what=f"apprise {self.name!r}")
        self._services: list[apprise.Apprise] = []
        for url in settings.urls:
            service = apprise.Apprise()
            service.add(url)
            self._services.append(service)
        self._done: dict[str, set[int]] = {}  # alert id -> indexes of URLs that already have it
        self._runner = BlockingRunner(f"apprise {self.name!r}", max(SLOTS, settings.concurrency))

    def _notify(self, index: int, title: str, body: str, kind: apprise.NotifyType) -> bool:
        return bool(self._services[index].notify(body=body, title=title, notify_type=kind))

    async def send(self, alert: Alert) -> None:
        body = self._template.render(alert, chat_body)
        await self._post(
            alert.message_id, chat_title(alert), body, _NOTIFY_TYPES[alert.rule.severity]
        )

    async def send_batch(self, alerts: Sequence[Alert], batch_id: str) -> None:
        """One chat message listing every alert of a group window or digest."""
        kind = _NOTIFY_TYPES[max(a.rule.severity for a in alerts)]
        await self._post(batch_id, batch_chat_title(alerts), batch_chat_body(alerts), kind)

    async def _post(self, message_id: str, title: str, body: str, kind: apprise.NotifyType) -> None:
        done = self._done.setdefault(message_id, set())
        failed = 0
        for index in range(len(self._services)):
            if index in done:
                continue
            try:
                call = functools.partial(self._notify, index, title, body, kind)
                ok = await self._runner.run(call, self.settings.timeout)
            except DeliveryError:
                ok = False
            if ok:
                done.add(index)
            else:
                failed += 1
        if failed:
            raise DeliveryError(
                f"{failed} of {len(self._services)} Apprise services did not accept the alert "
                "(Apprise logs the reason on the 'apprise' logger)"
            )
        del self._done[message_id]

    async def aclose(self) -> None:
        return None
