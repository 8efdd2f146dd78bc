"""Answers -> spaCy Examples: accept / reject / missing, latest answer wins."""

from __future__ import annotations

import spacy

from nbannotate.examples import answers_to_examples
from nbannotate.models import INCORRECT_SPANS_KEY, load_model
from nbannotate.tasks import VIEW_MANUAL, make_task

TEXT = "I bought an iPhone and a Pixel today"


def answer(spans, ans, view="ner"):
    return dict(
        make_task(
            TEXT, [], [{"start": s, "end": e, "label": lab} for s, e, lab in spans], view_id=view
        ),
        answer=ans,
    )


def test_binary_answers_merge_into_one_example_with_missing_tokens():
    nlp = load_model("blank:en", ["PRODUCT"])
    examples, stats = answers_to_examples(
        nlp,
        [
            answer([(12, 18, "PRODUCT")], "accept"),
            answer([(25, 30, "PRODUCT")], "reject"),
            answer([(0, 1, "PRODUCT")], "ignore"),
        ],
    )
    (ex,) = examples
    assert [t.ent_iob_ for t in ex.reference] == ["", "", "", "B", "", "", "", ""]
    assert [s.text for s in ex.reference.spans[INCORRECT_SPANS_KEY]] == ["Pixel"]
    assert stats.ignored == 1 and stats.examples == 1


def test_latest_answer_wins_and_conflicts_are_counted():
    nlp = load_model("blank:en", ["PRODUCT"])
    examples, stats = answers_to_examples(
        nlp,
        [
            answer([(12, 18, "PRODUCT")], "accept"),
            answer([(12, 18, "PRODUCT")], "reject"),
        ],
    )
    (ex,) = examples
    assert not list(ex.reference.ents)
    assert [s.text for s in ex.reference.spans[INCORRECT_SPANS_KEY]] == ["iPhone"]
    assert stats.conflicts == 1
    # the example trains without E868 (the same span accepted and rejected)
    nlp.update(examples, sgd=nlp.resume_training())


def test_gold_is_complete_and_whitespace_spans_are_dropped():
    nlp = load_model("blank:en", ["PRODUCT"])
    examples, stats = answers_to_examples(
        nlp,
        [
            answer([(12, 18, "PRODUCT"), (25, 30, "PRODUCT")], "accept", VIEW_MANUAL),
        ],
    )
    assert [t.ent_iob_ for t in examples[0].reference] == ["O", "O", "O", "B", "O", "O", "B", "O"]
    nlp2 = spacy.blank("en")
    spaced = dict(make_task("a  b", [], [{"start": 1, "end": 3, "label": "X"}]), answer="accept")
    examples, stats = answers_to_examples(nlp2, [spaced])
    assert examples == [] and stats.misaligned == 1


def test_spans_off_the_token_boundaries_are_dropped_never_widened():
    # Prodigy's character highlighting, or another tokenizer: "Galaxy" inside one spaCy token.
    nlp = spacy.blank("en")
    text = "I preordered the GalaxyS24 yesterday ."
    galaxy = [{"start": 17, "end": 23, "label": "PRODUCT"}]
    rejected = dict(make_task(text, [], galaxy), answer="reject")
    accepted = dict(
        make_task(text, [], [{"start": 2, "end": 12, "label": "PRODUCT"}]), answer="accept"
    )
    (ex,), stats = answers_to_examples(nlp, [rejected, accepted])
    # The reject said nothing about "GalaxyS24": nothing is known wrong there.
    assert INCORRECT_SPANS_KEY not in ex.reference.spans or not list(
        ex.reference.spans[INCORRECT_SPANS_KEY]
    )
    assert [e.text for e in ex.reference.ents] == ["preordered"]
    assert stats.misaligned == 1
    # A complete analysis with such a span: its token is unknown, not "O" nor the entity.
    whole = dict(make_task(text, [], galaxy, view_id=VIEW_MANUAL), answer="accept")
    (ex,), stats = answers_to_examples(nlp, [whole])
    assert [t.ent_iob_ for t in ex.reference] == ["O", "O", "O", "", "O", "O"]
    assert stats.misaligned == 1
    nlp.add_pipe("ner").add_label("PRODUCT")
    nlp.initialize()
    nlp.update([ex])  # trains


def test_a_person_rejecting_an_analysis_outranks_its_silver_analysis():
    nlp = load_model("blank:en", ["PRODUCT"])
    silver = dict(
        make_task(
            TEXT,
            [],
            [{"start": 12, "end": 18, "label": "PRODUCT"}],
            {"silver": True},
            view_id=VIEW_MANUAL,
        ),
        answer="accept",
    )
    rejected = answer([(12, 18, "PRODUCT")], "reject", VIEW_MANUAL)  # the same analysis
    for tasks in ([silver, rejected], [rejected, silver]):
        examples, stats = answers_to_examples(nlp, tasks)
        assert examples == [] and stats.answers == 2
    # Alone, the silver analysis trains as a complete annotation.
    (ex,), _ = answers_to_examples(nlp, [silver])
    assert [e.text for e in ex.reference.ents] == ["iPhone"]
