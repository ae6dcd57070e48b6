"""The label audit on real tweets we did not write, imported as an X API v2 export: no handles, URLs,
URL placeholders, `rt`, cashtags, numbers or profanity in any theme label or top term, no word in a
case customers did not write ("Swa" where they write "SWA") and no term word that only one of the
theme's members wrote (a typo, a one-off run-together word) (real models)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from feedback_engine import Engine
from feedback_engine.themes.labels import ACRONYMS, PROFANITY, clean_for_terms
from feedback_engine.themes.queries import theme_items

pytestmark = [pytest.mark.models, pytest.mark.slow]

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "sentiment" / "crowdflower_tweets.csv.xz"
BAD = re.compile(r"(^|\s)(@\w+|\$\w+|https?\S*|www\S*|httpurlremoved|url_?removed|rt|via|\d+)(\s|$)", re.I)


def _surface(text: str) -> list[str]:
    """The words of a text in the case written, read generously: each whitespace-separated piece
    without its non-letters ("#DestinationDragons", "wi-fi" -> "wifi") and each run of letters in it."""
    out = []
    for piece in clean_for_terms(text).split():
        out += {re.sub(r"[^A-Za-z]", "", piece), *re.findall(r"[A-Za-z]+", piece)} - {""}
    return out


def _folded(word: str) -> str:
    """Capitalised words ("Delay", "Swa") say nothing of case (sentence starts, titles): lower case."""
    return word.lower() if word[:1].isupper() and word[1:] == word[1:].lower() else word


def _case_problems(shown: list[dict], noisy: list[str]) -> list[tuple[int, str]]:
    """Words written in a case customers did not write, or in one they clearly outvote: a shown form
    (capitalised words count as lower case) three times outnumbered, and at least 3 times, by another
    form customers wrote ("Swa" where they write "SWA", "jfk" where they write "JFK"). Texts that
    shout are left out; the fixed acronyms have their own check."""
    forms: Counter[str] = Counter()
    for text in noisy:
        letters = [c for c in text if c.isalpha()]
        if sum(c.isupper() for c in letters) * 2 <= len(letters):
            forms.update(_folded(w) for w in _surface(text))
    problems = []
    for theme in shown:
        for text in [theme["label"], *(t["term"] for t in theme["terms"])]:
            for word in re.findall(r"[A-Za-z]+", text):
                if word.lower() in ACRONYMS:
                    continue
                form = _folded(word)
                rivals = [g for g, n in forms.items() if g.lower() == word.lower() and g != form]
                if form != form.lower() and not forms[form]:
                    problems.append((theme["id"], f"{word!r} in {text!r}: customers never write {form!r}"))
                for g in rivals:
                    if forms[g] >= max(3, 3 * forms[form]):
                        problems.append((theme["id"], f"{word!r} in {text!r}: customers write {g!r} ({forms[g]}x)"))
    return problems


def _support_problems(shown: list[dict], texts: dict[int, str], members: dict[int, set[int]]) -> list:
    """Label and term words that fewer than two of the theme's member items hold (all of them in a
    smaller theme); the words of an item are read generously (:func:`_surface`). The fit asks for
    three (``labels.min_support``); one may leave the theme after the fit, when its text names another
    theme's anchor word, so two are what the members can still show ("file claim": 3 at the fit, 2 after)."""
    problems = []
    for theme in shown:
        ids = members[theme["id"]]
        support = Counter(w for f in ids for w in {x.lower() for x in _surface(texts[f])})
        need = min(2, len(ids))
        for text in [theme["label"], *(t["term"] for t in theme["terms"])]:
            problems += [
                (theme["id"], f"{w!r} in {text!r}: {support[w]} of {len(ids)} members")
                for w in re.findall(r"[a-z]+", text.lower())
                if support[w] < need
            ]
    return problems


def _export(path: Path, n: int = 600) -> list[str]:
    """The first ``n`` tweets that carry a handle, a URL, `RT` or a cashtag, as X API v2 pages."""
    tweets = pd.read_csv(DATA)["text"].astype(str)
    noisy = tweets[tweets.str.contains(r"@\w|http|\bRT\b|\$[A-Za-z]", regex=True)].head(n).tolist()
    with path.open("w", encoding="utf-8") as fh:
        for page in range(0, len(noisy), 100):
            data = [
                {
                    "id": str(10_000 + i),
                    "text": text,
                    "author_id": str(500 + i),
                    "created_at": f"2026-11-{1 + i % 28:02d}T10:00:00.000Z",
                    "lang": "en",
                }
                for i, text in enumerate(noisy[page : page + 100], start=page)
            ]
            users = [{"id": d["author_id"], "username": f"user{d['author_id']}", "name": "A"} for d in data]
            fh.write(
                json.dumps({"data": data, "includes": {"users": users}, "meta": {"result_count": len(data)}}) + "\n"
            )
    return noisy


@pytest.mark.skipif(not DATA.is_file(), reason="../shared/data/sentiment is not beside the checkout")
def test_labels_on_real_tweets_pass_the_audit(tmp_path: Path, sentiment_model, embedder, spacy_nlp):
    source = tmp_path / "mentions.jsonl"
    noisy = _export(source)
    assert sum("@" in t for t in noisy) > 300  # the export really is full of handles
    with Engine(tmp_path / "f.db", sentiment_model=sentiment_model, embedder=embedder, spacy_nlp=spacy_nlp) as engine:
        (report,) = engine.ingest.files(source)
        assert report.added == len(noisy)
        engine.analysis.run()
        themes = engine.themes.list()
        assert len(themes) >= 5
        shown = [engine.themes.show(t["id"]) for t in themes]
        conn = engine.store.conn
        texts = {int(f): str(t) for f, t in conn.execute("SELECT id, text FROM feedback")}
        members = {t["id"]: theme_items(conn, [t["id"]]) for t in themes}
    # every word of a label or term is one customers wrote as a word: not a handle without its "@"
    # ("americanair"), a placeholder's name ("handle" of [HANDLE]) or a word without its apostrophe
    # (hyphenated words count joined: "wi-fi" may show as "wifi")
    written: set[str] = set()
    for t in noisy:
        for w in re.findall(r"[a-z]+(?:-[a-z]+)*", clean_for_terms(t).lower()):
            written |= {w.replace("-", ""), *w.split("-")}
    problems = []
    for theme in shown:
        for text in [theme["label"], *(t["term"] for t in theme["terms"])]:
            problems += [
                (theme["id"], f"{w!r} in {text!r}") for w in re.findall(r"[a-z]+", text.lower()) if w not in written
            ]
        for text in [theme["label"], *(t["term"] for t in theme["terms"])]:
            words = re.findall(r"[\w$@']+", text.lower())
            if BAD.search(text) or (words and all(w in PROFANITY for w in words)):
                problems.append((theme["id"], text))
            for word in re.findall(r"[A-Za-z]+", text):
                if word.lower() in ACRONYMS and word != ACRONYMS[word.lower()]:
                    problems.append((theme["id"], f"acronym {word!r} in {text!r}"))
    problems += _case_problems(shown, noisy)
    problems += _support_problems(shown, texts, members)
    assert not problems, problems
    assert all(theme["terms"] for theme in shown)  # cleaning left every theme terms to show
