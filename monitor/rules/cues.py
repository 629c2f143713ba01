"""Built-in denial cues: a sentence holding one of these denies rather than reports.

`affirmed` conditions ignore terms in such sentences. A rulebook replaces this list by declaring
its own list named `denial`.
"""

from __future__ import annotations

DENIAL_LIST = "denial"

DENIAL_CUES: tuple[str, ...] = (
    # English
    "deny", "denies", "denied", "denying", "denial",
    "no plans", "no plan", "not planning", "not plan", "no intention", "not intend",
    "does not intend", "has no intention", "ruled out", "rules out", "rule out", "ruling out",
    "dismissed reports", "dismisses reports", "dismissed the report", "rejected reports", "rejects reports", "refuted", "refutes",
    "false", "fake news", "untrue", "not true", "baseless", "unfounded",
    "no truth", "never happened", "did not happen", "not considering", "not being considered",
    "no evidence", "hoax", "rumor", "rumors", "rumour", "rumours",
    # Spanish
    "niega", "niegan", "nego", "negaron", "negado", "desmiente", "desmienten", "desmintio",
    "desmintieron", "descarta", "descartan", "descarto", "descartaron", "no hay planes",
    "no tiene planes", "no planea", "falso", "falsa", "falsos", "noticias falsas", "bulo",
    "rechaza informes", "rechazo informes", "sin fundamento", "infundado", "infundados",
)  # fmt: skip
