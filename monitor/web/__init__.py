"""The page for the people on watch, and the operations endpoints, as one Starlette app."""

from monitor.web.app import build_web_app

__all__ = ["build_web_app"]
