"""``typeform``: Typeform Responses API, one item per free-text answer (channel ``survey``).

``GET {base}/forms/{form_id}`` first (the questions' titles: the responses carry only field ids
and refs), then ``GET {base}/forms/{form_id}/responses?page_size=1000&since=CUTOFF`` with
``Authorization: Bearer $TYPEFORM_TOKEN``, newest first; the next page passes ``before`` = the
token of the last response of the page. Each page (``{"total_items", "page_count", "items"}``) is
read by the file importer's Typeform API parser (long/short text answers become items, the NPS
question's number the response's NPS, a hidden ``email`` its customer), so a response pulled here
and the same response in a downloaded export are one item. The cursor is the newest
``submitted_at``. Default base URL ``https://api.typeform.com`` (EU accounts:
``https://api.eu.typeform.com``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from feedback_engine.ingest.connectors.base import MAX_PAGES, Connector, Item, Option, Walk
from feedback_engine.ingest.surveys import SurveyOptions, _typeform_api  # the file importer's parser

PAGE_SIZE = 1000


class Typeform(Connector):
    kind: ClassVar[str] = "typeform"
    channel: ClassVar[str] = "survey"
    platform: ClassVar[str] = "typeform"
    api: ClassVar[str] = "Typeform"
    default_base_url: ClassVar[str] = "https://api.typeform.com"
    token_env: ClassVar[str | None] = "TYPEFORM_TOKEN"
    settings_spec: ClassVar[tuple[Option, ...]] = (
        Option("form_id", "Typeform form id (the part after /to/ in the form's link).", required=True),
    )

    def walk(self) -> Iterator[Item]:
        headers = {"Authorization": f"Bearer {self.credential()}"}
        form_id = str(self.settings["form_id"]).strip()
        where = self.credential_source()
        form = self.http.get_json(f"{self.base_url}/forms/{form_id}", headers=headers, api=self.api, credential=where)
        titles = _titles(form.data if form.error is None else None)
        state = Walk(self.cutoff("newest"))
        url = f"{self.base_url}/forms/{form_id}/responses"
        params: dict[str, Any] = {"page_size": PAGE_SIZE, "since": state.cutoff}
        while state.pages < MAX_PAGES:
            page = self.http.get_json(url, params=params, headers=headers, api=self.api, credential=where)
            state.pages += 1
            data = page.data
            if page.error is None and not (isinstance(data, dict) and isinstance(data.get("items"), list)):
                page.error, page.text = "not a Typeform responses answer (no 'items' list)", str(data)[:20_000]
            if page.error is not None:
                state.broken = True
                yield self.broken(page)
                break  # the next page's token is in this one
            items = [_titled(item, titles) for item in data["items"]]
            if not items:
                break
            yield from state.take(page.url, _typeform_api(Path(url), items, SurveyOptions()).records())
            last = items[-1].get("token") if isinstance(items[-1], dict) else None
            if len(items) < PAGE_SIZE or not last:
                break
            params = {"page_size": PAGE_SIZE, "since": state.cutoff, "before": last}
        checkpoint = state.checkpoint(self.cursor, "newest")
        if checkpoint is not None:
            yield checkpoint


def _titles(form: Any) -> dict[str, str]:
    """Question titles by field id and ref, from the form definition (nested groups included)."""
    out: dict[str, str] = {}
    stack = list(form.get("fields") or []) if isinstance(form, dict) else []
    while stack:
        field = stack.pop()
        if not isinstance(field, dict):
            continue
        title = field.get("title")
        if isinstance(title, str):
            for key in (field.get("id"), field.get("ref")):
                if isinstance(key, str):
                    out[key] = title
        props = field.get("properties")
        if isinstance(props, dict) and isinstance(props.get("fields"), list):
            stack.extend(props["fields"])
    return out


def _titled(item: Any, titles: dict[str, str]) -> Any:
    """The response with each answer's field titled (what the export parser names the question by)."""
    if not isinstance(item, dict) or not isinstance(item.get("answers"), list):
        return item
    answers = []
    for answer in item["answers"]:
        field = answer.get("field") if isinstance(answer, dict) else None
        if isinstance(field, dict) and "title" not in field:
            title = titles.get(str(field.get("ref"))) or titles.get(str(field.get("id")))
            if title:
                answer = {**answer, "field": {**field, "title": title}}
        answers.append(answer)
    return {**item, "answers": answers}
