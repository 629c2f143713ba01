"""Built-in cue sets: a sentence holding one of these cues does not report an escalation.

    denial      it denies ("denied", "no plans to", "descartó")
    reversal    it reports a step back ("sails home", "reopens the embassy", "se retira")
    commentary  it comments, asks or predicts ("legal questions", "could", "analysts say");
                a question is commentary too, and so is every sentence of an item whose
                headline opens with a label ("Analysis:", "Opinión |")

`affirmed` conditions ignore terms in denials; `outside: [reversal, commentary]` in the others.
A cue is undone by a phrase of the `not_<set>` list in the same sentence ("does not rule out",
"no descarta"). A rulebook replaces any of these lists by declaring its own list of that name,
and any list it declares can serve as a cue set.
"""

from __future__ import annotations

DENIAL_LIST = "denial"
UNDO_PREFIX = "not_"
LABEL_SUFFIX = "_label"
QUESTION_CUES = frozenset({"commentary"})  # the cue sets a question belongs to

DENIAL_CUES: tuple[str, ...] = (
    # English
    "deny", "denies", "denied", "denying", "denial",
    "no plans", "no plan", "not planning", "not preparing", "no se prepara", "not plan", "no intention", "not intend",
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

REVERSAL_CUES: tuple[str, ...] = (
    # English: ships and troops going home or elsewhere, exercises ending, links restored
    "return home", "returns home", "returned home", "returning home", "head home", "heads home",
    "headed home", "heading home", "sail home", "sails home", "sailed home", "sailing home",
    "homecoming", "come home", "comes home", "came home", "back home", "sent home",
    "returns to port", "returned to port", "returning to port", "return to port",
    "leaves the Caribbean", "left the Caribbean", "leaving the Caribbean", "leave the Caribbean",
    "departs the Caribbean", "departed the Caribbean", "redeployed to", "redeploys to",
    "reassigned to", "withdraws", "withdrew", "withdrawn", "withdrawal", "withdrawing",
    "pulls out", "pulled out", "pulling out", "pulls back", "pulled back", "pullback",
    "drawdown", "draws down", "drew down", "drawing down", "scales back", "scaled back",
    "scaling back", "winds down", "wound down", "winding down", "stood down", "stand down",
    "stands down", "standing down", "demobilize", "demobilizes", "demobilized", "demobilise",
    "demobilises", "demobilised", "demobilization", "demobilisation",
    "exercise ends", "exercises end", "exercise ended", "exercises ended", "drills end",
    "drills ended", "ends exercise", "ends exercises", "ended exercises", "ends drills",
    "ended drills", "concludes", "concluded", "wraps up", "wrapped up",
    "called off", "calls off", "cancels", "cancelled", "canceled", "postpones", "postponed",
    "reopen", "reopens", "reopened", "reopening", "resume", "resumes", "resumed", "resuming",
    "resumption", "restore", "restores", "restored", "restoring", "restoration", "lifts",
    "lifted", "de-escalate", "de-escalates", "de-escalation", "deescalation", "thaw",
    "normalise", "normalize", "normalised", "normalized", "normalisation", "normalization",
    # Spanish
    "regresa", "regresan", "regreso", "regresaron", "retorna", "retornan", "retorno",
    "vuelve a casa", "vuelven a casa", "volvio a casa", "se retira", "se retiran", "se retiro",
    "retira", "retiran", "retiro", "retirada", "repliegue", "repliega", "reanuda", "reanudan",
    "reanudo", "reanudaron", "reanudacion", "restablece", "restablecen", "restablecio",
    "restablecimiento", "reabre", "reabren", "reabrio", "reapertura", "levanta", "levanto",
    "cancela", "cancelan", "cancelo", "cancelado", "cancelada", "suspende los ejercicios",
    "concluye", "concluyen", "concluyo", "finaliza", "finalizan", "finalizo", "desmoviliza",
    "desmovilizan", "desmovilizacion", "distension", "desescalada", "desescalar",
    "normaliza", "normalizan", "normalizacion",
)  # fmt: skip

NOT_REVERSAL_CUES: tuple[str, ...] = (
    "no longer", "refuses to withdraw", "will not withdraw", "won't withdraw",
    "withdraws its ambassador", "withdrew its ambassador", "withdraws ambassador",
    "withdraw its ambassador", "withdraws diplomats", "withdrew diplomats",
    "withdraws its diplomats", "withdrew its diplomats", "withdraws embassy staff",
    "withdrew embassy staff", "withdraws recognition", "withdrew recognition",
    "withdraws from talks", "withdrew from talks", "retira a su embajador", "retiro a su embajador",
    "retira a sus diplomaticos", "retiro a sus diplomaticos", "retira al personal",
    "retiro al personal", "retira su reconocimiento",
    "strikes resume", "resumes strikes", "resumed strikes", "reanuda los ataques",
)  # fmt: skip

COMMENTARY_CUES: tuple[str, ...] = (
    # English: legality, hearings and votes, analysis, forecasts, appeals for calm
    "legal questions", "legal question", "legality", "lawfulness", "lawful", "unlawful",
    "illegal", "war powers resolution", "war powers vote", "hearing on", "hearings", "senate hearing", "congressional hearing", "testify", "testifies", "testified",
    "congressional", "questions over", "questions about",
    "questions mount", "questions grow", "questioned", "questioning", "critics", "criticism",
    "criticise", "criticize", "criticised", "criticized", "analyst", "analysts", "experts say", "expert says", "opinion", "op-ed",
    "editorial", "explainer", "what we know", "what to know", "podcast",
    "predict", "predicts", "predicted", "prediction", "forecast",
    "forecasts", "could happen", "might happen", "what would", "what could", "what might",
    "scenario", "scenarios", "speculation", "speculate", "what if", "how a",
    "risk of", "risks of", "prospect of", "prospects of",
    "possibility of", "odds of", "betting", "bets", "prediction market", "calls for dialogue",
    "call for dialogue", "calls for restraint", "urges restraint", "urge restraint",
    "urges dialogue", "calls for calm", "peaceful solution", "peaceful resolution",
    "diplomatic solution", "poll", "polls", "survey", "anniversary",
    # Spanish
    "legalidad", "ilegal", "ilegales", "ilegalidad", "audiencia",
    "cuestiona", "cuestionan", "cuestionamientos", "criticos",
    "analista", "analistas", "expertos",
    "opinion", "columna", "editorial", "pronostico", "pronostica",
    "escenario", "escenarios", "especulacion", "que pasaria",
    "riesgo de", "posibilidad de", "pide dialogo", "piden dialogo", "llama al dialogo",
    "llaman al dialogo", "insta al dialogo", "pide moderacion", "solucion pacifica",
    "salida pacifica", "encuesta", "sondeo", "aniversario",
)  # fmt: skip

NOT_COMMENTARY_CUES: tuple[str, ...] = ()

COMMENTARY_LABELS: tuple[str, ...] = (
    "analysis", "opinion", "op-ed", "oped", "editorial", "explainer", "explained", "column",
    "commentary", "comment", "perspective", "view", "viewpoint", "podcast", "fact check",
    "q&a", "analisis", "opinion", "columna", "tribuna", "editorial", "claves", "explicador",
)  # fmt: skip

BUILTIN_LISTS: dict[str, tuple[str, ...]] = {
    "denial": DENIAL_CUES,
    "not_denial": NOT_DENIAL_CUES,
    "reversal": REVERSAL_CUES,
    "not_reversal": NOT_REVERSAL_CUES,
    "commentary": COMMENTARY_CUES,
    "not_commentary": NOT_COMMENTARY_CUES,
    "commentary_label": COMMENTARY_LABELS,
}
