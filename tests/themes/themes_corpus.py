"""Realistic synthetic customer feedback with known themes, for the theme tests and benchmarks.

Each theme has hand-written snippets with ``{slot}`` fillers and a sentiment; items are one
snippet, two snippets of one theme, or two snippets of different themes (an item that praises
support but complains about price). Generation is seeded, so a given ``(n, seed)`` always yields
the same items. Not a fixture file: the whole generator is code so that the 10,000-item benchmark
and the few-hundred-item tests share it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

SLOTS: dict[str, list[str]] = {
    "times": ["twice", "three times", "two times", "again", "double"],
    "plan": ["monthly", "annual", "premium", "family", "pro"],
    "weeks": ["two weeks", "three weeks", "a month", "ten days", "six weeks"],
    "days": ["five days", "a week", "ten days", "two weeks", "9 days"],
    "agent": ["the agent", "the support rep", "the person on chat", "your support team", "the guy on the phone"],
    "wait": ["45 minutes", "an hour", "two hours", "30 minutes", "three days"],
    "screen": ["the checkout screen", "the home screen", "my profile", "the settings page", "the cart"],
    "device": ["my iPhone", "my Pixel", "the iPad", "my Samsung", "Android 14"],
    "price": ["$15", "$20", "$12.99", "$30", "$9.99"],
    "feature": ["dark mode", "an export to CSV", "offline mode", "a widget", "calendar sync"],
    "item": ["the jacket", "my order", "the headphones", "the blender", "the shoes"],
}

THEMES: dict[str, list[tuple[str, str]]] = {
    "billing": [
        ("I was charged {times} for my {plan} subscription and nobody will refund me.", "negative"),
        ("Still waiting on my refund after {weeks}, this is ridiculous.", "negative"),
        ("You billed my card {times} this month, please fix the duplicate charge.", "negative"),
        ("The invoice shows a charge I never authorised.", "negative"),
        ("Cancelled my {plan} plan but you kept charging me.", "negative"),
        ("Refund arrived quickly once I asked, thanks.", "positive"),
        ("Got my money back within {days}, smooth refund process.", "positive"),
        ("Where can I download a VAT invoice for my {plan} plan?", "neutral"),
        ("The billing page doesn't show my last payment.", "negative"),
        ("Double charged on my credit card and the refund is still pending.", "negative"),
    ],
    "delivery": [
        ("My package arrived {days} late and the box was crushed.", "negative"),
        ("Delivery took {days}, much slower than promised.", "negative"),
        ("The courier left {item} at the wrong address.", "negative"),
        ("Tracking says delivered but I never received {item}.", "negative"),
        ("Fast shipping, {item} arrived the next day!", "positive"),
        ("Delivery was on time and the driver was friendly.", "positive"),
        ("Shipping cost more than {item} itself.", "negative"),
        ("Parcel came well packaged and earlier than expected.", "positive"),
        ("The delivery window keeps changing, no idea when my order arrives.", "negative"),
        ("Can you ship to Canada? The checkout only lists US addresses for delivery.", "neutral"),
    ],
    "support": [
        ("{agent} was incredibly helpful and solved my problem in minutes.", "positive"),
        ("Waited {wait} on hold to talk to customer service.", "negative"),
        ("Support never answered my emails, I opened three tickets.", "negative"),
        ("Great customer service, {agent} went above and beyond.", "positive"),
        ("{agent} was rude and hung up on me.", "negative"),
        ("The live chat support is quick and friendly.", "positive"),
        ("Customer support keeps sending canned replies that don't help.", "negative"),
        ("Thanks to {agent} for the patient help with my account.", "positive"),
        ("No reply from support after {wait}.", "negative"),
        ("Your help desk closed my ticket without solving anything.", "negative"),
    ],
    "crashes": [
        ("The app crashes every time I open {screen}.", "negative"),
        ("Since the last update the app keeps crashing on {device}.", "negative"),
        ("App freezes and then closes itself when I upload a photo.", "negative"),
        ("Constant crashes on {device}, completely unusable.", "negative"),
        ("Bug: tapping save on {screen} makes the app crash.", "negative"),
        ("The new version fixed the crashes I had, works well now.", "positive"),
        ("It force closes whenever I switch to {screen}.", "negative"),
        ("Crash on launch after updating, please fix this bug.", "negative"),
        ("Stable app, not a single crash in months on {device}.", "positive"),
        ("Error message and crash when syncing on {device}.", "negative"),
    ],
    "login": [
        ("I can't log in, the password reset email never arrives.", "negative"),
        ("Two-factor code doesn't work so I'm locked out of my account.", "negative"),
        ("Login keeps failing with invalid password even after a reset.", "negative"),
        ("Sign in with Google is broken on {device}.", "negative"),
        ("Got logged out {times} today and had to sign in again.", "negative"),
        ("The new face ID login is fast and convenient.", "positive"),
        ("Account locked after one wrong password, way too strict.", "negative"),
        ("Password reset link expired before I could use it.", "negative"),
        ("Logging in is easy now with the magic link.", "positive"),
        ("How do I change the email I use to sign in?", "neutral"),
    ],
    "pricing": [
        ("Way too expensive for what you get, {price} a month is too much.", "negative"),
        ("The price went up again, I'm cancelling my {plan} plan.", "negative"),
        ("Great value for the money, cheaper than the competitors.", "positive"),
        ("Subscription price doubled without any new features.", "negative"),
        ("{price} is a fair price for the {plan} tier.", "positive"),
        ("Please add a cheaper plan for students, the pricing is too high.", "negative"),
        ("Overpriced compared to other apps, not worth {price}.", "negative"),
        ("Affordable pricing and a generous free tier.", "positive"),
        ("Hidden fees made the total cost much higher than advertised.", "negative"),
        ("Is there a discount if I pay for a year up front?", "neutral"),
    ],
    "usability": [
        ("The new design is confusing, I can't find anything in the menu.", "negative"),
        ("Love the clean interface, very easy to use.", "positive"),
        ("Navigation is cluttered and {screen} is hard to find.", "negative"),
        ("Beautiful layout and intuitive controls.", "positive"),
        ("The font is tiny and the buttons are too small to tap.", "negative"),
        ("The redesign made simple tasks take five taps instead of one.", "negative"),
        ("Simple, clean UI that my parents can use.", "positive"),
        ("Too many menus, the interface feels overwhelming.", "negative"),
        ("The layout of {screen} is really well thought out.", "positive"),
        ("Icons are unclear and there are no labels on the toolbar.", "negative"),
    ],
    "performance": [
        ("The app is so slow, {screen} takes forever to load.", "negative"),
        ("Pages load quickly and scrolling is smooth.", "positive"),
        ("Drains my battery on {device} in a couple of hours.", "negative"),
        ("Loading times are terrible since the update.", "negative"),
        ("Search takes ten seconds to return results, very sluggish.", "negative"),
        ("Runs fast even on my old {device}.", "positive"),
        ("Lags whenever I scroll through {screen}.", "negative"),
        ("Super responsive, everything loads instantly.", "positive"),
        ("Sync is painfully slow and uses a lot of data.", "negative"),
        ("Startup is sluggish, the spinner shows for ages.", "negative"),
    ],
    "quality": [
        ("{item} broke after two days of use, poor quality.", "negative"),
        ("Excellent build quality, {item} feels sturdy.", "positive"),
        ("The stitching came apart on {item} after one wash.", "negative"),
        ("Material feels cheap and flimsy.", "negative"),
        ("Great quality product, exactly as described.", "positive"),
        ("{item} looks nothing like the photos, cheap plastic.", "negative"),
        ("Well made and durable, still going strong after a year.", "positive"),
        ("The zipper broke the first time I used {item}.", "negative"),
        ("Defective item, it stopped working after a week.", "negative"),
        ("Solid product, the materials are top notch.", "positive"),
    ],
    "features": [
        ("Please add {feature}, it's the only thing missing.", "neutral"),
        ("Would love to see {feature} in a future update.", "neutral"),
        ("I wish there was {feature}, I'd pay extra for it.", "neutral"),
        ("Feature request: {feature} and better notifications.", "neutral"),
        ("Missing {feature}, which every competitor has.", "negative"),
        ("The new {feature} feature is exactly what I needed, thanks!", "positive"),
        ("Any plans to support {feature}?", "neutral"),
        ("It would be great to have {feature} on {device}.", "neutral"),
        ("Still no {feature} after years of requests.", "negative"),
        ("Thank you for finally adding {feature}.", "positive"),
    ],
}

OPENERS = ["", "", "", "Honestly, ", "Update: ", "Ugh. ", "Just a heads up: ", "Overall "]
CHANNELS = [("survey", "typeform"), ("review", "appstore"), ("review", "trustpilot"), ("social", "twitter")]


@dataclass
class Item:
    """One generated feedback item: its sentences, the theme of each and its sentiment."""

    text: str
    theme: str
    sentences: list[tuple[str, str, str]] = field(default_factory=list)  # (text, theme, sentiment)
    sentiment: str = "neutral"
    channel: str = "review"
    platform: str = "appstore"
    created_at: str = ""
    nps: int | None = None


def _fill(template: str, rng: random.Random) -> str:
    out = template
    for slot, values in SLOTS.items():
        key = "{" + slot + "}"
        while key in out:
            out = out.replace(key, rng.choice(values), 1)
    return out[0].upper() + out[1:]


def _snippet(theme: str, rng: random.Random) -> tuple[str, str, str]:
    template, sentiment = rng.choice(THEMES[theme])
    return _fill(template, rng), theme, sentiment


def _overall(sentiments: list[str]) -> str:
    if "negative" in sentiments:
        return (
            "negative"
            if sentiments.count("negative") * 2 >= len(sentiments) or "positive" not in sentiments
            else "neutral"
        )
    return "positive" if "positive" in sentiments else "neutral"


def generate(
    n: int,
    seed: int = 7,
    themes: list[str] | None = None,
    start: str = "2026-08-01",
    end: str = "2026-11-20",
    mixed_share: float = 0.2,
) -> list[Item]:
    """``n`` items over ``themes`` (default all), dated uniformly between ``start`` and ``end``."""
    rng = random.Random(seed)
    names = themes or list(THEMES)
    t0 = datetime.fromisoformat(start).replace(tzinfo=UTC)
    span = (datetime.fromisoformat(end).replace(tzinfo=UTC) - t0).total_seconds()
    items = []
    for _ in range(n):
        theme = rng.choice(names)
        roll = rng.random()
        parts = [_snippet(theme, rng)]
        if roll < mixed_share:
            other = rng.choice([t for t in names if t != theme] or names)
            parts.append(_snippet(other, rng))
        elif roll < mixed_share + 0.2:
            parts.append(_snippet(theme, rng))
        opener = rng.choice(OPENERS)
        first = parts[0][0]
        if opener:
            first = opener + first[0].lower() + first[1:]
        parts[0] = (first, parts[0][1], parts[0][2])
        channel, platform = rng.choice(CHANNELS)
        when = t0 + timedelta(seconds=rng.random() * span)
        sentiment = _overall([p[2] for p in parts])
        nps = None
        if channel == "survey":
            nps = {"negative": rng.randint(0, 5), "neutral": rng.randint(6, 8), "positive": rng.randint(9, 10)}[
                sentiment
            ]
        items.append(
            Item(
                text=" ".join(p[0] for p in parts),
                theme=theme,
                sentences=parts,
                sentiment=sentiment,
                channel=channel,
                platform=platform,
                created_at=when.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
                nps=nps,
            )
        )
    return items
