"""Words that are not a customer's name although the small spaCy model tags them PERSON.

Four sources, checked by :func:`not_a_name` on each word of a PERSON span:

- a curated list: brands, platforms, products and devices ("Twitter", "Samsung", "iPhone"),
  common medicines by brand name ("Prozac", "Seroquel"), interjections and sentence openers
  ("Yay", "Sweet", "Wow"), and cities and airports the model tags PERSON ("Manchester");
- generic drug names by their INN stem (``-azole``, ``-pril``, ``-olol``, ``-oxetine`` ...):
  the word formation rules of the WHO naming scheme, so "Sertraline" or "Levofloxacin" stay
  without being listed;
- a single word where a medicine's name stands (:func:`medicine_context`): "started Savella",
  "Lasix 40 mg", "side effects of Uloric";
- a learned list, opt-in (:func:`learn_allow_list`): words written capitalised inside a sentence
  in many different items of a corpus. A customer's own name turns up in one or two items; a
  product name turns up everywhere (but so does a famous person's: review the list).

A span is dropped when every word in it is allowed ("Samsung Galaxy"); allowed words at either
end are trimmed ("Yay Kevin" -> "Kevin"), so a full name that contains one stays a name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

__all__ = [
    "ALLOWED_WORDS",
    "COMMON_WORDS",
    "is_medicine",
    "learn_allow_list",
    "medicine_context",
    "not_a_name",
    "remember",
]


def _words(block: str) -> list[str]:
    return block.split()


_BRANDS = _words("""
twitter facebook instagram tiktok snapchat youtube linkedin reddit pinterest whatsapp telegram signal discord twitch
google alphabet apple microsoft amazon netflix spotify hulu disney uber lyft airbnb paypal venmo stripe shopify ebay
etsy walmart target costco ikea tesla samsung huawei xiaomi oneplus motorola nokia sony lg lenovo dell asus acer hp
intel nvidia logitech bose fitbit garmin nintendo xbox playstation verizon comcast xfinity sprint vodafone tmobile
united delta jetblue southwest ryanair easyjet lufthansa emirates qantas virgin expedia booking tripadvisor
starbucks mcdonalds chipotle subway dominos doordash grubhub instacart deliveroo zomato swiggy fedex ups dhl usps
safari chrome firefox edge opera brave siri alexa cortana android ios ipados macos windows linux iphone ipad ipod
imac macbook airpods pixel galaxy kindle echo roku chromecast excel outlook word powerpoint slack zoom teams gmail
jira trello notion dropbox zapier skype webex hangouts itunes icloud onedrive wifi bluetooth siri hey
""")
_DRUGS = _words("""
prozac seroquel zoloft lexapro celexa paxil effexor cymbalta wellbutrin abilify xanax valium ativan klonopin ambien
lunesta adderall ritalin concerta vyvanse strattera lyrica neurontin tylenol advil motrin aleve excedrin benadryl
zyrtec claritin allegra sudafed nexium prilosec zantac pepcid lipitor crestor zocor plavix eliquis xarelto coumadin
synthroid levoxyl glucophage januvia jardiance ozempic victoza trulicity humira enbrel remicade lantus humalog
viagra cialis levitra mirena nexplanon implanon skyla kyleena paragard yaz yasmin lo loestrin sprintec plan
accutane retin doxy cipro levaquin keflex augmentin bactrim flagyl diflucan valtrex tamiflu suboxone subutex
methadone vicodin percocet oxycontin norco tramadol ultram dilaudid naltrexone chantix contrave qsymia topamax
lamictal depakote tegretol keppra trileptal latuda geodon risperdal zyprexa invega buspar remeron trazodone
desyrel pristiq viibryd trintellix brintellix imitrex maxalt relpax fioricet singulair advair symbicort ventolin
proair flonase nasonex prednisone medrol metformin insulin aspirin ibuprofen acetaminophen paracetamol naproxen
melatonin benzonatate belsomra saxenda wegovy mounjaro phentermine adipex qelbree spravato rexulti vraylar
""")
_INTERJECTIONS = _words("""
yay yey yeah yes yep nope no oh ooh ah aha ahh wow whoa woah omg lol lmao rofl haha hahaha hehe ugh ew meh hmm hm
sweet awesome great cool nice lovely brilliant amazing super perfect excellent fantastic thanks thank thx ty cheers
hello hi hey dear ok okay sorry please wtf smh fml yikes oops damn dang gosh jeez boo bravo kudos congrats hooray
love hate why what seriously literally honestly really pretty totally
took tried started taking using bought ordered got called switched stopped quit day week month
""")

# Places the small model tags PERSON ("the flight to Manchester"): cities, airports, regions.
_PLACES = _words("""
london manchester liverpool birmingham leeds glasgow edinburgh cardiff belfast bristol dublin heathrow gatwick
stansted luton newark laguardia dulles ohare o'hare chicago houston dallas austin denver phoenix seattle portland
boston atlanta orlando miami tampa vegas detroit toronto vancouver montreal calgary sydney melbourne brisbane perth
auckland berlin munich frankfurt hamburg paris lyon madrid barcelona lisbon rome milan amsterdam brussels zurich
geneva vienna prague warsaw stockholm oslo copenhagen helsinki dubai doha mumbai delhi bangalore singapore tokyo
osaka seoul beijing shanghai jakarta manila texas florida california ohio georgia virginia carolina kent surrey
essex yorkshire america usa canada mexico england britain scotland wales ireland france germany spain italy india
china japan australia europe asia africa
""")

# Sports teams (their nicknames and short forms: "Pats fans rejoice", "Seahawks"), festivals and contact labels
# ("Tel:", "Fax:"): the small model tags them PERSON.
_TEAMS_EVENTS = _words("""
patriots pats seahawks hawks colts jets giants eagles cowboys steelers ravens broncos packers niners 49ers bears
lions vikings saints falcons panthers bucs buccaneers rams chargers raiders chiefs texans titans jaguars dolphins
bills bengals browns cardinals commanders redskins lakers celtics knicks bulls warriors yankees mets dodgers
red sox cubs arsenal chelsea liverpool spurs gunners coachella glastonbury lollapalooza bonnaroo sxsw superbowl
tel fax mob ph
""")

# Everyday English words: never a name when written in lower case after a cue ("talked to someone",
# "my name is misspelled", "ask for a refund"), and never a one-word name at all ("My", "Router").
# Words that are also given names (will, grace, mark, bill, rose, may, june) are left out.
COMMON_WORDS: frozenset[str] = frozenset(
    _words("""
a an the this that these those my your his her its our their me you him them us it i we they he she someone
somebody anyone anybody everyone everybody no nobody nothing something anything everything one two three four
five six ten some any all both each every few many more most other another such own same so than too very just
only also even still again ever never always often sometimes already yet now then today tonight yesterday
tomorrow earlier later soon twice once here there where when why how what which who whom whose whether if and or
but nor because as at by for from in into of off on onto out over to up upon with within without about above
after against along among around before behind below beneath beside between beyond down during except inside
near outside past since through throughout till toward towards under until via
is am are was were be been being have has had having do does did doing done can could shall should would may
might must need get got gets getting go going gone went come came make made take took give gave say said tell
told know knew think thought see saw look looked want wanted find found call called ask asked try tried keep
kept let put seem help helped show showed leave left feel felt become became work worked use used pay paid
not yes ok okay please thanks thank sorry hello hi hey well really actually basically literally
customer customers service services support team staff agent agents rep reps representative manager managers
supervisor person people guy guys lady man woman someone somebody employee employees member members
technician engineer driver nurse doctor pharmacist attendant pilot captain cashier clerk waiter waitress
advisor adviser receptionist colleague owner boss security
refund money help phone email account order bill billing payment card bank sales desk front gate counter
line chat call phone number address name names account app website site store shop pharmacy clinic hospital
office branch airport flight flights plane seat seats bag bags luggage baggage ticket tickets booking
hold minutes hours hour minute days day week weeks month months year years time times
spelled misspelled wrong right correct incorrect listed printed missing changed different same new old
not never wrong good bad great terrible awful nice rude kind lovely helpful useless
router modem laptop computer tablet screen update version error problem issue issues case ticket receipt
date birth birthday acne pain headache headaches weight sleep anxiety depression
banned blocked locked shoutout shout
dr doc prescribed trying afib hep flew added
""")
)

ALLOWED_WORDS: frozenset[str] = frozenset(_BRANDS + _DRUGS + _INTERJECTIONS + _PLACES + _TEAMS_EVENTS)

_DRUG_SET = frozenset(_DRUGS)

# Stems of generic (INN) drug names; a capitalised word ending in one is a medicine, not a name.
_DRUG_STEM = re.compile(
    r"(?:azole|conazole|prazole|pril|sartan|olol|statin|oxetine|opram|traline|triptyline|azepam|azolam|zepam|"
    r"pine|apine|idone|afil|cillin|mycin|cycline|floxacin|vir|mab|nib|gliptin|gliflozin|glutide|tidine|"
    r"setron|triptan|profen|coxib|parin|xaban|gatran|dronate|lukast|terol|sone|olone|nazole|micin|tadine|"
    r"barbital|caine|fenac|lamide|semide|thiazide|dipine|orphan|codone|morphone|gestrel|estradiol|fentanil|fentanyl|"
    r"amine|etine|epam|ipine|ium)$",
    re.IGNORECASE,
)
# Given names that end like a drug stem.
_NAME_EXCEPTIONS = frozenset(_words("jasmine carmine divine josephine caroline"))

_learned: set[str] = set()
# A single capitalised word in a medicine's context is a medicine: "started Savella", "been on
# Lasix", "Voltaren 50 mg", "Frova tablets", "side effects of Uloric".
_MED_BEFORE = re.compile(
    r"\b(?:take|took|taking|taken|takes|started|starting|stopped|stopping|quit|prescribed|tried|trying|using|used|"
    r"(?:got|get|getting|came|come|coming) off(?: of)?|(?:get|getting|go|going|went|on and) (?:on|off)|added|"
    r"subscribed|"
    r"(?:been|was|am|be|me|put|went|weaned|weeks?|months?|years?|days?) (?:on|off)|switched (?:me )?(?:to|from)|dose of|dosage of|"
    r"effects of|generic|brand)\W+(?:(?:the|my|a|some|generic|brand)\W+)?$",
    re.IGNORECASE,
)
# A medicine word anywhere near: a single unknown capitalised word there is a medicine ("Mobic has
# helped ... other medicines", "the 10mg Brintellix"), unless a person's title or role stands right
# before it ("Dr Kim", "nurse Anna").
_MED_NEAR = re.compile(
    r"\d\s?(?:mg|mcg|ml|iu)\b|\b(?:dose|doses|dosage|pills?|tablets?|capsules?|prescri\w*|medications?|medicines?|"
    r"meds|refills?|generic|side effects?|injections?|inhaler|cream|ointment|patch|drugs?|rx|pharmacy|"
    r"interacts?|interactions?|insurance)\b",
    re.IGNORECASE,
)
_PERSON_BEFORE = re.compile(
    r"\b(?:dr|doctor|nurse|pharmacist|mr|mrs|ms|miss|prof|my (?:husband|wife|son|daughter|friend|mom|mum|dad|"
    r"brother|sister|partner))\.?,?\s+$",
    re.IGNORECASE,
)
# A brand's release suffix: "Effexor XR", "Opana ER", "Claritin-D".
_RELEASE_SUFFIX = re.compile(r"(?:\s(?:XR|ER|SR|CR|XL|LA|ODT|DR|HCT)\b|-D\b)")
_MED_AFTER = re.compile(
    r"\W*(?:\d+(?:\.\d+)?\s?(?:mg|mcg|ml|iu)\b|(?:\w+\W+)?(?:side effects?|pills?|tablets?|capsules?|injections?|"
    r"dose|dosage|patch|implant|withdrawal)\b)",
    re.IGNORECASE,
)  # not "helped" or "worked": "Kevin helped me" is a person


# Camel case is a product (iPhone, PlayStation, YouTube); McDonald, O'Brien, DeLuca are names.
_CAMEL = re.compile(
    r"^(?!Mc|Mac|O'|O’|D'|D’|De|Di|La|Le|Van|de[A-Z]|di[A-Z]|du[A-Z]|van[A-Z]|von[A-Z]|le[A-Z]|la[A-Z])\w*[a-z][A-Z]"
)


def not_a_name(word: str, extra: Iterable[str] | frozenset[str] = frozenset()) -> bool:
    """Whether a capitalised word is a product, medicine, place or interjection rather than a person's name."""
    low = word.lower().strip("'’.").replace("’", "'")
    if low.endswith("'s"):
        low = low[:-2]
    if low in ALLOWED_WORDS or low in COMMON_WORDS or low in _learned or low in extra:
        return True
    if any(_CAMEL.match(part) for part in word.split("-")):
        return True
    return len(low) >= 6 and low not in _NAME_EXCEPTIONS and bool(_DRUG_STEM.search(low))


def medicine_context(text: str, start: int, end: int) -> bool:
    """Whether the word at ``text[start:end]`` stands where a medicine's name stands."""
    return bool(_MED_BEFORE.search(text[max(0, start - 30) : start]) or _MED_AFTER.match(text[end : end + 30]))


def is_medicine(word: str) -> bool:
    """A word the lists know as a medicine (brand list or a generic drug stem)."""
    low = word.lower()
    return low in _DRUG_SET or (len(low) >= 6 and low not in _NAME_EXCEPTIONS and bool(_DRUG_STEM.search(low)))


def medicine_nearby(text: str, start: int, end: int, window: int = 60) -> bool:
    """A single word in a sentence about medicine: a dose, pill, prescription or side-effect word
    within ``window`` characters (same sentence), a release suffix ("Effexor XR"), and no person's
    title or role right before it."""
    if _PERSON_BEFORE.search(text[max(0, start - 25) : start]):
        return False
    if _RELEASE_SUFFIX.match(text, end):
        return True
    lo = max(0, start - window)
    cut = max(text.rfind(". ", lo, start), text.rfind("\n", lo, start))
    lo = cut + 1 if cut >= 0 else lo
    hi = min(len(text), end + window)
    stop = [i for i in (text.find(". ", end, hi), text.find("\n", end, hi)) if i >= 0]
    hi = min(stop) if stop else hi
    return bool(_MED_NEAR.search(text, lo, hi))


_CAPITALISED = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]+[A-Za-z]*")


def learn_allow_list(texts: Iterable[str], *, min_items: int = 25, min_share: float = 0.002) -> set[str]:
    """Lower-cased words written capitalised mid-sentence in at least ``min_items`` distinct
    items (and that share of all items): brands and products of the corpus. Pass the result to
    :func:`remember` (process-wide) or as ``allow`` to ``find_pii``.

    Opt-in, not run by ``analyze``: on the 34k crowd-rated tweets it learns "Tom", "Bill" and
    "Brady" along with "Twitter" and "Uber" (one famous person in many items), and a 256-item
    batch learns nothing. Review the list before passing it on."""
    counts: Counter[str] = Counter()
    n = 0
    for text in texts:
        n += 1
        counts.update({m.group(0).lower() for m in _CAPITALISED.finditer(text or "")})
    floor = max(min_items, int(min_share * n))
    return {w for w, k in counts.items() if k >= floor}


def remember(words: Iterable[str]) -> None:
    """Adds learned words to the process-wide allow-list."""
    _learned.update(w.lower() for w in words)
