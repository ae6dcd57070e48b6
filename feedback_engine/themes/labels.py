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
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence

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
    """
    phrases = _stop_phrases(stop_terms)
    brands = _brand_names()
    out = []
    for term, weight in terms:
        words = str(term).lower().split()
        if not words or weight <= 0 or all(w in _STOP_SET for w in words) or any(is_noise_word(w) for w in words):
            continue
        if any(len(w) >= 5 and any(b.startswith(w) for b in brands) for w in words):
            continue  # the brand's name cut short: "usair" of @USAirways, "southwest" of @SouthwestAir
        if any(words[i : i + len(p)] == list(p) for p in phrases for i in range(len(words) - len(p) + 1)):
            continue
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


def display_term(term: str, head: bool = False) -> str:
    """A term as a label writes it: acronyms in their own case (``ios`` -> ``iOS``), the head capitalised."""
    words = [ACRONYMS.get(w.lower(), w) for w in term.split()]
    if head and words and words[0].lower() not in ACRONYMS:
        words[0] = words[0][0].upper() + words[0][1:]
    return " ".join(words)


def shown_terms(terms: Sequence[tuple[str, float]]) -> str:
    """Top terms as stored and shown (JSON ``[[term, weight], ...]``), acronyms in their own case."""
    return json.dumps([[display_term(t), float(w)] for t, w in terms])


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
    terms: Sequence[tuple[str, float]], fallback: str = "Unlabelled theme", stop_terms: Iterable[str] = ()
) -> str:
    """``"Head: second, third"`` from ranked terms, skipping terms that repeat words already used.

    ``stop_terms`` (e.g. from :func:`corpus_stop_terms`) are skipped; when they would leave no term
    at all, the label is built without them rather than falling back.
    """
    stop_terms = list(stop_terms)
    picked = _pick(usable_terms(terms, stop_terms))
    if not picked and stop_terms:
        picked = _pick(usable_terms(terms))
    if not picked:
        return fallback
    head = display_term(picked[0], head=True)
    return head if len(picked) == 1 else f"{head}: {', '.join(display_term(t) for t in picked[1:])}"


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
