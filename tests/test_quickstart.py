"""The quickstart notebook runs top to bottom, headless, on the example data the package ships.

The notebook is executed with nbclient in the "python3" kernel (this venv's ipykernel: jupyter
swaps the kernelspec's bare ``python`` for the running interpreter), in a copy of notebooks/ so
the DuckDB file and any model it writes land in tmp_path, not in the repo.
"""

from __future__ import annotations

import ast
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
import spacy
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

import nbannotate as nba
from nbannotate.patterns import read_patterns

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
QUICKSTART = NOTEBOOKS / "quickstart.ipynb"
DATA = Path(nba.__file__).parent / "data"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _cell(nb: Any, starts: str) -> Any:
    """The one code cell whose source starts with ``starts``."""
    found = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(starts)]
    assert len(found) == 1, f"expected one code cell starting {starts!r}, found {len(found)}"
    return found[0]


def _text(cell: Any) -> str:
    """Everything the cell showed as text: streams and text/plain results."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


def _result(cell: Any) -> str:
    """The text/plain of the cell's value (its last expression)."""
    found = [o.data["text/plain"] for o in cell.outputs if o.output_type == "execute_result"]
    assert len(found) == 1, f"cell {cell.source[:40]!r} shows no value"
    return found[0]


def _execute(name: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """notebooks/``name`` executed in a temp copy of notebooks/: (notebook, its directory)."""
    argv0 = KernelSpecManager().get_kernel_spec("python3").argv[0]
    # jupyter_client runs a bare "python" as sys.executable; anything else must be this Python.
    bare = {"python", "python3", f"python3.{sys.version_info[1]}"}
    if argv0 not in bare and Path(argv0).resolve() != Path(sys.executable).resolve():
        pytest.fail(
            f"The 'python3' kernelspec runs {argv0}, not this venv's Python "
            f"({sys.executable}): run "
            f"`{sys.executable} -m ipykernel install --sys-prefix`."
        )
    workdir = tmp_path_factory.mktemp(Path(name).stem) / "notebooks"
    shutil.copytree(
        NOTEBOOKS,
        workdir,
        ignore=shutil.ignore_patterns(
            "data", "*.duckdb", "*.duckdb.wal", "models", ".ipynb_checkpoints", "__pycache__"
        ),
    )
    nb = nbformat.read(workdir / name, as_version=4)
    # Raises CellExecutionError, with the failing cell and its traceback, if any cell fails.
    NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(workdir)}}
    ).execute()
    return nb, workdir


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The quickstart executed once in a temp copy of notebooks/: (notebook, its directory)."""
    return _execute("quickstart.ipynb", tmp_path_factory)


@pytest.fixture(scope="module")
def executed_review(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """notebooks/review.ipynb executed once in a temp copy of notebooks/."""
    return _execute("review.ipynb", tmp_path_factory)


@pytest.mark.parametrize("name", ["quickstart.ipynb", "review.ipynb"])
def test_notebook_is_committed_clean(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name} has no code cells"
    dirty = [i for i, c in enumerate(code) if c.outputs or c.execution_count is not None]
    assert not dirty, f"code cells {dirty} have outputs or execution counts: clear them"


def test_example_data_is_valid() -> None:
    lines = (DATA / "gadgets.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert 300 <= len(rows) <= 400
    assert all(isinstance(r["text"], str) and r["text"].strip() for r in rows)
    assert len({r["text"] for r in rows}) == len(rows), "duplicate texts"
    assert [r["meta"]["id"] for r in rows] == list(range(1, len(rows) + 1))
    patterns = read_patterns(DATA / "product_patterns.jsonl")
    assert 20 <= len(patterns) <= 40
    assert {p["label"] for p in patterns} == {"PRODUCT"}
    assert any(isinstance(p["pattern"], str) for p in patterns)
    assert any(isinstance(p["pattern"], list) for p in patterns)


@pytest.mark.slow
def test_quickstart_runs_and_shows_the_loop(executed: tuple[Any, Path]) -> None:
    nb, _ = executed
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors

    # The data preview is a DataFrame of the example texts.
    preview = _cell(nb, "import pandas as pd")
    assert "text/html" in preview.outputs[-1].data
    assert "Galaxy S24 Ultra" in _text(preview)

    # Displaying the session shows the widget (a widget view, not just a repr).
    teach = _cell(nb, "session = nba.teach(")
    views = [o for o in teach.outputs if "data" in o and WIDGET_MIME in o.data]
    assert views and views[0].data[WIDGET_MIME]["model_id"]

    # A task is one PRODUCT suggestion with a score and where it came from.
    first = _text(_cell(nb, "task = session.next_task()"))
    assert "as PRODUCT, score" in first
    assert "suggested by the model" in first or "suggested by the pattern" in first
    assert "is stored, task hash" in _text(_cell(nb, 'decision = "accept"'))

    # 50 answers were stored and the model was updated in the background without errors.
    progress = ast.literal_eval(_result(_cell(nb, "for _ in range(49):")))
    assert progress["session"]["total"] == 50
    assert progress["dataset"]["total"] == 50
    assert progress["updates"] >= 1 and progress["update_errors"] == 0
    assert progress["pending_update"] == 0
    assert progress["source_total"] == 360

    history = _cell(nb, "pd.DataFrame(session.history(5))")
    assert "text/html" in history.outputs[-1].data
    assert "taken back:" in _text(_cell(nb, "undone = session.undo()"))
    # The in-loop model, as the loop scores with it: a list of (text, label) entities.
    ents = ast.literal_eval(_result(_cell(nb, "with session.model() as nlp:")))
    assert isinstance(ents, list) and all(label == "PRODUCT" for _, label in ents)

    # The DataFrame the user sees has rows of PRODUCT answers.
    table = _text(_cell(nb, 'db = nba.Database("quickstart.duckdb")'))
    assert "PRODUCT" in table and ("reject" in table or "accept" in table)


@pytest.mark.slow
def test_answers_are_in_the_duckdb_file(executed: tuple[Any, Path]) -> None:
    _, workdir = executed
    path = workdir / "quickstart.duckdb"
    assert path.is_file(), "the notebook did not write quickstart.duckdb next to itself"
    with nba.Database(path) as db:
        df = db.dataset("gadgets").to_pandas()
    assert len(df) == 49  # 50 answers, one undone
    binary = df[df["kind"] == "binary"]
    assert set(binary["label"]) == {"PRODUCT"}
    # whole-analysis questions (kind "gold") carry only PRODUCT spans
    assert all(s["label"] == "PRODUCT" for spans in df["spans"] for s in spans)
    assert set(df["answer"]) <= {"accept", "reject"}
    # The stand-in annotator accepts exactly the pattern matches; the first texts name products
    # the patterns know, so some were offered and accepted.
    accepted = df[df["answer"] == "accept"]
    assert len(accepted) >= 1
    assert all(s.strip() for s in binary["span_text"])
    assert df["task_hash"].is_unique


@pytest.mark.slow
def test_trained_pipeline_is_saved_and_loads(executed: tuple[Any, Path]) -> None:
    nb, workdir = executed
    report = _result(_cell(nb, "result = nba.train("))
    assert report.startswith("TrainResult(") and "49 answers" in report
    out = workdir / "models" / "quickstart"
    assert (out / "config.cfg").is_file() and (out / "meta.json").is_file()
    nlp = spacy.load(out)
    assert "PRODUCT" in nlp.get_pipe("ner").labels
    # The last cell shows the loaded model's entities as a list of (text, label) pairs.
    ents = ast.literal_eval(_result(_cell(nb, "import spacy")))
    assert isinstance(ents, list)
    assert all(label == "PRODUCT" and text for text, label in ents)


@pytest.mark.slow
def test_review_notebook_runs_and_stores_the_reviewed_gold(
    executed_review: tuple[Any, Path],
) -> None:
    nb, workdir = executed_review
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    # The two annotators disagree on the texts naming two or more products.
    summary = ast.literal_eval(_result(_cell(nb, "review = nba.review(")))
    assert summary["conflicts"] == 4 and summary["auto_accepted"] == summary["agreed"] == 8
    picked = ast.literal_eval(_result(_cell(nb, "for _ in range(2):")))
    assert picked["chosen"] == 1 and [v["annotator"] for v in picked["versions"]] == [
        "alice",
        "bob",
    ]
    # Displaying the session shows the review widget over the two conflicts left.
    (shown,) = [c for c in nb.cells if c.cell_type == "code" and c.source.strip() == "review"]
    views = [o for o in shown.outputs if "data" in o and WIDGET_MIME in o.data]
    assert views and views[0].data[WIDGET_MIME]["model_id"]
    # nba.agreement finds the same four texts in disagreement.
    agreement = _text(_cell(nb, "agreement = nba.agreement("))
    assert "texts with a disagreement: 4 of the 12" in agreement
    with nba.Database(workdir / "review.duckdb") as db:
        rows = db.dataset("ner_reviewed").answers()
    assert len(rows) == 10
    assert all(r["_view_id"] == "ner_manual" and r["answer"] == "accept" for r in rows)
    assert all(r["_annotator_id"] == "carol" and "review" in r["meta"] for r in rows)
