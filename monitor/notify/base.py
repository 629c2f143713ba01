"""The notifier interface every channel implements, and `build_notifier` to make one from settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from monitor.models import Alert
from monitor.notify.logchannel import LogNotifier
from monitor.notify.mail import EmailNotifier
from monitor.notify.settings import (
    AppriseSettings,
    EmailSettings,
    LogSettings,
    NotifierSettings,
    WebhookSettings,
)
from monitor.notify.webhook import WebhookNotifier


class Notifier(Protocol):
    """Delivers alerts to one configured destination.

    `send` returns once the receiver has accepted the alert, or raises DeliveryError whose fields
    (permanent, retry_after, disable) tell the dispatcher what to do next. It never retries itself.
    """

    name: str

    async def send(self, alert: Alert) -> None: ...

    async def send_batch(self, alerts: Sequence[Alert], batch_id: str) -> None:
        """Several alerts as one message whose id (`batch_id`) is the same on every retry."""
        ...

    async def aclose(self) -> None: ...


def build_notifier(settings: NotifierSettings) -> Notifier:
    """The notifier for `settings` (no connection is opened until the first send)."""
    if isinstance(settings, WebhookSettings):
        return WebhookNotifier(settings)
    if isinstance(settings, EmailSettings):
        return EmailNotifier(settings)
    if isinstance(settings, AppriseSettings):
        from monitor.notify.chat import AppriseNotifier  # Apprise costs 0.2 s to import

        return AppriseNotifier(settings)
    if isinstance(settings, LogSettings):
        return LogNotifier(settings)
    raise TypeError(f"no notifier for settings of type {type(settings).__name__}")
