"""The `log` channel: each alert becomes one line on the `monitor.alerts` logger."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from monitor.models import Alert, Severity
from monitor.notify.render import log_line
from monitor.notify.settings import LogSettings

alerts_log = logging.getLogger("monitor.alerts")


class LogNotifier:
    """Writes alerts to the log; high and critical alerts at WARNING so they stand out."""

    def __init__(self, settings: LogSettings) -> None:
        self.name = settings.name

    async def send(self, alert: Alert) -> None:
        level = logging.WARNING if alert.rule.severity >= Severity.HIGH else logging.INFO
        alerts_log.log(
            level,
            "%s",
            log_line(alert),
            extra={
                "notifier": self.name,
                "alert_id": alert.id,
                "rule": alert.rule.id,
                "severity": alert.rule.severity.label,
                "feed": alert.item.feed,
            },
        )

    async def send_batch(self, alerts: Sequence[Alert], batch_id: str) -> None:
        """A batch is logged as its alerts, one line each (a log has no use for one long line)."""
        for alert in alerts:
            await self.send(alert)

    async def aclose(self) -> None:
        return None
