"""Person names for PII redaction: which PERSON spans of the small spaCy model are people, and the
names it misses.

- PERSON spans less products, medicines, places, everyday words and interjections at either end
  (:mod:`feedback_engine.nlp.pii_allow`); a surname the model left out ("Kevin" + " O'Brien") is
  added back; a hashtag, a word after an article ("the Nuvaring") or before "app", and a single
  word where a medicine stands ("started Savella", "Lasix 40 mg", "tried Ritalin, Adderall,
  Dextrastat") are not people;
- names after cue phrases, in lower case too after the cues people write that way: "talked to
  kevin o'brien", "my name is sarah jones", "ask for mathijs de groot", "name: marcelo oller", "hi
  this is jacques", "thanks to Maria at the gate", "Dr Okafor", "my wife Ana", "Hi, I'm Tristan",
  "John from billing", "Nathalie from the Leeds branch", "Anna Berg, the store manager", "Willy
  helped me", "Alina was super helpful", "aaron here,", "Nikki is going to";
- a common given name followed by a capitalised word ("Tom Brady"; :mod:`feedback_engine.nlp.given_names`);
- the surname of a name found elsewhere in the same text ("Tom Brady ... Brady lied") and a given
  name joined to a name by "and" ("Donna and Juan");
- not a person: a word right after "flew", "moved to", "switched to" (an airline, a provider, a place).

:func:`find_names` returns (start, end) offsets; :func:`feedback_engine.nlp.redact.find_pii` makes them
``[NAME]`` spans. Precision and recall: ``python bench/pii_eval.py --real``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from feedback_engine.nlp.given_names import GIVEN_NAMES
from feedback_engine.nlp.pii_allow import COMMON_WORDS, is_medicine, medicine_context, medicine_nearby, not_a_name

__all__ = ["find_names"]

# A surname part that the small model leaves out of the PERSON span ("Kevin" + " O'Brien").
_NAME_TAIL = re.compile(r"[ -](?:O'|O’|D'|Mc|Mac)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?")
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?")
# Names the model misses in the phrases where feedback names an agent or the writer: "I spoke
# with Nina", "my name is rachel okafor" (lower case too after these), "thanks to Maria at the gate",
# "Dr Ortiz", "my wife Ana", "John from the billing team".
_LOWER_OK_CUE = (
    r"(?:spoke|speaking|talked|talking|chatted|chatting) (?:with|to)(?: (?:was|is))?|ask(?:ed)? for|"
    r"thanks? to|thank you|served by|helped by|"
    r"my name is|my name's|named|(?:customer |full |contact )?name:|hi,? this is|hello,? this is"
)
_ROLES = (
    r"agent|rep|representative|advisor|adviser|manager|technician|"
    r"engineer|driver|nurse|pharmacist|doctor|attendant|pilot|captain|supervisor|cashier|clerk|waiter|waitress|"
    r"receptionist|colleague|employee|worker|host|hostess|bartender|server|courier|tech|therapist|dentist|surgeon|"
    r"physician|midwife|teacher|instructor|coach|officer|guard|porter|concierge|steward|stewardess"
)
_CAPITAL_CUE = (
    rf"shout ?out to|kudos to|props to|big thanks to|(?:{_ROLES}|"
    r"dr|mr|mrs|ms|miss|prof)\.?,?|my (?:husband|wife|son|daughter|friend|mom|mum|mother|dad|father|"
    r"brother|sister|partner|boss|girlfriend|boyfriend|fianc[eé]e?|neighbou?r|aunt|uncle|cousin|niece|nephew|"
    r"grandma|grandmother|grandpa|grandfather|granddaughter|grandson|coworker|co-worker|roommate|flatmate)|"
    r"i'm|i’m|i am|this is|asked|ask|dealt with|dealing with"
)
# Matched on the lower-cased text (a third of the time of an IGNORECASE pattern); the original case is
# read at the same offsets. ``_NAME_CUE_ANYCASE`` serves the rare text whose length lower-casing changes.
# The lookaheads on first characters let the engine skip most positions (half the time).
_NAME_CUE = re.compile(rf"\b(?=[abcdefghikmnprstw])(?:(?P<lower>{_LOWER_OK_CUE})|{_CAPITAL_CUE}) ")
_NAME_CUE_ANYCASE = re.compile(_NAME_CUE.pattern, re.IGNORECASE)
_BEFORE_HINTS = (
    "support", "billing", "sales", "service", "desk", "returns", "complaints", "accounts", "gate", "counter", "check",
    "reception", "lounge", "baggage", "care", "shift", "branch", "store", "shop", "office",
)  # fmt: skip
_UPPER = "A-ZÀ-ÖØ-ÞĀ-Ž"
_NAME_WORD = rf"(?:O'|O’|D'|D’|Mc|Mac|de|di|du|van|von|le|la)?[{_UPPER}][^\W\d_A-Z]+(?:[-'’][{_UPPER}][^\W\d_A-Z]+)?"
_NAME_BEFORE = re.compile(
    rf"(?=[{_UPPER}])(?P<name>{_NAME_WORD}(?: {_NAME_WORD}){{0,2}}) (?:from|at|in|on) (?:the |your |customer )?"
    r"(?:support|billing|sales|service|services|care|help ?desk|front desk|returns|complaints|accounts|"
    r"(?<=the )(?:gate|counter|desk|check-?in|ticket counter|reception|lounge|baggage|"
    r"(?:night|day|morning|evening|late|early) shift|(?:[A-Z][a-z]+ )?(?:branch|store|shop|office)))\b"
)
# "Anna Berg, the store manager", "Tom, our driver": a name set off before a role.
# A person's verb right after: "Caetana Macedo helped me", "Willy told us".
_NAME_VERB = re.compile(
    rf"(?<![\w@#])(?=[{_UPPER}])(?P<name>{_NAME_WORD}(?: {_NAME_WORD})?) (?:helped|told|asked|explained|promised|refused|"
    r"assured|apologi[sz]ed|rebooked|emailed|texted|called|served|sorted|answered|said) "
    r"(?:me|us|my|our|that|to|him|her|them|the|she|he|they|it|i|we)\b"
)
# A person described: "Alina was super helpful", "Ian was so rude", "Nina is amazing".
_NAME_STATE = re.compile(
    rf"(?<![\w@#])(?=[{_UPPER}])(?P<name>{_NAME_WORD}(?: {_NAME_WORD})?) (?:was|is) (?:so |super |very |really |"
    r"extremely |incredibly |absolutely |just )?(?:helpful|unhelpful|kind|rude|friendly|polite|patient|courteous|"
    r"knowledgeable|condescending)\b"
)
# A common given name as the subject of a verb: "Nikki is going to be well", "Oscar took it", "Tom would know".
_GIVEN_VERB = re.compile(
    rf"(?<![\w#@])(?P<name>{_NAME_WORD}) (?:is going|was going|took|gave|would|will|did|does|has|had|got|made|"
    r"kept|knows|knew|says|thinks|wants|loves|hates|needs|seems|looks|came|went|left|showed|gets|lied|denied)\b"
)
_VERB_HINTS = (
    "helped", "told", "asked", "explained", "promised", "refused", "assured", "apologi", "rebooked", "emailed",
    "texted", "called", "served", "sorted", "answered", "said",
)  # fmt: skip
# The writer signing in: "aaron here, still no refund", "Ermanno here." (sentence-initial, any case).
_NAME_HERE = re.compile(
    rf"(?:^|(?<=[.!?] )|(?<=\n))(?P<name>(?:{_NAME_WORD}|[a-zß-ÿ]{{2,}})(?: (?:{_NAME_WORD}|[a-zß-ÿ]{{2,}}))?) here\b[,.!]"
)
# Found from the role back to the name: the role phrase is rare, a capitalised word is not.
_APPOSITIVE_NAME = re.compile(rf"(?P<name>{_NAME_WORD}(?: {_NAME_WORD}){{0,2}})$")
_APPOSITIVE_ROLE = re.compile(
    r", (?:the|our|your|my|a|an) (?:\w+ )?"
    r"(?:manager|supervisor|agent|rep|representative|driver|nurse|pharmacist|doctor|technician|engineer|"
    r"advisor|adviser|attendant|pilot|captain|cashier|clerk|waiter|waitress|receptionist|employee|courier|host)\b"
)
# A role word written capitalised inside a sentence is a headline or a product ("Top 10 Tech Center").
_ROLE = re.compile(rf"(?i:{_ROLES})\b")
_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_NOT_NAMES = frozenset(
    ["support", "customer", "service", "team", "everyone", "all", "god", "again", "the", "your", "corp", "car", "who"]
    + ["covid", "corona", "weather", "snow", "traffic", "delays", "delay", "technology", "science", "tech", "ai"]
)
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s+|\n)\W*$")


def find_names(text: str, names: Iterable[tuple[int, int]], allow: frozenset[str]) -> list[tuple[int, int]]:
    """PERSON spans less products, medicines, places and interjections at either end (a surname
    the model left out, "O'Brien", is added back), plus names after cue phrases ("I spoke with
    Nina", "my name is ...", "John from billing")."""
    out: list[tuple[int, int]] = []
    medicines: set[str] = set()
    for s, e in names:
        words = list(_WORD.finditer(text, s, e))
        if s > 0 and text[s - 1] == "#":
            continue  # a hashtag ("#Durham Driverless car ...") is a topic, not a person
        if (
            _DETERMINER_BEFORE.search(text, max(0, s - 8), s)
            or _PRODUCT_AFTER.match(text, e)
            or _GO_BEFORE.search(text, max(0, s - 16), s)
        ):
            continue  # "the Nuvaring", "my Luv Voucher", "the Seahawks"; "Zorbix app", "Acme account": not people
        before = len(words)
        while words and not_a_name(words[0].group(0), allow):
            words.pop(0)
        while words and not_a_name(words[-1].group(0), allow):
            words.pop()
        if not words or (len(words) == 1 < before and _SENTENCE_START.search(text, 0, words[0].start())):
            continue  # nothing left, or one sentence-initial word left over ("Took" of "Took Prozac")
        start, end = words[0].start(), words[-1].end()
        if len(words) == 1 and (
            medicine_context(text, start, end)  # "took Ella", "Ella 30 mg": strong enough for a given name
            or (
                words[0].group(0).lower() not in GIVEN_NAMES
                and (medicine_nearby(text, start, end) or _listed_with_medicine(text, start, end))
            )
        ):
            medicines.add(words[0].group(0).lower())
            continue  # "started Savella", "Lasix 40 mg", "Ritalin, Emsam": a medicine the lists do not know
        tail = _NAME_TAIL.match(text, end)
        if tail and not not_a_name(tail.group(0)[1:], allow):
            end = tail.end()
        out.append((start, end))
    if medicines:  # the same word elsewhere in the text is the same medicine ("Mobic has helped ...")
        out = [sp for sp in out if text[sp[0] : sp[1]].lower() not in medicines]
    for m in _GIVEN_PAIR.finditer(text):
        first, last = m.group(1), m.group(2)
        if first.lower() in GIVEN_NAMES and _surname_like(last, allow):
            end = m.end()
            third = _NAME_TAIL.match(text, end)
            if third and _surname_like(third.group(0).strip(" -"), allow):
                end = third.end()
            out.append((m.start(), end))
    low = text.lower()
    cue = _NAME_CUE.finditer(low) if len(low) == len(text) else _NAME_CUE_ANYCASE.finditer(text)
    for m in cue:
        said = text[m.start() : m.end()]
        if any(w[:1].isupper() for w in said.split()[1:]) or (
            said[:1].isupper() and _ROLE.match(said) and not _SENTENCE_START.search(text, 0, m.start())
        ):
            continue  # headline case ("Game Gets Twist Thanks To ...", "Top 10 Tech Center") is no cue
        span = _cue_name(text, m.end(), m.group("lower") is not None, allow)
        if span:
            out.append(span)
    placed = [*_NAME_BEFORE.finditer(text)] if any(k in low for k in _BEFORE_HINTS) else []
    if any(k in low for k in _VERB_HINTS):
        placed.extend(_NAME_VERB.finditer(text))
    if " was " in low or " is " in low:
        placed.extend(_NAME_STATE.finditer(text))
    for m in _GIVEN_VERB.finditer(text):
        if m.group("name").lower() in GIVEN_NAMES and not _DETERMINER_BEFORE.search(
            text, max(0, m.start() - 8), m.start()
        ):
            placed.append(m)
    placed.extend(_NAME_HERE.finditer(text))
    for role in _APPOSITIVE_ROLE.finditer(text) if ", " in text else ():
        name = _APPOSITIVE_NAME.search(text, max(0, role.start() - 60), role.start())
        if name:
            placed.append(name)
    for m in placed:
        parts = m.group("name").split(" ")
        while parts and not_a_name(parts[0], allow):
            parts.pop(0)
        if parts and not any(p.lower() in _NOT_NAMES for p in parts):
            end = m.start("name") + len(m.group("name"))
            out.append((end - len(" ".join(parts)), end))
    return _spread(text, out, allow) if out else out


_COORDINATED = re.compile(rf"(?:\s(?:and|&|&amp;)\s)({_NAME_WORD})(?![\w@])")
_COORDINATED_BEFORE = re.compile(rf"(?<![\w#@])({_NAME_WORD})\s(?:and|&|&amp;)\s$")


def _spread(text: str, out: list[tuple[int, int]], allow: frozenset[str]) -> list[tuple[int, int]]:
    """The names found, plus the same surname (or given name) elsewhere in the text ("Tom Brady ...
    Brady lied") and a name joined to one by "and" ("Donna and Juan", "Delaney and Shawn")."""
    found = list(out)
    words: set[str] = set()
    for s, e in out:
        parts = text[s:e].split()
        words.add(parts[-1])
        if len(parts) > 1 and parts[0].lower() in GIVEN_NAMES:
            words.add(parts[0])
        given = parts[0].lower() in GIVEN_NAMES
        for partner in (_COORDINATED.match(text, e), _COORDINATED_BEFORE.search(text, max(0, s - 40), s)):
            if (
                partner
                and (given or partner.group(1).lower() in GIVEN_NAMES)
                and _surname_like(partner.group(1), allow)
            ):
                found.append((partner.start(1), partner.end(1)))
    for word in words:
        if len(word) < 3 or not word[:1].isupper() or not _surname_like(word, allow):
            continue
        for m in re.finditer(rf"(?<![\w#@]){re.escape(word)}(?![\w@])", text):
            if not any(s <= m.start() < e for s, e in found):
                found.append((m.start(), m.end()))
    return found


# People's names take no article or possessive before them, and are not followed by "app".
_DETERMINER_BEFORE = re.compile(
    r"\b(?:[Tt]he|[Aa]n?|[Mm]y|[Yy]our|[Oo]ur|[Tt]heir|[Tt]his|[Tt]hat|[Tt]hese|[Tt]hose) $"
)
# Where one travels, moves or switches to is a place, an airline or a provider: "Flew Flybe", "moved to Giffgaff".
_GO_BEFORE = re.compile(
    r"(?i)\b(?:flew|fly|flying|flown|(?:moved|moving|switched|switching|went|going|go|gone)(?: over)? to)(?: with)? $"
)
_PRODUCT_AFTER = re.compile(r" (?:app|apps|account|subscription|website|site|store|card|plan|membership|update)\b")
# A common given name and a capitalised word after it: "Tom Brady", "Chris Urmson", "Bill Belichick".
_GIVEN_PAIR = re.compile(rf"(?<![#@\w])(?=[{_UPPER}])({_NAME_WORD}) ({_NAME_WORD})(?![\w@])")
_CALENDAR = frozenset(
    re.findall(
        r"\w+",
        "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
        "august september october november december",
    )
)


def _surname_like(word: str, allow: frozenset[str]) -> bool:
    low = word.lower()
    return low not in _CALENDAR and low not in _NOT_NAMES and not not_a_name(word, allow)


_LIST_BEFORE = re.compile(r"([^\W\d_][\w-]*)\s*(?:,|/|\band\b|\bor\b|\bthen\b)\s*$")
_LIST_AFTER = re.compile(r"\s*(?:,|/|\band\b|\bor\b|\bthen\b)\s*([^\W\d_][\w-]*)")


def _listed_with_medicine(text: str, start: int, end: int) -> bool:
    """A word in a list that holds a known medicine: "I've tried Ritalin, Adderall, Dextrastat, Emsam"."""
    pos = start
    for _ in range(6):
        before = _LIST_BEFORE.search(text, max(0, pos - 30), pos)
        if not before or not before.group(1)[:1].isupper():
            break
        if is_medicine(before.group(1)):
            return True
        pos = before.start(1)
    pos = end
    for _ in range(6):
        after = _LIST_AFTER.match(text, pos)
        if not after or not after.group(1)[:1].isupper():
            break
        if is_medicine(after.group(1)):
            return True
        pos = after.end(1)
    return False


def _cue_name(text: str, pos: int, lower_ok: bool, allow: frozenset[str]) -> tuple[int, int] | None:
    """The name right after a cue at ``pos``: up to three capitalised words, or (after a cue that
    people write in lower case, "talked to kevin o'brien") up to two lower-case words that are
    not everyday English."""
    words: list[re.Match[str]] = []
    particles = 0
    p = pos
    while len(words) - particles < 3:
        m = _TOKEN.match(text, p)
        if not m:
            break
        w = m.group(0)
        low = w.lower()
        if words and low in _PARTICLES and _TOKEN.match(text, m.end() + 1) and text[m.end() : m.end() + 1] == " ":
            words.append(m)  # "amanda da costa", "Pien van Wel": a particle inside a name
            particles += 1
            p = m.end() + 1
            continue
        capital = w[0].isupper() and not (len(w) > 1 and w.isupper())
        if words and capital != words[0].group(0)[0].isupper():
            break  # "Maria said", "kevin Smith": a name is written one way
        if not capital and (not lower_ok or len(words) - particles >= 2 or len(w) < 2 or not w.islower()):
            break
        if low in _NOT_NAMES or low in COMMON_WORDS or not_a_name(w, allow):
            break
        words.append(m)
        if text[m.end() : m.end() + 1] != " ":
            break
        p = m.end() + 1
    while words and words[-1].group(0).lower() in _PARTICLES:
        words.pop()
    if not words:
        return None
    return words[0].start(), words[-1].end()


_PARTICLES = frozenset(
    ["de", "da", "di", "du", "van", "von", "der", "den", "del", "della", "dos", "das", "le", "la", "ter", "ten"]
)
