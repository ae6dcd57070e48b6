"""A generator of realistic customer feedback for benchmarks (seeded, no shared data).

Items recombine hand-written sentences about the usual themes of a subscription app with a shop
(billing, refunds, delivery, support, crashes, login, UI, performance, pricing, features), in the
three channels: survey answers (short, often with an NPS score), store reviews (2-6 sentences,
a title), social posts (short, informal, @handles, links). A small share is not English and a few
carry PII (emails, phone numbers, card-like numbers, signed URLs, names) so that redaction and
language detection run on the benchmark too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

POSITIVE = {
    "support": [
        "The support team was incredibly helpful and fixed my issue in minutes.",
        "Customer service answered within an hour and actually solved the problem.",
        "Huge thanks to the agent who walked me through the setup, really patient.",
        "Support on live chat is friendly and knows the product well.",
    ],
    "delivery": [
        "My order arrived two days early and was packed with care.",
        "Delivery was fast and the tracking updates were accurate.",
        "The courier left the parcel exactly where I asked.",
    ],
    "ui": [
        "The new dashboard is clean and easy to find my way around.",
        "I love the dark mode, it is much easier on the eyes at night.",
        "Navigation feels intuitive and the search finally works well.",
    ],
    "features": [
        "The offline mode is a lifesaver when I travel.",
        "Exporting reports to Excel saves me hours every week.",
        "Shared lists with my family work perfectly.",
        "The budgeting feature helped me cut my spending.",
    ],
    "performance": [
        "The app is snappy now and loads instantly.",
        "Sync between my phone and laptop is seamless.",
    ],
    "pricing": [
        "Great value for the price compared to the alternatives.",
        "The family plan is a really fair deal.",
    ],
}

NEGATIVE = {
    "billing": [
        "I was charged twice this month and nobody can explain why.",
        "The subscription renewed without any warning email.",
        "My invoice shows a fee I never agreed to.",
        "Cancelling the plan is hidden behind five screens, which feels dishonest.",
    ],
    "refunds": [
        "I have been waiting three weeks for my refund.",
        "The refund was rejected even though the item arrived broken.",
        "Getting my money back took endless emails.",
    ],
    "delivery": [
        "The package arrived late and the box was crushed.",
        "Tracking said delivered but nothing was at my door.",
        "Shipping costs more than the item itself.",
    ],
    "support": [
        "Support never replied to my ticket after ten days.",
        "The chatbot keeps sending me in circles and I cannot reach a human.",
        "The agent was rude and closed my ticket without fixing anything.",
    ],
    "crashes": [
        "The app crashes every time I open the camera.",
        "Since the last update it freezes on the login screen.",
        "It keeps crashing when I try to upload a photo.",
        "After updating to version 5.2.0 the app will not even start.",
    ],
    "login": [
        "I cannot log in, the verification code never arrives.",
        "Password reset links expire before I can use them.",
        "Two-factor authentication locked me out of my own account.",
    ],
    "performance": [
        "Everything is painfully slow and the battery drains fast.",
        "Sync takes forever and sometimes loses my changes.",
    ],
    "pricing": [
        "The price went up again and I get nothing new for it.",
        "Way too expensive for what it offers.",
        "The premium tier is overpriced for a handful of features.",
    ],
    "ui": [
        "The redesign buried the settings I use every day.",
        "Ads pop up in the middle of everything, it is exhausting.",
    ],
}

NEUTRAL = [
    "I use it mostly on weekends.",
    "I switched from another app last year.",
    "My order number is 4417-2231-09.",
    "I mainly use the web version at work.",
    "It would be nice to have a widget for the home screen.",
    "Please add an option to export to PDF.",
    "I paid $12.99 on 03/04/2024 for the annual plan.",
    "Not sure if this is the right place to ask.",
    "Using it on an Android tablet.",
]

OPENERS = ["Honestly,", "Overall", "To be fair,", "Update:", "So", ""]
SOCIAL_BITS = ["@acmeapp", "#fail", "#love", "smh", "lol", "!!", "🙄", "😍", "👍"]
SHORT_SURVEY = [
    "ok",
    "love it!!",
    "meh",
    "Great app",
    "too expensive",
    "fine",
    "works",
    "bad support",
    "N/A",
    "5 stars",
]

NON_ENGLISH = [
    "La aplicación se cierra cada vez que intento pagar, muy frustrante.",
    "Le service client ne répond jamais, je suis très déçu.",
    "Die Lieferung kam zu spät und die Verpackung war beschädigt.",
    "L'app è molto comoda ma il prezzo è aumentato troppo.",
    "O suporte foi muito rápido e resolveu tudo, obrigado!",
    "Ik kan niet inloggen sinds de laatste update.",
    "Das neue Design gefällt mir sehr gut, viel übersichtlicher.",
    "Muy buena aplicación, la uso todos los días.",
]

PII = [
    "You can reach me at jane.doe{n}@example.com if you need details.",
    "Call me back on +1 415-555-{n:04d} please.",
    "The charge hit my card 4111 1111 1111 1111 twice.",
    "Here is the receipt link https://shop.example.com/receipt?token=ab{n}cd9f8e7d6c5b4a3.",
    "My name is Sarah Johnson and I have been a customer for years.",
    "Thanks to Michael Brown from support for the help.",
]

CHANNELS = ("survey", "review", "social")


@dataclass
class Item:
    channel: str
    platform: str
    text: str
    title: str | None
    rating: int | None
    nps: int | None
    language: str | None


def _sentences(rng: random.Random, n: int, mood: float) -> list[str]:
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.15:
            out.append(rng.choice(NEUTRAL))
        elif r < 0.15 + 0.85 * mood:
            theme = rng.choice(sorted(POSITIVE))
            out.append(rng.choice(POSITIVE[theme]))
        else:
            theme = rng.choice(sorted(NEGATIVE))
            out.append(rng.choice(NEGATIVE[theme]))
    if out and rng.random() < 0.3:
        opener = rng.choice(OPENERS)
        if opener:
            out[0] = f"{opener} {out[0][0].lower()}{out[0][1:]}"
    return out


def generate(n: int, seed: int = 7) -> list[Item]:
    """``n`` feedback items, deterministic for a seed."""
    rng = random.Random(seed)
    items: list[Item] = []
    for i in range(n):
        channel = CHANNELS[rng.choices(range(3), weights=(0.35, 0.4, 0.25))[0]]
        mood = rng.random()
        if rng.random() < 0.04:
            text = rng.choice(NON_ENGLISH)
            items.append(Item(channel, "generic", text, None, None, None, None))
            continue
        if channel == "survey":
            if rng.random() < 0.15:
                text = rng.choice(SHORT_SURVEY)
            else:
                text = " ".join(_sentences(rng, rng.randint(1, 3), mood))
            nps = max(0, min(10, round(mood * 10 + rng.uniform(-2, 2))))
            items.append(Item(channel, "typeform", text, None, None, nps, "en" if rng.random() < 0.5 else None))
            continue
        if channel == "review":
            parts = _sentences(rng, rng.randint(2, 6), mood)
            title = rng.choice(["Great", "Disappointed", "Mixed feelings", "Works", "Avoid", None])
            rating = max(1, min(5, round(1 + mood * 4 + rng.uniform(-1, 1))))
            platform = rng.choice(["appstore", "googleplay", "trustpilot"])
        else:
            parts = _sentences(rng, rng.randint(1, 2), mood)
            parts.append(rng.choice(SOCIAL_BITS))
            title, rating, platform = None, None, rng.choice(["twitter", "reddit"])
        if rng.random() < 0.05:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(PII).format(n=i))
        items.append(Item(channel, platform, " ".join(parts), title, rating, None, None))
    return items
