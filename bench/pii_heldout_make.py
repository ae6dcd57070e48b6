"""Writes the HELD-OUT PII set (``tests/nlp/pii_heldout.json``), once; the rules are never tuned on it.

    .venv/bin/python bench/pii_heldout_make.py [a|b|c|d|e|f]   # needs `.venv/bin/pip install faker` (not a dependency)

Why it is held out from the rules written against ``tests/nlp/pii_cases.py``:

- other carriers: patient reviews the labelled set does not use (rows whose drug is not named in
  the first sentence, read up to ~360 characters instead of the first sentence) and tweets from
  row 1,000 on (the labelled set reads rows 0-194), with their own @handles and links left in;
- other values: Faker (its own name, street, phone, e-mail and IBAN pools, ten locales), not the
  hand-written pools of ``pii_cases.py``;
- other surroundings: the sentence templates below (none shared with ``pii_cases.py``), put at the
  start, after the first sentence or at the end of the carrier;
- other keep words: medicine and product brands that are not in ``pii_cases.py``'s pools.

Only the inserted sentences and their offsets are stored (the carriers stay in ``../shared``);
``tests/nlp/pii_heldout.py`` assembles the cases. Names that the carriers already hold (agents
thanked in tweets, doctors in reviews) are labelled by hand in ``CARRIER_NAMES`` of that module.
"""

from __future__ import annotations

import csv
import json
import lzma
import random
import re
import sys
from pathlib import Path

from faker import Faker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "nlp"))
from pii_heldout import cut, rest_of_review, review_text  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "sentiment"
LOCALES = ["en_US", "en_GB", "en_IE", "en_IN", "en_AU", "de_DE", "fr_FR", "es_ES", "it_IT", "pl_PL"]
ENGLISH_ADDRESS = ["en_US", "en_GB", "en_AU", "en_CA"]


def _words(block: str) -> list[str]:
    return block.split()


# Keep words: capitalised, often tagged PERSON, none in pii_cases.py's pools.
DRUGS = _words(
    "Celebrex Mobic Flexeril Zanaflex Brilinta Farxiga Invokana Rybelsus Nurtec Ubrelvy Aimovig Emgality Qulipta "
    "Linzess Amitiza Dexilant Protonix Carafate Reglan Zofran Phenergan Xyzal Dymista Breo Trelegy Spiriva Dupixent "
    "Otezla Skyrizi Taltz Cosentyx Stelara Entyvio Xeljanz Rinvoq Olumiant Belviq Nuvigil Provigil Horizant Requip "
    "Mirapex Namenda Aricept Restasis Xiidra Valtrex Aczone Solodyn Epiduo"
)
BRANDS = _words(
    "Peloton Roomba Sonos Nespresso Dyson Canva Figma Duolingo Revolut Monzo Klarna Hinge Bumble Tinder Strava "
    "Zwift Oura Whoop Nest Wyze Arlo Vizio Fiverr Etsy Wayfair Asos Zalando Shein Temu Deliveroo Grubhub Ocado "
    "Tesco Sainsbury Argos Currys Boots Halfords Openreach Sky Comcast Xfinity Hulu Peacock Crunchyroll"
)

TEMPLATES: dict[str, tuple[str, ...]] = {
    "EMAIL": (
        "pls email me: {EMAIL}",
        "My login is {EMAIL} if that helps.",
        "Contact me via {EMAIL} regarding the claim.",
        "Reply to {EMAIL} (not the old address).",
        "DM or mail {EMAIL} thanks",
    ),
    "PHONE": (
        "Text me at {PHONE} when it ships.",
        "You have my cell, it's {PHONE}.",
        "Reach me on {PHONE} any time after 5.",
        "Pharmacy keeps calling {PHONE} instead of my mobile.",
        "phone: {PHONE}",
    ),
    "SSN": (
        "They made me give my SSN ({SSN}) just to get a quote.",
        "Insurance form rejected social security # {SSN} twice.",
        "My ss number is {SSN}, please remove it from the ticket.",
    ),
    "CARD": (
        "Card ending? No, the whole number {CARD} was printed on the receipt.",
        "Double charge on {CARD} this morning.",
        "Visa {CARD} got declined at the counter.",
    ),
    "IBAN": (
        "Bank details for the refund: {IBAN}.",
        "Wire it back to {IBAN} please.",
        "My IBAN is {IBAN}.",
    ),
    "IP": (
        "The portal says my IP address {IP} is suspicious.",
        "Router shows {IP} and the app still won't connect.",
        "Banned from the forum, IP {IP}.",
    ),
    "POSTCODE": (
        "Lives near {POSTCODE} and nothing gets delivered.",
        "Sent to the wrong post code, mine is {POSTCODE}.",
        "The depot at {POSTCODE} lost it.",
    ),
    "ZIP": (
        "I'm in {CITY}, {STATE} {ZIP} and nobody delivers here.",
        "Shipping to {CITY}, {STATE} {ZIP} took 9 days.",
        "zip code {ZIP}, still says out of area.",
    ),
    "ADDRESS": (
        "Deliver to {ADDRESS} next time.",
        "Our clinic is at {ADDRESS}, the courier never finds it.",
        "Package sat outside {ADDRESS} in the rain.",
        "New address: {ADDRESS}, {CITY}.",
    ),
    "HANDLE": (
        "tagging {HANDLE} who had the same issue",
        "{HANDLE} told me to post here.",
        "same thing happened to {HANDLE} last week",
    ),
    "NAME": (
        "Shoutout to {NAME} at the gate for sorting my seat.",
        "{NAME} at the counter was so kind.",
        "Props to {NAME}, the pharmacist who explained everything.",
        "Dr. {NAME} prescribed it after my surgery.",
        "My husband {NAME} had the same reaction.",
        "I asked {NAME} on the phone and she had no idea.",
        "The nurse, {NAME}, was amazing.",
        "Big thanks to {NAME} who rebooked us.",
    ),
    "NAME_LOWER": (
        "talked to {NAME} on the phone and got nowhere",
        "my name is {NAME} and im still waiting",
        "thanks to {NAME} at the desk",
        "spoke with {NAME} from support, useless",
        "ask for {NAME} she knows the case",
    ),
    "DOB": (
        "Date of birth {DOB} is on file, why ask again?",
        "They need my DOB ({DOB}) for every refill.",
        "born {DOB}, still the app says I'm under 18",
    ),
    "KEEP": (
        "Switched to {DRUG} 20mg last month.",
        "{DRUG} gave me headaches for a week.",
        "Been on {DRUG} for a year now.",
        "Honestly {BRAND} has been great since the update.",
        "Cancelled {BRAND} after the price went up.",
        "My {DRUG} refill came late again.",
        "{BRAND} app crashed twice today.",
    ),
}


# Set B: written after set A was measured once (and the rules changed from what A showed), so B is the
# set no rule has seen: its own seed, carriers, locales, keep words and templates.
B_LOCALES = ["en_CA", "en_NZ", "nl_NL", "sv_SE", "pt_PT", "pt_BR", "de_AT", "es_MX", "da_DK", "cs_CZ"]
B_ENGLISH_ADDRESS = ["en_US", "en_CA", "en_NZ", "en_IE"]
B_DRUGS = _words(
    "Harvoni Epclusa Tradjenta Glyxambi Steglatro Soliqua Tresiba Toujeo Basaglar Humulin Novolog Jentadueto "
    "Onglyza Welchol Zetia Vytorin Livalo Praluent Repatha Nexletol Multaq Tikosyn Pradaxa Savaysa Bystolic Tekturna "
    "Edarbi Benicar Diovan Micardis Avapro Cozaar Norvasc Toprol Coreg Lopressor"
)
B_BRANDS = _words(
    "Lidl Aldi Primark Uniqlo Zara Sephora Ulta Chewy Postmates Gopuff Hellofresh Noom Headspace Audible Kobo Nook "
    "Plex Tidal Deezer Pandora Vonage Ooma Chime Sofi Robinhood Coinbase Kraken Binance Lenovo Philips Bosch Miele"
)
B_TEMPLATES: dict[str, tuple[str, ...]] = {
    "EMAIL": (
        "my email address on file is {EMAIL}",
        "send the receipt to {EMAIL} pls",
        "Account: {EMAIL}",
        "I registered with {EMAIL} but never got the code.",
    ),
    "PHONE": (
        "Please ring {PHONE} before delivering.",
        "my mobile {PHONE} never gets the SMS",
        "best number to reach me: {PHONE}",
        "Nobody answered when I called from {PHONE}.",
        "contact no. {PHONE}",
    ),
    "SSN": (
        "The clerk wrote my SSN {SSN} on a sticky note!",
        "why is my social ({SSN}) visible in the portal",
        "Social Security Number: {SSN}",
    ),
    "CARD": (
        "They stored my card number {CARD} in plain text.",
        "the charge on card {CARD} is not mine",
        "my debit card {CARD} was charged 3 times",
    ),
    "IBAN": (
        "IBAN: {IBAN}",
        "please pay back into {IBAN}",
        "my account number (IBAN) {IBAN} is correct",
    ),
    "IP": (
        "Logged in from {IP} which isn't me.",
        "my ip is {IP} if that helps support",
        "Connection from {IP} got blocked",
    ),
    "POSTCODE": (
        "My postcode ({POSTCODE}) isn't recognised at checkout.",
        "I'm at {POSTCODE} and still no engineer",
        "Courier said {POSTCODE} is outside the zone.",
    ),
    "ZIP": (
        "ship to {CITY}, {STATE} {ZIP}",
        "my zip is {ZIP}",
        "{CITY} {STATE} {ZIP} is not a remote area!",
        "Billing ZIP {ZIP} keeps failing.",
    ),
    "ADDRESS": (
        "I live at {ADDRESS}.",
        "Return label says {ADDRESS}, wrong house.",
        "they delivered to {ADDRESS} instead of next door",
        "Pick up from {ADDRESS} please.",
    ),
    "HANDLE": (
        "ask {HANDLE}, she had it too",
        "{HANDLE} you should see this",
        "h/t {HANDLE}",
    ),
    "NAME": (
        "{NAME} on the night shift was wonderful.",
        "Many thanks to {NAME} in customer care.",
        "our driver {NAME} was rude",
        "Your employee {NAME} refused the return.",
        "I want to complain about {NAME}, the store manager.",
        "{NAME} helped me set up the account.",
        "Dr. {NAME} switched my prescription.",
        "Shout out to {NAME}!",
    ),
    "NAME_LOWER": (
        "ask for {NAME}, she's great",
        "the guy i talked to was {NAME}",
        "thanks to {NAME} we got home",
        "my name is {NAME}",
    ),
    "DOB": (
        "DOB: {DOB}",
        "my birthday is {DOB} but the app shows a different date",
        "Born {DOB}, and the pharmacy says I'm too young?",
    ),
    "KEEP": (
        "{DRUG} 10mg made me so tired.",
        "After two weeks on {DRUG} I feel better.",
        "Does {DRUG} interact with alcohol?",
        "{BRAND} is the worst company.",
        "The {BRAND} update broke everything.",
        "Ordered from {BRAND} again, late again.",
    ),
}
# Set C: written after set B was scored (and rules changed from B's per-kind figures, never its
# misses), so C is the set no rule has seen.
C_LOCALES = ["en_US", "en_GB", "en_AU", "en_NZ", "fr_FR", "de_DE", "it_IT", "es_ES", "pt_BR", "nl_BE"]
C_ENGLISH_ADDRESS = ["en_US", "en_GB", "en_AU", "en_CA"]
C_DRUGS = _words(
    "Imbruvica Ibrance Xtandi Zytiga Revlimid Tagrisso Keytruda Opdivo Lynparza Jakafi Gilenya Tecfidera Aubagio "
    "Ocrevus Mavenclad Vumerity Nucala Fasenra Xolair Tezspire Orencia Actemra Kevzara Simponi Cimzia Evenity Forteo "
    "Tymlos Reclast"
)
C_BRANDS = _words(
    "Asda Morrisons Waitrose Selfridges Harrods Decathlon Lululemon Patagonia Asics Puma Reebok Fila Vans Converse "
    "Crocs Birkenstock Garnier Nivea Dove Colgate Gillette Braun Tefal Breville Ninja Kenwood Vitamix Keurig Lavazza"
)
C_TEMPLATES: dict[str, tuple[str, ...]] = {
    "EMAIL": (
        "Contact email: {EMAIL}",
        "Please update my email to {EMAIL}.",
        "emailed you from {EMAIL} twice, no reply",
        "you can mail me on {EMAIL}",
    ),
    "PHONE": (
        "Tel: {PHONE}",
        "I gave my phone {PHONE} to the shop.",
        "Please call {PHONE} after 6pm.",
        "WhatsApp me on {PHONE}",
        "the callback went to {PHONE}, which is my old number",
    ),
    "SSN": (
        "SSN: {SSN}",
        "my social security number {SSN} was printed on the letter",
        "Why do you need SSN {SSN} for a refund?",
    ),
    "CARD": (
        "Card: {CARD}",
        "I paid with {CARD} and got charged twice.",
        "the card number {CARD} expired",
    ),
    "IBAN": (
        "Please refund to IBAN {IBAN}",
        "Account {IBAN} (my bank).",
        "I transferred from {IBAN}.",
    ),
    "IP": (
        "IP: {IP}",
        "The error page showed {IP}.",
        "Your firewall banned {IP} again",
    ),
    "POSTCODE": (
        "Postcode {POSTCODE}",
        "Deliveries to {POSTCODE} are always late.",
        "We're in {POSTCODE}, rural area",
    ),
    "ZIP": (
        "{CITY}, {STATE} {ZIP}",
        "Zip code: {ZIP}",
        "Moved to {CITY}, {STATE} {ZIP} last year.",
    ),
    "ADDRESS": (
        "Address: {ADDRESS}",
        "Our office moved to {ADDRESS}.",
        "The driver left it at {ADDRESS} again",
        "{ADDRESS} is my billing address.",
    ),
    "HANDLE": (
        "@ing {HANDLE} bc same",
        "thanks {HANDLE} for the tip",
        "{HANDLE} can confirm",
    ),
    "NAME": (
        "Ask {NAME} at the store, he knows.",
        "{NAME} was super helpful on the phone.",
        "The technician {NAME} never showed up.",
        "My mother {NAME} uses the app too.",
        "I was served by {NAME}.",
        "Best service from {NAME} today!",
        "{NAME} from the Leeds branch sorted it.",
        "Customer name: {NAME}",
    ),
    "NAME_LOWER": (
        "hi this is {NAME} again",
        "name: {NAME}",
        "{NAME} here, still no refund",
        "spoke to {NAME} this morning",
    ),
    "DOB": (
        "Date of birth: {DOB}",
        "d.o.b {DOB}",
        "I was born {DOB} not in 2001",
    ),
    "KEEP": (
        "{DRUG} 25mg works for me.",
        "started {DRUG} in May",
        "{BRAND} customer service is a joke.",
        "Switched to {BRAND} and never looked back.",
        "{DRUG} and {DRUG} together made me dizzy.",
    ),
}
# Set D: written after set C was scored and the rules changed from sets A and B's misses; C's per-kind
# figures were seen again after that change, D's never before its first score. Its patient-review
# carriers are the rest of the reviews whose first sentence pii_cases.py reads ("drugrest").
D_LOCALES = ["en_US", "en_GB", "en_CA", "en_AU", "de_CH", "fr_BE", "es_AR", "it_IT", "pl_PL", "sv_SE"]
D_ENGLISH_ADDRESS = ["en_US", "en_GB", "en_NZ", "en_CA"]
D_DRUGS = _words(
    "Biktarvy Descovy Truvada Genvoya Odefsey Triumeq Juluca Dovato Symtuza Prezcobix Isentress Tivicay Sustiva "
    "Atripla Complera Stribild Evotaz Selzentry Intelence Edurant Pifeltro Delstrigo Rukobia Sunlenca Cabenuva"
)
D_BRANDS = _words(
    "Ryanair Wizzair Vueling Flybe Jet2 Eurowings Norwegian Finnair Icelandair Aeroflot Qatar Etihad Cathay Avianca "
    "Volaris Interjet Aeromexico Allegiant Frontier Spirit Hawaiian Alaska Porter Westjet Sunwing Transat Jetstar"
)
D_TEMPLATES: dict[str, tuple[str, ...]] = {
    "EMAIL": ("E-mail me: {EMAIL}", "I wrote from {EMAIL} last week", "Your reply should go to {EMAIL}, thx"),
    "PHONE": ("Mobile: {PHONE}", "Can someone phone me? {PHONE}", "I rang from {PHONE} three times", "cell {PHONE}"),
    "SSN": ("ssn {SSN} is on the form", "They asked for my social: {SSN}", "SSN# {SSN}"),
    "CARD": ("CC number {CARD}", "Refund the charge on {CARD} please", "visa card {CARD} was billed twice"),
    "IBAN": ("Bank account: {IBAN}", "my iban {IBAN}", "Please wire the refund to {IBAN}"),
    "IP": ("My IP address is {IP}", "blocked IP {IP}", "the log shows {IP} as the source"),
    "POSTCODE": ("Our postcode is {POSTCODE}.", "Not delivering to {POSTCODE}?!", "post code: {POSTCODE}"),
    "ZIP": ("We're at {CITY}, {STATE} {ZIP}.", "ZIP {ZIP}", "{CITY}, {STATE} {ZIP} - no service for weeks"),
    "ADDRESS": ("Ship it to {ADDRESS}", "Billing address {ADDRESS}", "It ended up at {ADDRESS}, not my house"),
    "HANDLE": ("{HANDLE} same thing here", "cc {HANDLE}", "via {HANDLE}"),
    "NAME": (
        "Special thanks to {NAME} for the help.",
        "{NAME} answered the phone and hung up.",
        "Our waiter {NAME} was lovely.",
        "Talked with {NAME} for 40 minutes.",
        "The pilot, {NAME}, kept us updated.",
        "Ask for {NAME}.",
        "Agent {NAME} said she would call back.",
        "I'm {NAME}, a customer since 2010.",
    ),
    "NAME_LOWER": ("my name is {NAME}, booking ref ABC123", "spoke to {NAME} on chat", "thanks to {NAME} for nothing"),
    "DOB": ("my date of birth is {DOB}", "DOB {DOB}", "born {DOB}"),
    "KEEP": (
        "{DRUG} every day since 2019.",
        "My doctor added {DRUG} last month.",
        "Flew {BRAND} last week, never again.",
        "{BRAND} lost my bag.",
        "Is {DRUG} covered by insurance?",
    ),
}
# Set E: written after the rules changed from sets C and D's misses; never seen before its first score.
E_LOCALES = ["en_US", "en_GB", "en_IE", "en_CA", "nl_NL", "fr_CA", "de_DE", "es_ES", "pt_PT", "ro_RO"]
E_ENGLISH_ADDRESS = ["en_US", "en_GB", "en_AU", "en_NZ"]
E_DRUGS = _words(
    "Zepbound Xeomin Botox Dysport Juvederm Restylane Latisse Vivitrol Sublocade Lucemyra Narcan Evzio Belbuca "
    "Butrans Xtampza Hysingla Zohydro Arymo Roxybond Nalocet Primlev Prolate Apadaz Seglentis Olinvyk"
)
E_BRANDS = _words(
    "Lyca Giffgaff Tesco Mobile Three Plusnet TalkTalk Hyperoptic Starlink Mint Visible Cricket Boost Metro Tello "
    "Ting Consumer Cellular Straight Talk Tracfone Ultra Lebara Lycamobile Truphone Airalo Holafly"
)
E_TEMPLATES: dict[str, tuple[str, ...]] = {
    "EMAIL": ("reach me by email ({EMAIL})", "The confirmation never reached {EMAIL}.", "my login: {EMAIL}"),
    "PHONE": (
        "Phone number: {PHONE}",
        "Call back on {PHONE} please",
        "they keep texting {PHONE} at 3am",
        "my number {PHONE} was ported without asking",
    ),
    "SSN": ("The form wants my SSN, {SSN}.", "social sec no {SSN}", "My SSN ({SSN}) is on your invoice!"),
    "CARD": ("Charged {CARD} twice", "the card {CARD} is blocked now", "Paid by card: {CARD}"),
    "IBAN": ("IBAN {IBAN}", "my bank account {IBAN}", "Send the money back to {IBAN}."),
    "IP": ("My router IP is {IP}.", "Login attempts from {IP}", "ip {IP} banned"),
    "POSTCODE": ("postcode: {POSTCODE}", "Living in {POSTCODE} means no fibre.", "The engineer went to {POSTCODE}."),
    "ZIP": ("Delivery address is in {CITY}, {STATE} {ZIP}", "zip {ZIP}", "I'm in {CITY} {STATE} {ZIP}."),
    "ADDRESS": ("I'm at {ADDRESS}.", "please send a tech to {ADDRESS}", "The mast next to {ADDRESS} is down"),
    "HANDLE": ("{HANDLE} you too?", "ask {HANDLE}", "same as {HANDLE} said"),
    "NAME": (
        "Thank you {NAME} for sorting my contract!",
        "{NAME} in the shop was rude.",
        "My son {NAME} has the same phone.",
        "The engineer, {NAME}, was brilliant.",
        "I dealt with {NAME} on live chat.",
        "{NAME} promised me a refund.",
        "Hi, I'm {NAME}.",
    ),
    "NAME_LOWER": ("talked to {NAME} in the store", "my name is {NAME}", "ask for {NAME}, shes good"),
    "DOB": ("Date of birth {DOB}", "My DOB is {DOB}.", "birthday {DOB}"),
    "KEEP": (
        "{DRUG} 5 mg helped a lot.",
        "I stopped {DRUG} after a month.",
        "{BRAND} has no signal here.",
        "Moved to {BRAND} for the cheaper plan.",
    ),
}
# Set F: written after the rules changed from sets A-E's misses (E's too, so E is a development set since);
# never seen before its first score. Its tweets are rows 200-999, which no other set and not pii_cases.py
# read (it stops at row 194); its addresses come from continental locales too (the number after the street).
F_LOCALES = ["en_US", "en_GB", "en_AU", "en_IN", "en_IE", "en_NZ", "de_DE", "fr_FR", "it_IT", "nl_NL", "pl_PL", "sv_SE"]
F_ENGLISH_ADDRESS = ["en_US", "en_GB", "en_AU", "en_CA", "en_IE", "en_IN", "de_DE", "fr_FR", "it_IT", "nl_NL"]
F_DRUGS = _words(
    "Nexium Austedo Ingrezza Caplyta Auvelity Zurzuvae Qelbree Azstarys Xywav Sunosi Wakix Lybalvi Nuplazid Cobenfy "
    "Leqembi Kisunla Vyepti Zavzpret Elyxyb Reyvow Trudhesa Tosymra Onzetra Zembrace"
)
F_BRANDS = _words(
    "Bolt Glovo Wolt Picnic Gorillas Flink Getir Zepto Blinkit Swiggy Ola Grab Gojek Careem Cabify FreeNow Lime "
    "Tier Voi Bird Vinted Depop Poshmark Mercari Backmarket Refurbed Nothing Fairphone"
)
F_TEMPLATES: dict[str, tuple[str, ...]] = {
    "EMAIL": ("email: {EMAIL}", "I never got the reset link at {EMAIL}", "write to me at {EMAIL} not the old one"),
    "PHONE": (
        "Contact number {PHONE}",
        "please ring me back on {PHONE} asap",
        "SMS to {PHONE} never arrives",
        "My phone is {PHONE}.",
        "the courier had my number ({PHONE}) and still didn't call",
    ),
    "SSN": ("social security no. {SSN}", "I had to read out my SSN {SSN} on the phone", "SSN - {SSN}"),
    "CARD": ("My card {CARD} was charged again", "card no {CARD}", "They billed {CARD} without asking."),
    "IBAN": ("refund to my IBAN: {IBAN}", "bank: {IBAN}", "The money left {IBAN} yesterday."),
    "IP": ("your site blocked my IP ({IP})", "Connecting from {IP}", "my IP is {IP} btw"),
    "POSTCODE": ("Delivery postcode {POSTCODE}", "No slots for {POSTCODE} all week.", "I live in {POSTCODE}"),
    "ZIP": ("We live in {CITY}, {STATE} {ZIP}.", "zip: {ZIP}", "out in {CITY} {STATE} {ZIP} no coverage"),
    "ADDRESS": (
        "Deliver it to {ADDRESS} please",
        "My address is {ADDRESS}.",
        "the parcel went to {ADDRESS} instead",
        "Home: {ADDRESS}",
    ),
    "HANDLE": ("{HANDLE} look at this", "ping {HANDLE}", "as {HANDLE} told me"),
    "NAME": (
        "A big thank you to {NAME} on the phone today.",
        "{NAME} at the front desk ignored us.",
        "My daughter {NAME} loves the app.",
        "The driver, {NAME}, was very polite.",
        "I was helped by {NAME} in store.",
        "{NAME} said the refund would take 5 days.",
        "Hello, my name is {NAME}.",
    ),
    "NAME_LOWER": ("spoke with {NAME} yesterday", "my name is {NAME} and my order is late", "thank you {NAME}"),
    "DOB": ("DOB - {DOB}", "my date of birth: {DOB}", "born on {DOB}"),
    "KEEP": (
        "{DRUG} 10 mg every morning.",
        "I have been taking {DRUG} since spring.",
        "{BRAND} charged me twice.",
        "Tried {BRAND} for the first time.",
    ),
}
SETS = {
    "a": (2026, "pii_heldout.json", 200, 360),
    "b": (777, "pii_heldout_b.json", 150, 350),
    "c": (4242, "pii_heldout_c.json", 120, 380),
    "d": (9090, "pii_heldout_d.json", 100, 400),
    "e": (5151, "pii_heldout_e.json", 15, 385),
    "f": (6262, "pii_heldout_f.json", 0, 400),
}


def use_set(which: str) -> None:
    """Rebinds the pools of this module to set B's, C's or D's."""
    global LOCALES, ENGLISH_ADDRESS, DRUGS, BRANDS, TEMPLATES, _english
    pools = {
        "b": (B_LOCALES, B_ENGLISH_ADDRESS, B_DRUGS, B_BRANDS, B_TEMPLATES),
        "c": (C_LOCALES, C_ENGLISH_ADDRESS, C_DRUGS, C_BRANDS, C_TEMPLATES),
        "d": (D_LOCALES, D_ENGLISH_ADDRESS, D_DRUGS, D_BRANDS, D_TEMPLATES),
        "e": (E_LOCALES, E_ENGLISH_ADDRESS, E_DRUGS, E_BRANDS, E_TEMPLATES),
        "f": (F_LOCALES, F_ENGLISH_ADDRESS, F_DRUGS, F_BRANDS, F_TEMPLATES),
    }
    LOCALES, ENGLISH_ADDRESS, DRUGS, BRANDS, TEMPLATES = pools[which]
    _english = {loc: Faker(loc) for loc in ENGLISH_ADDRESS}


def _carriers(
    rng: random.Random,
    n_drug: int = 200,
    n_tweet: int = 360,
    taken: frozenset[str] = frozenset(),
    rest: bool = False,
    tweet_rows: tuple[int, int] = (1000, 10**9),
) -> list[tuple[str, int, str]]:
    """(source, row, text) of patient reviews and tweets that neither the labelled set nor ``taken`` use."""
    with open(SHARED / "drug_reviews_train.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    drugs = []
    for i, row in enumerate(rows):
        text = review_text(row["review"])
        first = re.split(r"(?<=[.!?])\s", text)[0][:220]
        if rest:  # the reviews whose first sentence pii_cases.py reads: the text after that sentence
            if row["drugName"].split()[0].lower() in first.lower() and len(text) - len(first) > 60:
                drugs.append(("drugrest", i, cut(rest_of_review(text))))
        elif row["drugName"].split()[0].lower() not in first.lower() and f"drug:{i}" not in taken:  # pii_cases.py
            drugs.append(("drug", i, cut(text)))
    with lzma.open(SHARED / "crowdflower_tweets.csv.xz", "rt", encoding="utf-8", errors="replace") as f:
        lo, hi = tweet_rows
        tweets = [("tweet", i, row["text"]) for i, row in enumerate(csv.DictReader(f)) if lo <= i < hi]
    tweets = [t for t in tweets if 25 <= len(t[2]) <= 200 and f"tweet:{t[1]}" not in taken]
    return rng.sample(drugs, n_drug) + rng.sample(tweets, n_tweet)


def _value(slot: str, fake: Faker, rng: random.Random, us: Faker) -> str:
    if slot == "EMAIL":
        style = rng.randrange(6)
        if style == 0:
            user, host = fake.email().split("@")
            return f"{user}+{rng.choice(['orders', 'rx', 'spam', 'shop', '2024'])}@{host}"
        if style == 1:
            return f"{fake.user_name()}@{rng.choice(['mail', 'post', 'student', 'eu'])}.{fake.domain_name()}"
        if style == 2:
            return fake.company_email()
        return fake.free_email() if style == 3 else fake.email()
    if slot == "PHONE":
        return re.sub(r"\s*(?:x|ext\.?)\s*\d+$", "", fake.phone_number())  # extensions are rare in feedback
    if slot == "SSN":
        return us.ssn()
    if slot == "CARD":
        digits = us.credit_card_number(card_type=rng.choice(["visa16", "mastercard", "amex", "discover"]))
        return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4)) if rng.random() < 0.5 else digits
    if slot == "IBAN":
        iban = fake.iban()
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.5 else iban
    if slot == "IP":
        return fake.ipv4_public() if rng.random() < 0.65 else fake.ipv6()
    if slot == "POSTCODE":
        # Set A as committed drew half of its UK postcodes from an unseeded Faker (so regenerating A gives
        # other postcodes there; the committed file is the set that was measured). The draw stays so
        # that every other value comes out the same.
        rng.random()
        return _gb.postcode()
    if slot == "ZIP":
        return us.zipcode_plus4() if rng.random() < 0.35 else us.zipcode()
    if slot == "ADDRESS":
        where = rng.choice(ENGLISH_ADDRESS)
        f = _english[where]
        short = rng.random() < 0.4 and where.startswith("en_")  # continental addresses: the street, then the number
        address = f"{f.building_number()} {f.street_name()}" if short else f.street_address()
        return address.replace("\n", ", ")  # en_GB/en_AU put "Flat 3" on a line of its own
    if slot == "HANDLE":
        return "@" + fake.user_name()
    if slot in ("NAME", "NAME_LOWER"):
        name = f"{fake.first_name()} {fake.last_name()}" if rng.random() < 0.6 else fake.first_name()
        return name.lower() if slot == "NAME_LOWER" else name
    if slot == "DOB":
        d = us.date_of_birth(minimum_age=18, maximum_age=90)
        return rng.choice([d.strftime("%m/%d/%Y"), d.strftime("%d/%m/%Y"), d.isoformat(), d.strftime("%B %-d, %Y")])
    raise ValueError(slot)


_gb = Faker("en_GB")
_english = {loc: Faker(loc) for loc in ENGLISH_ADDRESS}
_SLOT = re.compile(r"\{([A-Z_]+)\}")
PII_SLOTS = {"EMAIL", "PHONE", "SSN", "CARD", "IBAN", "IP", "POSTCODE", "ZIP", "ADDRESS", "HANDLE", "NAME", "DOB"}


def _fill(template: str, rng: random.Random, lower: bool) -> dict:
    locale = rng.choice(LOCALES)
    fake, us = Faker(locale), Faker("en_US")
    for f in (fake, us, _gb, *_english.values()):
        f.seed_instance(rng.getrandbits(32))
    out, pii, keep, pos, length = [], [], [], 0, 0
    for m in _SLOT.finditer(template):
        out.append(template[pos : m.start()])
        length += m.start() - pos
        slot = m.group(1)
        if slot == "NAME" and lower:
            value = _value("NAME_LOWER", fake, rng, us)
        elif slot == "CITY":
            value = us.city()
        elif slot == "STATE":
            value = us.state_abbr()
        elif slot in ("DRUG", "BRAND"):
            value = rng.choice(DRUGS if slot == "DRUG" else BRANDS)
        else:
            value = _value(slot, fake, rng, us)
        kind = "POSTCODE" if slot == "ZIP" else slot
        if slot in PII_SLOTS:
            pii.append([kind, length, length + len(value)])
        elif slot in ("DRUG", "BRAND"):
            keep.append([slot, length, length + len(value)])
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(template[pos:])
    return {"sentence": "".join(out), "pii": pii, "keep": keep, "locale": locale}


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "a"
    seed, name, n_drug, n_tweet = SETS[which]
    out = ROOT / "tests" / "nlp" / name
    taken: frozenset[str] = frozenset()
    if which != "a":
        use_set(which)
        earlier = {"b": ["a"], "c": ["a", "b"], "d": ["a", "b", "c"], "e": ["a", "b", "c", "d"]}.get(
            which, list("abcde")
        )
        taken = frozenset(
            f"{it['source']}:{it['row']}"
            for w in earlier
            for it in json.loads((ROOT / "tests" / "nlp" / SETS[w][1]).read_text(encoding="utf-8"))["items"]
        )
    rng = random.Random(seed)
    rows = (200, 1000) if which == "f" else (1000, 10**9)
    carriers = _carriers(rng, n_drug, n_tweet, taken, rest=which == "d", tweet_rows=rows)
    kinds = list(TEMPLATES)
    items = []
    for i, (source, row, text) in enumerate(carriers):
        kind = kinds[i % len(kinds)]
        item = _fill(rng.choice(TEMPLATES[kind]), rng, lower=kind == "NAME_LOWER")
        if i % 4 == 3:  # a second sentence of another kind
            other = _fill(rng.choice(TEMPLATES[rng.choice(kinds)]), rng, lower=False)
            shift = len(item["sentence"]) + 1
            item["sentence"] += " " + other["sentence"]
            item["pii"] += [[k, s + shift, e + shift] for k, s, e in other["pii"]]
            item["keep"] += [[k, s + shift, e + shift] for k, s, e in other["keep"]]
        ends = [m.end() for m in re.finditer(r"[.!?](?=\s)", text)]
        where = rng.random()
        at = 0 if where < 0.25 else (ends[0] if where < 0.5 and ends else len(text))
        items.append({"source": source, "row": row, "at": at, "carrier_len": len(text), **item})
    out.write_text(json.dumps({"seed": seed, "items": items}, indent=0, ensure_ascii=False) + "\n")
    print(f"wrote {len(items)} items to {out}")


if __name__ == "__main__":
    main()
