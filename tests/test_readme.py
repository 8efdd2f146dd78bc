"""The documentation's Python examples run as written, in order, against the package as pip
installs it.

The package is built into a wheel and installed into a folder of its own; every ```python block
of README.md and of the docs pages that carry examples (PAGES, in that order: each page goes on
from the one before, as the README's install section says) then runs, in order, in one
namespace (as cells of one notebook), in a fresh
folder outside the repository, in a subprocess that imports nbannotate from that folder: so
the examples find no file of the repository by accident, and a file missing from the wheel
(the example data, the widget's bundle) fails them. Between blocks, the driver does what the
documentation leaves to the annotator in the widget (answering some tasks).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# The pages whose examples run, in this order, in one namespace: the widget's teach session
# is the one manual.md's correct() copies the model of and store.md exports the answers of.
PAGES = [
    "README.md",
    "docs/widget.md",
    "docs/teach.md",
    "docs/manual.md",
    "docs/store.md",
    "docs/training.md",
    "docs/agreement.md",
    "docs/review.md",
]


def python_blocks(page: str) -> list[str]:
    """Every ```python block of one page, in order."""
    return re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(), flags=re.S)


def all_python_blocks() -> list[tuple[str, str]]:
    """(name, code) of every ```python block of PAGES, in order."""
    return [
        (f"{page} python block {n}", code)
        for page in PAGES
        for n, code in enumerate(python_blocks(page), start=1)
    ]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package built into a wheel, as `pip install .` builds it."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (path,) = out.glob("nbannotate-*.whl")
    return path


@pytest.fixture(scope="module")
def site(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the package installed from the wheel (its dependencies are this
    venv's)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    return target


def test_wheel_ships_the_example_data_types_license_and_urls(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "nbannotate/py.typed",
        "nbannotate/data/gadgets.jsonl",
        "nbannotate/data/product_patterns.jsonl",
        "nbannotate/static/widget.js",
        "nbannotate/static/widget.css",
    ):
        assert name in names, f"{name} is not in the wheel"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
    meta = zipfile.ZipFile(wheel).read(meta_name).decode()
    assert "License :: OSI Approved :: MIT License" in meta
    assert "Typing :: Typed" in meta
    for url in ("Homepage", "Documentation", "Issues"):
        assert re.search(rf"^Project-URL: {url}, https://", meta, flags=re.M), url


DRIVER = r'''
import ast, json, sys
from pathlib import Path

import nbannotate as nba

blocks = json.loads(Path(sys.argv[1]).read_text())
scope = {}
shown = []  # the value of each block's last expression, as a notebook shows it


def run(name, code):
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, "exec"), scope)
    value = None
    if last is not None:
        value = eval(compile(ast.Expression(last.value), name, "eval"), scope)
    shown.append(value)


def annotate(session, n, decide):
    """What the annotator does in the widget: answer n tasks."""
    for _ in range(n):
        task = session.next_task(timeout=120)
        if task is None:
            break
        session.answer(task, decide(task))


def trusting_patterns(task):  # accept pattern matches, reject the rest, as in the notebook
    spans = task["spans"]
    return "accept" if len(spans) == 1 and spans[0]["source"] == "pattern" else "reject"


def capitalised(task):  # a second annotator: accept a span that starts with a capital letter
    if task["meta"].get("whole") or len(task["spans"]) != 1:
        return trusting_patterns(task)
    return "accept" if task["text"][task["spans"][0]["start"]].isupper() else "reject"


def annotate_two(alice, bob, n):
    """alice accepts the pre-highlighting; bob drops its first span on every 4th text."""
    for i in range(n):
        task = alice.next_task(timeout=120)
        alice.answer(task, "accept")
        task = bob.next_task(timeout=120)
        bob.answer(task, "accept", spans=task["spans"][1:] if i % 4 == 0 else task["spans"])


summary = {"nbannotate": nba.__file__, "blocks": len(blocks)}
for i, (name, code) in enumerate(blocks):
    if 'output_dir="models/gadgets"' in code:
        # Before training: complete annotations too (pattern pre-highlights accepted, as from
        # the manual widget), so that the trained model is confident on some texts and the
        # silver example after it keeps some.
        more = nba.manual("gadgets", "gadgets.jsonl", labels=["PRODUCT"],
                          patterns="product_patterns.jsonl", db="gadgets.duckdb")
        annotate(more, 200, lambda task: "accept")
        more.stop()
    for slow, quick in SPEEDUPS:
        code = code.replace(slow, quick)
    run(name, code)
    if "session.close()" in code and "quickstart_rows" not in summary:  # not Teams' block
        summary["quickstart_rows"] = len(shown[-1])
    if i > 0 and "session = nba.teach(" in code:  # the widget's (the first is driven by code)
        annotate(scope["session"], 150, trusting_patterns)
    if "alice = nba.manual(" in code:  # not Teams' block, which names alice too
        annotate_two(scope["alice"], scope["bob"], 20)
    if 'annotator="ben"' in code:
        annotate(scope["ben"], 60, capitalised)
    if "nba.agreement(" in code:
        summary.setdefault("agreement_gold_texts", int(scope["result"].pairs["gold_texts"].sum()))
        if "decisions" in scope:
            summary["agreement_questions"] = int(scope["decisions"].pairs["questions"].sum())
    if "gold = nba.manual(" in code:
        annotate(scope["gold"], 30, lambda task: "accept")
        annotate(scope["fix"], 3, lambda task: "accept")
    if "import_jsonl(" in code:
        summary["copy_rows"] = len(scope["db"].dataset("copy"))
        summary["dataset_total"] = scope["ds"].counts()["total"]
    if "spacy.load(" in code:
        summary["trained_labels"] = list(scope["nlp"].get_pipe("ner").labels)
    if "nba.silver(" in code:
        summary["silver_kept"] = scope["stats"]["kept"]
        summary["silver_rows"] = len(nba.Database("gadgets.duckdb").dataset("gadgets-silver"))
    if "train_curve(" in code:
        summary["curve"] = type(scope["curve"]).__name__
    if "review.pick(" in code:
        summary["reviewed_rows"] = len(shown[-1])
        summary["review_auto"] = scope["review"].summary["auto_accepted"]
        summary["review_conflicts"] = scope["review"].summary["conflicts"]
    if "every.summary" in code:
        summary["reviewed_all"] = shown[-1]["to_review"]
        summary["review_texts"] = shown[-1]["texts"]
for name in ("session", "gold", "fix", "alice", "bob", "ben"):
    scope[name].close()
nba.store.close_all()
print("SUMMARY " + json.dumps(summary))
'''

# Fewer epochs where the documentation trains only to show the call: the same calls, quicker.
SPEEDUPS = [
    (
        'nba.train("gadgets", "out/", eval_dataset="gadgets_eval", db="gadgets.duckdb")',
        'nba.train("gadgets", "out/", eval_dataset="gadgets_eval", db="gadgets.duckdb", epochs=2)',
    ),
    (
        'base_model="blank:en", db="gadgets.duckdb")\n',
        'base_model="blank:en", db="gadgets.duckdb", epochs=2)\n',
    ),
    (
        'curve = nba.train_curve("gadgets", base_model="blank:en", db="gadgets.duckdb")',
        'curve = nba.train_curve("gadgets", base_model="blank:en", db="gadgets.duckdb", epochs=2)',
    ),
]


@pytest.mark.slow
def test_readme_python_blocks_run_in_order_from_the_installed_wheel(
    site: Path, tmp_path: Path
) -> None:
    readme = python_blocks("README.md")
    assert readme and "nba.teach(" in readme[0], "the README's first example is the quickstart"
    for page in PAGES[1:]:
        if page != "docs/teach.md":  # the loop's page explains; its calls are in the others
            assert python_blocks(page), f"{page} has no python example"
    blocks = all_python_blocks()
    assert len(blocks) >= 9
    assert not any("notebooks/data" in code for _, code in blocks), "the docs use the repo's files"
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    work = tmp_path / "work"
    work.mkdir()
    driver = f"SPEEDUPS = {SPEEDUPS!r}\n" + DRIVER
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NBANNOTATE_DB")}
    env["PYTHONPATH"] = str(site)  # before this venv's site-packages (and any editable install)
    done = subprocess.run(
        [sys.executable, "-c", driver, str(tmp_path / "blocks.json")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-6000:]
    (line,) = [ln for ln in done.stdout.splitlines() if ln.startswith("SUMMARY ")]
    summary = json.loads(line.removeprefix("SUMMARY "))
    assert Path(summary["nbannotate"]).is_relative_to(site), summary["nbannotate"]
    assert summary["blocks"] == len(blocks)
    # Quickstart: one answer stored, changed to reject, then undone: nothing left.
    assert summary["quickstart_rows"] == 0
    # The store: the 40 answers from the widget, exported and imported into "copy".
    assert summary["copy_rows"] == summary["dataset_total"] >= 40
    assert "PRODUCT" in summary["trained_labels"]
    assert summary["silver_kept"] == summary["silver_rows"] > 0
    assert summary["curve"] == "CurveResult"
    # Agreement: the 20 texts both annotated; ben and the widget's session share questions.
    assert summary["agreement_gold_texts"] == 20
    assert summary["agreement_questions"] > 0
    # Review of alice's and bob's: the agreed texts stored at once, one conflict picked; then
    # every text offered.
    assert summary["review_conflicts"] >= 1 and summary["review_auto"] >= 1
    assert summary["reviewed_rows"] == summary["review_auto"] + 1
    assert summary["reviewed_all"] == summary["review_texts"] == 20
    assert (work / "gadgets.jsonl").is_file() and (work / "models" / "gadgets").is_dir()
    assert (work / "models" / "gadgets-silver" / "config.cfg").is_file()
