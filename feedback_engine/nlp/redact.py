"""PII redaction: find spans of personal data in raw text and replace them with placeholders.

Kinds and placeholders: ``[EMAIL]`` (also written out: "john dot smith at yahoo dot com",
"john[at]gmail[dot]com"), ``[PHONE]`` (international and national formats: a trunk 0 or an area
code in parentheses, grouped with spaces, dots, dashes or slashes, not a date or a ZIP+4; after a
phone cue, "call me on", "my cell, it's", "texting", any grouping of 7-15 digits), ``[CARD]`` (13-19 digits passing
the Luhn check), ``[SSN]`` (123-45-6789; nine bare digits only after "SSN" / "social security
number"), ``[DOB]`` (a full date right after "date of birth", "DOB", "born", "birthday"),
``[IBAN]`` (passing the ISO 13616 mod-97 check), ``[IP]`` (IPv4 and IPv6), ``[POSTCODE]`` (UK
postcodes; US ZIP and ZIP+4 after a state or the word zip), ``[ADDRESS]`` (a house number and a
street of a USPS, British, Australian, New Zealand or Indian street type: "221B Baker Street",
"1600 Pennsylvania Ave NW", "Flat 4, 12 Mill Lane", "25 Rototere Cove, RD 7"; street types that
are everyday words, "98 Tom Fall", only after "at", "to", "address"; continental formats, the
number after the street: "Sennstraat 2", "Via Ossola, 40", and "98, avenue Lucie Fernandes"), ``[HANDLE]`` (@handles, except the brand's own: the
``FEEDBACK_ENGINE_BRAND_HANDLES`` environment variable, comma separated, or ``brand_handles=``),
``[URL]`` (only URLs carrying a token or secret in the query or path; a plain help-page link
stays readable) and ``[NAME]`` (:mod:`feedback_engine.nlp.pii_names`: spaCy PERSON spans handed in
by the caller, less products, medicines and everyday words, plus the names the model misses).
Bare dates, years, prices, version numbers (5.2.0) and order numbers that fail Luhn are left alone.

The raw text stays in the store; ``redacted_text`` is what every display and email uses.
Spans are character offsets into the raw text, so sentences are redacted with the same spans
(:func:`apply_spans` with an offset window). Precision and recall per kind on the labelled and
held-out sets: ``python bench/pii_eval.py --real``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from feedback_engine.nlp.pii_names import find_names

__all__ = ["BRAND_HANDLES_ENV", "PiiSpan", "apply_spans", "find_pii", "iban_ok", "luhn_ok", "merge_spans", "redact"]

BRAND_HANDLES_ENV = "FEEDBACK_ENGINE_BRAND_HANDLES"
KINDS = ("URL", "EMAIL", "IBAN", "CARD", "SSN", "DOB", "IP", "PHONE", "ADDRESS", "POSTCODE", "HANDLE", "NAME")
PLACEHOLDERS = {kind: f"[{kind}]" for kind in KINDS}

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Written-out emails: "john dot smith at yahoo dot com", "john[at]gmail[dot]com", "jo (at) x.org".
_AT = r"(?:\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\.)"
_TLD = r"(?:com|net|org|edu|gov|co|uk|io|de|fr|es|it|nl|info|me|us|ca|au|in|ie|biz)"
_EMAIL_SPOKEN = re.compile(
    rf"(?<![\w.@-])(?P<user>[A-Za-z0-9_+-]+(?:{_DOT}[A-Za-z0-9_+-]+)*){_AT}"
    rf"(?P<domain>[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*?){_DOT}{_TLD}\b",
    re.IGNORECASE,
)
_AT_DOTTED = re.compile(rf"\bat\s*[\])}}>]?\s*[\w-]+\.{_TLD}\b")
_MAIL_HOSTS = frozenset(
    [
        "gmail",
        "googlemail",
        "yahoo",
        "hotmail",
        "outlook",
        "live",
        "msn",
        "aol",
        "icloud",
        "me",
        "mac",
        "protonmail",
        "proton",
        "gmx",
        "mail",
        "yandex",
        "comcast",
        "btinternet",
        "sky",
        "verizon",
        "att",
        "zoho",
        "fastmail",
    ]
)
_NOT_A_USER = frozenset(
    [
        "me",
        "us",
        "him",
        "her",
        "them",
        "it",
        "this",
        "that",
        "look",
        "looking",
        "looked",
        "here",
        "there",
        "available",
        "shop",
    ]
)
_URL = re.compile(r"(?:\bhttps?://|\bwww\.)[^\s<>\"']+", re.IGNORECASE)
_CARD = re.compile(r"(?<![\d.,/-])\d(?:[ -]?\d){12,18}(?![\d.,/]\d)")
_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w-])")
# Nine digits with no separators are an SSN only right after the words that name one ("SSN 123456789",
# "social security number is 123456789"): bare nine-digit runs are order and tracking numbers.
_SSN_CUED = re.compile(
    r"\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?)\s*(?:is|was|:|#|-)?\s*"
    r"(?P<ssn>(?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4})(?![\w-])",
    re.IGNORECASE,
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)"
)
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
# UK postcodes: outward code (A9, A9A, A99, AA9, AA9A, AA99), a space and the inward code (9AA).
# Without the space the same shape is an aircraft tail number (N366SW) or a booking reference.
_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) \d[ABD-HJLNP-UW-Z]{2}\b")
# After the word "postcode" any case and no space will do: "postcode sw1a1aa".
_POSTCODE_CUED = re.compile(r"(?i)\bpost ?code(?: is|:)?\s+([a-z]{1,2}\d[a-z\d]? ?\d[abd-hjlnp-uw-z]{2})\b")
# Street types: the USPS list (US), the British, Australian and New Zealand ones (Close, Mews, Copse,
# Laneway, Strand) and the Indian ones (Nagar, Marg, Chowk).
_STREET_TYPES = """
Street St Avenue Ave Av Road Rd Boulevard Blvd Lane Ln Drive Dr Court Ct Place Pl Way Terrace Close Crescent Cres
Parkway Pkwy Parkways Highway Hwy Square Sq Circle Cir Gardens Garden Grove Groves Mews Mew Row Walk Walks Hill Hills
Trail Alley Aly Annex Arcade Bayou Beach Bend Bluff Bluffs Bottom Branch Bridge Brook Brooks Burg Bypass Camp Canyon
Cape Causeway Center Centre Cliff Cliffs Club Common Commons Corner Corners Course Courts Cove Coves Creek Crest
Crossing Crossroad Curve Dale Dam Divide Drives Estate Estates Expressway Expy Extension Falls Ferry Field Fields
Flats Ford Fords Forest Forge Forges Fork Forks Fort Freeway Fwy Gateway Glen Glens Green Greens Harbor Harbour
Haven Heights Hollow Inlet Island Islands Isle Junction Junctions Knoll Knolls Lake Lakes Landing Loop Mall Manor
Manors Meadow Meadows Mill Mills Mission Motorway Mount Mountain Mountains Orchard Oval Overpass Park Parks Pass
Passage Path Pike Pine Pines Plain Plains Plaza Point Points Port Ports Prairie Radial Ramp Ranch Rapids Ridge
Ridges River Roads Route Rue Run Shoal Shoals Shore Shores Skyway Spring Springs Spur Spurs Squares Station
Stravenue Stream Streets Summit Throughway Trace Track Trafficway Tunnel Turnpike Underpass Unions Valley Valleys
Viaduct View Views Neck Key Keys Wells Alleyway Land Lodge Cross Centers Circles Locks Lights Siding Sound
Deviation Meander Elbow Trunkway Village Villages Ville Vista Ways Wharf Yard Drove Parade Rise Chase Esplanade Circuit Concourse
Quay Boardwalk Promenade Glade Grange Retreat Outlook Approach Broadway Centreway Highroad Frontage Round Strand Dip
Access Corso Fairway Lookout Pathway Quadrant Ramble Reserve Ridgeway Walkway Waters Wynd
Harbors Amble Anchorage Brae Byway Circlet Circus Colonnade Copse Courtyard Crossway Cruiseway Cul-de-sac Dell
Driveway Firetrail Footway Foreshore Gully Interchange Laneway Lees Parklands Piazza Plateau Quadrangle Quays
Riverway Riviera Roadside Roadway Ronde Rosebowl Rotary Thoroughfare Tollway Vale Villas Nagar Marg Chowk Ganj Zila
"""
# Street types that are everyday words as well ("98 Tom Fall", "344 Mark Well", "5 Upper Gate"): an address
# only right after "at", "to", "address" ... ("I'm at 98 Tom Fall", "next to 344 Mark Well").
_WEAK_STREET_TYPES = """
Fall Light Well Wall Lock Flat Rest Union Via Loaf Rapid Burgs Extensions Edge End Top Line Gate Gates Link Front
Lower Upper Little Turn Ring Block Part Break Follow Range Reach Ride Steps Strip Brace Brow Ground Nook Pocket Slope
Stairs Wade Tor Tarn Triangle Trailer Towers Quad Cutting Formation Entrance Distributor Basin Artery Subway
Intersection Gap
"""


def _words(block: str) -> list[str]:
    return block.split()


def _alternation(block: str) -> str:
    return "(?:" + "|".join(sorted(set(_words(block)), key=len, reverse=True)) + ")"


_STREET = _alternation(_STREET_TYPES)
_WEAK_STREET = _alternation(_WEAK_STREET_TYPES)
# A flat, unit or level before the house number ("Flat 4, 12 Mill Lane", "Apt. 281 22 Morris Riviera",
# "Level 5, 3 Wakamanawa Street", "H.No. 82, Bhatti Chowk").
_UNIT = (
    r"(?:(?:Flat|Apt|Apartment|Unit|Suite|Ste|Studio|Room|Level|Floor|Lot|Shop)\.?\s*#?\w{1,5}(?:,\s*|\s+|/)"
    r"|H\.\s?No\.\s?)?"
)
_STREET_NAME = (
    r"(?=[\dFASURLH])(?<![\w.,/-])" + _UNIT + r"\d{1,5}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?,?\s+"
    r"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?"
    r"(?:(?:(?!(?:On|The|In|To|Of|And|At|For|By|A|An|My|Your)\b)[A-Z][A-Za-z'-]+|\d{1,3}(?:st|nd|rd|th))\.?\s+){1,4}"
)
# The tail: a direction, a flat or suite, a New Zealand rural delivery number ("25 Rototere Cove, RD 7").
_ADDRESS_TAIL = (
    r"(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Unit|Flat|Ste)\.?\s*#?\w{1,5})?"
    r"(?:,?\s+RD\s?\d{1,2}\b)?"
)
_ADDRESS = re.compile(_STREET_NAME + rf"{_STREET}\b\.?" + _ADDRESS_TAIL)
_ADDRESS_WEAK = re.compile(_STREET_NAME + rf"{_WEAK_STREET}\b" + _ADDRESS_TAIL)
_WEAK_CUE_BEFORE = re.compile(r"(?i)\b(?:at|to|on|from|near|outside|opposite|address(?: is)?:?|is)\s+$")
# Continental formats, the house number after the street: "Hauptstraße 12", "Paulo-Schleich-Straße 19",
# "Sennstraat 2", "Kristianiavej 29", "Saparonkatu 286" (one word ending in a street word), "Via Ossola, 40",
# "Calle Mayor 5", "Rua de Correia, 978", "ul. Długa 90", "Bulevardul Toma Nr. 19"; and the French number
# first: "98, avenue Lucie Fernandes", "12 rue de la Paix".
_CONT_SUFFIXES = tuple(
    _words("""
straße strasse str. weg gasse platz allee damm ufer steig pfad chaussee straat laan plein gracht singel steeg dreef
kade dijk hof baan pad vej gade stræde gatan vägen stigen torget gränd gata katu kuja bulevardi boulevard polku tie ring
""")
)
_CONT_TYPE = (
    r"(?:Via|Viale|Piazza|Piazzale|Corso|Vicolo|Largo|Strada|Stretto|Rotonda|Borgo|Contrada|Canale|Incrocio|Calle|"
    r"Callejón|Carrer|Avenida|Vial|Urbanización|Cañada|Acceso|Cuesta|Pasadizo|"
    r"Avda\.|Av\.?|Paseo|Plaza|Camino|Ronda|Rambla|Pasaje|Glorieta|Travesía|Carretera|Rua|R\.|Travessa|Praça|"
    r"Estrada|Alameda|Vereda|ul\.|ulica|al\.|aleja|plac|pl\.|Bulevardul|Soseaua|Șoseaua|Aleea|Drumul|Calea)"
)
_NAME_PART = r"(?:[A-ZÀ-ÖØ-ÞĀ-Ž][\w'’-]+|de|del|della|di|da|do|dos|das|la|le|e|i|y|\d{1,2})"
# Floors, doors and flats after a continental address: "Piano 7", "Puerta 9", "Bl. 70 Sc. 74 Ap. 779".
_CONT_TAIL = (
    r"(?:,?\s+(?:Piano|Appartamento|Interno|Scala|Puerta|Piso|Apt\.|Apto\.?|Bl\.|Sc\.|Ap\.|Et\.|Depto\.|"
    r"Interior|Edif\.|Stiege|Tür|Top)\s*\w{1,4}){0,4}"
)
_HOUSE_NO = r"\d{1,4}[a-z]?(?:[-/]\d{1,4})?(?![\w.,/-]\d)"
# One word and its number ("Sennstraat 2"), the street word checked in Python: a regex alternation of the
# suffixes tried at every capitalised word costs more than the rest of the address rules together.
_ADDRESS_CONT_WORD = re.compile(
    rf"(?<![\w#@-])(?P<street>[A-ZÀ-ÖØ-ÞĀ-Ž][\w-]{{2,}}\.?(?: (?i:Allé|Alle|Allee|Vej|Gade|Straße|Strasse|katu|tie|"
    rf"bulevardi))?)\s(?P<number>{_HOUSE_NO}){_CONT_TAIL}"
)
_ADDRESS_CONT = re.compile(
    rf"(?<![\w.])(?=[VPCLSRBTAEGDIUuapȘ])(?-i:{_CONT_TYPE})\s+{_NAME_PART}(?:\s+{_NAME_PART}){{0,4}},?\s+"
    rf"(?:(?:n[º°o]\.?|Nr\.)\s*)?{_HOUSE_NO}{_CONT_TAIL}"
)
_FRENCH_TYPES = ("rue", "avenue", "boulevard", "chemin", "allée", "impasse", "quai", "place")
_ADDRESS_FRENCH = re.compile(
    rf"(?<![\w.,/-])\d{{1,4}}(?:\s?bis|\s?ter)?,?\s+(?:{'|'.join(_FRENCH_TYPES)})\s+"
    rf"(?:(?:de la|de l'|du|des|de|d')\s?)?{_NAME_PART}(?:\s+{_NAME_PART}){{0,3}}"
)


def _continental_street(word: str, number: str) -> bool:
    """A street word of a continental address ("Sennstraat", "Harloffring"), not "Spring 2019"."""
    low = word.lower()
    if " " in low:
        return True
    suffix = next((x for x in _CONT_SUFFIXES if low.endswith(x)), "")
    year = len(number) == 4 and number[:2] in ("19", "20")
    return bool(suffix) and (len(low) - len(suffix) >= 3 or "-" in low) and not year


# A number after these counts something else: "Top 10 Tech Center", "gate 22 Terminal Point", "took 5 Advil".
_NOT_BEFORE_ADDRESS = re.compile(
    r"(?i)\b(?:top|best|gate|flight|version|row|seat|terminal|platform|level|chapter|step|page|took|had|ate|"
    r"bought|got|paid|waited|lost|won|over|under|about|around|only|than)\s+$"
)
# A flat or studio and its street, no house number (British): "Flat 66, Fraser Place".
_UNIT_STREET = re.compile(
    r"\b(?:Flat|Apartment|Apt|Unit|Studio|Suite)\.?\s*\w{1,5},\s+(?:(?:O'|Mc|Mac)?[A-Z][a-z'-]+\s+){1,3}"
    + _STREET
    + r"\b"
)
_PO_BOX = re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b", re.IGNORECASE)
# US ZIP codes (and ZIP+4) where a ZIP stands: after a state ("Austin, TX 78701") or the word zip.
_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|"
    "OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|VI|GU|AS|MP|UM|MH|FM|PW"
)
_ZIP_STATE = re.compile(rf"(?:,\s*|[A-Za-z]\s)(?:{_STATES})\.?,?\s+(?P<zip>\d{{5}}(?:-\d{{4}})?)(?![\w-])")
_ZIP_CUED = re.compile(
    r"(?i)\b(?:zip|zipcode|zip code|postal code|post code|postcode)\s*(?:is|was|:|#|-)?\s*"
    r"(?P<zip>\d{5}(?:-\d{4})?)(?![\w-])"
)
# Dates of birth (a quasi-identifier: with a name or a ZIP it picks out one person; HIPAA lists them):
# a full date right after "date of birth", "DOB", "born (on)", "birthday". A bare date or a year stays.
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = (
    rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{1,2}}-\d{{1,2}}|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)
_DOB = re.compile(
    rf"(?i)\b(?:date of birth|d\.?o\.?b\.?|birth ?date|born(?: on)?|birthday(?: is)?)\s*(?:is|was|:|-|=|\()?\s*"
    rf"(?P<dob>{_DATE})(?!\d)"
)
_DOB_HINTS = ("birth", "dob", "d.o.b", "born", "birthday")
# A number where a phone number stands: right after "call", "text me", "my (cell) number", "phone:" ...
# Any grouping of 7-15 digits then counts (national formats: 05 33 62 26 03, 0446-629-491, (03)58087151).
_PHONE_CUE = re.compile(
    r"(?i)\b(?:call(?:ing|ed|s)?(?: (?:me|us))?(?: back)?|callback(?: went)?|ring(?:ing)?(?: me)?|rang|"
    r"te?xt(?:ing|ed|s)?(?: me)?|phon(?:e|ed|ing)(?: me\?)?|dial(?:l?ed|l?ing)?|cell|mobile|mob|tel|telephone|"
    r"whats ?app|sms|fax|reach me|contact(?: me)?|my (?:phone |cell |mobile |contact |home |work )?number)"
    r"(?: (?:is|was|on|at|from|to|number|no\.?|#|reach me|call me|me))*,?\s*(?:[:#=-]|it's|it is)?\s*"
    r"(?P<phone>\(?\+?\d[\d\s().-]{2,20}(?:/[\d\s().-]{2,20})?\d)(?![\w/-]|\.\d)"
)
# A number standing a few words after a phone cue, nothing but words between: "please call us back to rebook!!!
# 7403607771". Only shapes that are phone numbers anyway: ten NANP digits, a leading 0 or +, grouped or not.
_PHONE_NEAR_CUE = re.compile(
    r"(?i)\b(?:call|text|txt|phone|ring|reach|contact|number|cell|mobile|whats ?app|sms)\w*\b[^\d\n@#]{1,40}?"
    r"(?<![\w+/.-])(?P<phone>[2-9]\d{2}[2-9]\d{6}|0[1-9]\d{8,9}|\+\d{9,14})(?![\w/-]|\.\d)"
)
_PHONE_HINTS = ("call", "ring", "rang", "text", "txt", "phone", "cell", "mobile", "mob", "tel", "whats", "sms", "fax", "reach", "contact", "number")  # fmt: skip
# French-style national numbers, five pairs: 01 23 45 67 89.
_PHONE_PAIRS = re.compile(r"(?<![\w+/.-])0[1-9](?:[ .-]\d{2}){4}(?![\w/-]|\.\d)")
_HANDLE = re.compile(r"(?<![\w@./])@([A-Za-z0-9_]{1,30})\b")
# "@ing @someone" is slang for mentioning them, not a handle "ing".
_SLANG_AT = re.compile(r" @\w")
# International (+country code) numbers, or national formats: (415) 555-1234, 415-555-1234,
# 415.555.1234, 07700 900123, 020 7946 0958.
_PHONE = re.compile(
    r"(?<![\w+/.-])(?:"
    r"(?:\+\d{1,3}[\s.-]?|\b00\d{1,3}[\s.-])(?:\(\d{1,4}\)[\s.-]?)?\d{1,5}(?:[\s.-]?\d{2,5}){1,5}"
    r"|\(\d{3}\)\s?\d{3}[\s.-]\d{4}"
    r"|[2-9]\d{2} [2-9]\d{2} \d{4}"
    r"|\d{3}([.-])\d{3}\1\d{4}"
    r"|0\d{2,4}\s\d{3,4}\s?\d{3,4}"
    r"|\b1[-.]\d{3}[-.]\d{3}[-.]\d{4}"
    r")(?![\w/-]|\.\d)"
)
# National formats of other countries, any grouping: a trunk 0 ("01575 99368", "02 4177 7631", "0462.283.038",
# "08-170 669 07", "02124/15868344", ten or eleven bare digits "0232781286"), or an area or country code in
# parentheses ("(0161) 4960066", "(08)-8690-7366", "(+358) 083778353", "(351) 928 063 608"). Dates
# (05/03/1960) and years in parentheses ("(2015) 1234567") are not phones.
_PHONE_NATIONAL = re.compile(
    r"(?<![\w+/.,(-])(?:"
    r"0[1-9]\d{0,4}(?:(?:[ ./-]|/ | - )\d{2,8}){1,4}"
    r"|0[1-9]\d{8,9}"
    r"|\((?!(?:19|20)\d\d\))(?:\+\d{1,4}|0?\d{1,5})\)(?:[ ./-]|/ )?\d{1,10}(?:(?:[ ./-]|/ )\d{2,8}){0,3}"
    r")(?![\w/-]|[.,]\d)"
)
_SECRET_KEYS = re.compile(
    r"(?:^|[_-])(?:token|access_token|auth|key|apikey|api_key|secret|sig|signature|session|sessionid|sid|"
    r"code|password|pass|pwd|otp|jwt|hash|reset|invite|x-amz-signature|x-amz-credential)(?:$|[_-])",
    re.IGNORECASE,
)
_RANDOMISH = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-]{16,}$|^[A-Fa-f0-9]{24,}$")


@dataclass(frozen=True)
class PiiSpan:
    start: int
    end: int
    kind: str  # one of KINDS

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a string of digits (card numbers pass it, most order numbers don't)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    """The ISO 13616 check: country and check digits moved to the end, letters as 10..35, mod 97 == 1."""
    s = iban.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s.isalnum():
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _iban_end(candidate: str) -> int:
    """Length of the IBAN at the start of ``candidate`` (0: none); a word run on after it ("... 32 ABCD") is cut."""
    while len(candidate.replace(" ", "")) >= 15:
        if iban_ok(candidate):
            return len(candidate)
        cut = candidate.rfind(" ")
        if cut < 0:
            return 0
        candidate = candidate[:cut]
    return 0


def _url_has_secret(url: str) -> bool:
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(url if "://" in url else "http://" + url)
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_KEYS.search(key) or _RANDOMISH.match(value):
            return True
    if parts.username or parts.password:
        return True
    segments = [s for s in parts.path.split("/") if s]
    fragment = parts.fragment
    return any(_RANDOMISH.match(s) for s in segments) or bool(fragment and _SECRET_KEYS.search(fragment))


_brand_cache: tuple[str, frozenset[str]] = ("", frozenset())


def _env_brand_handles() -> frozenset[str]:
    global _brand_cache
    raw = os.environ.get(BRAND_HANDLES_ENV, "")
    if raw != _brand_cache[0]:
        _brand_cache = (raw, frozenset(h.strip().lstrip("@").lower() for h in raw.split(",") if h.strip()))
    return _brand_cache[1]


def _spoken_email_ok(m: re.Match[str]) -> bool:
    """A written-out email, not "look at amazon.com": brackets, a "dot" in the user part, or a mail host."""
    text = m.group(0)
    if re.search(r"[\[({<]\s*at\s*[\])}>]", text, re.IGNORECASE):
        return True
    user = m.group("user")
    if user.lower() in _NOT_A_USER:
        return False
    host = re.split(_DOT, m.group("domain"), flags=re.IGNORECASE)[0].lower()
    return host in _MAIL_HOSTS or bool(re.search(r"\sdot\s|[._\d]", user, re.IGNORECASE))


def find_pii(
    text: str,
    names: Iterable[tuple[int, int]] = (),
    *,
    brand_handles: Iterable[str] | None = None,
    allow: Iterable[str] = (),
) -> list[PiiSpan]:
    """Non-overlapping PII spans of ``text``, sorted; ``names`` are PERSON (start, end) offsets.

    ``brand_handles`` (without "@", any case) stay readable; ``None`` reads them from the
    ``FEEDBACK_ENGINE_BRAND_HANDLES`` environment variable. ``allow`` adds words that are never
    a name (a corpus's learned product words, :func:`feedback_engine.nlp.pii_allow.learn_allow_list`).
    """
    spans: list[PiiSpan] = []
    n_digits = sum(map(text.count, "0123456789"))  # ten C-level scans beat one Python loop
    has_digit = n_digits > 0 or (not text.isascii() and _ANY_DIGIT.search(text) is not None)
    if "www." in text or "://" in text:
        for m in _URL.finditer(text):
            url = m.group(0).rstrip(".,;:!?)]}")
            if _url_has_secret(url):
                spans.append(PiiSpan(m.start(), m.start() + len(url), "URL"))
    if "@" in text:
        spans.extend(PiiSpan(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text))
        own = _env_brand_handles() if brand_handles is None else frozenset(h.lstrip("@").lower() for h in brand_handles)
        spans.extend(
            PiiSpan(m.start(), m.end(), "HANDLE")
            for m in _HANDLE.finditer(text)
            if m.group(1).lower() not in own and not (m.group(1).lower() == "ing" and _SLANG_AT.match(text, m.end()))
        )
    low = text.lower()
    if ("dot" in low and "at" in low) or _AT_DOTTED.search(low):
        spans.extend(PiiSpan(m.start(), m.end(), "EMAIL") for m in _EMAIL_SPOKEN.finditer(text) if _spoken_email_ok(m))
    if has_digit:
        for m in _IBAN.finditer(text):
            end = _iban_end(m.group(0))
            if end:
                spans.append(PiiSpan(m.start(), m.start() + end, "IBAN"))
        for m in _CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
                spans.append(PiiSpan(m.start(), m.end(), "CARD"))
        spans.extend(PiiSpan(m.start(), m.end(), "SSN") for m in _SSN.finditer(text))
        spans.extend(PiiSpan(m.start("ssn"), m.end("ssn"), "SSN") for m in _SSN_CUED.finditer(text))
        if "." in text:
            spans.extend(PiiSpan(m.start(), m.end(), "IP") for m in _IPV4.finditer(text))
        if "::" in text or text.count(":") >= 7:
            for m in _IPV6.finditer(text):
                if _ipv6_ok(m.group(0)):
                    spans.append(PiiSpan(m.start(), m.end(), "IP"))
        if n_digits >= 4 and any(k in low for k in _DOB_HINTS):
            spans.extend(PiiSpan(m.start("dob"), m.end("dob"), "DOB") for m in _DOB.finditer(text))
        for m in _PHONE.finditer(text):
            digits = re.sub(r"\D", "", m.group(0))
            if 7 <= len(digits) <= 15:
                spans.append(PiiSpan(m.start(), m.end(), "PHONE"))
        if n_digits >= 7 and any(k in low for k in _PHONE_HINTS):
            for m in _PHONE_CUE.finditer(text):
                number = m.group("phone").rstrip(" .-(")
                digits = sum(c.isdigit() for c in number)
                if 7 <= digits <= 15 and not _DATE_SHAPE.fullmatch(number):
                    spans.append(PiiSpan(m.start("phone"), m.start("phone") + len(number), "PHONE"))
            spans.extend(PiiSpan(m.start("phone"), m.end("phone"), "PHONE") for m in _PHONE_NEAR_CUE.finditer(text))
        if n_digits >= 8 and ("0" in text or "(" in text):
            for m in _PHONE_NATIONAL.finditer(text):
                number = m.group(0)
                if 8 <= sum(c.isdigit() for c in number) <= 15 and not _NOT_A_PHONE.fullmatch(number):
                    spans.append(PiiSpan(m.start(), m.end(), "PHONE"))
        if n_digits >= 10:
            spans.extend(PiiSpan(m.start(), m.end(), "PHONE") for m in _PHONE_PAIRS.finditer(text))
        spans.extend(
            PiiSpan(m.start(), m.end(), "ADDRESS")
            for m in _ADDRESS.finditer(text)
            if not _NOT_BEFORE_ADDRESS.search(text, max(0, m.start() - 12), m.start())
        )
        spans.extend(
            PiiSpan(m.start(), m.end(), "ADDRESS")
            for m in _ADDRESS_WEAK.finditer(text)
            if _WEAK_CUE_BEFORE.search(text, max(0, m.start() - 12), m.start())
        )
        spans.extend(PiiSpan(m.start(), m.end(), "ADDRESS") for m in _ADDRESS_CONT.finditer(text))
        spans.extend(
            PiiSpan(m.start(), m.end(), "ADDRESS")
            for m in _ADDRESS_CONT_WORD.finditer(text)
            if _continental_street(m.group("street"), m.group("number"))
        )
        if any(k in low for k in _FRENCH_TYPES):
            spans.extend(PiiSpan(m.start(), m.end(), "ADDRESS") for m in _ADDRESS_FRENCH.finditer(text))
        spans.extend(PiiSpan(m.start(), m.end(), "ADDRESS") for m in _PO_BOX.finditer(text))
        spans.extend(PiiSpan(m.start(), m.end(), "ADDRESS") for m in _UNIT_STREET.finditer(text))
        spans.extend(PiiSpan(m.start(), m.end(), "POSTCODE") for m in _POSTCODE.finditer(text))
        if "ost" in low:
            spans.extend(PiiSpan(m.start(1), m.end(1), "POSTCODE") for m in _POSTCODE_CUED.finditer(text))
        if n_digits >= 5:
            spans.extend(PiiSpan(m.start("zip"), m.end("zip"), "POSTCODE") for m in _ZIP_STATE.finditer(text))
        if n_digits >= 5 and ("zip" in low or "post" in low):
            spans.extend(PiiSpan(m.start("zip"), m.end("zip"), "POSTCODE") for m in _ZIP_CUED.finditer(text))
    found = find_names(text, [(s, e) for s, e in names if e > s], frozenset(w.lower() for w in allow))
    people = [PiiSpan(s, e, "NAME") for s, e in found]
    if people and spans:
        people = [p for p in people if not _a_town(text, p, spans)]
    return merge_spans(spans + people)


_TOWN_BEFORE = re.compile(r",\s*$")
_TOWN_AFTER = re.compile(rf",?\s+(?:{_STATES})\b")


def _a_town(text: str, name: PiiSpan, spans: Sequence[PiiSpan]) -> bool:
    """A "name" that is the town of an address: right after the street ("12 Elm Road, Springfield") or
    right before the state and ZIP ("Springfield, IL 62701")."""
    for sp in spans:
        if sp.kind == "ADDRESS" and 0 <= name.start - sp.end <= 3 and _TOWN_BEFORE.search(text, sp.end, name.start):
            return True
        if sp.kind == "POSTCODE" and 0 < sp.start - name.end <= 6 and _TOWN_AFTER.match(text, name.end):
            return True
    return False


def _ipv6_ok(candidate: str) -> bool:
    if candidate.count(":") < 2 or sum(c.isalnum() for c in candidate) < 3:
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


_ANY_DIGIT = re.compile(r"\d")
_DATE_SHAPE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")
# A date or a US ZIP+4 (01754-3756) has the shape of a national number with a trunk 0.
_NOT_A_PHONE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|\d{5}-\d{4}")
_PRIORITY = {kind: i for i, kind in enumerate(KINDS)}


def merge_spans(spans: Sequence[PiiSpan]) -> list[PiiSpan]:
    """Sorted, non-overlapping spans; on overlap the earlier (then higher-priority, longer) span wins."""
    ordered = sorted(spans, key=lambda s: (s.start, _PRIORITY[s.kind], -(s.end - s.start)))
    out: list[PiiSpan] = []
    for span in ordered:
        if out and span.start < out[-1].end:
            last = out[-1]
            if span.end > last.end and _PRIORITY[span.kind] < _PRIORITY[last.kind]:
                out[-1] = PiiSpan(last.start, span.end, span.kind)
            elif span.end > last.end:
                out[-1] = PiiSpan(last.start, span.end, last.kind)
            continue
        out.append(span)
    return out


def apply_spans(text: str, spans: Sequence[PiiSpan], start: int = 0, end: int | None = None) -> str:
    """``text[start:end]`` with every span inside it replaced by its placeholder."""
    end = len(text) if end is None else end
    pieces: list[str] = []
    pos = start
    for span in spans:
        if span.end <= start or span.start >= end:
            continue
        s, e = max(span.start, start), min(span.end, end)
        pieces.append(text[pos:s])
        pieces.append(span.placeholder)
        pos = e
    pieces.append(text[pos:end])
    return "".join(pieces)


def redact(text: str, names: Iterable[tuple[int, int]] = ()) -> str:
    """``text`` with every PII span replaced (regex kinds always; names when given)."""
    return apply_spans(text, find_pii(text, names))
