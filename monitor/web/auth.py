"""Who may act on the page, pure: a session cookie earned with the configured token, and the
CSRF token every action form carries.

Both are HMACs keyed by the token, so nothing is stored, changing the token ends every session,
and a cookie or form value from another daemon never verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SESSION_COOKIE = "nm_session"
SESSION_SECONDS = 12 * 3600  # one watch shift, then the token is asked for again


def _sign(token: str, message: str) -> str:
    return hmac.new(token.encode(), message.encode(), hashlib.sha256).hexdigest()


def token_matches(token: str, given: str) -> bool:
    return hmac.compare_digest(token.encode(), given.encode())


def new_session(token: str, now: float) -> str:
    """A cookie value: a random nonce and its expiry, signed."""
    body = f"{secrets.token_hex(16)}.{int(now + SESSION_SECONDS)}"
    return f"{body}.{_sign(token, 'session:' + body)}"


def session_valid(token: str, cookie: str | None, now: float) -> bool:
    if not cookie or cookie.count(".") != 2:
        return False
    body, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(_sign(token, "session:" + body), signature):
        return False
    expires = body.split(".", 1)[1]
    return expires.isdigit() and now < int(expires)


def csrf_token(token: str, cookie: str) -> str:
    """What the forms of the session `cookie` must send back; another site cannot read it."""
    return _sign(token, "csrf:" + cookie)


def csrf_valid(token: str, cookie: str, given: str) -> bool:
    return hmac.compare_digest(csrf_token(token, cookie), given)
