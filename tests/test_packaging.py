"""What a pip user gets besides the calls: help() text on every public name, the example data
the README uses, the typing marker and the license."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

import nbannotate as nba
from nbannotate.widget import AnnotationWidget

ROOT = Path(__file__).resolve().parents[1]
# The objects a user gets back from the public calls, beside those nbannotate exports.
RETURNED = [AnnotationWidget]


def _public_api() -> list[tuple[str, object]]:
    """(name, object) for every public function, class and method reachable from nbannotate:
    the exported names, and the public methods and properties that nbannotate's own classes
    define or inherit from nbannotate (a session, a Database, a Dataset, a result...)."""
    found: list[tuple[str, object]] = []
    tops = [(name, getattr(nba, name)) for name in nba.__all__]
    tops += [(cls.__name__, cls) for cls in RETURNED]
    for name, obj in tops:
        if not callable(obj):
            continue
        found.append((name, obj))
        if not inspect.isclass(obj):
            continue
        for attr in dir(obj):
            if attr.startswith("_"):
                continue
            owner = next((c for c in obj.__mro__ if attr in vars(c)), None)
            if owner is None or not owner.__module__.startswith("nbannotate"):
                continue  # a method of ipywidgets, traitlets, Exception...
            member = inspect.getattr_static(obj, attr)
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if inspect.isfunction(member) or isinstance(member, property):
                found.append((f"{name}.{attr}", member))
    return found


def test_every_public_function_class_and_method_has_help_text() -> None:
    api = _public_api()
    names = {name for name, _ in api}
    # the walk reaches the objects users work with
    for expected in (
        "teach",
        "example_data",
        "Database.dataset",
        "Dataset.to_pandas",
        "Dataset.import_jsonl",
        "TeachSession.answer",
        "TeachSession.next_task",
        "ManualSession.answer",
        "TrainResult.best",
        "AnnotationWidget",
    ):
        assert expected in names, expected
    missing = sorted(name for name, obj in api if not (inspect.getdoc(obj) or "").strip())
    assert not missing, f"no docstring (help() shows nothing) for: {', '.join(missing)}"


def test_example_data_writes_the_readme_files_and_keeps_a_users_own(tmp_path) -> None:
    paths = nba.example_data(tmp_path / "data")
    assert set(paths) == {"gadgets.jsonl", "product_patterns.jsonl"}
    rows = [json.loads(line) for line in paths["gadgets.jsonl"].read_text().splitlines()]
    assert len(rows) == 360 and rows[0]["meta"] == {"id": 1}
    assert all(
        json.loads(line)["label"] == "PRODUCT"
        for line in paths["product_patterns.jsonl"].read_text().splitlines()
    )
    assert nba.example_data(tmp_path / "data") == paths  # again: the same files, left as they are
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "product_patterns.jsonl").write_text('{"text": "my own data"}\n')
    with pytest.raises(FileExistsError, match=r"product_patterns.jsonl exists .* overwrite=True"):
        nba.example_data(mine)
    assert (mine / "product_patterns.jsonl").read_text() == '{"text": "my own data"}\n'
    assert not (mine / "gadgets.jsonl").exists()  # nothing written when one file is refused
    nba.example_data(mine, overwrite=True)
    restored = (mine / "product_patterns.jsonl").read_bytes()
    assert restored == paths["product_patterns.jsonl"].read_bytes()


def test_the_package_is_typed_and_licensed() -> None:
    assert (Path(nba.__file__).parent / "py.typed").is_file()
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "2026 nbannotate contributors" in text
