"""``qualtrics``: a Qualtrics response export, started, polled and downloaded (channel ``survey``).

1. ``POST {base}/API/v3/surveys/{survey_id}/export-responses`` with ``{"format": "csv",
   "startDate": CUTOFF, "useLabels": true}`` -> ``result.progressId``;
2. ``GET .../export-responses/{progressId}`` until ``result.status`` is ``complete`` (then
   ``result.fileId``) or ``failed``, waiting between polls (at most :data:`MAX_POLLS`);
3. ``GET .../export-responses/{fileId}/file``: a zip holding the CSV with Qualtrics' three header
   rows, which the file importer reads (``ingest surveys``), so API and downloaded exports share
   keys. The cursor is the newest ``RecordedDate`` of a complete export.

Token: ``QUALTRICS_API_TOKEN`` (header ``X-API-TOKEN``). The base URL is the data center's,
``https://{datacenter}.qualtrics.com`` (``--datacenter`` or ``--base-url``).
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from feedback_engine.errors import ConfigError, IngestError
from feedback_engine.ingest.connectors.base import Connector, Item, Option, Walk
from feedback_engine.ingest.connectors.http import Page
from feedback_engine.ingest.surveys import SurveyOptions, open_survey

MAX_POLLS = 300
POLL_WAIT = 2.0
_DATACENTER = re.compile(r"^[a-z0-9]{2,20}$")


class Qualtrics(Connector):
    kind: ClassVar[str] = "qualtrics"
    channel: ClassVar[str] = "survey"
    platform: ClassVar[str] = "qualtrics"
    api: ClassVar[str] = "Qualtrics"
    token_env: ClassVar[str | None] = "QUALTRICS_API_TOKEN"
    settings_spec: ClassVar[tuple[Option, ...]] = (
        Option("survey_id", "Qualtrics survey id (SV_...).", required=True),
        Option("datacenter", "Data center id (iad1, fra1, ...) of https://DATACENTER.qualtrics.com; or --base-url."),
    )

    @property
    def base_url(self) -> str:
        if self.settings.get("base_url"):
            return str(self.settings["base_url"]).rstrip("/")
        dc = str(self.settings.get("datacenter") or "").strip().lower()
        if not _DATACENTER.match(dc):
            raise ConfigError(f"Source {self.name}: pass --datacenter (e.g. iad1) or --base-url.")
        return f"https://{dc}.qualtrics.com"

    def walk(self) -> Iterator[Item]:
        headers = {"X-API-TOKEN": self.credential() or ""}
        where = self.credential_source()
        root = f"{self.base_url}/API/v3/surveys/{self.settings['survey_id']}/export-responses"
        state = Walk(self.cutoff("newest"))
        body = {"format": "csv", "startDate": state.cutoff, "useLabels": True}
        started = self.http.post_json(root, body, headers=headers, api=self.api, credential=where)
        progress = _result(started.data).get("progressId")
        if started.error is not None or not isinstance(progress, str):
            yield self.broken(started, "export start")
            return
        file_id = None
        for _ in range(MAX_POLLS):
            polled = self.http.get_json(f"{root}/{progress}", headers=headers, api=self.api, credential=where)
            result = _result(polled.data)
            if polled.error is not None:
                yield self.broken(polled, "export progress")
                return
            if result.get("status") == "complete" and isinstance(result.get("fileId"), str):
                file_id = result["fileId"]
                break
            if result.get("status") == "failed":
                raise IngestError(f"Qualtrics reports the export {progress} failed; pull again later.")
            self.http.sleep(min(POLL_WAIT, self.http.max_wait))
        if file_id is None:
            raise IngestError(
                f"The Qualtrics export {progress} was not ready after {MAX_POLLS} polls; pull again later."
            )
        response = self.http.request("GET", f"{root}/{file_id}/file", headers=headers, api=self.api, credential=where)
        url = str(response.url)
        try:
            archive = zipfile.ZipFile(io.BytesIO(response.content))
            member = next(n for n in archive.namelist() if n.lower().endswith(".csv"))
            data = archive.read(member)
        except (zipfile.BadZipFile, StopIteration, KeyError) as exc:
            yield self.broken(
                Page(url, error=f"not a zip with a CSV export ({exc or type(exc).__name__})"), "export file"
            )
            return
        with tempfile.TemporaryDirectory(prefix="feedback-qualtrics-") as folder:
            path = Path(folder) / "export.csv"
            path.write_bytes(data)
            yield from state.take(url, open_survey(path, SurveyOptions()).records())
        checkpoint = state.checkpoint(self.cursor, "newest")
        if checkpoint is not None:
            yield checkpoint


def _result(data: object) -> dict[str, object]:
    result = data.get("result") if isinstance(data, dict) else None
    return result if isinstance(result, dict) else {}
