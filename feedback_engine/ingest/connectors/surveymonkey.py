"""``surveymonkey``: SurveyMonkey API v3 bulk responses, one item per open-ended answer (``survey``).

``GET {base}/v3/surveys/{survey_id}/details`` first (question headings, families and choice
texts: responses carry only ids), then ``GET {base}/v3/surveys/{survey_id}/responses/bulk
?per_page=100&sort_by=date_modified&sort_order=ASC&start_modified_at=CURSOR``, following
``links.next``. Oldest change first, so the cursor (the newest ``date_modified`` committed) is
written after every page together with its rows. An answer with ``text`` to an open-ended
question (or an "Other" comment) becomes an item keyed ``surveymonkey:RESPONSE_ID:QUESTION_ID``;
a question whose heading asks how likely one is to recommend, with 0-10 choices, gives the
response's NPS; the respondent's ``email_address`` its customer. Token:
``SURVEYMONKEY_TOKEN`` (bearer). Default base URL ``https://api.surveymonkey.com``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from feedback_engine.ingest.connectors.base import MAX_PAGES, Connector, Item, Option, follow
from feedback_engine.ingest.records import (
    Checkpoint,
    FeedbackRecord,
    Invalid,
    Quarantined,
    check_text,
    clean_text,
    expect_list,
    guarded,
    normalise_email,
    parse_date,
    parse_score,
    safe_dump,
)

_RECOMMEND = re.compile(r"\brecommend\b", re.I)


class SurveyMonkey(Connector):
    kind: ClassVar[str] = "surveymonkey"
    channel: ClassVar[str] = "survey"
    platform: ClassVar[str] = "surveymonkey"
    api: ClassVar[str] = "SurveyMonkey"
    default_base_url: ClassVar[str] = "https://api.surveymonkey.com"
    token_env: ClassVar[str | None] = "SURVEYMONKEY_TOKEN"
    settings_spec: ClassVar[tuple[Option, ...]] = (Option("survey_id", "SurveyMonkey survey id.", required=True),)

    def walk(self) -> Iterator[Item]:
        headers = {"Authorization": f"Bearer {self.credential()}"}
        where = self.credential_source()
        survey = str(self.settings["survey_id"]).strip()
        details = self.http.get_json(
            f"{self.base_url}/v3/surveys/{survey}/details", headers=headers, api=self.api, credential=where
        )
        if details.error is not None or not isinstance(details.data, dict):
            yield self.broken(details)
            return  # without the questions no answer can be named
        questions = _questions(details.data)
        cursor = dict(self.cursor) if isinstance(self.cursor, dict) else {}
        start = self.since or cursor.get("modified") or self.cutoff("modified")
        url = f"{self.base_url}/v3/surveys/{survey}/responses/bulk"
        params: dict[str, Any] | None = {
            "per_page": 100,
            "sort_by": "date_modified",
            "sort_order": "ASC",
            "start_modified_at": start[:19],
        }
        for _ in range(MAX_PAGES):
            page = self.http.get_json(url, params=params, headers=headers, api=self.api, credential=where)
            data = page.data
            if page.error is None and not (isinstance(data, dict) and isinstance(data.get("data"), list)):
                page.error, page.text = "not a SurveyMonkey bulk responses answer", str(data)[:20_000]
            if page.error is not None:
                yield self.broken(page)
                return
            newest = cursor.get("modified")
            for n, response in enumerate(data["data"], start=1):
                loc = f"{page.url} response {n}"
                if not isinstance(response, dict):
                    yield Quarantined(loc, "not a JSON object", safe_dump(response))
                    continue
                yield from guarded(loc, response, _response, response, questions, loc)
                modified = response.get("date_modified")
                if isinstance(modified, str):
                    try:
                        stamp = parse_date(modified)
                    except Invalid:
                        stamp = None
                    newest = max(filter(None, (newest, stamp)), default=None)
            cursor["modified"] = newest
            yield Checkpoint(dict(cursor))  # with this page's answers
            following = (data.get("links") or {}).get("next") if isinstance(data.get("links"), dict) else None
            if not following or not data["data"]:
                return
            url, params = follow(self.base_url, following), None


def _questions(details: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Question id -> heading, whether it is open-ended, whether it is the NPS question, choice texts."""
    out: dict[str, dict[str, Any]] = {}
    for pg in details.get("pages") or []:
        for q in (pg.get("questions") or []) if isinstance(pg, dict) else []:
            if not isinstance(q, dict) or not q.get("id"):
                continue
            headings = q.get("headings") or [{}]
            heading = clean_text(headings[0].get("heading") if isinstance(headings[0], dict) else "") or str(q["id"])
            found = q.get("answers")
            answers: dict[str, Any] = found if isinstance(found, dict) else {}
            choices = {
                str(c.get("id")): c.get("text")
                for c in [*(answers.get("choices") or []), *(answers.get("rows") or [])]
                if isinstance(c, dict)
            }
            texts = [str(t) for t in choices.values() if t is not None]
            nps = bool(_RECOMMEND.search(heading)) and set(texts) >= {str(i) for i in range(11)}
            out[str(q["id"])] = {
                "heading": heading,
                "open": q.get("family") == "open_ended",
                "nps": nps or q.get("family") == "nps",
                "choices": choices,
            }
    return out


def _response(response: dict[str, Any], questions: dict[str, dict[str, Any]], loc: str) -> Iterator[Item]:
    rid = response.get("id")
    if not isinstance(rid, (str, int)) or isinstance(rid, bool) or not str(rid):
        raise Invalid("response without an id")
    rid = str(rid)
    answers: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for pg in expect_list(response.get("pages"), "pages"):
        for q in expect_list(pg.get("questions") if isinstance(pg, dict) else None, "questions"):
            if isinstance(q, dict):
                meta = questions.get(str(q.get("id")), {"heading": str(q.get("id")), "open": True, "nps": False})
                for answer in expect_list(q.get("answers"), "answers"):
                    if isinstance(answer, dict):
                        answers.append((str(q.get("id")), meta, answer))
    nps = None
    for _qid, meta, answer in answers:
        if meta.get("nps") and answer.get("choice_id") is not None:
            nps = parse_score(meta["choices"].get(str(answer["choice_id"])), 0, 10, "NPS")
    created = parse_date(response.get("date_created"))
    updated = parse_date(response.get("date_modified"))
    email = normalise_email(response.get("email_address"))
    name = " ".join(p for p in (clean_text(response.get("first_name")), clean_text(response.get("last_name"))) if p)
    for qid, meta, answer in answers:
        text = clean_text(answer.get("text"))
        if not text or not (meta.get("open") or answer.get("other_id") or answer.get("choice_id") is None):
            continue
        check_text(text)
        yield FeedbackRecord(
            channel="survey",
            platform="surveymonkey",
            natural_key=f"surveymonkey:{rid}:{qid}",
            text=text,
            raw=response,
            external_id=rid,
            response_id=rid,
            question=meta["heading"],
            nps=nps,
            created_at=created,
            source_updated_at=updated,
            email=email,
            display_name=name or None,
            url=clean_text(response.get("analyze_url")) or None,
            location=f"{loc} (id {rid}) question {qid}",
        )
