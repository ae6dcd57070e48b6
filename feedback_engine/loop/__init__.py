"""Loop-closure stage: action backlog, "you said, we did" notifications, unsubscribe.

Where things go, in order:

- ``actions``     the backlog (statuses, history, lists, export)
- ``recipients``  themes resolved through merges -> items -> eligible customers
- ``outbox``      notifications per (customer, action), frequency cap, one email (digest) per customer
- ``render``      versioned Jinja2 templates in ``templates/``
- ``mail``        the EmailMessage: safe headers, Message-ID, RFC 8058 headers
- ``tokens``      signed unsubscribe tokens
- ``transport``   SMTP (and a recording transport for tests); ``delivery`` its error types
- ``notify``      the job: lock, plan, render, send, record; its delivery guarantee
- ``settings``    FEEDBACK_ENGINE_* environment variables
- ``api``         the Engine methods the CLI calls
"""
