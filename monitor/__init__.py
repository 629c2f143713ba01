"""news-monitor: poll news feeds, match new items against YAML rules, alert once per event."""

__version__ = "0.1.0"
