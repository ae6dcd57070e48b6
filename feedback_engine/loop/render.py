"""Render "you said, we did" emails from the versioned Jinja2 templates in ``loop/templates``.

``you_said_we_did.v1.txt.jinja`` (plain text) and ``you_said_we_did.v1.html.jinja`` (HTML,
autoescaped: every value from customers or staff is escaped). A new wording is a new version
file; the version used is stored with each email.

Quotes are the customer's words as redacted by the NLP stage (``analysis.redacted_text``),
shortened at a sentence boundary, else a word boundary. Items without an analysis row are never
quoted (raw text may hold personal data the redaction would remove): the email then names only
the date and the channel of the feedback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import jinja2

from feedback_engine.loop.mail import clean_header_text

__all__ = ["TEMPLATE", "Update", "RenderedEmail", "render_email", "shorten", "channel_phrase", "human_date"]

TEMPLATE = "you_said_we_did.v1"
TEMPLATES_DIR = Path(__file__).parent / "templates"
QUOTE_LIMIT = 240
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_SENTENCE_END = re.compile(r"[.!?…](?=[\"')\]]?(\s|$))")
_REVIEW_SITES = {"appstore": "the App Store", "googleplay": "Google Play", "trustpilot": "Trustpilot"}
_SOCIAL_SITES = {"twitter": "X", "x": "X", "reddit": "Reddit"}


@dataclass(frozen=True)
class Update:
    """One shipped action as told to one customer."""

    title: str
    description: str
    shipped_on: str
    written_on: str
    channel: str
    quote: str | None


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    template: str = TEMPLATE


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=lambda name: bool(name and name.endswith(".html.jinja")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def human_date(value: datetime | None) -> str:
    """``3 March 2025`` (English month names, independent of the process locale)."""
    if value is None:
        return "an unknown date"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def channel_phrase(channel: str | None, platform: str | None) -> str:
    """Where the customer said it: ``in a survey``, ``in a review on the App Store``, ``in a post on X``."""
    platform = (platform or "").lower()
    if channel == "review":
        site = _REVIEW_SITES.get(platform)
        return f"in a review on {site}" if site else "in a review"
    if channel == "social":
        site = _SOCIAL_SITES.get(platform)
        return f"in a post on {site}" if site else "in a post"
    if channel == "support":
        return "in a conversation with our support team"
    return "in a survey"


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` on one line, cut to at most ``limit`` characters at a sentence or word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    window = flat[: limit - 1]
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] >= limit * 0.4:
        return window[: ends[-1]].rstrip() + " …"
    cut = window.rfind(" ")
    if cut < limit * 0.4:
        cut = len(window)
    return window[:cut].rstrip(" ,;:-–—") + "…"


def _subject(updates: list[Update]) -> str:
    if len(updates) == 1:
        return clean_header_text(f"You said, we did: {updates[0].title}", 150)
    return f"You said, we did: {len(updates)} updates on your feedback"


def render_email(
    *, customer_name: str | None, updates: list[Update], unsubscribe_url: str, sender_name: str | None
) -> RenderedEmail:
    """Subject, plain text and HTML of one email (one update, or a digest of several)."""
    if not updates:
        raise ValueError("an email needs at least one update")
    env = _environment()
    subject = _subject(updates)
    context = {
        "subject": subject,
        "greeting_name": clean_header_text(customer_name, 80) or "there",
        "sender_name": clean_header_text(sender_name, 80) or "The team",
        "updates": updates,
        "unsubscribe_url": unsubscribe_url,
    }
    text = env.get_template(f"{TEMPLATE}.txt.jinja").render(context)
    html = env.get_template(f"{TEMPLATE}.html.jinja").render(context)
    return RenderedEmail(subject=subject, text=text, html=html)
