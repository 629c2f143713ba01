"""What a news item says about the occurrence it reports, as data a clusterer can compare. Pure.

`describe(item, at)` reduces an item to:
- weighted content terms (folded, stop words out, Spanish mapped onto English, light stemming),
  the headline counting double, so two wordings of one occurrence share terms across languages;
- discriminators, the facts that tell look-alike occurrences apart: aircraft types, ordinals
  ("fourth strike"), running totals, the day the occurrence happened (weekdays resolved against
  the publication date), seas, destinations (border or coast) and who acted (Coast Guard or
  military). Each is read from the headline first and only then from the first sentence, so a
  report of today's B-1B flight that recalls last week's B-52s is about the B-1Bs;
- shingles of the text, which find copies of one text whatever credit line was cut;
- whether the item is opinion (never part of a story, never a source).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

from monitor.models import Item
from monitor.rules.text import tokenize

MAX_TEXT = 1200  # characters of summary/content read: the lead carries the occurrence
MIN_LEAD_WORDS = 10
MIN_SENTENCE_WORDS = 5
_DATELINE_DASH = re.compile(r"[-\u2013\u2014]")  # "Puerto España, 16 nov (EFE).- ..."

_WORD_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "said",
        "says",
        "say",
        "according",
        "told",
        "amid",
        "new",
        "news",
        "report",
        "reports",
        "reported",
        "after",
        "near",
        "over",
        "since",
        "officials",
        "official",
        "week",
        "weeks",
        "day",
        "days",
        "year",
        "years",
        "time",
        "latest",
        "update",
        "live",
        "via",
        "el",
        "la",
        "los",
        "las",
        "un",
        "una",
        "unos",
        "unas",
        "de",
        "del",
        "al",
        "y",
        "o",
        "u",
        "en",
        "por",
        "para",
        "con",
        "sin",
        "sobre",
        "entre",
        "tras",
        "desde",
        "hasta",
        "que",
        "se",
        "su",
        "sus",
        "lo",
        "le",
        "les",
        "es",
        "son",
        "fue",
        "fueron",
        "ha",
        "han",
        "hay",
        "como",
        "mas",
        "pero",
        "este",
        "esta",
        "estos",
        "estas",
        "ese",
        "esa",
        "segun",
        "dijo",
        "afirmo",
        "informo",
        "ante",
        "contra",
        "durante",
        "tambien",
        "muy",
        "ya",
        "cuando",
        "donde",
    ]
)

# Spanish (folded) -> English stem, for the vocabulary of this kind of news; names need none.
SPANISH = {
    # General news vocabulary, so a Spanish report and its English telling share terms.
    "pais": "country",
    "paises": "country",
    "nacional": "national",
    "fuerza": "force",
    "aguas": "waters",
    "nuevo": "new",
    "nueva": "new",
    "nuevos": "new",
    "nuevas": "new",
    "internacional": "international",
    "internacionales": "international",
    "presencia": "presence",
    "tension": "tension",
    "tensiones": "tension",
    "administracion": "administration",
    "misil": "missile",
    "misiles": "missile",
    "territorio": "territory",
    "aeropuerto": "airport",
    "aeropuertos": "airport",
    "escalada": "escalation",
    "respuesta": "response",
    "niega": "deny",
    "nego": "deny",
    "personas": "people",
    "madrugada": "dawn",
    "posible": "possible",
    "conmocion": "commotion",
    "asamblea": "assembly",
    "suspender": "suspend",
    "suspension": "suspend",
    "decreto": "decree",
    "estrategicos": "strategic",
    "estrategico": "strategic",
    "declara": "declare",
    "declaro": "declare",
    "declarar": "declare",
    "declaracion": "declaration",
    "realizaron": "conduct",
    "realizo": "conduct",
    "realizar": "conduct",
    "realiza": "conduct",
    "jefe": "chief",
    "presion": "pressure",
    "region": "region",
    "dias": "day",
    "dia": "day",
    "carteles": "cartel",
    "seguridad": "security",
    "agresion": "aggression",
    "antiaereos": "antiaircraft",
    "ruso": "russian",
    "rusos": "russian",
    "rusa": "russian",
    "rusia": "russia",
    "acciones": "action",
    "accion": "action",
    "pirateria": "piracy",
    "ley": "law",
    "explosiones": "explosion",
    "explosion": "explosion",
    "firma": "sign",
    "firmo": "sign",
    "rechazo": "reject",
    "fuentes": "source",
    "aprobo": "approve",
    "aprueba": "approve",
    "unanimidad": "unanimous",
    "acuerdo": "deal",
    "letal": "lethal",
    "revoca": "revoke",
    "revoco": "revoke",
    "concesiones": "concession",
    "concesion": "concession",
    "ciudadanos": "citizen",
    "horas": "hour",
    "kilometros": "kilometer",
    "combate": "combat",
    "denuncio": "denounce",
    "congreso": "congress",
    "parlamento": "parliament",
    "intercambio": "share",
    "compartir": "share",
    "agencias": "agency",
    "conversaciones": "talk",
    "dialogo": "dialogue",
    "puerto": "port",
    "puertos": "port",
    "campana": "campaign",
    "comercio": "trade",
    "navegacion": "navigation",
    "busca": "search",
    "aeronaves": "aircraft",
    "acuso": "accuse",
    "prensa": "press",
    "mercenarios": "mercenary",
    "deportados": "deport",
    "deportacion": "deport",
    "migrantes": "migrant",
    "defender": "defend",
    "ciudades": "city",
    "ciudad": "city",
    "orden": "order",
    "comunicado": "statement",
    "muelle": "dock",
    "bloqueos": "blockade",
    "instalacion": "facility",
    "instalaciones": "facility",
    "sanciona": "sanction",
    "entrena": "train",
    "voluntarios": "volunteer",
    "civiles": "civilian",
    "oficial": "official",
    "portavoz": "spokesman",
    "informo": "report",
    "informa": "report",
    "autorizacion": "authorize",
    "secreto": "secret",
    "secreta": "secret",
    "advirtio": "warn",
    "visita": "visit",
    "visito": "visit",
    "senado": "senate",
    "camara": "house",
    "votacion": "vote",
    "voto": "vote",
    "resolucion": "resolution",
    "consejo": "council",
    "naciones": "nations",
    "unidas": "united",
    "reunion": "meeting",
    "emergencia": "emergency",
    "capturado": "capture",
    "detenido": "arrest",
    "detenidos": "arrest",
    "radar": "radar",
    "flota": "fleet",
    "vicepresidenta": "vice",
    "vicepresidente": "vice",
    "canciller": "minister",
    "cancilleria": "ministry",
    "crudo": "oil",
    "sospechosas": "suspected",
    "bombardero": "bomber",
    "bombarderos": "bomber",
    "sobrevuela": "fly",
    "sobrevuelan": "fly",
    "sobrevolaron": "fly",
    "sobrevuelo": "fly",
    "vuelo": "flight",
    "vuelos": "flight",
    "volaron": "fly",
    "vuelan": "fly",
    "aviones": "aircraft",
    "avion": "aircraft",
    "costa": "coast",
    "costas": "coast",
    "frontera": "border",
    "fronteras": "border",
    "caribe": "caribbean",
    "pacifico": "pacific",
    "oriental": "eastern",
    "mar": "sea",
    "buque": "ship",
    "buques": "ship",
    "barco": "ship",
    "barcos": "ship",
    "destructor": "destroyer",
    "destructores": "destroyer",
    "portaaviones": "carrier",
    "submarino": "submarine",
    "guerra": "war",
    "lancha": "boat",
    "lanchas": "boat",
    "embarcacion": "boat",
    "embarcaciones": "boat",
    "narcolancha": "boat",
    "narcolanchas": "boat",
    "bote": "boat",
    "ataque": "strike",
    "ataques": "strike",
    "bombardeo": "strike",
    "ataco": "strike",
    "atacaron": "strike",
    "muertos": "kill",
    "muertes": "kill",
    "mato": "kill",
    "mueren": "kill",
    "murieron": "kill",
    "fallecidos": "kill",
    "asesinados": "kill",
    "tripulantes": "crew",
    "sobrevivientes": "survivor",
    "tropas": "troop",
    "soldados": "soldier",
    "militares": "military",
    "militar": "military",
    "despliegue": "deploy",
    "despliega": "deploy",
    "desplegados": "deploy",
    "envia": "send",
    "envio": "send",
    "fuerzas": "force",
    "especiales": "special",
    "operaciones": "operation",
    "operacion": "operation",
    "encubiertas": "covert",
    "encubierta": "covert",
    "autoriza": "authorize",
    "autorizo": "authorize",
    "embajada": "embassy",
    "relaciones": "relation",
    "diplomaticas": "diplomatic",
    "diplomaticos": "diplomatic",
    "rompe": "break",
    "suspende": "suspend",
    "suspendio": "suspend",
    "cierra": "close",
    "cierre": "close",
    "espacio": "space",
    "aereo": "air",
    "aerea": "air",
    "milicia": "militia",
    "milicias": "militia",
    "movilizacion": "mobilize",
    "moviliza": "mobilize",
    "ejercicios": "exercise",
    "entrenamiento": "train",
    "entrenan": "train",
    "cartel": "cartel",
    "terrorista": "terrorist",
    "designacion": "designate",
    "designa": "designate",
    "estadounidense": "us",
    "estadounidenses": "us",
    "eeuu": "us",
    "ee": "us",
    "uu": "us",
    "eua": "us",
    "washington": "washington",
    "venezolano": "venezuela",
    "venezolana": "venezuela",
    "venezolanos": "venezuela",
    "venezolanas": "venezuela",
    "guardacostas": "coast-guard",
    "abordaje": "board",
    "aborda": "board",
    "abordo": "board",
    "abordaron": "board",
    "atunero": "tuna",
    "pesquero": "fishing",
    "pescadores": "fisherman",
    "intercepto": "intercept",
    "intercepta": "intercept",
    "recompensa": "reward",
    "captura": "capture",
    "arresto": "arrest",
    "acusa": "accuse",
    "denuncia": "denounce",
    "condena": "condemn",
    "rechaza": "reject",
    "amenaza": "threat",
    "amenazas": "threat",
    "advierte": "warn",
    "aerolineas": "airline",
    "cancelan": "cancel",
    "suspenden": "suspend",
    "sanciones": "sanction",
    "petroleo": "oil",
    "tanquero": "tanker",
    "submarinos": "submarine",
    "helicopteros": "helicopter",
    "cazas": "fighter",
    "infantes": "marine",
    "marines": "marine",
    "ejercito": "army",
    "armada": "navy",
    "despliegan": "deploy",
    "desplego": "deploy",
    "ordena": "order",
    "ordeno": "order",
    "anuncia": "announce",
    "anuncio": "announce",
    "confirma": "confirm",
    "confirmo": "confirm",
    "petrolero": "tanker",
    "incauta": "seize",
    "incauto": "seize",
    "cuarto": "fourth",
    "quinto": "fifth",
    "sexto": "sixth",
    "septimo": "seventh",
    "octavo": "eighth",
    "noveno": "ninth",
    "decimo": "tenth",
    "tercer": "third",
    "tercero": "third",
    "segundo": "second",
    "primer": "first",
    "primero": "first",
    "atacada": "strike",
    "atacado": "strike",
    "atacar": "strike",
    "atacan": "strike",
    "ataca": "strike",
    "bombardeos": "strike",
    "ofensiva": "offensive",
    "muerto": "kill",
    "muerta": "kill",
    "mata": "kill",
    "matan": "kill",
    "mataron": "kill",
    "matar": "kill",
    "fallecen": "kill",
    "fallecieron": "kill",
    "victimas": "victim",
    "victima": "victim",
    "supervivientes": "survivor",
    "superviviente": "survivor",
    "sobreviviente": "survivor",
    "ocupantes": "occupant",
    "tripulacion": "crew",
    "presunto": "alleged",
    "presuntos": "alleged",
    "presunta": "alleged",
    "presuntas": "alleged",
    "supuesto": "alleged",
    "supuesta": "alleged",
    "supuestos": "alleged",
    "sospechoso": "suspected",
    "sospechosa": "suspected",
    "sospechosos": "suspected",
    "droga": "drug",
    "drogas": "drug",
    "narcotrafico": "drug",
    "narcotraficantes": "trafficker",
    "narcoterroristas": "narco-terrorist",
    "narcoterrorista": "narco-terrorist",
    "miembros": "member",
    "miembro": "member",
    "banda": "gang",
    "semisumergible": "semi-submersible",
    "semisumergibles": "semi-submersible",
    "repatriados": "repatriate",
    "repatria": "repatriate",
    "repatriar": "repatriate",
    "busqueda": "search",
    "rescate": "rescue",
    "pentagono": "pentagon",
    "departamento": "department",
    "funcionario": "official",
    "funcionarios": "official",
    "funcionaria": "official",
    "secretario": "secretary",
    "secretaria": "secretary",
    "ministro": "minister",
    "ministra": "minister",
    "defensa": "defense",
    "presidente": "president",
    "gobierno": "government",
    "regimen": "regime",
    "mandatario": "president",
    "agencia": "agency",
    "inteligencia": "intelligence",
    "marina": "navy",
    "infanteria": "marine",
    "soldado": "soldier",
    "tropa": "troop",
    "efectivos": "troop",
    "efectivo": "troop",
    "milicianos": "militia",
    "comando": "command",
    "sur": "southern",
    "estados": "state",
    "unidos": "united",
    "despliegues": "deploy",
    "desplegar": "deploy",
    "desplegara": "deploy",
    "desplegado": "deploy",
    "desplegada": "deploy",
    "desplegadas": "deploy",
    "masivo": "massive",
    "masiva": "massive",
    "llega": "arrive",
    "llego": "arrive",
    "llegan": "arrive",
    "llegada": "arrive",
    "arriba": "arrive",
    "zarpa": "sail",
    "zarpo": "sail",
    "navega": "sail",
    "vuela": "fly",
    "volo": "fly",
    "helicoptero": "helicopter",
    "cazabombarderos": "bomber",
    "crucero": "cruiser",
    "grupo": "group",
    "ejercicio": "exercise",
    "maniobras": "exercise",
    "defensas": "defense",
    "radares": "radar",
    "bases": "base",
    "isla": "island",
    "islas": "island",
    "anunciaron": "announce",
    "anuncian": "announce",
    "anunciado": "announce",
    "confirman": "confirm",
    "confirmado": "confirm",
    "confirmaron": "confirm",
    "ordenado": "order",
    "ordenaron": "order",
    "autorizado": "authorize",
    "autorizar": "authorize",
    "cerrado": "close",
    "cerrar": "close",
    "cierran": "close",
    "advertencia": "warn",
    "aviso": "warn",
    "embajador": "ambassador",
    "relacion": "relation",
    "sancion": "sanction",
    "petroleros": "tanker",
    "incautacion": "seize",
    "confisca": "seize",
    "bloqueo": "blockade",
    "bloquear": "blockade",
    "designo": "designate",
    "designara": "designate",
    "organizacion": "organization",
    "terroristas": "terrorist",
    "extranjera": "foreign",
    "dolares": "dollar",
    "millones": "million",
    "operativo": "operation",
    "golpe": "coup",
    "lunes": "monday",
    "martes": "tuesday",
    "miercoles": "wednesday",
    "jueves": "thursday",
    "viernes": "friday",
    "sabado": "saturday",
    "domingo": "sunday",
    "noche": "night",
}

# Counts, spelt out in either language, as the digits other reports use ("cuatro muertos",
# "killing four", "4 dead"). "one"/"uno"/"once" are left out: articles and an English word.
NUMBER_WORDS = {
    word: str(value)
    for value, spellings in enumerate(
        (
            (),
            (),
            ("two", "dos"),
            ("three", "tres"),
            ("four", "cuatro"),
            ("five", "cinco"),
            ("six", "seis"),
            ("seven", "siete"),
            ("eight", "ocho"),
            ("nine", "nueve"),
            ("ten", "diez"),
            ("eleven",),
            ("twelve", "doce"),
            ("thirteen", "trece"),
            ("fourteen", "catorce"),
            ("fifteen", "quince"),
            ("sixteen", "dieciseis"),
            ("seventeen", "diecisiete"),
            ("eighteen", "dieciocho"),
            ("nineteen", "diecinueve"),
            ("twenty", "veinte"),
        )
    )
    for word in spellings
}

# English (folded) word forms -> stem shared with the Spanish map above.
ENGLISH = {
    "flew": "fly",
    "flies": "fly",
    "flying": "fly",
    "flown": "fly",
    "flights": "flight",
    "killed": "kill",
    "kills": "kill",
    "killing": "kill",
    "dead": "kill",
    "deaths": "kill",
    "died": "kill",
    "strikes": "strike",
    "struck": "strike",
    "striking": "strike",
    "attack": "strike",
    "attacks": "strike",
    "attacked": "strike",
    "bombers": "bomber",
    "ships": "ship",
    "vessel": "boat",
    "vessels": "boat",
    "boats": "boat",
    "warships": "ship",
    "troops": "troop",
    "soldiers": "soldier",
    "deployed": "deploy",
    "deploys": "deploy",
    "deployment": "deploy",
    "sends": "send",
    "sent": "send",
    "forces": "force",
    "coasts": "coast",
    "coastline": "coast",
    "coastal": "coast",
    "borders": "border",
    "destroyers": "destroyer",
    "carriers": "carrier",
    "crews": "crew",
    "survivors": "survivor",
    "operations": "operation",
    "authorized": "authorize",
    "authorizes": "authorize",
    "authorised": "authorize",
    "authorises": "authorize",
    "militias": "militia",
    "mobilizes": "mobilize",
    "mobilises": "mobilize",
    "mobilised": "mobilize",
    "mobilized": "mobilize",
    "exercises": "exercise",
    "training": "train",
    "trains": "train",
    "designates": "designate",
    "designated": "designate",
    "designation": "designate",
    "seized": "seize",
    "seizes": "seize",
    "seizure": "seize",
    "tankers": "tanker",
    "american": "us",
    "americans": "us",
    "u-s": "us",
    "usa": "us",
    "venezuelan": "venezuela",
    "venezuelans": "venezuela",
    "aircrafts": "aircraft",
    "planes": "aircraft",
    "jets": "aircraft",
}

ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    **{
        f"twenty-{unit}": 20 + value
        for unit, value in (
            ("first", 1),
            ("second", 2),
            ("third", 3),
            ("fourth", 4),
            ("fifth", 5),
            ("sixth", 6),
            ("seventh", 7),
            ("eighth", 8),
            ("ninth", 9),
        )
    },
    "thirtieth": 30,
}
_SPANISH_ORDINALS = {
    "primer": 1,
    "primero": 1,
    "primera": 1,
    "segundo": 2,
    "segunda": 2,
    "tercer": 3,
    "tercero": 3,
    "tercera": 3,
    "cuarto": 4,
    "cuarta": 4,
    "quinto": 5,
    "quinta": 5,
    "sexto": 6,
    "sexta": 6,
    "septimo": 7,
    "septima": 7,
    "octavo": 8,
    "octava": 8,
    "noveno": 9,
    "novena": 9,
    "decimo": 10,
    "decima": 10,
    "undecimo": 11,
    "undecima": 11,
    "duodecimo": 12,
    "duodecima": 12,
    "vigesimo": 20,
    "vigesima": 20,
    "trigesimo": 30,
    "trigesima": 30,
}
_ORDINAL_NOUNS = (
    r"(?:strike|attack|bombing|raid|sortie|flight|mission|operation|incident|deployment|"
    r"ataque|bombardeo|operacion|vuelo|mision|incursion|despliegue)"
)
_ORDINAL_EN = re.compile(
    r"\b(" + "|".join(ORDINALS) + r"|\d{1,3}(?:st|nd|rd|th))\s+(?:(?:known|such|lethal|deadly|"
    r"reported|us|u-s|american|military|confirmed|boat|maritime)\s+){0,3}" + _ORDINAL_NOUNS
)
_ORDINAL_ES = re.compile(
    r"\b("
    + "|".join(_SPANISH_ORDINALS)
    + r"|\d{1,3}(?:o|a|er))\s+(?:\w+\s+){0,2}?"
    + _ORDINAL_NOUNS
)
_TOTAL = re.compile(
    r"(?:total|toll|tally|death toll|cifra|balance|saldo)\D{0,40}?(?:to|of|at|a|en|de)\s+"
    r"(?:at least |al menos |some |unos )?(\d{1,4})\b"
    r"|(\d{1,4})\s+(?:people |personas )?(?:killed|dead|deaths|muertos|fallecidos)\s+"
    r"(?:in total|so far|since|desde|en total|hasta ahora)"
)
# The dead of this occurrence, not the campaign's running total ("killing four", "4 dead",
# "cuatro muertos", "mato a tres"); number words are read as digits first.
_KILLED = re.compile(
    r"\b(?:killing|killed|kills|kill|leaving|left|mata|mato|matan|mataron|matando|deja|dejo)\s+"
    r"(?:a\s+)?(?:at least |al menos |some |unos |all |los )?(\d{1,3})\b"
    r"|\b(?:at least |al menos )?(\d{1,3})\s+(?:\w+\s+){0,2}?"
    r"(?:killed|dead|die|died|muertos|muertas|fallecidos|muertes)\b"
)
_FLOOR = re.compile(r"\b(?:at least|al menos)\b")
_RUNNING_BEFORE = re.compile(
    r"(?:total|toll|tally|cifra|balance|saldo|bringing|brings|suman|suma|ya son|eleva|elevan|"
    r"elevando|asciende|ascienden|more than|mas de|over|tops?|passes|exceeding|surpass\w*|"
    r"campaign|campana)\W+(?:\w+\W+){0,3}$"
)
_RUNNING_AFTER = re.compile(
    r"^\W*(?:\w+\s+)?(?:in total|so far|since|desde|en total|hasta ahora|this year|"
    r"in (?:the|its) (?:campaign|operation)|en (?:la|su) (?:campana|operacion))"
)
_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "lunes": 0,
    "martes": 1,
    "miercoles": 2,
    "jueves": 3,
    "viernes": 4,
    "sabado": 5,
    "domingo": 6,
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan", "enero", "ene"),
            ("february", "feb", "febrero"),
            ("march", "mar", "marzo"),
            ("april", "apr", "abril", "abr"),
            ("mayo",),  # not "may": "may 5" is the verb before a number
            ("june", "jun", "junio"),
            ("july", "jul", "julio"),
            ("august", "aug", "agosto", "ago"),
            ("september", "sep", "sept", "septiembre", "setiembre"),
            ("october", "oct", "octubre"),
            ("november", "nov", "noviembre"),
            ("december", "dec", "diciembre", "dic"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_CALENDAR_DATE = re.compile(
    rf"\b(?P<month_en>{_MONTH_NAMES})\.?\s+(?P<day_en>[12]?\d|3[01])(?:st|nd|rd|th)?\b(?!\s*[:.,]?\d)"
    rf"|\b(?P<day_es>[12]?\d|3[01])\s+(?:de\s+)?(?P<month_es>{_MONTH_NAMES})\b"
    rf"|\b(?P<day_en2>[12]?\d|3[01])(?:st|nd|rd|th)\s+(?:of\s+)?(?P<month_en2>{_MONTH_NAMES})\b"
)
_WEEKDAY_RE = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b")
_LAST_WEEK = re.compile(
    r"\b(?:last|previous|earlier|pasado|anterior)\s+(?:week|month|semana|mes)\b"
)

# Aircraft types, folded: the type of bomber is what tells two shows of force apart.
_AIRCRAFT = re.compile(
    r"\b(b-?52|b-?1b?|b-?2|f-?35|f-?22|f/a-?18|mq-?9|p-?8|ac-?130|e-?3|c-?17)s?\b"
)
_SEAS = {
    "caribbean": "caribbean",
    "caribe": "caribbean",
    "pacific": "pacific",
    "pacifico": "pacific",
    "atlantic": "atlantic",
    "atlantico": "atlantic",
}
_SEA_RE = re.compile(r"\b(" + "|".join(_SEAS) + r")\b")
_DESTINATIONS = {
    "border": "border",
    "borders": "border",
    "frontera": "border",
    "fronteras": "border",
    "fronterizo": "border",
    "fronteriza": "border",
    "coast": "coast",
    "coasts": "coast",
    "coastline": "coast",
    "coastal": "coast",
    "costa": "coast",
    "costas": "coast",
    "costera": "coast",
    "litoral": "coast",
}
_DESTINATION_RE = re.compile(
    r"\b(?:to|toward|towards|along|on|at|a|hacia|en|la|las|el)\s+(?:the\s+|its\s+|su\s+|sus\s+)?"
    r"(?:\w+\s+){0,2}?(" + "|".join(_DESTINATIONS) + r")\b"
)
_COAST_GUARD = re.compile(r"\bcoast guard\b|\bguardia costera\b|\bguardacostas\b|\bcutter\b")
_MILITARY_STRIKE = re.compile(
    r"\b(?:strike|strikes|struck|airstrike|kill|killed|killing|dead|ataque|muertos|mato|bombardeo)\b"
)

_OPINION_TITLE = re.compile(
    r"^\s*(?:opinion|analysis|editorial|column|commentary|op-ed|perspective|viewpoint|"
    r"opinion|analisis|columna|tribuna|punto de vista)\s*[:|\-\u2013\u2014]"
    r"|[|\-\u2013\u2014:]\s*(?:opinion|analysis|editorial|column|analisis|opinion)\s*$",
)
# Headlines that argue rather than report, unlabelled: a verdict ("The strikes are a message,
# not a defense"), an outlet's view ("The Guardian view on ..."), or a "should" no one is
# reported as saying ("Washington should act like it"; not "Trump says X should be closed").
_ARGUING_TITLE = re.compile(
    r"\b(?:is|are|was|were|es|son|fue)\s+(?:a |an |the |un |una )?\w+(?:\s+\w+)?,\s+(?:not|no)\s"
    r"|^the [\w' ]+ view on\b"
)
_OUGHT = re.compile(r"\b(?:should|must|ought to|debe|deberia|deben|deberian)\b")
_REPORTED_SPEECH = re.compile(
    r"\b(?:says?|said|tells?|told|urges?|urged|asks?|asked|warns?|warned|calls?|called|insists?|"
    r"dice|dijo|afirma|afirmo|asegura|aseguro|pide|pidio|advierte|advirtio|insta|insto)\b"
    r"|[\"\u201c\u201d\u00ab\u00bb:]|(?<!\w)['\u2018\u2019]|['\u2018\u2019](?!\w)"  # not "Maduro's"
)
_OPINION_PATH = re.compile(
    r"/(?:opinion|opinions|opiniones|commentisfree|analysis|analisis|editorial|editorials|"
    r"editoriales|columns?|columnas?|columnists?|op-?eds?|blogs?|ideas|perspectives?)(?:/|-|$)"
)
# Sites that publish analysis and argument about security and law, not reports of events.
_COMMENTARY_SITES = frozenset(
    {
        "lawfaremedia.org",
        "lawfareblog.com",
        "justsecurity.org",
        "warontherocks.com",
        "responsiblestatecraft.org",
        "theconversation.com",
        "project-syndicate.org",
        "foreignaffairs.com",
    }
)
# A government's own release speaks as "we" too, and reports what it did.
_OFFICIAL_SITE = re.compile(r"(?:^|\.)(?:gov|mil|gob|gouv)(?:\.[a-z]{2})?$")
# The writer as a subject or object: "we must", "should worry us", "debemos", "por nosotros";
# read with its capitals ("us" is not "US"). Not "our" ("read the full story on our site") nor
# "I" (a secretary's determination: "I have concluded that...").
_FIRST_PERSON = re.compile(
    r"\b(?:[Ww]e|[Ww]e've|[Ww]e're|ourselves|[Dd]ebemos|[Nn]osotros)\b"
    r"|(?<![Ff]ollow )(?<![Jj]oin )(?<![Cc]ontact )\bus\b"
)
# A headline in the first person: "We've seen this movie before", "I watched the bombers".
_FIRST_PERSON_TITLE = re.compile(r"^\s*(?:I|We|We've|We're)\s")
_OPINION_CATEGORIES = frozenset(
    {
        "opinion",
        "opinions",
        "analysis",
        "editorial",
        "editorials",
        "column",
        "columns",
        "commentary",
        "op-ed",
        "analisis",
        "columna",
        "columnas",
        "editoriales",
        "opiniones",
    }
)


def fold(text: str) -> str:
    """Lower case without accents ("Pacífico" -> "pacifico"), so both languages compare."""
    if text.isascii():
        return text.lower()  # nothing to decompose, and ASCII folds as it lowers
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed.lower()
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def stem(word: str) -> str:
    """One term for the forms of a word in either language: the dictionaries map Spanish and
    irregular English forms (and number words, to digits), then English suffixes go, so
    "anuncia", "announced" and "announces" are one term."""
    word = SPANISH.get(word) or ENGLISH.get(word) or NUMBER_WORDS.get(word) or word
    if word[0].isdigit() or "-" in word:
        return word
    for suffix, keep in (
        ("ies", "y"),
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
        ("e", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            return word[: -len(suffix)] + keep
    return word


def words(text: str) -> list[str]:
    return _WORD_RE.findall(fold(text))


def lead(item: Item) -> str:
    """The first sentence of the summary (or content): where the occurrence is stated. Cut
    where the matcher cuts sentences ("U.S. Navy", "Gen. Caine" and "EE. UU." end none), and a
    dateline alone ("NEW YORK, October 23. /TASS/.") is not the first sentence."""
    body = (item.summary or item.content)[:MAX_TEXT].strip()
    tokens = tokenize(body)
    sentences = tokens.sentences
    end = 0
    while end < len(sentences):
        sentence = sentences[end]
        start = end
        while end < len(sentences) and sentences[end] == sentence:
            end += 1
        following = body[tokens.ends[end - 1] : tokens.starts[end]] if end < len(sentences) else ""
        if end - start >= MIN_SENTENCE_WORDS and not _DATELINE_DASH.search(following):
            break
    return body[: tokens.ends[end - 1]] if end else body


@dataclass(frozen=True)
class Features:
    """An item as the clusterer sees it (all JSON-serialisable for the store)."""

    terms: dict[str, float]
    aircraft: tuple[str, ...] = ()
    ordinal: int | None = None
    total: int | None = None
    killed: int | None = None  # the dead of this occurrence
    killed_at_least: bool = False  # the toll is a floor ("at least 2"), which a later count raises
    days: tuple[str, ...] = ()  # ISO dates of the weekdays the text names (resolved)
    seas: tuple[str, ...] = ()
    destination: str | None = None
    actor: str | None = None  # "coast_guard" (a boarding) or "military" (a strike that killed)
    shingles: tuple[int, ...] = field(default=())
    opinion: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "terms": self.terms,
            "aircraft": list(self.aircraft),
            "ordinal": self.ordinal,
            "total": self.total,
            "killed": self.killed,
            "killed_at_least": self.killed_at_least,
            "days": list(self.days),
            "seas": list(self.seas),
            "destination": self.destination,
            "actor": self.actor,
            "shingles": list(self.shingles),
            "opinion": self.opinion,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Features:
        terms = data.get("terms")
        return cls(
            terms={str(k): float(v) for k, v in terms.items()} if isinstance(terms, dict) else {},
            aircraft=tuple(str(a) for a in _list(data.get("aircraft"))),
            ordinal=_int(data.get("ordinal")),
            total=_int(data.get("total")),
            killed=_int(data.get("killed")),
            killed_at_least=bool(data.get("killed_at_least")),
            days=tuple(str(d) for d in _list(data.get("days"))),
            seas=tuple(str(s) for s in _list(data.get("seas"))),
            destination=str(data["destination"]) if data.get("destination") else None,
            actor=str(data["actor"]) if data.get("actor") else None,
            shingles=tuple(int(str(s)) for s in _list(data.get("shingles"))),
            opinion=bool(data.get("opinion")),
        )


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def is_opinion(item: Item) -> bool:
    """Opinion, analysis, editorials and columns: they retell an occurrence, they do not report it."""
    title = fold(item.title)
    if _OPINION_TITLE.search(title) or _ARGUING_TITLE.search(title):
        return True
    if _OUGHT.search(title) and not _REPORTED_SPEECH.search(title):
        return True
    try:
        link = urlsplit(item.link)
        path, site = link.path.lower(), (link.hostname or "").lower().removeprefix("www.")
    except ValueError:
        path, site = "", ""
    if _OPINION_PATH.search(path) or site in _COMMENTARY_SITES:
        return True
    if _FIRST_PERSON_TITLE.match(item.title) and not _REPORTED_SPEECH.search(title):
        return True
    opening = lead(item)
    if (
        _FIRST_PERSON.search(opening)
        and not _REPORTED_SPEECH.search(fold(opening))
        and not _OFFICIAL_SITE.search(site)
    ):
        return True
    return any(fold(c).strip() in _OPINION_CATEGORIES for c in item.categories)


def _terms(title: str, body: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for weight, text in ((2.0, title), (1.0, body)):
        for word in words(text):
            if word in STOP_WORDS or (len(word) < 3 and not word[0].isdigit()):
                continue
            term = stem(word)
            if term in STOP_WORDS:
                continue
            weights[term] = max(weights.get(term, 0.0), weight)
    return weights


def _first(pattern: re.Pattern[str], *texts: str) -> list[str]:
    """Matches in the first text that has any (headline before lead)."""
    for text in texts:
        found = pattern.findall(text)
        if found:
            return [f if isinstance(f, str) else next(g for g in f if g) for f in found]
    return []


def _aircraft(title: str, body: str) -> tuple[str, ...]:
    """Every type the headline names; else the first the lead names (later ones are recalled)."""
    found = _AIRCRAFT.findall(title) or _AIRCRAFT.findall(body)[:1]
    names = {re.sub(r"[^a-z0-9]", "", a) for a in found}
    # B-1 and B-1B are one aircraft.
    return tuple(sorted({"b1b" if n == "b1" else n for n in names}))


def _ordinal(text: str) -> int | None:
    for pattern, table in ((_ORDINAL_EN, ORDINALS), (_ORDINAL_ES, _SPANISH_ORDINALS)):
        found = pattern.search(text)
        if found:
            word = found.group(1)
            if word in table:
                return table[word]
            digits = re.match(r"\d+", word)
            return int(digits.group()) if digits else None
    return None


def _total(text: str) -> int | None:
    found = _TOTAL.search(text)
    if not found:
        return None
    return int(found.group(1) or found.group(2))


def _killed(text: str) -> tuple[int, bool] | None:
    """The first toll of this occurrence the text states (a running total is not one), and
    whether it is given as a floor ("at least 2", "al menos dos")."""
    spelt = _WORD_RE.sub(lambda m: NUMBER_WORDS.get(m.group(), m.group()), text)
    for found in _KILLED.finditer(spelt):
        number = int(found.group(1) or found.group(2))
        before, after = spelt[max(0, found.start() - 40) : found.start()], spelt[found.end() :]
        if number > 0 and not (_RUNNING_BEFORE.search(before) or _RUNNING_AFTER.match(after[:50])):
            return number, bool(_FLOOR.search(found.group()))
    return None


def _calendar_dates(text: str, at: datetime) -> set[str]:
    """Dates written out ("Dec. 30", "30 de diciembre"), in the latest year that puts them on
    or before publication; not a dateline's ("Caracas, 18 dic (EFE)", "Nov 4 (Reuters)")."""
    found = set()
    for match in _CALENDAR_DATE.finditer(text):
        if text[match.end() : match.end() + 3].lstrip().startswith("("):
            continue
        month_name = match.group("month_en") or match.group("month_es") or match.group("month_en2")
        day = int(match.group("day_en") or match.group("day_es") or match.group("day_en2"))
        month = _MONTHS[month_name]
        for year in (at.year, at.year - 1):
            try:
                when = date(year, month, day)
            except ValueError:
                break
            if when <= at.date() + timedelta(days=1):
                found.add(when.isoformat())
                break
    return found


def _days(text: str, at: datetime) -> tuple[str, ...]:
    """The dates of the weekdays named, each the latest such day on or before publication
    ("Hegseth said Sunday the military struck a boat Friday": both days), and the dates
    written out ("the Dec. 30 strike", searched for on Friday)."""
    found = _calendar_dates(text, at)
    for match in _WEEKDAY_RE.finditer(text):
        if _LAST_WEEK.search(text[max(0, match.start() - 30) : match.end() + 30]):
            continue
        back = (at.weekday() - _WEEKDAYS[match.group(1)]) % 7
        found.add((at - timedelta(days=back)).date().isoformat())
    return tuple(sorted(found))


def _actor(text: str) -> str | None:
    if _MILITARY_STRIKE.search(text):
        return "military"
    return "coast_guard" if _COAST_GUARD.search(text) else None


def shingles(text: str, size: int = 3) -> tuple[int, ...]:
    """Hashes of word triples: near-identical texts share most of them, rewrites few."""
    tokens = [w for w in words(text) if w not in STOP_WORDS]
    grams = {" ".join(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))}
    # A stable hash (not Python's salted one): shingles are stored and compared across restarts.
    return tuple(sorted({_fnv(g) for g in grams if g}))


def _copy_shingles(title: str, first_sentence: str) -> tuple[int, ...]:
    """Shingles of the lead: copies keep the first sentence and often rewrite the headline.
    A lead too short to tell copies apart is read with its headline."""
    if len([w for w in words(first_sentence) if w not in STOP_WORDS]) >= MIN_LEAD_WORDS:
        return shingles(first_sentence)
    return shingles(f"{title} {first_sentence}")


def _fnv(text: str) -> int:
    value = 0xCBF29CE484222325
    for byte in text.encode():
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFF
    return value


def describe(item: Item, at: float) -> Features:
    """The features of `item`, whose occurrence is dated `at` (unix time)."""
    title = fold(item.title)
    first_sentence = lead(item)
    body = fold(first_sentence)
    both = f"{title} . {body}"
    # The sea named first is where it happened ("strike in the Caribbean, hours after a Pacific
    # attack"); the others are recalled.
    seas = tuple(_SEAS[s] for s in _first(_SEA_RE, title, body)[:1])
    destinations = {_DESTINATIONS[d] for d in _first(_DESTINATION_RE, title, body)}
    when = datetime.fromtimestamp(at, UTC)
    toll = _killed(title) or _killed(body)
    return Features(
        terms=_terms(item.title, first_sentence),
        aircraft=_aircraft(title, body),
        ordinal=_ordinal(title) or _ordinal(body),
        total=_total(both),
        killed=toll[0] if toll else None,
        killed_at_least=toll[1] if toll else False,
        days=_days(f"{title} . {body}", when),
        seas=seas,
        destination=destinations.pop() if len(destinations) == 1 else None,
        actor=_actor(both),
        shingles=_copy_shingles(item.title, first_sentence),
        opinion=is_opinion(item),
    )


def overlap(first: Iterable[int], second: Iterable[int]) -> float:
    """Jaccard similarity of two shingle sets."""
    a, b = set(first), set(second)
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)
