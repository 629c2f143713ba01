"""Built-in denial cues: a sentence holding one of these denies rather than reports.

`affirmed` conditions ignore terms in such sentences, unless the sentence also holds a cue that
undoes the denial ("does not rule out", "no descarta"). A rulebook replaces either list by
declaring its own list named `denial` or `not_denial`.
"""

from __future__ import annotations

DENIAL_LIST = "denial"
NOT_DENIAL_LIST = "not_denial"

DENIAL_CUES: tuple[str, ...] = (
    # English
    "deny", "denies", "denied", "denying", "denial",
    "no plans", "no plan", "not planning", "not plan", "no intention", "not intend",
    "does not intend", "has no intention", "ruled out", "rules out", "rule out", "ruling out",
    "dismissed reports", "dismisses reports", "dismissed the report", "rejected reports", "rejects reports", "refuted", "refutes",
    "rejects claims", "rejected claims", "rejects the claim", "rejected the claim", "dismisses claims",
    "dismissed claims", "not true that", "no such plans", "not seeking", "not looking to",
    "false", "fake news", "untrue", "not true", "baseless", "unfounded",
    "no truth", "never happened", "did not happen", "not considering", "not being considered",
    "no evidence", "hoax", "rumor", "rumors", "rumour", "rumours",
    "no decision", "not decided", "has not decided", "undecided",
    "never authorized", "never authorised", "never approved", "never ordered",
    "did not authorize", "did not authorise", "didn't authorize", "didn't authorise",
    "not looking at", "no such order", "no order", "no orders", "has not ordered", "have not ordered",
    "no mobilization", "no mobilisation", "no deployment", "no troop movements",
    "nothing planned", "not sending", "not going to send", "won't send", "will not send",
    "not deploying", "won't deploy", "will not deploy", "not going to invade", "won't invade",
    "will not invade", "not invading", "there are no", "there is no", "there have been no",
    "there has been no",
    # Spanish
    "niega", "niegan", "nego", "negaron", "negado", "desmiente", "desmienten", "desmintio",
    "desmintieron", "nunca autorizo", "no autorizo", "descarta", "descartan", "descarto", "descartaron", "no hay planes",
    "no tiene planes", "no planea", "falso", "falsa", "falsos", "noticias falsas", "bulo",
    "rechaza informes", "rechazo informes", "rechaza acusaciones", "rechazo acusaciones", "ninguna decision", "no se ha decidido", "sin fundamento", "infundado", "infundados",
    "no hay movilizacion", "no hay despliegue", "no hay tropas", "no hay ningun", "no hay ninguna",
    "ningun despliegue", "ninguna movilizacion", "no hay orden", "ninguna orden", "por ahora no",
    "no enviara", "no enviaremos", "no vamos a enviar", "no desplegara", "no invadira", "no vamos a invadir",
)  # fmt: skip

NOT_DENIAL_CUES: tuple[str, ...] = (
    "not rule out", "not ruling out", "not ruled out", "won't rule out", "wouldn't rule out",
    "refused to rule out", "declined to rule out", "refuses to rule out", "declines to rule out",
    "did not deny", "does not deny", "didn't deny", "doesn't deny", "would not deny",
    "no doubt", "there is no doubt", "no question", "no longer",
    "no descarta", "no descartó", "no descartan", "no lo descarta", "no niega", "no negó",
)  # fmt: skip
