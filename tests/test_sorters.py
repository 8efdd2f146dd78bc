"""Sorters: which candidates of an endless stream are offered."""

from __future__ import annotations

import random

import pytest

from nbannotate.sorters import get_sorter, prefer_high_scores, prefer_uncertain, sort_stream


def test_prefer_uncertain_offers_scores_near_half_more_often():
    rng = random.Random(0)
    scores = [rng.random() for _ in range(5000)]
    kept = list(sort_stream(((s, s) for s in scores), prefer_uncertain()))
    mean_distance = sum(abs(s - 0.5) for s in kept) / len(kept)
    assert mean_distance < 0.2 < 0.25  # uniform scores average 0.25 from 0.5
    assert 0.2 * len(scores) < len(kept) < 0.8 * len(scores)


def test_bias_moves_the_centre():
    rng = random.Random(1)
    scores = [rng.random() for _ in range(5000)]
    kept = list(sort_stream(((s, s) for s in scores), prefer_uncertain(bias=0.3)))
    assert sum(kept) / len(kept) > 0.6


def test_prefer_high_scores_keeps_high_scores():
    rng = random.Random(2)
    scores = [rng.random() for _ in range(5000)]
    kept = list(sort_stream(((s, s) for s in scores), prefer_high_scores()))
    assert sum(kept) / len(kept) > 0.6


def test_the_stream_never_runs_dry_after_a_long_stretch_of_skips():
    """After uncertain candidates, a long run of confident ones still yields tasks: every
    skip relaxes the threshold, and max_skips in a row force the next one out."""
    sorter = prefer_uncertain(max_skips=30)
    for _ in range(200):
        sorter(0.5)  # the running mean is now "very uncertain"
    confident = [0.999] * 300
    emitted = [i for i, s in enumerate(confident) if sorter(s)]
    assert emitted, "the sorter skipped 300 candidates in a row"
    gaps = [b - a for a, b in zip([-1, *emitted], emitted)]
    assert max(gaps) <= 31


def test_none_keeps_everything_and_unknown_names_fail_clearly():
    assert all(get_sorter("none")(s) for s in (0.0, 0.5, 1.0))
    with pytest.raises(ValueError, match="prefer_uncertain"):
        get_sorter("best_first")
