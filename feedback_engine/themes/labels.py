"""Readable theme labels, top terms and representative quotes.

A label is built from a theme's top c-TF-IDF n-grams: the strongest term becomes the head and the
next two distinct terms follow it (``"Refund: charged twice, invoice"``). Stop words, redaction
placeholders (``[EMAIL]``, ``<PERSON>``), numbers and filler words never become terms, so labels
like ``the_and`` cannot happen. Quotes are the members closest to the theme centroid, skipping
near-duplicates and very short or very long texts.

Social posts carry noise that must not become a label either. :func:`usable_terms` (used by
:func:`make_label` and :func:`merge_terms`) drops every term that is, or contains a word that is:
an ``@handle`` or handle-like token (``_`` inside, letters then 2+ digits), a URL or URL placeholder
(``https``, ``www``, ``httpurlremoved``, ``url_removed``, ``t.co/...``), ``rt``/``via``/``amp``, a
``$cashtag``, a number or mostly-digits token, a one- or two-letter token that is not a known
acronym (:data:`ACRONYMS`), profanity or an interjection (:data:`PROFANITY`: ``damn``, ``lol``,
``omg``, ``haha`` ...) or ``anonymous``. :func:`clean_for_terms` also removes URLs, handles and
cashtags from the text before vectorizing, so a ``$AAPL`` never leaves a bare ``aapl`` term.

Stop terms: the environment variable ``FEEDBACK_ENGINE_THEME_STOP_TERMS`` (comma-separated,
case-insensitive, e.g. ``"brightdesk, bright desk"``), the brand's own handles of
``FEEDBACK_ENGINE_BRAND_HANDLES`` (``"united, americanair"``: the product's own name, which tweets
name as a word or hashtag as often as an ``@handle``) and the ``stop_terms=`` keyword of
:func:`usable_terms`, :func:`make_label`, :func:`merge_terms` and :func:`default_vectorizer` name
words or phrases that never appear in a term (a term containing one is dropped). They are read on
every call. :func:`corpus_stop_terms` learns such terms from the data: a word among the top terms of
more than ``share`` (30%) of all themes, and of at least 3, says nothing about any one theme (this
is how the product's own name shows up); pass its result as ``stop_terms=``.

Labels use proper case for acronyms (``"UI"``, ``"iOS"``, ``"2FA"``); other words are sentence case.
Beyond the fixed list (:data:`ACRONYMS`), :func:`learn_casing` learns how customers write a word
(``"JFK"``, ``"SWA"``, ``"DestinationDragons"``) and :func:`display_term`, :func:`shown_terms` and
:func:`make_label` take its result as ``casing=``.

A term must be written by enough customers: :func:`word_support` counts, per word, the distinct items
of a theme that hold it (as the vectorizer sees them, :func:`vector_text`) and :func:`supported_terms`
drops a term with a word that fewer than :func:`min_support` items hold, so a typo (``"evry"``) or a
run-together word (``"advisoryreally"``) never names a theme, while a frequent data artefact stays.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from feedback_engine.nlp.redact import BRAND_HANDLES_ENV


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no topic in customer feedback (on top of scikit-learn's English list).
FILLER_WORDS = _words(
    """
    just na n/a really like got get gets getting im ive id dont didnt doesnt isnt wasnt cant wont
    thing things lot lots way make makes made use used using app apps product company honestly
    update ugh overall please thanks thank time times day days week weeks month months good great
    bad love hate want need know think say said tell told does did going went new old ok okay yes
    yeah hi hello team guys pretty quite bit stuff
    """
)
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | FILLER_WORDS)
_STOP_SET = frozenset(STOP_WORDS)
# Social-post noise: retweet markers, URL placeholders, redacted user names.
NOISE_WORDS = _words(
    """
    rt via amp cc mt dm dms http https www url urls httpurlremoved httpurl urlremoved linkremoved
    anonymous anon
    """
)
# Profanity and interjections: they tell how people feel, never what the theme is about.
PROFANITY = _words(
    """
    damn dammit damnit goddamn shit shits shitty bullshit fuck fucks fucking fucked fucker fuckin
    fck fcking fk fking frick fricking freaking crap crappy wtf wth lol lolz lmao lmfao rofl omg omfg
    smh ffs stfu bitch bitches ass asshole hell heck piss bastard dick jeez geez gosh yikes ugh
    meh haha hahaha hehe hehehe lmk idk tbh imo imho btw yay wow whoa oh ooh ah ahh uh um umm hmm
    oops ouch yo ya yep nope duh bruh dude xd
    """
)
# Acronyms kept although short, and how a label writes them (lower case -> display form).
ACRONYMS = {
    w.lower(): w
    for w in _words(
        """
    UI UX AI API APIs iOS SSO 2FA MFA OTP CSV PDF PDFs SMS NPS CSAT FAQ FAQs ID IDs URL VPN GPS TV PC
    PCs CEO CTO CFO HR QA OS macOS iPad iPhone iPhones USB HDMI SDK CPU GPU RAM SSD ETA CRM ERP
    SaaS SEO KPI ROI B2B SLA ATM UK EU USA NYC GB MB KB 4K 5G 4G LTE NFC HTML CSS JSON XML SQL SSL
    IP DNS AWS GDPR PII OCR ML LLM ChatGPT PS4 PS5 VIP CD DVD EV VR AR
    """
    )
}
ENV_STOP_TERMS = "FEEDBACK_ENGINE_THEME_STOP_TERMS"
# Placeholders written by the redaction step: [EMAIL], <PERSON>, {PHONE} ...
PLACEHOLDER = re.compile(r"[\[<{][A-Z][A-Z_]*[\]>}]")
# URLs, @handles and $cashtags in the raw text (removed before vectorizing).
SOCIAL_NOISE = re.compile(
    r"(?i)\b(?:https?://|www\.)\S*|\b[a-z0-9-]+\.(?:com|net|org|io|ly|co)/\S*"
    r"|(?<![\w@])@\w+|(?<![\w$])\$[a-z][a-z.]{0,9}\b|[\[<{](?:url|link)[\]>}]"
)
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_']+\b"
_URL_WORD = re.compile(
    r"(?:https?\w*|www\w*|\w*(?:url|link|http)_?(?:removed|redacted|placeholder|omitted)"
    r"|(?:[\w-]+\.)+(?:com|net|org|io|ly|co)(?:/\S*)?)"
)
_LAUGH = re.compile(r"(?:a?(?:ha|he|hi)){2,}h?|l+o+l+(?:o+l+)*|l+m+f*a+o+|o+m+g+|a+r+g+h*|u+g+h+|w+o+w+|z+")
_ALPHA_WORD = re.compile(r"[^\W\d_]{2,}")
_CONTRACTION = re.compile(r"(?i)n['’]t\b|['’](?:s|re|ve|ll|d|m)\b")


def clean_for_terms(text: str) -> str:
    """Text as the vectorizer sees it: placeholders, URLs, @handles and $cashtags removed, and
    contractions undone ("there's" -> "there", "don't" -> "do not"), so that no term is a word
    nobody wrote (BERTopic drops the apostrophe: "theres" was a top term)."""
    text = SOCIAL_NOISE.sub(" ", PLACEHOLDER.sub(" ", text or ""))
    return _CONTRACTION.sub(lambda m: " not" if m.group(0).lower() in ("n't", "n’t") else "", text)


def env_stop_terms() -> list[str]:
    """Stop terms from ``FEEDBACK_ENGINE_THEME_STOP_TERMS`` and the brand's handles of
    ``FEEDBACK_ENGINE_BRAND_HANDLES`` (comma-separated, lower-cased, ``@`` dropped)."""
    raw = f"{os.environ.get(ENV_STOP_TERMS, '')},{os.environ.get(BRAND_HANDLES_ENV, '')}"
    return [t.strip().lstrip("@").lower() for t in raw.split(",") if t.strip().lstrip("@")]


def _stop_phrases(stop_terms: Iterable[str]) -> list[tuple[str, ...]]:
    phrases = {tuple(t.lower().split()) for t in [*env_stop_terms(), *stop_terms]}
    return sorted(p for p in phrases if p)


def default_vectorizer(min_df: int = 1, stop_terms: Iterable[str] = ()) -> CountVectorizer:
    """Uni- and bigrams without stop words, fillers, numbers, placeholders or social-post noise.

    BERTopic fits the vectorizer on one concatenated document per topic, so ``min_df`` counts
    topics: keep it at 1, or terms unique to one theme (the useful ones) would be dropped.
    Single-word ``stop_terms`` and those of ``FEEDBACK_ENGINE_THEME_STOP_TERMS`` are stop words too.
    """
    words = {w for p in _stop_phrases(stop_terms) if len(p) == 1 for w in p if _ALPHA_WORD.fullmatch(w)}
    noise = {w for w in NOISE_WORDS | PROFANITY if _ALPHA_WORD.fullmatch(w)}
    return CountVectorizer(
        stop_words=sorted(_STOP_SET | noise | words),
        ngram_range=(1, 2),
        min_df=min_df,
        token_pattern=TOKEN_PATTERN,
        preprocessor=lambda text: clean_for_terms(text).lower(),
    )


def is_noise_word(word: str) -> bool:
    """A word that never belongs in a term: handle, URL, cashtag, number, short token, profanity ..."""
    w = word.lower()
    if w in NOISE_WORDS or w in PROFANITY:
        return True
    if w in ACRONYMS:
        return False
    if len(w) > 1 and w[0] in "@$#" and w[1:].isalnum():
        return w[0] != "#" or not any(c.isalpha() for c in w)
    if "://" in w or "_" in w or "@" in w or _URL_WORD.fullmatch(w):
        return True
    letters = sum(c.isalpha() for c in w)
    digits = sum(c.isdigit() for c in w)
    if letters == 0 or digits * 2 > letters + digits or re.fullmatch(r"[^\W\d_]+\d{2,}", w):
        return True
    return len(w) <= 2 or bool(_LAUGH.fullmatch(w))


def usable_terms(terms: Sequence[tuple[str, float]], stop_terms: Iterable[str] = ()) -> list[tuple[str, float]]:
    """Drop empty, stop-word-only, placeholder and noise terms (BERTopic pads topics with ``("", 1e-05)``).

    A term is dropped when any of its words is noise (:func:`is_noise_word`), when all its words are
    stop words, when it contains one of ``stop_terms`` or of ``FEEDBACK_ENGINE_THEME_STOP_TERMS``
    (a word or a phrase, case-insensitive), or a word of five letters or more that begins one of the
    brand's handles (``FEEDBACK_ENGINE_BRAND_HANDLES``: "usair" and "usairways" for ``usairways``).
    A term that is one word repeated ("late late", from "late, late again") is that word once, and
    is dropped when that word is already among the terms kept.
    """
    phrases = _stop_phrases(stop_terms)
    brands = _brand_names()
    out = []
    kept: set[str] = set()
    for term, weight in terms:
        words = str(term).lower().split()
        if len(words) > 1 and len(set(words)) == 1:
            term, words = str(term).split()[0], words[:1]
        if not words or weight <= 0 or all(w in _STOP_SET for w in words) or any(is_noise_word(w) for w in words):
            continue
        if any(len(w) >= 5 and any(b.startswith(w) for b in brands) for w in words):
            continue  # the brand's name cut short: "usair" of @USAirways, "southwest" of @SouthwestAir
        if any(words[i : i + len(p)] == list(p) for p in phrases for i in range(len(words) - len(p) + 1)):
            continue
        if " ".join(words) in kept:
            continue
        kept.add(" ".join(words))
        out.append((str(term), float(weight)))
    return out


def _brand_names() -> tuple[str, ...]:
    """The brand's own handles (``FEEDBACK_ENGINE_BRAND_HANDLES``), lower case, without ``@``."""
    raw = os.environ.get(BRAND_HANDLES_ENV, "")
    return tuple(t.strip().lstrip("@").lower() for t in raw.split(",") if t.strip().lstrip("@"))


def corpus_stop_terms(
    term_lists: Iterable[Sequence[tuple[str, float]]], share: float = 0.3, min_themes: int = 3, top_n: int = 10
) -> frozenset[str]:
    """Words among the top ``top_n`` terms of more than ``share`` of all themes and of ``min_themes`` or more.

    Pure: pass every theme's terms (e.g. ``cluster_terms(...).values()``) and give the result to
    :func:`usable_terms` / :func:`make_label` as ``stop_terms=``. Such a word (typically the
    product's own name) names no single theme. Fewer than ``min_themes`` themes learn nothing.
    """
    lists = [usable_terms(terms)[:top_n] for terms in term_lists]
    counts = Counter(w for terms in lists for w in {w for term, _ in terms for w in term.lower().split()})
    return frozenset(w for w, c in counts.items() if c >= min_themes and c > share * len(lists))


def display_term(term: str, head: bool = False, casing: Mapping[str, str] | None = None) -> str:
    """A term as a label writes it: acronyms in their own case (``ios`` -> ``iOS``), the head capitalised.

    ``casing`` (lower-case word -> display form, from :func:`learn_casing`) writes the words customers
    write in a case of their own (``jfk`` -> ``JFK``); :data:`ACRONYMS` has the last word on the words
    it lists (``iOS`` even where customers write ``IOS``) and serves every word ``casing`` lacks.
    """
    casing = casing or {}
    words = [ACRONYMS.get(w.lower()) or casing.get(w.lower(), w) for w in term.split()]
    if head and words and words[0] == words[0].lower():
        words[0] = words[0][0].upper() + words[0][1:]
    return " ".join(words)


def shown_terms(terms: Sequence[tuple[str, float]], casing: Mapping[str, str] | None = None) -> str:
    """Top terms as stored and shown (JSON ``[[term, weight], ...]``), acronyms in their own case
    (``casing`` as for :func:`display_term`)."""
    return json.dumps([[display_term(t, casing=casing), float(w)] for t, w in terms])


# How :func:`learn_casing` decides (see there): a form needs this many occurrences, this share of the
# word's counted occurrences, and lower case may make up at most ``CASING_MAX_LOWER`` of them.
CASING_MIN_COUNT = 3
CASING_MIN_SHARE = 0.6
CASING_MAX_LOWER = 0.25
_SENTENCE_END = re.compile(r"[.!?:;…]['\")\]]*$")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_TOKEN = re.compile(TOKEN_PATTERN)


def vector_text(text: str) -> str:
    """A text as the vectorizer of :func:`~feedback_engine.themes.discovery.cluster_terms` reads it:
    :func:`clean_for_terms`, then what BERTopic does before the vectorizer (new lines and tabs become
    spaces, every character but ASCII letters, digits and spaces is removed: ``"wi-fi"`` -> ``"wifi"``,
    ``"advisory...really"`` -> ``"advisoryreally"``). Its words are the words terms are made of."""
    text = clean_for_terms(text).replace("\n", " ").replace("\t", " ")
    return re.sub(r"[^A-Za-z0-9 ]+", "", text)


def shouts(text: str) -> bool:
    """Whether most letters of ``text`` (of four or more letters) are capitals: its case says nothing."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) * 2 > len(letters)


def _own_case(word: str) -> bool:
    """All capitals of two to five letters (``JFK``) or a capital inside the word (``iPhone``, ``WiFi``)."""
    if word.isupper():
        return 2 <= len(word) <= 5
    return any(c.isupper() for c in word[1:])


def _casing_words(text: str) -> list[tuple[str, bool]]:
    """The words of ``text`` as :func:`vector_text` has them, in the case written, each with whether
    it begins a sentence (the text's first word, or the first after ``.``, ``!``, ``?``, ``:`` ...)."""
    words: list[tuple[str, bool]] = []
    start = True
    for chunk in clean_for_terms(text).split():
        if chunk.isascii() and chunk.isalpha():  # the common case, without a regex
            if len(chunk) >= 2:
                words.append((chunk, start))
            start = False
            continue
        found = _TOKEN.findall(_NON_ALNUM.sub("", chunk))
        words += [(w, start and i == 0) for i, w in enumerate(found)]
        start = bool(_SENTENCE_END.search(chunk)) or (start and not found)
    return words


def learn_casing(
    texts: Iterable[str],
    min_count: int = CASING_MIN_COUNT,
    min_share: float = CASING_MIN_SHARE,
    max_lower: float = CASING_MAX_LOWER,
) -> dict[str, str]:
    """Lower-case word -> the case customers write it in, where they write it in a case of its own.

    Pure. Words are read as the vectorizer reads them (:func:`vector_text`: no handles or URLs, a
    hashtag's word as written, ``"#DestinationDragons"`` -> ``DestinationDragons``). Not counted at
    all: texts that shout (:func:`shouts`), words in a run of three or more all-capital words (a
    shouted phrase), capitalised words (``"Delay"``: sentence start or title case say nothing) and a
    sentence's first word that begins with a capital unless all capitals (``"IPhone"``). A word takes
    a form that is all capitals of 2-5 letters (``JFK``) or has a capital inside (``iPhone``) when
    that form is written at least ``min_count`` (3) times, in at least ``min_share`` (60%) of the
    word's counted occurrences, and lower case makes up at most ``max_lower`` (25%) of them: a clear
    majority of the customers who wrote the word, not one tweet that repeats it. "Ice" stays "ice"
    unless customers write "ICE".
    """
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        if not text or shouts(text):
            continue
        words = _casing_words(text)
        caps = [w.isupper() for w, _ in words]
        for j, (word, first) in enumerate(words):
            if word[0].isupper():
                if caps[j]:
                    if (
                        (j >= 2 and caps[j - 2] and caps[j - 1])
                        or (0 < j < len(words) - 1 and caps[j - 1] and caps[j + 1])
                        or (j + 2 < len(words) and caps[j + 1] and caps[j + 2])
                    ):
                        continue  # a shouted phrase
                elif first or word[1:].islower():
                    continue  # capitalised: a sentence start or a title
            forms.setdefault(word.lower(), Counter())[word] += 1
    out: dict[str, str] = {}
    for lower, counts in forms.items():
        if len(counts) == 1 and lower in counts:
            continue
        total = sum(counts.values())
        own = [(n, form) for form, n in counts.items() if _own_case(form)]
        if not own:
            continue
        n, form = max(own, key=lambda nf: (nf[0], nf[1]))
        if n >= min_count and n >= min_share * total and counts[lower] <= max_lower * total:
            out[lower] = form
    return out


# How :func:`supported_terms` decides (see :func:`min_support`).
SUPPORT_MIN_ITEMS = 3
SUPPORT_MIN_SHARE = 0.01


def word_support(texts: Sequence[str], items: Sequence[object] | None = None) -> Counter[str]:
    """Lower-case word -> the number of distinct items among ``texts`` that hold it.

    Pure. Words are those of :func:`vector_text` (the words terms are made of). ``items`` names the
    item of each text (its sentences are one item); without it every text is an item of its own.
    """
    keys: Sequence[object] = items if items is not None else range(len(texts))
    seen: dict[object, set[str]] = {}
    for key, text in zip(keys, texts, strict=True):
        seen.setdefault(key, set()).update(_TOKEN.findall(vector_text(text).lower()))
    return Counter(w for words in seen.values() for w in words)


def min_support(n_items: int, min_items: int = SUPPORT_MIN_ITEMS, share: float = SUPPORT_MIN_SHARE) -> int:
    """How many of a theme's ``n_items`` items must hold each word of a term: ``min_items`` (3), or
    ``share`` (1%) of the items in themes of more than 300, never more than the theme has.

    Three items: a typo or a word run together ("evry", "midght", "advisoryreally") is written once
    or twice, while a word three customers chose on their own is theirs (an artefact of the data
    that many items share stays: customers wrote it). 1% of a big theme: a word one in a hundred of
    its members wrote does not say what the theme is about."""
    return max(1, min(n_items, max(min_items, math.ceil(share * n_items))))


def supported_terms(
    terms: Sequence[tuple[str, float]],
    support: Mapping[str, int],
    n_items: int,
    min_items: int = SUPPORT_MIN_ITEMS,
    share: float = SUPPORT_MIN_SHARE,
) -> list[tuple[str, float]]:
    """The ``terms`` whose every word at least :func:`min_support` of the theme's ``n_items`` items
    hold; ``support`` is :func:`word_support` of the theme's members. Pure.

    A small theme where no term is that well held keeps the terms two of its items share, and
    failing that its terms as they are: a label of words few customers wrote says more than
    "Unlabelled theme" (on the shipped fixtures 2 of 36 themes had no term three members share)."""
    need = min_support(n_items, min_items, share)
    for floor in sorted({need, min(2, need)}, reverse=True):
        kept = [(t, w) for t, w in terms if all(support.get(x, 0) >= floor for x in str(t).lower().split())]
        if kept:
            return kept
    return list(terms)


def _pick(terms: Sequence[tuple[str, float]]) -> list[str]:
    picked: list[str] = []
    seen_words: set[str] = set()
    for term, _weight in terms:
        stems = {w.rstrip("s") for w in term.lower().split()}
        if stems & seen_words:
            continue
        picked.append(term)
        seen_words |= stems
        if len(picked) == 3:
            break
    return picked


def make_label(
    terms: Sequence[tuple[str, float]],
    fallback: str = "Unlabelled theme",
    stop_terms: Iterable[str] = (),
    casing: Mapping[str, str] | None = None,
) -> str:
    """``"Head: second, third"`` from ranked terms, skipping terms that repeat words already used.

    ``stop_terms`` (e.g. from :func:`corpus_stop_terms`) are skipped; when they would leave no term
    at all, the label is built without them rather than falling back. ``casing`` (from
    :func:`learn_casing`) writes words as customers do (``"Gate: agent, EWR"``).
    """
    stop_terms = list(stop_terms)
    picked = _pick(usable_terms(terms, stop_terms))
    if not picked and stop_terms:
        picked = _pick(usable_terms(terms))
    if not picked:
        return fallback
    head = display_term(picked[0], head=True, casing=casing)
    return head if len(picked) == 1 else f"{head}: {', '.join(display_term(t, casing=casing) for t in picked[1:])}"


def merge_terms(
    term_lists: Sequence[Sequence[tuple[str, float]]], top_n: int = 10, stop_terms: Iterable[str] = ()
) -> list[tuple[str, float]]:
    """Combine several themes' terms (summing weights) into one ranked list of usable terms."""
    totals: dict[str, float] = {}
    for terms in term_lists:
        for term, weight in terms:
            totals[term] = totals.get(term, 0.0) + float(weight)
    return sorted(usable_terms(list(totals.items()), stop_terms), key=lambda kv: (-kv[1], kv[0]))[:top_n]


def pick_quotes(
    ids: Sequence[int],
    texts: Sequence[str],
    embeddings: np.ndarray,
    centroid: np.ndarray,
    n: int = 3,
    max_chars: int = 280,
    min_words: int = 4,
) -> list[int]:
    """Ids of up to ``n`` representative members: closest to the centroid, no near-duplicates."""
    if len(ids) == 0:
        return []
    sims = embeddings @ centroid
    order = np.argsort(-sims, kind="stable")
    chosen: list[int] = []
    for relax in (False, True):
        for i in order:
            if len(chosen) >= n:
                return [int(ids[j]) for j in chosen]
            if i in chosen or any(ids[j] == ids[i] for j in chosen):  # two sentences of one item: one quote
                continue
            words = len((texts[i] or "").split())
            if not relax and (words < min_words or len(texts[i] or "") > max_chars):
                continue
            if any(float(embeddings[i] @ embeddings[j]) > 0.95 for j in chosen):
                continue
            chosen.append(int(i))
    return [int(ids[j]) for j in chosen]
