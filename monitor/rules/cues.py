"""Built-in cue sets: a sentence holding one of these cues does not report an escalation.

    denial      it denies ("denied", "no plans to", "descartó")
    reversal    it reports a step back ("sails home", "reopens the embassy", "se retira")
    commentary  it comments, asks or predicts ("legal questions", "could", "analysts say");
                a question is commentary too, and so is every sentence of an item whose
                headline opens with a label ("Analysis:", "Opinión |") or is all commentary
                (a headline that is all reversal makes the item a reversal too)

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
# A headline wholly in one of these sets puts the item in it: the summary is background. Not
# denial: "Pentagon denies plans" above "A strike hit a boat on Monday" still reports the strike.
HEADLINE_WIDE_CUES = frozenset({"commentary", "reversal"})

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
    "there has been no", "does not have troops", "does not maintain", "do not have troops",
    "has no troops", "know of anyone", "downplays", "downplayed", "downplaying", "plays down",
    "played down", "playing down", "dismisses talk", "dismissed talk", "dismisses the possibility",
    "dismissed the possibility", "dismisses potential", "dismisses speculation",
    "dismissed speculation", "was not an act of war", "is not an act of war", "not at war",
    "brushes off", "brushed off", "brushing off", "brushes aside", "brushed aside", "shrugs off",
    "shrugged off", "not going to war", "won't go to war", "will not go to war", "doesn't want war",
    "does not want war", "walks back", "walked back", "walking back", "backtracks", "backtracked",
    "says no when asked", "said no when asked", "not on the table", "off the table", "not imminent", "isn't planning", "isn't preparing",
    "isn't considering", "aren't planning", "not planning to", "won't strike", "won't attack",
    "has not been ordered", "have not been ordered", "not been ordered", "has not received orders",
    "rejected media", "rejects media", "rejected the reports", "rejects the reports",
    "rejected accounts", "rejects accounts", "declines to confirm", "declined to confirm",
    "play down", "overblown", "exaggerated", "not a signal", "not a message", "not directed at",
    "not aimed at", "are routine", "were routine", "is routine", "was routine", "son rutinarios",
    "es rutinario", "on a routine", "patrulla de rutina", "patrulla rutinaria", "does not confirm", "did not confirm", "would not confirm", "won't confirm",
    "declines to comment", "declined to comment", "is only for", "are only for",
    "solely for", "is not for", "are not for", "not meant for", "not intended for", "no forces on the ground", "no troops on the ground",
    "no boots on the ground", "does not have forces", "doesn't have forces", "did not order",
    "didn't order", "did not see", "didn't see", "did not watch", "fog of war",
    "no u.s. forces", "no us forces", "no american forces", "no u.s. troops", "no us troops",
    "says no", "said no", "say no", "no such", "were not american", "was not american", "not an act of war", "never asked", "never requested",
    "still in the dark", "no concrete evidence", "no hard evidence", "was not needed",
    "wasn't needed", "was not necessary", "wasn't necessary", "ridicules", "ridiculed", "mocks",
    "mocked", "scoffs", "scoffed", "smokescreen", "smoke screen",
    # Spanish
    "niega", "niegan", "nego", "negaron", "negado", "desmiente", "desmienten", "desmintio",
    "desmintieron", "nunca autorizo", "no autorizo", "descarta", "descartan", "descarto", "descartaron", "no hay planes",
    "no tiene planes", "no planea", "falso", "falsa", "falsos", "noticias falsas", "bulo",
    "rechaza informes", "rechazo informes", "rechaza acusaciones", "rechazo acusaciones", "ninguna decision", "no se ha decidido", "sin fundamento", "infundado", "infundados",
    "no hay movilizacion", "no hay despliegue", "no hay tropas", "no hay ningun", "no hay ninguna",
    "ningun despliegue", "ninguna movilizacion", "no hay orden", "ninguna orden", "por ahora no",
    "no tiene tropas", "no mantiene tropas", "minimiza", "minimizo", "resta importancia",
    "no fue un acto de guerra", "no es un acto de guerra",
    "no enviara", "no enviaremos", "no vamos a enviar", "no desplegara", "no invadira", "no vamos a invadir",
    "no habra guerra", "no busca la guerra", "no busca una guerra", "no quiere la guerra",
    "no quiere una guerra", "no vamos a la guerra", "recula", "reculo", "se retracta", "se retracto", "no esta sobre la mesa", "no es inminente", "rechaza que", "rechazo que", "no esta preparando", "no prepara", "no esta planeando", "no planea", "no tiene intencion",
    "no contempla", "no considera", "no esta considerando", "not postured", "is not postured",
    "no ha decidido", "no ha tomado una decision",
    "no ha recibido ordenes", "no ha recibido orden", "no recibio ordenes", "no ordeno", "no vio",
    "no estaba mirando", "es solo para", "son solo para", "solo es para", "no es para",
    "no son para", "no esta dirigido",
    "no va dirigido", "no iba dirigido", "no tiene fuerzas", "no hay fuerzas", "no confirma",
    "no confirmo", "no confirmaron",
    "confusion de la guerra", "niebla de la guerra",
    "no hubo orden", "no hubo ninguna orden", "no hubo una orden", "nunca ha solicitado",
    "nunca solicito", "nunca pidio", "nunca ha pedido", "no fue necesaria", "no fue necesario",
    "no hizo falta", "ridiculiza", "ridiculizo", "ridiculizado", "ridiculizan", "ironiza",
    "ironizo", "se burla", "se burlo", "vendedera de humo", "cortina de humo", "no vamos a mandar", "no mandara",
    "no mandaremos", "no se corresponden con la realidad", "no se corresponde con la realidad",
    "no corresponde a la realidad",
)  # fmt: skip

NOT_DENIAL_CUES: tuple[str, ...] = (
    "not rule out", "not ruling out", "not ruled out", "won't rule out", "wouldn't rule out",
    "refused to rule out", "declined to rule out", "refuses to rule out", "declines to rule out",
    "did not deny", "does not deny", "didn't deny", "doesn't deny", "would not deny",
    "false flag", "false-flag", "falsa bandera", "falsos positivos",
    "no doubt", "there is no doubt", "no one", "nobody", "no more", "no question", "no longer", "despite denials", "despite the denial", "despite denial", "despite denying",
    "pese a negar", "a pesar de negar",
    "despite trump's denial", "despite his denial", "despite official denials",
    "pese a la negativa", "pese al desmentido", "a pesar de la negativa", "a pesar del desmentido",
    "nothing is off the table", "nothing off the table", "nada esta descartado",
    # "Denies" as refuses: "denies overflight rights", "niega el permiso de sobrevuelo"
    "denies overflight", "denied overflight", "denies landing", "denied landing",
    "denies entry", "denied entry", "denies permission", "denied permission",
    "niega el permiso", "nego el permiso", "niega permisos", "niega el sobrevuelo", "no descarta", "no descartó", "no descartan", "no lo descarta", "no niega", "no negó",
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
    "end as planned", "ended as planned", "returned to base", "return to base",
    "returns to base", "called off", "calls off", "cancels", "cancelled", "canceled", "postpones", "postponed",
    "reopen the embassy", "reopens the embassy", "reopening the embassy", "reopen embassies",
    "reopening embassies", "reopening embassy", "reopens embassy", "flights resume",
    "flights resumed", "resume flights", "resumes flights", "resumed flights", "restores ties",
    "restored ties", "restore ties", "restores relations", "restored relations", "de-escalate", "de-escalates", "de-escalation", "deescalation", "thaw",
    "normalise", "normalize", "normalised", "normalized", "normalisation", "normalization",
    "~head back", "~sail back", "~fly back", "send home", "sends home", "sent home", "sending home",
    "ended", "ends", "came to an end", "comes to an end", "lifted", "lifts", "lifting",
    "eases", "eased", "easing tensions", "prisoner swap", "prisoner exchange", "swap",
    "~pause", "no new strikes", "departs Caribbean", "departed Caribbean", "leaves Caribbean", "left Caribbean",
    "frees", "freed",
    "returns to Norfolk", "returned to Norfolk", "back to Norfolk", "back in Norfolk",
    "arrives in Norfolk", "arrived in Norfolk", "home port", "homeport",
    "withdraw from", "trims its", "trimmed its", "trims the", "scales down", "scaled down",
    "reduces its deployment", "reduced its deployment", "reduces its presence",
    "reduce its presence", "reduces presence",
    "reducing its presence", "cuts troop levels", "cutting troop levels", "cut troop levels",
    "troop cuts", "out of the Caribbean", "moved north of", "alert level drops",
    "alert level was lowered", "lowers the alert level", "lowered the alert level",
    "return to their jobs", "resumption of flights", "resuming flights", "resume service",
    "resumes service",
    "to the Mediterranean", "for the Mediterranean", "to the Middle East", "for the Middle East",
    "reduces", "reduced", "reducing", "decreases", "decreased", "decreasing", "reduction in",
    "~pull ships", "~pull warships", "~pull its ships", "~pull destroyers", "~pull forces",
    "shifts from", "shifted from", "shift from", "begun to thin", "began to thin", "thinning",
    "sails for norfolk", "sailed for norfolk", "for norfolk", "to norfolk", "ending",
    "to be removed", "will be removed", "be dismantled",
    # Spanish
    "regresa", "regresan", "regreso", "regresaron", "llega a norfolk", "llego a norfolk",
    "retorna", "retornan", "retorno",
    "vuelve a casa", "vuelven a casa", "volvio a casa", "se retira", "se retiran", "se retiro",
    "retira", "retiran", "retiro", "retirada", "repliegue", "repliega",
    "se reanudan los vuelos", "reanudan los vuelos", "reanuda los vuelos", "restablece relaciones",
    "restablecen relaciones", "restablecimiento de relaciones", "reabre la embajada",
    "reabren la embajada", "reapertura de la embajada", "reapertura de embajadas",
    "cancela", "cancelan", "cancelo", "cancelado", "cancelada", "suspende los ejercicios",
    "concluye", "concluyen", "concluyo", "finaliza", "finalizan", "finalizo", "desmoviliza",
    "desmovilizan", "desmovilizacion", "distension", "desescalada", "desescalar",
    "normaliza", "normalizan", "normalizacion",
    "abandona el caribe", "abandonan el caribe", "abandono el caribe", "deja el caribe",
    "dejan el caribe", "dejo el caribe", "sale del caribe", "salio del caribe", "rumbo a europa",
    "rumbo al mediterraneo", "hacia el mediterraneo", "levanta", "levantan", "levanto",
    "a sus hogares", "a sus casas", "baja la tension", "bajan las tensiones",
    "canje", "pausa", "pausan", "pauso", "libera", "libero", "liberan", "liberaron", "excarcela", "excarcelo",
    "reduce presencia", "reduce su presencia", "reduce la presencia", "reduce despliegue",
    "reduce su despliegue", "reduce el despliegue", "reducir su despliegue", "reducir el despliegue",
    "reduccion de su despliegue", "reduccion del despliegue", "reduccion gradual", "reducido el volumen",
    "reubica", "reubican", "reubico", "reubicar", "reubicacion", "fuera del caribe", "del caribe al norte",
    "baja el nivel de alerta", "bajo el nivel de alerta", "reanudar vuelos", "reanudar sus vuelos",
    "reanudar los vuelos", "reanudara sus vuelos", "reanudaran sus vuelos", "reanudacion de vuelos",
    "reanudacion de los vuelos", "restablecimiento de operaciones", "restablecimiento de vuelos",
    "pone rumbo a", "ponen rumbo a", "puso rumbo a", "rumbo a virginia", "rumbo a norfolk",
    "adios al", "reduce el numero", "reducen el numero", "redujo el numero", "disminuye",
    "disminuyen", "disminuyo",
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
    "survivor", "survivors", "sobreviviente", "sobrevivientes", "superviviente", "supervivientes",
    "lifting force", "lifting the force", "lifting its force", "more aircraft", "more warships",
    "more ships", "more troops", "more jets", "bringing the total", "raising the total",
)  # fmt: skip

COMMENTARY_CUES: tuple[str, ...] = (
    # English: legality, hearings and votes, analysis, forecasts, appeals for calm
    "legal questions", "legal question", "legality", "lawfulness", "lawful", "unlawful",
    "illegal", "war powers resolution", "war powers vote", "hearing on", "hearings", "senate hearing", "congressional hearing", "testify", "testifies", "testified",
    "congressional", "questions over", "questions about",
    "questions mount", "questions grow", "questioned", "questioning", "critics", "criticism",
    "criticise", "criticize", "criticised", "criticized", "experts say", "expert says", "opinion", "op-ed",
    "editorial", "explainer", "what we know", "what to know", "podcast",
    "predict", "predicts", "predicted", "prediction", "forecast",
    "forecasts", "could happen", "might happen", "what would", "what could", "what might",
    "scenario", "scenarios", "what if", "how a",
    "risk of", "risks of", "prospect of", "prospects of",
    "possibility of", "odds of", "betting", "bets", "prediction market", "calls for dialogue",
    "call for dialogue", "calls for restraint", "urges restraint", "urge restraint",
    "urges dialogue", "calls for calm", "peaceful solution", "peaceful resolution",
    "diplomatic solution", "poll", "polls", "survey", "anniversary", "raised questions",
    "raises questions", "raise questions", "legitimacy", "extrajudicial", "human rights watch",
    "amnesty international", "rights group", "rights groups", "watchdog", "sue", "sues", "suing",
    "lawsuit", "lawsuits", "wrongful death", "peace efforts", "land of peace", "zone of peace",
    "calls for peace", "urges peace", "un analisis", "an analysis of", "backs", "backed the",
    "defends", "defended", "praises", "praised", "supports", "voices support",
    "a look back", "looks back", "what it tells us", "what it means", "reconstructed",
    "file suit", "files suit", "filed suit",
    "express concern", "expresses concern", "expressed concern", "voice concern",
    "voices concern", "voiced concern", "expresa preocupacion", "expresan preocupacion",
    "expreso preocupacion", "expresaron preocupacion", "anti-war", "antiwar", "protesters",
    "protestors", "manifestantes", "protest against", "protestas contra", "marcha contra",
    "prays for peace", "pray for peace", "ora por la paz", "pide por la paz", "what it means",
    "what this means", "means for", "que significa", "lo que significa", "a look back",
    "explained", "mapping", "in maps", "in charts", "en mapas", "en graficos", "a mistake", "historic mistake", "un error", "blunder",
    "things to know", "cosas que saber", "claves para entender", "explicamos", "te explicamos",
    "lo que se sabe", "lo que hay que saber",
    "demand answers", "demands answers", "demanded answers", "piden explicaciones",
    "exigen explicaciones", "pidieron explicaciones", "warns against", "warned against",
    "cautions against", "advierte contra", "advirtio contra", "she writes", "he writes",
    "she argues", "he argues", "backfire", "backfires", "could backfire", "curb", "limitar los poderes", "inquiry",
    "investigation", "investigacion", "los riesgos", "riesgos de", "analista", "analistas", "no creo que", "creo que", "i think", "i don't think",
    "get wrong", "gets wrong", "what most people", "what happens to", "what happens when",
    "dangerous precedent", "gunboat diplomacy", "the view from", "lessons from", "the case for",
    "the case against", "days are numbered", "legal memo", "legal justification", "justifies",
    "spark debate", "sparks debate", "sparked debate", "public reckoning", "i wrote",
    "legal doubts", "would mean", "could mean", "might mean", "split over", "divided over",
    "divided on", "worry about", "worried about", "worries about", "debate over", "debate on",
    "debates whether", "debating whether", "what happens next", "what comes next",
    "senator warns", "senators warn", "lawmaker warns", "lawmakers warn", "congress presses",
    "lawmakers press", "senators press", "armed services committee",
    "inspector general", "grill", "grills", "grilled", "scholars", "legal scholars", "question basis", "question the basis",
    "law of armed conflict", "guide to", "plain-language", "questions and answers",
    "calm in", "remains calm", "daily life", "life goes on", "views on", "implications",
    # Spanish
    "legalidad", "ilegal", "ilegales", "ilegalidad", "audiencia",
    "cuestiona", "cuestionan", "cuestionamientos", "criticos",

    "opinion", "columna", "editorial", "pronostico", "pronostica",
    "escenario", "escenarios", "que pasaria",
    "riesgo de", "posibilidad de", "pide dialogo", "piden dialogo", "llama al dialogo",
    "llaman al dialogo", "insta al dialogo", "pide moderacion", "solucion pacifica",
    "que pasa con", "que pasara con", "que ocurre con", "dudas legales", "dudas sobre la legalidad",
    "en comentario", "en un comentario", "afirme que", "escribi que", "asi entrena", "asi entrenan",
    "asi se entrena", "asi se entrenan", "genera debate", "abre el debate", "peligroso precedente",
    "diplomacia de las canoneras", "lecciones de", "dias contados", "segun expertos",
    "segun los expertos", "segun analistas", "segun los analistas", "dicen expertos",
    "rechaza la presencia", "rechazan la presencia", "rechazo a la presencia", "condena la presencia",
    "condenan la presencia", "divididos ante", "divididos por", "les preocupa",
    "salida pacifica", "encuesta", "sondeo", "aniversario", "legitimidad", "extrajudicial",
    "extrajudiciales", "demanda", "demandan", "zona de paz", "territorio de paz",
    "senador advierte", "senadores advierten", "congreso presiona", "presiona al pentagono", "exigen audio",
    "exigen video", "exigen los videos", "comision de servicios armados", "inspector general",
    "resolucion para", "frenar", "quedan satisfechos", "juristas", "academicos",
    "preguntas y respuestas", "repaso a", "vida cotidiana", "opiniones sobre", "que implica", "lo que implica",
    "llama a la paz", "esfuerzos de paz", "respalda", "respaldo", "apoya", "defiende",
)  # fmt: skip

NOT_COMMENTARY_CUES: tuple[str, ...] = (
    # "Illegal" naming the cargo or the trade, not the legality of a strike
    "illegal drugs", "illegal narcotics", "illegal mining", "illegal fishing", "illegal migrants",
    "illegal immigrants", "illegal crossings", "drogas ilegales", "mineria ilegal", "pesca ilegal",
    # A war scenario the target's forces prepare for is their step, not a forecast
    "escenario belico", "escenario de guerra",
    "escenario de alta tension", "escenario de tension",
    # The target's own word for an incursion, and forces rehearsing a scenario, report an event
    "incursion ilegal", "illegal incursion", "rehearsing", "rehearse", "rehearsed", "practising",
    "practicing", "ensayan", "ensayaron",
    # A question about what happened last night reports that it happened
    "last night", "anoche", "this morning", "esta madrugada", "overnight",
)  # fmt: skip

COMMENTARY_LABELS: tuple[str, ...] = (
    "analysis", "opinion", "op-ed", "oped", "editorial", "explainer", "explained", "column",
    "commentary", "comment", "perspective", "view", "viewpoint", "podcast", "fact check",
    "q&a", "analisis", "opinion", "columna", "tribuna", "editorial", "claves", "explicador",
    "what to know", "what we know", "what you need to know", "everything you need to know",
    "lo que sabemos", "lo que hay que saber", "que se sabe", "lo que se sabe",
    "how the", "timeline", "cronologia", "recap",
    # Explainers of ships, aircraft and forces, and question headlines read from URL slugs,
    # which lose their "?": "Asi son los buques...", "What is the USS...", "Por que EEUU..."
    "asi son", "asi es", "asi funciona", "asi funcionan", "asi opera", "asi operan",
    "como son", "como es", "como funciona", "como funcionan", "que es", "que son", "quien es",
    "quienes son", "por que", "que hay detras", "what is", "what are", "why did", "why is",
    "why are", "why was", "why were", "why does", "why do", "why has", "why trump", "how does",
    "how do", "how big", "how powerful", "anatomy of", "how capable", "how strong", "how ready", "views on",
)  # fmt: skip


def _with_slug_spellings(cues: tuple[str, ...]) -> tuple[str, ...]:
    """The cues, and those with an apostrophe also as a URL slug spells them ("wont send")."""
    return cues + tuple(c.replace("'", "") for c in cues if "'" in c)


BUILTIN_LISTS: dict[str, tuple[str, ...]] = {
    name: _with_slug_spellings(cues)
    for name, cues in {
        "denial": DENIAL_CUES,
        "not_denial": NOT_DENIAL_CUES,
        "reversal": REVERSAL_CUES,
        "not_reversal": NOT_REVERSAL_CUES,
        "commentary": COMMENTARY_CUES,
        "not_commentary": NOT_COMMENTARY_CUES,
        "commentary_label": COMMENTARY_LABELS,
    }.items()
}
