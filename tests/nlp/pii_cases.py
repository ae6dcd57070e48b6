"""A labelled PII test set, generated from templates with varied values (seeded, so it is the
same set every run), and its scoring. Used by ``tests/nlp/test_pii_eval.py`` and
``bench/pii_eval.py``.

Each :class:`Case` is a feedback text with the character spans of the PII inserted into it
(kind, start, end) and the words that must stay readable (brands, products, medicines, places,
interjections, the brand's own handles). :func:`score` compares predicted spans with the gold
spans: a gold span is found when a predicted span of the same kind overlaps it and the
predicted spans cover all of its letters and digits; a predicted span is right when it overlaps
a gold span of its kind.
"""

from __future__ import annotations

import csv
import ipaddress
import lzma
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BRAND_HANDLES = ("united", "delta", "southwestair")

FIRST = [
    "Kevin",
    "Maria",
    "John",
    "Sarah",
    "Michael",
    "Aisha",
    "Priya",
    "Tom",
    "Emma",
    "Olivia",
    "Liam",
    "Noah",
    "Sofia",
    "Ahmed",
    "Chen",
    "Fatima",
    "Lucas",
    "Grace",
    "Daniel",
    "Hannah",
    "Diego",
    "Mei",
    "Rachel",
    "David",
    "Laura",
    "James",
    "Anna",
    "Omar",
    "Elena",
    "Peter",
    "Julia",
    "Mark",
    "Chloe",
    "Ravi",
    "Nina",
    "Sean",
    "Claire",
]
LAST = [
    "O'Brien",
    "Smith",
    "Lopez",
    "Brown",
    "Johnson",
    "Patel",
    "Nguyen",
    "Garcia",
    "Williams",
    "Kowalski",
    "Murphy",
    "D'Arcy",
    "McDonald",
    "Okafor",
    "Smith-Jones",
    "Fernandez",
    "Schmidt",
    "Rossi",
    "Kim",
    "Walker",
    "Hughes",
    "Ali",
    "Novak",
    "Jensen",
    "Moreau",
    "Clarke",
    "O'Neill",
    "Baker-Hall",
]
BRANDS = [
    "Twitter",
    "Samsung",
    "Netflix",
    "Spotify",
    "Amazon",
    "Google",
    "Facebook",
    "Instagram",
    "Uber",
    "PayPal",
    "Delta",
    "Verizon",
    "Airbnb",
    "Tesla",
]
PRODUCTS = [
    "iPhone",
    "Galaxy",
    "PlayStation",
    "Kindle",
    "AirPods",
    "MacBook",
    "Pixel",
    "Xbox",
    "Alexa",
    "Chromecast",
    "Fitbit",
    "iPad",
]
DRUGS = [
    "Prozac",
    "Seroquel",
    "Lexapro",
    "Zoloft",
    "Xanax",
    "Adderall",
    "Sertraline",
    "Gabapentin",
    "Lyrica",
    "Wellbutrin",
    "Abilify",
    "Escitalopram",
    "Metformin",
    "Ozempic",
    "Mirena",
    "Nexplanon",
    "Cymbalta",
    "Quetiapine",
    "Duloxetine",
    "Trazodone",
]
PLACES = ["London", "Chicago", "Manchester", "Dublin", "Heathrow", "Toronto", "Berlin", "Seattle", "Madrid", "Sydney"]
INTERJECTIONS = ["Yay", "Sweet", "Wow", "Ugh", "Ooh", "Awesome", "Cheers", "Omg"]
STREETS = [
    "Baker",
    "Pennsylvania",
    "Elm",
    "Oak",
    "Maple",
    "High",
    "Church",
    "Victoria",
    "Station",
    "Mill",
    "Park",
    "Queen",
]
SUFFIXES = ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Drive", "Boulevard", "Close", "Way", "Court"]
SUFFIXES += ["Crescent", "Terrace", "Parkway", "Ridge", "Crossing", "Heights", "Point", "Square", "Gardens", "Row"]
CITIES = ["Austin", "Springfield", "Portland", "Madison", "Jackson", "Franklin", "Columbus", "Salem", "Dayton"]
STATES = ["TX", "IL", "OR", "WI", "MS", "TN", "OH", "MA", "NY", "CA"]
# Medicines no list knows (the redactor must tell them from context: a dose, "put me on", a list of drugs).
UNKNOWN_DRUGS = ["Voltaren", "Frova", "Reclipsen", "Savella", "Uloric", "Arthrotec", "Daypro", "Motegrity", "Amerge"]


@dataclass(frozen=True)
class Case:
    text: str
    pii: tuple[tuple[str, int, int], ...]
    keep: tuple[tuple[str, int, int], ...] = field(default=())  # (category, start, end)


# -- values -----------------------------------------------------------------------------------


def _luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        digits = body + check
        total = 0
        for i, ch in enumerate(reversed(digits)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def _iban(rng: random.Random) -> str:
    country, bban = rng.choice(
        [
            ("GB", "WEST" + "".join(rng.choice("0123456789") for _ in range(14))),
            ("DE", "".join(rng.choice("0123456789") for _ in range(18))),
            (
                "FR",
                "".join(rng.choice("0123456789") for _ in range(20))
                + "A"
                + "".join(rng.choice("0123456789") for _ in range(2)),
            ),
            ("NL", "ABNA" + "".join(rng.choice("0123456789") for _ in range(10))),
            ("ES", "".join(rng.choice("0123456789") for _ in range(20))),
        ]
    )
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    iban = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    if rng.random() < 0.6:
        iban = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


def _value(kind: str, rng: random.Random) -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    user = f"{first.lower()}.{last.lower().replace(chr(39), '')}"
    if kind == "EMAIL":
        host = rng.choice(["gmail", "yahoo", "outlook", "hotmail", "example", "acme-mail"])
        style = rng.randrange(7)
        if style == 0:
            return f"{user}@{host}.com"
        if style == 1:
            return f"{first.lower()}{rng.randrange(1, 99)}@{host}.co.uk"
        if style == 2:
            return f"{first.lower()} dot {last.lower().replace(chr(39), '')} at {host} dot com"
        if style == 3:
            return f"{first.lower()}[at]{host}[dot]com"
        if style == 5:
            return f"{user}+{rng.choice(['billing', 'amazon', 'news'])}@{host}.com"
        if style == 6:
            return f"{first.lower()}@{rng.choice(['mail', 'cs', 'uk'])}.{host}.ac.uk"
        return f"{first.lower()}_{rng.randrange(10, 99)} (at) {host} (dot) net"
    if kind == "PHONE":
        a, b, c = rng.randrange(200, 999), rng.randrange(200, 999), rng.randrange(1000, 9999)
        return rng.choice(
            [
                f"({a}) {b}-{c}",
                f"{a}-{b}-{c}",
                f"+1 {a} {b} {c}",
                f"07700 {rng.randrange(100000, 999999)}",
                f"+44 20 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}",
                f"020 {rng.randrange(1000, 9999)} {rng.randrange(1000, 9999)}",
                f"{a}.{b}.{c}",
                f"{a} {b} {c}",
                f"+49 30 {rng.randrange(1000000, 9999999)}",
                f"+33 {rng.randrange(1, 9)} {a % 100:02d} {b % 100:02d} {c % 100:02d} {c // 100:02d}",
                f"+91 {rng.randrange(70000, 99999)} {rng.randrange(10000, 99999)}",
                f"+353 1 {a} {c}",
                f"+61 2 {c} {rng.randrange(1000, 9999)}",
                f"0{rng.randrange(1, 9)} {a % 100:02d} {b % 100:02d} {c % 100:02d} {c // 100:02d}",
                f"030 {rng.randrange(10000000, 99999999)}",
            ]
        )
    if kind == "SSN":
        return f"{rng.randrange(100, 665):03d}-{rng.randrange(1, 99):02d}-{rng.randrange(1, 9999):04d}"
    if kind == "CARD":
        digits = _luhn_complete(rng, rng.choice(["4", "51", "55", "37"]), rng.choice([16, 16, 15]))
        sep = rng.choice([" ", "-", ""])
        return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))
    if kind == "IBAN":
        return _iban(rng)
    if kind == "IP":
        if rng.random() < 0.6:
            return ".".join(str(rng.randrange(1, 255)) for _ in range(4))
        ip = ipaddress.IPv6Address(rng.getrandbits(128))
        return (
            ip.compressed
            if rng.random() < 0.5
            else str(ipaddress.IPv6Address("2001:db8::" + f"{rng.randrange(1, 65535):x}"))
        )
    if kind == "POSTCODE_LOWER":
        return _value("POSTCODE", rng).lower().replace(" ", rng.choice([" ", ""]))
    if kind == "POSTCODE":
        letters = "ABCDEFGHJKLMNOPRSTUWYZ"
        inward = f"{rng.randrange(10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        outward = rng.choice(
            [
                f"{rng.choice(letters)}{rng.randrange(1, 10)}",
                f"{rng.choice(letters)}{rng.randrange(10, 99)}",
                f"{rng.choice(letters)}{rng.choice(letters)}{rng.randrange(1, 10)}",
                f"{rng.choice(letters)}{rng.choice(letters)}{rng.randrange(10, 99)}",
                f"{rng.choice(['SW', 'EC', 'WC', 'NW'])}{rng.randrange(1, 10)}{rng.choice('ABCEHMNPRVWXY')}",
            ]
        )
        return f"{outward} {inward}"
    if kind == "ADDRESS":
        number = f"{rng.randrange(1, 2500)}{rng.choice(['', '', '', 'B', 'a'])}"
        street = rng.choice(STREETS)
        if rng.random() < 0.3:
            street = f"{rng.choice(STREETS)} {street}"
        tail = rng.choice(["", "", "", " NW", " SE"])
        unit = rng.choice(["", "", "", "", "Flat 4, ", "Apt 12 ", "Unit 3/"])
        return f"{unit}{number} {street} {rng.choice(SUFFIXES)}{tail}"
    if kind == "HANDLE":
        return "@" + rng.choice(
            [f"{first.lower()}_{last.lower()[:4]}", f"{first}{rng.randrange(1, 999)}", f"{first.lower()}xo"]
        ).replace("'", "")
    if kind == "ZIP":
        return f"{rng.randrange(10000, 99999)}" + (f"-{rng.randrange(1000, 9999)}" if rng.random() < 0.4 else "")
    if kind == "DOB":
        y, m, d = rng.randrange(1940, 2006), rng.randrange(1, 13), rng.randrange(1, 29)
        month = ["January", "March", "May", "July", "October", "December"][m % 6]
        return rng.choice(
            [f"{m:02d}/{d:02d}/{y}", f"{d}.{m}.{y}", f"{y}-{m:02d}-{d:02d}", f"{d} {month} {y}", f"{month} {d}, {y}"]
        )
    if kind == "NAME_LOWER":
        return _value("NAME", rng).lower()
    if kind == "NAME":
        return f"{first} {last}" if rng.random() < 0.75 else first
    raise ValueError(kind)


# -- templates --------------------------------------------------------------------------------

TEMPLATES: dict[str, tuple[str, ...]] = {
    "EMAIL": (
        "Please send the refund confirmation to {EMAIL} as soon as possible.",
        "My account email is {EMAIL} and I still cannot log in.",
        "You can reach me at {EMAIL}, I have been waiting two weeks.",
        "The invoice went to {EMAIL} instead of my work address.",
    ),
    "PHONE": (
        "Call me back on {PHONE}, the chat keeps dropping.",
        "My number is {PHONE} if someone from billing can ring.",
        "I left my phone number {PHONE} twice and nobody called.",
    ),
    "SSN": (
        "Why does the form ask for my SSN? I typed {SSN} and it failed.",
        "The agent read my social security number {SSN} out loud, not okay.",
    ),
    "CARD": (
        "I was charged twice on my card {CARD} for one order.",
        "Please cancel the payment from {CARD}, it was not me.",
    ),
    "IBAN": (
        "Refund it to my account {IBAN} please, not the card.",
        "The transfer to IBAN {IBAN} bounced again.",
    ),
    "IP": (
        "Your site blocked my IP {IP} for no reason.",
        "I keep getting logged out, my address shows as {IP} in the security log.",
    ),
    "POSTCODE": (
        "Delivery to {POSTCODE} was three days late.",
        "Your courier says my postcode {POSTCODE} is not covered, which is nonsense.",
        "Tried to change it, my postcode is {POSTCODE_LOWER} and the form froze.",
        "We live in {CITY}, {STATE} {ZIP} and shipping takes forever.",
        "my zip is {ZIP} and it says no delivery",
    ),
    "ADDRESS": (
        "The parcel was left at {ADDRESS} instead of my door.",
        "I moved to {ADDRESS} last month and the bills still go to the old flat.",
        "Please collect the broken unit from {ADDRESS} on Monday.",
    ),
    "HANDLE": (
        "{HANDLE} had the same problem with the app yesterday.",
        "My friend {HANDLE} says the refund took a month.",
        "cc {HANDLE} this is the third time this week",
    ),
    "NAME": (
        "Thanks to {NAME} from support, she fixed it in ten minutes.",
        "I spoke with {NAME} twice and nothing changed.",
        "My name is {NAME} and I have been a customer for six years.",
        "The agent, {NAME}, hung up on me.",
        "Ask for {NAME} at the front desk, he was brilliant.",
        "{NAME} from the billing team promised a callback that never came.",
        "thanks to {NAME} at the gate, she sorted the seats",
        "{NAME} at check-in was lovely.",
        "Kudos to {NAME} at the counter!",
        "My wife {NAME} got the same email.",
        "Dr {NAME} told me to stop taking it.",
    ),
    "NAME_LOWER": (
        "talked to {NAME_LOWER} for an hour and nothing",
        "my name is {NAME_LOWER}, i am the account holder",
        "i spoke with {NAME_LOWER} yesterday about the bill",
        "thanks to {NAME_LOWER} for nothing",
    ),
    "DOB": (
        "my date of birth is {DOB} and the form says I'm too young",
        "DOB {DOB} is wrong on the prescription label.",
        "I was born on {DOB}, please fix the account.",
    ),
}
# Texts whose capitalised words are not people: they must come back unchanged (or with only the
# inserted PII replaced).
KEEP_TEMPLATES: tuple[str, ...] = (
    "I switched from {BRAND} because the {PRODUCT} app kept crashing.",
    "{BRAND} support told me to reinstall the app on my {PRODUCT}.",
    "I have been on {DRUG} for three months and the side effects are getting worse.",
    "My doctor switched me from {DRUG} to {DRUG} and I sleep better now.",
    "{DRUG} made me dizzy for the first week.",
    "Took {DRUG} for anxiety, it helped but I gained weight.",
    "{INTERJ}! The update finally fixed the login on my {PRODUCT}.",
    "{INTERJ}, the new version is so much faster.",
    "The flight from {PLACE} to {PLACE} was delayed six hours.",
    "Ordered a {PRODUCT} in {PLACE} and it arrived broken.",
    "Complained on {BRAND} and {BRAND} and still no answer.",
    "Hey {BRAND_HANDLE} my bag never arrived in {PLACE}.",
    "{BRAND_HANDLE} thanks for the quick rebooking!",
    "{NEWDRUG} 50 mg twice a day did nothing for the pain.",
    "The doctor put me on {NEWDRUG} after the surgery.",
    "Tried {DRUG}, {NEWDRUG} and {NEWDRUG}, none of them helped.",
    "It was much cheaper than {NEWDRUG} at the pharmacy.",
    "Flew from {CITY} to {PLACE} and the bag stayed behind.",
)
_KEEP_POOLS = {
    "BRAND": BRANDS,
    "PRODUCT": PRODUCTS,
    "DRUG": DRUGS,
    "PLACE": PLACES,
    "INTERJ": INTERJECTIONS,
    "BRAND_HANDLE": tuple("@" + h for h in BRAND_HANDLES),
    "NEWDRUG": UNKNOWN_DRUGS,
    "CITY": CITIES,
    "STATE": STATES,
}
_MENTION = re.compile(r"@\w+|https?://\S+")
_SLOT = re.compile(r"\{([A-Z_]+)\}")


def fill(template: str, rng: random.Random, values: Callable[[str, random.Random], str] = _value) -> Case:
    """One case from a template: PII slots get generated values, keep slots words from the pools."""
    out: list[str] = []
    pii: list[tuple[str, int, int]] = []
    keep: list[tuple[str, int, int]] = []
    pos = 0
    length = 0
    for m in _SLOT.finditer(template):
        out.append(template[pos : m.start()])
        length += m.start() - pos
        slot = m.group(1)
        value = rng.choice(_KEEP_POOLS[slot]) if slot in _KEEP_POOLS else values(slot, rng)
        kind = "POSTCODE" if slot == "ZIP" else slot.removesuffix("_LOWER")
        (keep if slot in _KEEP_POOLS else pii).append((kind, length, length + len(value)))
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(template[pos:])
    return Case("".join(out), tuple(pii), tuple(keep))


def build_cases(seed: int = 13, per_kind: int = 50, keep_cases: int = 200) -> list[Case]:
    """``per_kind`` cases for each PII kind (a fifth of them carry a second kind or a keep word)
    and ``keep_cases`` texts of brand, product, medicine, place and interjection words."""
    rng = random.Random(seed)
    cases: list[Case] = []
    kinds = list(TEMPLATES)
    for kind in kinds:
        for i in range(per_kind):
            template = rng.choice(TEMPLATES[kind])
            if i % 5 == 4:
                template = template + " " + rng.choice(TEMPLATES[rng.choice(kinds)] + KEEP_TEMPLATES)
            cases.append(fill(template, rng))
    for i in range(keep_cases):
        template = KEEP_TEMPLATES[i % len(KEEP_TEMPLATES)]
        if i % 4 == 3:
            template = template + " " + rng.choice(TEMPLATES[rng.choice(kinds)])
        cases.append(fill(template, rng))
    return cases


# People the real carriers name themselves (labelled by hand: the text's start -> names). "Endo and
# Watson" are drug makers, Voltaren, Frova and Reclipsen medicines: not names.
CARRIER_NAMES: dict[str, tuple[str, ...]] = {
    "luggage was severely dented/missing wheel": ("Miranda",),
}


def carrier_cases(carriers: Iterable[str], seed: int = 7) -> list[Case]:
    """Real texts as carriers: each gets one sentence with inserted PII appended; the carrier's
    own words are expected to stay (keep category ``REAL``) except the people of :data:`CARRIER_NAMES`."""
    rng = random.Random(seed)
    kinds = list(TEMPLATES)
    cases = []
    for i, text in enumerate(carriers):
        kind = kinds[i % len(kinds)]
        extra = fill(rng.choice(TEMPLATES[kind]), rng)
        offset = len(text) + 1
        names = [n for prefix, ns in CARRIER_NAMES.items() if text.startswith(prefix) for n in ns]
        own = [("NAME", m.start(), m.end()) for name in names for m in re.finditer(name, text)]
        cases.append(
            Case(
                f"{text} {extra.text}",
                tuple(own + [(k, s + offset, e + offset) for k, s, e in extra.pii]),
                (("REAL", 0, len(text)),),
            )
        )
    return cases


def real_carriers(folder: Path, limit: int = 300) -> list[str]:
    """First sentences of patient reviews (their medicine names must stay) and tweets with their
    @mentions and links taken out (they are scored as handles elsewhere), up to ``limit``."""
    out: list[str] = []
    with open(folder / "drug_reviews_train.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            text = row["review"].strip().strip('"').replace("&#039;", "'").replace("&quot;", '"')
            sentence = re.split(r"(?<=[.!?])\s", text)[0][:220]
            if row["drugName"].split()[0].lower() in sentence.lower():
                out.append(sentence)
            if len(out) >= limit // 2:
                break
    with lzma.open(folder / "crowdflower_tweets.csv.xz", "rt", encoding="utf-8", errors="replace") as f:
        for row in csv.DictReader(f):
            text = " ".join(_MENTION.sub("", row["text"]).split())
            if 30 <= len(text) <= 200 and any(w[:1].isupper() for w in text.split()[1:]):
                out.append(text)
            if len(out) >= limit:
                break
    return out


# -- scoring ----------------------------------------------------------------------------------


@dataclass
class Tally:
    gold: int = 0
    found: int = 0
    predicted: int = 0
    right: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.right / self.predicted if self.predicted else 1.0


@dataclass
class Report:
    kinds: dict[str, Tally]
    kept: dict[str, tuple[int, int]]  # category -> (kept, total)
    misses: list[tuple[str, str]]  # (kind, text) of missed gold spans
    false: list[tuple[str, str]]  # (kind, text) of wrong predicted spans

    def overall_precision(self) -> float:
        right = sum(t.right for t in self.kinds.values())
        predicted = sum(t.predicted for t in self.kinds.values())
        return right / predicted if predicted else 1.0


def score(cases: Sequence[Case], predicted: Sequence[Sequence[tuple[str, int, int]]]) -> Report:
    """Per-kind recall and precision, and per-category keep rates (a keep word is kept when no
    wrong predicted span, one that matches no gold span of its kind, overlaps it; a REAL carrier
    counts as kept when no wrong span falls inside it)."""
    kinds: dict[str, Tally] = {}
    kept: dict[str, list[int]] = {}
    misses: list[tuple[str, str]] = []
    false: list[tuple[str, str]] = []
    for case, spans in zip(cases, predicted, strict=True):
        for kind, s, e in case.pii:
            tally = kinds.setdefault(kind, Tally())
            tally.gold += 1
            same = any(k == kind and ps < e and s < pe for k, ps, pe in spans)
            covered = all(any(ps <= j < pe for _, ps, pe in spans) for j in range(s, e) if case.text[j].isalnum())
            if same and covered:
                tally.found += 1
            else:
                misses.append((kind, case.text[s:e]))
        for kind, ps, pe in spans:
            tally = kinds.setdefault(kind, Tally())
            tally.predicted += 1
            if any(k == kind and ps < e and s < pe for k, s, e in case.pii):
                tally.right += 1
            else:
                false.append((kind, case.text[ps:pe]))
        wrong = [(ps, pe) for k, ps, pe in spans if not any(k == g and ps < e and s < pe for g, s, e in case.pii)]
        for category, s, e in case.keep:
            pair = kept.setdefault(category, [0, 0])
            pair[1] += 1
            pair[0] += not any(ps < e and s < pe for ps, pe in wrong)
    return Report(kinds, {c: (k, n) for c, (k, n) in kept.items()}, misses, false)
