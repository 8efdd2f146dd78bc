"""A tiny synthetic product corpus and an oracle annotator for tests."""

from __future__ import annotations

import random

PRODUCTS = ["iPhone", "Galaxy", "Pixel", "ThinkPad", "Kindle", "Walkman", "Xperia", "Surface"]
PATTERN_PRODUCTS = ["iPhone", "Galaxy", "ThinkPad", "Kindle"]  # Pixel, Walkman... only learnt
TEMPLATES = [
    "I just bought the new {p} yesterday .",
    "My {p} stopped working after a week .",
    "Does anyone know if the {p} supports fast charging ?",
    "The {p} is cheaper in Berlin this month .",
    "Honestly the {p} was a waste of money .",
    "We compared the {p} with an old laptop .",
    "Is the {p} worth it for students ?",
    "Her {p} fell into the lake on Sunday .",
]


def gadget_texts(n: int, seed: int = 0, products: list[str] = PRODUCTS) -> list[str]:
    """Short texts, each naming one product, made unique by a trailing tag."""
    rng = random.Random(seed)
    return [rng.choice(TEMPLATES).format(p=rng.choice(products)) + f" #{seed}x{i}"
            for i in range(n)]


def product_patterns() -> list[dict]:
    return [{"label": "PRODUCT", "pattern": [{"orth": p}]} for p in PATTERN_PRODUCTS]


def gold_spans(text: str) -> set[tuple[int, int, str]]:
    """The product mentions of a gadget text, as (start, end, label)."""
    out = set()
    pos = 0
    for token in text.split(" "):
        if token in PRODUCTS:
            out.add((pos, pos + len(token), "PRODUCT"))
        pos += len(token) + 1
    return out


def answer_tasks(session, n: int, answer=None) -> list[dict]:
    """Take up to ``n`` tasks from a session and answer each (default: ``oracle``); returns
    the stored answers."""
    answer = answer or oracle
    done = []
    for _ in range(n):
        task = session.next_task(timeout=60)
        if task is None:
            break
        done.append(session.answer(task, answer(task)))
    return done


def oracle(task: dict) -> str:
    """Accept exactly the product names (or a whole analysis that finds exactly them)."""
    spans = {(s["start"], s["end"], s["label"]) for s in task["spans"]}
    if task["meta"].get("whole"):
        return "accept" if spans == gold_spans(task["text"]) else "reject"
    return "accept" if spans <= gold_spans(task["text"]) else "reject"
