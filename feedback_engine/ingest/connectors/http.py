"""HTTP for the connectors: one ``httpx.Client`` with bounded retries, and pages that may be broken.

:meth:`HttpClient.get_json` returns a :class:`Page`: the parsed JSON, or ``error`` set (invalid
JSON, not an object) with the text, so that the caller quarantines the page with its URL and goes
on. Around the request:

- **429**: waits ``Retry-After`` (seconds or an HTTP date; X's ``x-rate-limit-reset`` epoch when
  there is none), capped at ``max_wait`` seconds, then asks again;
- **5xx, timeouts, refused connections**: retried with exponential backoff (``backoff`` seconds,
  doubling, capped at ``max_wait``);
- both at most ``retries`` times in all, then :class:`SourceUnavailable` (the source failed, this
  run; the next run starts from the same cursor);
- **401/403**: :class:`SourceAuthError` at once, naming the variable or file that holds the
  credential ("set ZENDESK_API_TOKEN ...");
- **other 4xx**: :class:`SourceHttpError` (a wrong setting: an unknown app id, subdomain, query).
- **redirects**: followed on the same scheme, host and port only (at most 5); one to another host
  is refused, so credential headers never leave for it.

Credentials travel only in headers; URLs in messages and quarantine hold none. The transport is
swappable (``httpx.MockTransport`` works), but the tests talk to a real server on loopback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from feedback_engine.errors import IngestError

__all__ = ["HttpClient", "Page", "SourceAuthError", "SourceHttpError", "SourceUnavailable"]

USER_AGENT = "feedback-engine (customer-feedback analytics; API pull)"
MAX_BODY = 50 * 1024 * 1024  # a page larger than this is refused, not parsed


class SourceHttpError(IngestError):
    """The API refused a request in a way retrying cannot fix (a wrong setting)."""


class SourceAuthError(SourceHttpError):
    """401/403: the credential is missing, wrong or expired."""


class SourceUnavailable(IngestError):
    """The API kept failing (5xx, timeouts, rate limits) past the retries of this run."""


@dataclass
class Page:
    """One response: ``data`` (parsed JSON) or ``error`` (why it is unusable) with its ``text``."""

    url: str
    data: Any = None
    error: str | None = None
    text: str = ""
    headers: Mapping[str, str] | None = None


class HttpClient:
    """GETs JSON with the retries described in the module docstring.

    ``sleep`` is what waits (tests pass a recorder with tiny caps); ``transport`` an httpx
    transport (default: the network)."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: float = 1.0,
        max_wait: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.requests = 0
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport,
            follow_redirects=False,  # followed by hand, same origin only (see _same_origin_redirects)
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        api: str = "the API",
        credential: str | None = None,
    ) -> Page:
        """GET ``url`` and parse its JSON body. ``api`` names the service in messages,
        ``credential`` says where the credential comes from (for the 401/403 line)."""
        response = self.request("GET", url, params=params, headers=headers, auth=auth, api=api, credential=credential)
        return _parse(_shown(str(response.url)), response)

    def post_json(
        self,
        url: str,
        body: Any,
        *,
        headers: Mapping[str, str] | None = None,
        api: str = "the API",
        credential: str | None = None,
    ) -> Page:
        """POST a JSON ``body`` (an API that starts a job, e.g. a Qualtrics export) and parse the answer."""
        response = self.request("POST", url, json_body=body, headers=headers, api=api, credential=credential)
        return _parse(_shown(str(response.url)), response)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        api: str = "the API",
        credential: str | None = None,
    ) -> httpx.Response:
        """One request with the retries of the module docstring; the successful response."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                self.requests += 1
                response = self._client.request(
                    method, url, params=clean or None, json=json_body, headers=headers, auth=auth
                )
                response = self._same_origin_redirects(response, headers, auth, api)
            except httpx.TimeoutException as exc:
                if last:
                    raise SourceUnavailable(
                        f"{api} did not answer in time at {_shown(url)} ({self.retries + 1} tries; {type(exc).__name__}); "
                        "the next pull tries again from the same point."
                    ) from None
                self.sleep(self._backoff(attempt))
                continue
            except httpx.TransportError as exc:
                if last:
                    raise SourceUnavailable(
                        f"Cannot reach {api} at {_shown(url)} ({_why(exc)}, {self.retries + 1} tries); check "
                        "--base-url and the network, the next pull tries again from the same point."
                    ) from None
                self.sleep(self._backoff(attempt))
                continue
            shown = _shown(str(response.url))
            status = response.status_code
            if status == 429 or status >= 500:
                if last:
                    what = "kept rate-limiting (HTTP 429)" if status == 429 else f"kept failing (HTTP {status})"
                    raise SourceUnavailable(
                        f"{api} {what} at {shown} after {self.retries + 1} tries; the next pull tries again "
                        "from the same point."
                    )
                wait = self._retry_after(response) if status == 429 else None
                self.sleep(min(wait, self.max_wait) if wait is not None else self._backoff(attempt))
                continue
            if status in (401, 403):
                word = "401 Unauthorized" if status == 401 else "403 Forbidden"
                where = credential or "the source's credential"
                raise SourceAuthError(
                    f"{api} answered {word} at {shown}: {where} is missing, wrong or expired; set it and pull again.",
                    status=status,
                    url=shown,
                )
            if status >= 400:
                raise SourceHttpError(
                    f"{api} answered HTTP {status} at {shown}; check the source's settings "
                    "(`feedback-engine sources list`).",
                    status=status,
                    url=shown,
                )
            return response
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt

    def _same_origin_redirects(
        self,
        response: httpx.Response,
        headers: Mapping[str, str] | None,
        auth: httpx.Auth | tuple[str, str] | None,
        api: str,
    ) -> httpx.Response:
        """Follow up to 5 redirects on the same scheme, host and port. A redirect elsewhere is
        refused: the credential headers (``apikey``, ``X-API-TOKEN``, bearer tokens) must never
        travel to another host."""
        for _ in range(5):
            if response.status_code not in (301, 302, 303, 307, 308) or "location" not in response.headers:
                return response
            target = response.url.join(response.headers["location"])
            here = response.url
            if (target.scheme, target.host, target.port) != (here.scheme, here.host, here.port):
                raise SourceHttpError(
                    f"{api} redirected {_shown(str(here))} to another host ({target.host}); the credential is not "
                    "sent there. Point --base-url at the API's own address.",
                    url=_shown(str(here)),
                )
            method = "GET" if response.status_code == 303 else response.request.method
            self.requests += 1
            response = self._client.request(method, target, headers=headers, auth=auth)
        return response

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff * (2**attempt), self.max_wait))

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After", "").strip()
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                pass
            try:
                moment = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return max(0.0, (moment - datetime.now(UTC)).total_seconds())
        reset = response.headers.get("x-rate-limit-reset", "").strip()
        if reset.isdigit():
            return max(0.0, int(reset) - time.time())
        return None


def _parse(url: str, response: httpx.Response) -> Page:
    body = response.content
    if len(body) > MAX_BODY:
        return Page(
            url, error=f"page larger than {MAX_BODY // (1024 * 1024)} MB", text=body[:2000].decode("utf-8", "replace")
        )
    text = body.decode(response.encoding or "utf-8", "replace")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return Page(url, error=f"invalid JSON ({str(exc)[:120]})", text=text[:20_000], headers=response.headers)
    return Page(url, data=data, text="", headers=response.headers)


def _shown(url: str) -> str:
    """The URL without user info (``https://user:secret@host`` never reaches a message)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return url
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    return str(parsed)


def _why(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:120]
    return text or type(exc).__name__
