"""Delivering alerts: one module per channel, settings parsed from config, pure rendering.

settings.py    NotifierSettings per channel type, parse_notifier() for config.yaml
base.py        the Notifier protocol and build_notifier()
webhook.py     Standard Webhooks signed HTTP POST
mail.py        SMTP with STARTTLS / implicit TLS
chat.py        Apprise (Slack, Discord, Teams, Telegram, ntfy, Matrix, ...)
logchannel.py  one log line per alert
render.py      default renderings, sanitising, user Jinja2 templates
"""

from monitor.notify.base import Notifier, build_notifier
from monitor.notify.settings import NotifierSettings, parse_notifier

__all__ = ["Notifier", "NotifierSettings", "build_notifier", "parse_notifier"]
