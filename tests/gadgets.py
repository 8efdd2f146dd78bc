"""A tiny synthetic product corpus and an oracle annotator for tests."""

from __future__ import annotations

import random
from pathlib import Path

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
    return [
        rng.choice(TEMPLATES).format(p=rng.choice(products)) + f" #{seed}x{i}" for i in range(n)
    ]


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


def in_step(session) -> None:
    """Wait until the model update that the answers so far call for has run (as a person who
    reads each card does): what the loop learns, and so what it asks next, then depends only on
    the answers, never on how fast this machine runs the updates."""
    updater = getattr(session, "updater", None)
    if updater is not None:
        assert updater.wait_idle(timeout=120), "a model update took more than 120 s"


def answer_tasks(session, n: int, answer=None, *, lockstep: bool = True) -> list[dict]:
    """Take up to ``n`` tasks from a session and answer each (default: ``oracle``); returns
    the stored answers. ``lockstep`` (default): each answer waits for the update it completes
    (``in_step``), so the run is the same on a loaded machine as on an idle one."""
    answer = answer or oracle
    done = []
    for _ in range(n):
        task = session.next_task(timeout=60)
        if task is None:
            break
        done.append(session.answer(task, answer(task)))
        if lockstep:
            in_step(session)
    return done


def answer_until_completion(session, limit: int = 300) -> tuple[dict, dict | None]:
    """Answer as the ``oracle`` until a completion question is offered; returns it
    (unanswered) and the last answer stored before it."""
    last = None
    for _ in range(limit):
        task = session.next_task(timeout=60)
        if task["meta"].get("completion"):
            return task, last
        last = session.answer(task, oracle(task))
        in_step(session)
    raise AssertionError(f"no completion question in {limit} tasks")


def oracle(task: dict) -> str:
    """Accept exactly the product names (or a whole analysis that finds exactly them)."""
    spans = {(s["start"], s["end"], s["label"]) for s in task["spans"]}
    if task["meta"].get("whole"):
        return "accept" if spans == gold_spans(task["text"]) else "reject"
    return "accept" if spans <= gold_spans(task["text"]) else "reject"


def trained_gadget_model(path: Path, n: int = 200, epochs: int = 10) -> Path:
    """Train (a few seconds) and save a blank-English NER that finds the gadget products
    confidently: its beam holds the analyses a completion question is made from."""
    import spacy
    from spacy.training import Example

    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner").add_label("PRODUCT")
    examples = [
        Example.from_dict(nlp.make_doc(t), {"entities": sorted(gold_spans(t))})
        for t in gadget_texts(n, seed=1)
    ]
    nlp.initialize(lambda: examples)
    rng = random.Random(0)
    for _ in range(epochs):
        rng.shuffle(examples)
        for i in range(0, len(examples), 16):
            nlp.update(examples[i : i + 16], drop=0.1)
    nlp.to_disk(path)
    return path


def open_completion_gate(session) -> int:
    """Accept the model's span questions until completion questions start (from the 20th
    accepted span the model proposed) and accept the first one; returns the answers given."""
    for n in range(1, 200):
        task = session.next_task(timeout=60)
        session.answer(task, "accept")
        in_step(session)
        if task["meta"].get("completion"):
            return n
    raise AssertionError("no completion question after 200 accepted tasks")
