"""ScoreCalibrator: the accept rate per score bin, learnt from answers."""

from __future__ import annotations

import pytest

from nbannotate.calibration import ScoreCalibrator, is_model_span


def span_task(score: float, answer: str, source: str = "model", whole: bool = False) -> dict:
    meta = {"score": score, "source": source}
    if whole:
        meta["whole"] = True
    return {"text": "x", "spans": [], "meta": meta, "answer": answer}


def test_without_answers_the_raw_score_is_the_estimate():
    cal = ScoreCalibrator()
    assert [cal(s) for s in (0.0, 0.05, 0.5, 0.97, 1.0)] == [0.0, 0.05, 0.5, 0.97, 1.0]


def test_answers_move_their_own_bin_only():
    cal = ScoreCalibrator(bins=10, prior=10)
    for _ in range(30):  # confident spans that the annotator mostly rejects
        cal.observe(0.95, accepted=False)
    for _ in range(10):
        cal.observe(0.93, accepted=True)
    assert cal(0.95) == pytest.approx((10 + 10 * 0.95) / (40 + 10))
    assert cal(0.95) < 0.5
    assert cal(0.45) == 0.45  # no answers in that bin yet
    table = cal.table()
    assert table[9]["answers"] == 40 and table[9]["accepts"] == 10
    assert sum(row["answers"] for row in table) == 40


def test_taking_an_answer_back_restores_the_estimate():
    cal = ScoreCalibrator()
    cal.observe(0.3, accepted=True)
    before = cal(0.3)
    cal.observe(0.31, accepted=False)
    cal.observe(0.31, accepted=False, count=-1)
    assert cal(0.3) == before
    cal.observe(0.3, accepted=True, count=-1)
    assert cal(0.3) == 0.3


def test_only_answered_model_spans_count():
    cal = ScoreCalibrator()
    counted = cal.observe_tasks([
        span_task(0.9, "reject"),
        span_task(0.9, "accept"),
        span_task(0.9, "ignore"),  # says nothing about the span
        span_task(0.9, "reject", source="pattern"),  # always asked, never sorted
        span_task(0.9, "reject", whole=True),  # a whole analysis: its own question
    ])
    assert counted == 2
    assert cal(0.9) == pytest.approx((1 + 10 * 0.9) / 12)
    assert is_model_span(span_task(0.2, "accept"))
    assert not is_model_span({"text": "x", "meta": {"source": "model"}})


@pytest.mark.parametrize("kwargs", [{"bins": 0}, {"prior": 0}, {"prior": -1.0}])
def test_bad_settings_are_refused(kwargs):
    with pytest.raises(ValueError, match="must be"):
        ScoreCalibrator(**kwargs)
