"""``appstore-connect``: App Store Connect API customer reviews, with a JWT signed by the team's key.

``GET {base}/v1/apps/{app_id}/customerReviews?sort=-createdDate&limit=200`` with
``Authorization: Bearer JWT``, newest first, following ``links.next``. The token is made for each
pull (ES256, header ``kid`` = ``--key-id``; claims ``iss`` = ``--issuer-id``, ``iat``, ``exp`` 15
minutes later, ``aud`` ``appstoreconnect-v1``) from the private key file downloaded from App Store
Connect (``AuthKey_KEYID.p8``), named with ``--token-file`` (or its PEM text in
``APPSTORE_CONNECT_KEY``); the key never enters the database. Each page is the same
``{"data": [customerReviews]}`` document ``ingest reviews`` reads, parsed by the same code. The
cursor is the newest ``createdDate``. Needs ``pip install cryptography`` (the ES256 signer).
Default base URL ``https://api.appstoreconnect.apple.com``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any, ClassVar

from feedback_engine.errors import ConfigError
from feedback_engine.ingest.connectors.base import MAX_PAGES, Connector, Item, Option, Walk, follow
from feedback_engine.ingest.reviews import _appstore_connect  # the file importer's parser of one page

TOKEN_SECONDS = 15 * 60  # Apple accepts at most 20 minutes


class AppStoreConnect(Connector):
    kind: ClassVar[str] = "appstore-connect"
    channel: ClassVar[str] = "review"
    platform: ClassVar[str] = "appstore"
    api: ClassVar[str] = "App Store Connect"
    default_base_url: ClassVar[str] = "https://api.appstoreconnect.apple.com"
    token_env: ClassVar[str | None] = "APPSTORE_CONNECT_KEY"
    settings_spec: ClassVar[tuple[Option, ...]] = (
        Option("app_id", "App Store app id (the digits after /id in the app's URL).", required=True),
        Option("key_id", "The API key's id (Users and Access > Integrations).", required=True),
        Option("issuer_id", "The team's issuer id (same page).", required=True),
    )

    def credential(self) -> str | None:
        """The PEM of the private key: a file's whole text (not only its first line), or the variable."""
        path = self.settings.get("token_file")
        if path:
            from pathlib import Path

            try:
                return Path(path).expanduser().read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"Source {self.name}: cannot read its key file {path} ({exc.strerror}).") from None
        return super().credential()

    def walk(self) -> Iterator[Item]:
        headers = {"Authorization": f"Bearer {self.jwt()}"}
        where = self.credential_source()
        state = Walk(self.cutoff("newest"))
        url = f"{self.base_url}/v1/apps/{self.settings['app_id']}/customerReviews"
        params: dict[str, Any] | None = {"sort": "-createdDate", "limit": 200}
        while state.pages < MAX_PAGES:
            page = self.http.get_json(url, params=params, headers=headers, api=self.api, credential=where)
            state.pages += 1
            data = page.data
            if page.error is None and not (isinstance(data, dict) and isinstance(data.get("data"), list)):
                page.error, page.text = "not an App Store Connect customerReviews answer", str(data)[:20_000]
            if page.error is not None:
                state.broken = True
                yield self.broken(page)
                break
            yield from state.take(page.url, _appstore_connect(data))
            links = data.get("links") if isinstance(data.get("links"), dict) else {}
            following = links.get("next")
            if state.done or not data["data"] or not isinstance(following, str):
                break
            url, params = follow(self.base_url, following), None
        checkpoint = state.checkpoint(self.cursor, "newest")
        if checkpoint is not None:
            yield checkpoint

    def jwt(self, now: float | None = None) -> str:
        """An ES256 token for the API (see the module docstring)."""
        try:
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        except ImportError:
            raise ConfigError(
                "appstore-connect signs its token with `cryptography`: pip install cryptography"
            ) from None
        pem = self.credential() or ""
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            raise ConfigError(
                f"Source {self.name}: {self.credential_source()} is not a PEM private key (the AuthKey_*.p8 file)."
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ConfigError(f"Source {self.name}: the App Store Connect key must be an EC P-256 key (.p8).")
        issued = int(now if now is not None else time.time())
        header = {"alg": "ES256", "kid": str(self.settings["key_id"]), "typ": "JWT"}
        claims = {
            "iss": str(self.settings["issuer_id"]),
            "iat": issued,
            "exp": issued + TOKEN_SECONDS,
            "aud": "appstoreconnect-v1",
        }
        signing_input = f"{_b64(json.dumps(header, separators=(',', ':')).encode())}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
        r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
