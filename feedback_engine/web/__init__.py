"""The HTTP face of feedback_engine: ``feedback-engine serve`` (stdlib ``http.server``).

Today it answers unsubscribe links (GET confirm page, RFC 8058 one-click POST) and ``/healthz``;
the web UI grows from here.
"""

from feedback_engine.web.server import make_server, serve

__all__ = ["make_server", "serve"]
