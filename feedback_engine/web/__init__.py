"""The HTTP face of feedback_engine: ``feedback-engine serve``, a Starlette app under uvicorn.

- ``app.py`` builds the app; ``guard.py`` is the middleware in front of every route (methods, body
  limits, security headers, errors, the log); ``server.py`` the uvicorn glue (malformed requests,
  timeouts, signals, ``--workers``).
- ``auth.py`` login, logout, and the session/role/CSRF check every page goes through.
- Pages, one module per family: ``pages.py`` (triage, theme, item), ``backlog.py`` (actions, ship,
  outbox, customer), ``settings.py`` (users and roles), ``api.py`` (``/api/...`` JSON with tokens),
  ``unsubscribe.py`` (unsubscribe links and ``/healthz``); templates in ``templates/``, the CSS and
  the one script in ``static/``.

Handlers parse the request, call Engine services (``engine.themes``, ``engine.actions``,
``engine.browse``, ``engine.accounts``, ...), and render; no SQL lives here.
"""

from feedback_engine.web.server import make_server, serve

__all__ = ["make_server", "serve"]
