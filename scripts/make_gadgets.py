"""Regenerate gadgets.jsonl, the quickstart's example texts (written for nbannotate).

    python scripts/make_gadgets.py

Short forum-style comments about consumer electronics, built from hand-written templates and
vocabulary with a seeded RNG, so the output is the same on every run. Some texts name no
product, some have several sentences, a few carry emoji or accented letters. Product names
appear in the spellings people type (``ps5``, ``iphone 15``), and product_patterns.jsonl covers
only some of them: the rest are what the model has to learn.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SEED = 34  # chosen so that the first posts name products the patterns know
N_TEXTS = 360
OUT = Path(__file__).resolve().parents[1] / "nbannotate" / "data" / "gadgets.jsonl"

# Products by kind. Real and invented names; the spelling variants are how people write them.
PRODUCTS: dict[str, list[str]] = {
    "phone": [
        "iPhone 15",
        "iPhone 15 Pro",
        "iPhone 13 mini",
        "iPhone SE",
        "iPhone 12",
        "iphone 14",
        "Galaxy S24",
        "Galaxy S24 Ultra",
        "Galaxy S21",
        "Galaxy A54",
        "Galaxy Z Flip 5",
        "Pixel 8",
        "Pixel 8 Pro",
        "Pixel 7a",
        "pixel 6",
        "OnePlus 12",
        "OnePlus Nord 3",
        "Xperia 1 V",
        "Moto G Power",
        "Fairphone 5",
        "Nothing Phone 2",
        "Zenfone 10",
        "Novaphone X3",
        "Redmi Note 13",
    ],
    "laptop": [
        "ThinkPad X1 Carbon",
        "ThinkPad T14",
        "ThinkPad X13",
        "MacBook Air",
        "MacBook Air M2",
        "MacBook Pro 14",
        "Dell XPS 13",
        "XPS 15",
        "Surface Laptop 5",
        "Surface Pro 9",
        "Zenbook 14",
        "Framework Laptop",
        "Chromebook Duet",
        "Razer Blade 15",
        "Corvo Book 16",
        "Yoga Slim 7",
        "Spectre x360",
    ],
    "headphones": [
        "AirPods Pro",
        "AirPods Max",
        "AirPods",
        "WH-1000XM5",
        "Sony XM4",
        "Bose QC45",
        "QuietComfort Ultra",
        "Galaxy Buds2 Pro",
        "Pixel Buds Pro",
        "Jabra Elite 85t",
        "Momentum 4",
        "HD 600",
        "Lumo Buds",
        "Nothing Ear 2",
    ],
    "camera": [
        "Sony A7 IV",
        "a6400",
        "Fujifilm X100V",
        "X-T5",
        "Canon R6",
        "EOS R50",
        "Nikon Z6 II",
        "GoPro Hero 12",
        "Ricoh GR III",
        "Osmo Pocket 3",
        "Lumix G9",
    ],
    "console": [
        "PlayStation 5",
        "PS5",
        "ps5",
        "PS4 Pro",
        "Xbox Series X",
        "Xbox Series S",
        "Nintendo Switch",
        "Switch OLED",
        "Steam Deck",
        "ROG Ally",
        "Game Boy Advance",
    ],
    "watch": [
        "Apple Watch Series 9",
        "Apple Watch Ultra",
        "Apple Watch",
        "Galaxy Watch 6",
        "Pixel Watch 2",
        "Garmin Fenix 7",
        "Forerunner 265",
        "Fitbit Charge 6",
        "Venu 3",
        "Amazfit GTR 4",
    ],
    "tablet": [
        "iPad Air",
        "iPad Pro",
        "iPad mini",
        "Galaxy Tab S9",
        "Kindle Paperwhite",
        "Kobo Clara",
        "reMarkable 2",
        "Fire HD 10",
    ],
}

# What people talk about, by kind of device.
PARTS = {
    "phone": [
        "battery",
        "camera",
        "screen",
        "charging port",
        "fingerprint reader",
        "speaker",
        "modem",
        "haptics",
        "night mode",
        "face unlock",
    ],
    "laptop": [
        "keyboard",
        "trackpad",
        "fan",
        "hinge",
        "webcam",
        "battery",
        "display",
        "USB-C ports",
        "speakers",
        "thermals",
    ],
    "headphones": [
        "noise cancelling",
        "ear cushions",
        "mic",
        "case",
        "bass",
        "battery",
        "touch controls",
        "transparency mode",
        "headband",
        "Bluetooth pairing",
    ],
    "camera": [
        "autofocus",
        "viewfinder",
        "sensor",
        "battery",
        "IBIS",
        "menu system",
        "grip",
        "video mode",
        "shutter",
        "kit lens",
    ],
    "console": [
        "controller",
        "fan",
        "SSD",
        "HDMI port",
        "UI",
        "load times",
        "disc drive",
        "store",
        "storage",
        "power supply",
    ],
    "watch": [
        "heart rate sensor",
        "GPS",
        "battery",
        "strap",
        "screen",
        "sleep tracking",
        "step counter",
        "always-on display",
        "crown",
        "notifications",
    ],
    "tablet": [
        "screen",
        "pen",
        "battery",
        "keyboard case",
        "speakers",
        "charging",
        "stylus",
        "kickstand",
        "glare",
        "Wi-Fi",
    ],
}
GOOD = [
    "great",
    "excellent",
    "surprisingly good",
    "solid",
    "fantastic",
    "way better than I expected",
    "honestly fine",
    "really nice",
    "top notch",
    "decent",
]
BAD = [
    "terrible",
    "flaky",
    "awful",
    "disappointing",
    "garbage",
    "annoying",
    "pretty bad",
    "worse than my old one",
    "hit or miss",
    "not great",
]
DURATIONS = [
    "two weeks",
    "a month",
    "three months",
    "half a year",
    "a year",
    "two years",
    "about ten days",
    "since launch",
    "a couple of days",
    "six weeks",
]
SHOPS = [
    "Amazon",
    "Best Buy",
    "a local shop",
    "eBay",
    "the Apple Store",
    "Costco",
    "a refurb site",
    "MediaMarkt",
    "Back Market",
    "a guy on Craigslist",
]
PRICES = {
    "phone": ["$199", "$349", "$499", "$799", "$1,099", "€649", "£450"],
    "laptop": ["$899", "$1,299", "$1,799", "€1.299", "£999", "$650"],
    "headphones": ["$79", "$149", "$249", "$349", "€199", "£229"],
    "camera": ["$549", "$999", "$1,399", "$2,499", "€1.599", "£849"],
    "console": ["$299", "$399", "$499", "$649", "€449", "£389"],
    "watch": ["$149", "$249", "$399", "$799", "€299", "£349"],
    "tablet": ["$99", "$139", "$329", "$599", "€449", "£279"],
}
PEOPLE = [
    "my wife",
    "my dad",
    "my brother",
    "a coworker",
    "my kid",
    "my girlfriend",
    "my mum",
    "a friend",
    "my roommate",
    "my grandma",
]
EMOJI = [" 😍", " 🙃", " 🔋", " 😤", " 👍", " 🤷", " 🎧", " 📷", " 💀", " 🙏"]

# Names read with a leading vowel sound take "an".
AN_PREFIXES = ("A", "a", "E", "I", "i", "Osmo", "X", "HD ")

# Sentences about one product P of a kind (part X). {G}/{B}: good/bad word.
ONE = [
    "Just upgraded to the {P} and the {X} is {G}.",
    "My {P} has a {B} {X}, is this a known issue?",
    "Anyone else having problems with the {X} on the {P}?",
    "Been using the {P} for {D} now and I have zero complaints.",
    "Picked up a {P} from {S} for {$}, not bad at all.",
    "The {X} on my {P} died after {D}.",
    "Is the {P} still worth it in 2024?",
    "Returned the {P} because the {X} was {B}.",
    "Honestly the {P} is the best thing I bought this year.",
    "Got {W} a {P} as a gift and it's already in daily use.",
    "Gave {W} my old {P}, still going strong.",
    "Can someone explain why the {P} costs {$}?",
    "After the latest update my {P} keeps restarting.",
    "The {X} on the {P} is {G} but the price is hard to justify.",
    "Dropped my {P} on concrete and it survived, impressive.",
    "Should I wait for the successor or just buy the {P} now?",
    "Does the {P} support wireless charging?",
    "Mine is a {P} and the {X} is {B}, support was useless.",
    "I switched to the {P} last week and I'm not going back.",
    "The {P} gets really warm when I use it for more than an hour.",
    "Selling my {P}, barely used, box included.",
    "How long does the battery on the {P} actually last?",
    "Reviewers hyped the {P} but the {X} is {B} in real life.",
    "Third {P} in a year, same problem with the {X} every time.",
    "Not sure why people hate the {P}, mine has been {G}.",
    "Found a {P} on sale at {S}, grabbed it immediately.",
    "Tip: turn off the {X} on the {P} and the battery lasts way longer.",
    "The {P} is {G} for the money.",
    "Waited {D} for my {P} to ship.",
    "is the {P} good for a student? budget is tight.",
]
# Sentences comparing two products of the same kind.
TWO = [
    "Torn between the {P} and the {Q}, which one should I get?",
    "Went from a {P} to a {Q} and the difference in {X} is night and day.",
    "The {P} beats the {Q} on {X}, no contest.",
    "{P} or {Q} for someone who mostly watches videos?",
    "I had the {P} before, the {Q} feels like a real upgrade.",
    "Honestly the {Q} is just a {P} with better {X}.",
    "My {P} lasted {D}, my {Q} is already acting up.",
    "Traded my {P} for a {Q} at {S} and got {$} back.",
]
# Sentences mixing products of different kinds.
MIXED = [
    "Use my {P} with the {R} every day and they pair instantly.",
    "Bought a {P} and a {R} on the same day, my wallet is crying.",
    "The {R} works fine with my {P} but the setup was {B}.",
    "Anyone pairing a {R} with a {P}? The connection drops constantly.",
]
# Sentences with no product name at all.
NONE = [
    "Does anyone know a good repair shop near downtown?",
    "What's the best way to clean a phone screen without scratching it?",
    "Black Friday deals this year are honestly disappointing.",
    "I just want a phone that fits in my pocket, is that too much to ask?",
    "Battery life matters more to me than the camera.",
    "Why does every laptop now ship with a glossy screen?",
    "Thanks everyone for the advice, I ended up returning it.",
    "My old charger stopped working after {D}.",
    "Noise cancelling headphones changed my commute completely.",
    "Is it worth paying extra for the bigger storage option?",
    "Customer support put me on hold for forty minutes.",
    "I'm going to wait for the next generation.",
    "Warranty claims are such a hassle, never again.",
    "Mechanical keyboards are a rabbit hole, send help.",
    "Can someone recommend a cheap webcam for video calls?",
    "The shipping box was bigger than my desk.",
    "Smart watches are great until you forget to charge them.",
    "Cases with a lip around the camera save lives.",
    "Streaming in 4K eats my data plan alive.",
    "Who else still uses wired earbuds?",
    "Bought a new USB-C hub and now my monitor flickers.",
    "Firmware updates should not take an hour.",
    "Paid forty bucks for a screen protector, lesson learned.",
    "Got {W} into film photography and now my bank account is empty.",
    "Refurbished is the way to go if you're on a budget.",
    "Every console generation the load times get better.",
    "My cat knocked my tablet off the table again.",
    "The return window at {S} is only fourteen days, be careful.",
    "Why is Bluetooth still this unreliable in 2024?",
    "I ordered from {S} and it arrived in two days.",
    "Upgraded my router and suddenly everything is faster.",
    "E-readers are so much easier on the eyes than phones.",
    "What SD card do you use for 4K video?",
    "Spent the whole weekend setting up my new desk.",
]
# Openers and closers that make multi-sentence posts.
OPEN = [
    "Long time lurker, first post.",
    "Quick question.",
    "Update:",
    "So here's my story.",
    "PSA:",
    "Need some advice.",
    "Okay, rant incoming.",
    "Hi all!",
    "Small review.",
    "Bonjour from Montréal!",
    "Grüße aus München.",
    "Edit: fixed typo.",
]
CLOSE = [
    "Thanks in advance!",
    "Any help appreciated.",
    "Would recommend.",
    "Not impressed.",
    "Lesson learned.",
    "What would you do?",
    "10/10 would buy again.",
    "Anyway, that's my two cents.",
    "Still thinking about it.",
    "Merci!",
    "Cheers.",
    "Hope this helps someone.",
]


def fill(template: str, rng: random.Random, kind: str, names: dict[str, str]) -> str:
    """Fill one template's slots; product slots come from ``names``, the rest at random."""
    slots = {
        "{X}": rng.choice(PARTS[kind]),
        "{G}": rng.choice(GOOD),
        "{B}": rng.choice(BAD),
        "{D}": rng.choice(DURATIONS),
        "{S}": rng.choice(SHOPS),
        "{$}": rng.choice(PRICES[kind]),
        "{W}": rng.choice(PEOPLE),
        **names,
    }
    text = template
    for slot, value in names.items():  # "a iPhone" -> "an iPhone"
        if value.startswith(AN_PREFIXES):
            text = text.replace(f"a {slot}", f"an {slot}").replace(f"A {slot}", f"An {slot}")
    for slot, value in slots.items():
        text = text.replace(slot, value)
    # Most people capitalise the first word; never touch a product name ("iPhone", "ps5").
    if template[0].islower() and rng.random() < 0.9:
        text = text[0].upper() + text[1:]
    return text


def pick(rng: random.Random, templates: list[str], used: set[str]) -> str:
    """A template not used yet in this post."""
    template = rng.choice([t for t in templates if t not in used])
    used.add(template)
    return template


def sentence(rng: random.Random, used: set[str]) -> str:
    """One sentence: about a product (70%), two products (20%) or none (10%)."""
    kind = rng.choice(list(PRODUCTS))
    p, q = rng.sample(PRODUCTS[kind], 2)
    roll = rng.random()
    if roll < 0.10:
        return fill(pick(rng, NONE, used), rng, kind, {})
    if roll < 0.25:
        return fill(pick(rng, TWO, used), rng, kind, {"{P}": p, "{Q}": q})
    if roll < 0.30:
        r = rng.choice(PRODUCTS[rng.choice([k for k in PRODUCTS if k != kind])])
        return fill(pick(rng, MIXED, used), rng, kind, {"{P}": p, "{R}": r})
    return fill(pick(rng, ONE, used), rng, kind, {"{P}": p})


def post(rng: random.Random) -> str:
    """A post of one to three sentences, sometimes with an opener, closer or emoji."""
    if rng.random() < 0.2:  # product-free posts
        text = fill(rng.choice(NONE), rng, rng.choice(list(PRODUCTS)), {})
    else:
        used: set[str] = set()  # no template twice in one post
        text = " ".join(sentence(rng, used) for _ in range(rng.choice([1, 1, 1, 2, 2, 3])))
    if rng.random() < 0.15:
        text = f"{rng.choice(OPEN)} {text}"
    if rng.random() < 0.15:
        text = f"{text} {rng.choice(CLOSE)}"
    if rng.random() < 0.08:
        text += rng.choice(EMOJI)
    return text


def main() -> None:
    rng = random.Random(SEED)
    texts: list[str] = []
    seen: set[str] = set()
    while len(texts) < N_TEXTS:
        text = post(rng)
        if text not in seen:
            seen.add(text)
            texts.append(text)
    with OUT.open("w", encoding="utf-8") as f:
        for i, text in enumerate(texts, 1):
            f.write(json.dumps({"text": text, "meta": {"id": i}}, ensure_ascii=False) + "\n")
    print(f"wrote {len(texts)} texts to {OUT}")


if __name__ == "__main__":
    main()
