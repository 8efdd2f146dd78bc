"""Candidates never split a user-perceived character (a grapheme cluster), with the real
blank:en tokenizer, which cuts inside ZWJ emoji sequences, skin-tone modifiers and flags."""

from __future__ import annotations

import spacy

from nbannotate.candidates import CandidateScorer
from nbannotate.graphemes import inside_cluster
from nbannotate.models import load_model
from nbannotate.patterns import PatternMatcher

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl: one character
THUMBS = "\U0001f44d\U0001f3fd"  # thumbs up + medium skin tone
FLAGS = "\U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7"  # DE FR: two flags
CAFE = "cafe\u0301"  # e + combining acute


def cuts(text: str) -> list[int]:
    return [i for i in range(len(text) + 1) if not inside_cluster(text, i)]


def test_the_cluster_rules_on_the_cases_the_tokenizer_splits():
    assert cuts(FAMILY) == [0, len(FAMILY)]
    assert cuts(THUMBS) == [0, 2]
    assert cuts(FLAGS) == [0, 2, 4]  # between the two flags, not inside either
    assert cuts(CAFE) == [0, 1, 2, 3, 5]
    assert cuts("\U0001f469\u200d\U0001f4bb") == [0, 3]  # woman technologist
    assert cuts("x\u200dy") == [0, 2, 3]  # a ZWJ joins the letter before, not the one after
    assert cuts("\r\n") == [0, 2]
    assert cuts("\u1100\u1161\u11a8") == [0, 3]  # conjoining jamo: one Hangul syllable
    assert cuts("ab") == [0, 1, 2]


def test_blank_en_cuts_inside_clusters_and_no_candidate_does():
    texts = [
        f"We {FAMILY} love Berlin",
        f"Great {THUMBS} phone",
        f"Flags {FLAGS} here",
        f"The {CAFE} Paris",
        f"Ich{FAMILY}Berlin",
    ]
    nlp = spacy.blank("en")
    # The tokenizer does cut inside them (else this test would prove nothing).
    assert [t.text for t in nlp(texts[0])][1:6] == [
        "\U0001f468",
        "\u200d",
        "\U0001f469",
        "\u200d",
        "\U0001f467",
    ]
    assert [t.text for t in nlp(texts[2])][1:5] == [
        "\U0001f1e9",
        "\U0001f1ea",
        "\U0001f1eb",
        "\U0001f1f7",
    ]
    model = load_model("blank:en", ["THING"])
    # Patterns that match half a character: the man of the family, a skin tone, a lone
    # regional indicator; and whole ones: the family, the thumbs up, the French flag.
    patterns = PatternMatcher(
        model,
        [
            {"label": "THING", "pattern": [{"orth": "\U0001f468"}]},
            {"label": "THING", "pattern": [{"orth": "\U0001f3fd"}]},
            {"label": "THING", "pattern": [{"orth": "\U0001f1ea"}, {"orth": "\U0001f1eb"}]},
            {
                "label": "THING",
                "pattern": [
                    {"orth": "\U0001f468"},
                    {"orth": "\u200d"},
                    {"orth": "\U0001f469"},
                    {"orth": "\u200d"},
                    {"orth": "\U0001f467"},
                ],
            },
            {"label": "THING", "pattern": [{"orth": "\U0001f44d"}, {"orth": "\U0001f3fd"}]},
            {"label": "THING", "pattern": [{"orth": "\U0001f1eb"}, {"orth": "\U0001f1f7"}]},
        ],
        labels=["THING"],
    )
    scorer = CandidateScorer(
        model,
        ["THING"],
        patterns=patterns,
        whole=0.0,
        whole_alternatives=16,
        whole_alternative_min=0.0,
    )
    scorer.untrained = False  # every candidate of the beam, not just the best one
    offered = []
    for text, tasks in zip(texts, scorer.score([{"text": t} for t in texts])):
        for task in tasks:
            for span in task["spans"]:
                assert not inside_cluster(text, span["start"]), (text, span)
                assert not inside_cluster(text, span["end"]), (text, span)
                offered.append(text[span["start"] : span["end"]])
    # the whole characters are still offered
    assert {FAMILY, THUMBS, FLAGS[2:]} <= set(offered)
    assert "\U0001f468" not in offered and FLAGS[1:3] not in offered


def test_manual_and_correct_never_pre_highlight_half_a_character(tmp_path):
    """The suggestions of manual (patterns) and correct (the model's entities) keep to whole
    characters too: blank:en cuts the family emoji into five tokens, and a pattern or an
    entity on "the man" alone is no suggestion, while the whole family and a word are."""
    import nbannotate as nba

    text = f"We {FAMILY} love Berlin"
    man = "\U0001f468"
    patterns = [
        {"label": "THING", "pattern": [{"orth": man}]},
        {"label": "THING", "pattern": [{"orth": "Berlin"}]},
    ]
    db = tmp_path / "m.duckdb"
    manual = nba.manual("m", [text], labels=["THING"], patterns=patterns, db=db)
    try:
        spans = manual.next_task(timeout=60)["spans"]
    finally:
        manual.close()
    assert [text[s["start"] : s["end"]] for s in spans] == ["Berlin"]

    # correct(): a pipeline whose last component sets its entities: half of the family and a
    # word.
    from spacy.language import Language

    @Language.component("nba_test_half_family")
    def half_family(doc):
        man_token = next(t for t in doc if t.text == man)
        love = next(t for t in doc if t.text == "love")
        doc.ents = [
            doc.char_span(man_token.idx, man_token.idx + len(man), label="THING"),
            doc.char_span(love.idx, love.idx + 4, label="THING"),
        ]
        return doc

    nlp = load_model("blank:en", ["THING"])
    nlp.add_pipe("nba_test_half_family", last=True)
    # The pipeline does mark the man alone (else this would prove nothing).
    assert man in [e.text for e in nlp(text).ents]
    fix = nba.correct("c", [text], model=nlp, labels=["THING"], db=db)
    try:
        spans = fix.next_task(timeout=60)["spans"]
    finally:
        fix.close()
    got = [text[s["start"] : s["end"]] for s in spans]
    assert man not in got and "love" in got
