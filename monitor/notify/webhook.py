"""The `webhook` channel: an HTTP POST of JSON following the Standard Webhooks specification.

Every attempt carries `webhook-id` (the message id: one per message, the creation of an alert or
one of its updates, and the same on every retry, so receivers can deduplicate), `webhook-timestamp`, and, when secrets are configured, `webhook-signature` with one
`v1,<base64>` signature per secret so receivers keep verifying during a key rotation.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from monitor import __version__
from monitor.errors import DeliveryError
from monitor.httpclient import make_client, parse_retry_after
from monitor.models import Alert
from monitor.notify.batch import batch_webhook_body
from monitor.notify.render import Template, webhook_body
from monitor.notify.settings import WebhookSettings

USER_AGENT = f"news-monitor/{__version__} (webhook)"
# Statuses the Standard Webhooks spec and HTTP semantics mark as worth retrying among the 4xx.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})


def signer(secret: str) -> Webhook:
    """A Standard Webhooks signer: "whsec_<base64>" is decoded, any other text is the raw key."""
    if secret.startswith("whsec_"):
        return Webhook(secret)
    return Webhook(secret.encode())


def classify(response: httpx.Response, now: float) -> DeliveryError | None:
    """None when the receiver accepted the alert, else the error saying whether to retry."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    retry_after = parse_retry_after(response.headers.get("retry-after"), now)
    if status == 410:
        return DeliveryError(
            "receiver answered 410 Gone: the endpoint was removed; notifier disabled until "
            "its configuration changes",
            disable=True,
        )
    if 300 <= status < 400:
        where = response.headers.get("location", "elsewhere")
        return DeliveryError(
            f"receiver answered {status} redirecting to {where!r}; redirects are not followed, "
            "put the final URL in the config"
        )
    if 400 <= status < 500 and status not in RETRYABLE_4XX:
        return DeliveryError(f"receiver rejected the alert with {status}", permanent=True)
    return DeliveryError(f"receiver answered {status}", retry_after=retry_after)


class WebhookNotifier:
    """Posts alerts to one URL with a client of its own from the HTTP seam (redirects are refused,
    not followed: a receiver that moved must be reconfigured)."""

    def __init__(self, settings: WebhookSettings) -> None:
        self.name = settings.name
        self.settings = settings
        self._signers = [signer(s) for s in settings.secrets]
        self._template = Template(settings.template, html=False, what=f"webhook {self.name!r}")
        self._client = make_client(user_agent=USER_AGENT, timeout=settings.timeout)

    def body(self, alert: Alert) -> str:
        """The JSON body: the user template when it renders valid JSON, else the alert payload."""
        return self._template.render(alert, webhook_body, check=json.loads)

    def headers(self, message_id: str, body: str, now: datetime) -> dict[str, str]:
        headers = dict(self.settings.headers)
        headers["content-type"] = "application/json"
        headers["webhook-id"] = message_id
        headers["webhook-timestamp"] = str(int(now.timestamp()))
        if self._signers:
            signatures = (s.sign(message_id, now, body) for s in self._signers)
            headers["webhook-signature"] = " ".join(signatures)
        return headers

    async def send(self, alert: Alert) -> None:
        await self._post(alert.message_id, self.body(alert))

    async def send_batch(self, alerts: Sequence[Alert], batch_id: str) -> None:
        """Several alerts in one POST: {"id": batch_id, "alerts": [payloads]}, webhook-id batch_id."""
        await self._post(batch_id, batch_webhook_body(alerts, batch_id))

    async def _post(self, message_id: str, body: str) -> None:
        headers = self.headers(message_id, body, datetime.now(UTC))
        request = self._client.build_request(
            "POST", self.settings.url, content=body.encode(), headers=headers
        )
        try:
            # httpx's timeout is per read; this bounds the whole exchange for a slow receiver.
            async with asyncio.timeout(self.settings.timeout):
                response = await self._client.send(request, stream=True)
                await response.aclose()  # the body is never needed, whatever its size
        except TimeoutError:
            raise DeliveryError(f"no answer within {self.settings.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"cannot reach receiver: {type(exc).__name__}: {exc}") from None
        error = classify(response, time.time())
        if error is not None:
            raise error

    async def aclose(self) -> None:
        await self._client.aclose()
