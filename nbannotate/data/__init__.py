"""The example data shipped with nbannotate: texts and match patterns for the label PRODUCT.

``gadgets.jsonl`` holds 360 short comments about consumer electronics (written for
nbannotate, MIT like the project), ``product_patterns.jsonl`` 31 Prodigy-style patterns that
cover only some of the products, so that the model in the loop has something to learn.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

EXAMPLE_FILES = ("gadgets.jsonl", "product_patterns.jsonl")


def example_data(dest: str | os.PathLike[str] = ".", *, overwrite: bool = False) -> dict[str, Path]:
    """Write the example data files into the folder ``dest`` (created if missing).

    Writes ``gadgets.jsonl`` (360 texts, ``{"text", "meta": {"id"}}`` a line) and
    ``product_patterns.jsonl`` (patterns for the label ``PRODUCT``), the files the README and
    the quickstart notebook use, and returns their paths by name::

        paths = nba.example_data()          # ./gadgets.jsonl, ./product_patterns.jsonl
        nba.teach("gadgets", paths["gadgets.jsonl"], model="blank:en", labels=["PRODUCT"],
                  patterns=paths["product_patterns.jsonl"])

    A file that is already there with the same content is left as it is; one with other
    content is refused (``FileExistsError``) unless ``overwrite=True``, so a file of yours with
    the same name is never replaced by accident.
    """
    folder = Path(dest)
    files = {
        folder / name: resources.files(__name__).joinpath(name).read_bytes()
        for name in EXAMPLE_FILES
    }
    for path, content in files.items():  # all checked before any is written
        if path.exists() and not overwrite and path.read_bytes() != content:
            raise FileExistsError(
                f"{path} exists and is not nbannotate's example file {path.name}: pass another "
                f"folder (nba.example_data('examples')), or overwrite=True to replace it."
            )
    folder.mkdir(parents=True, exist_ok=True)
    for path, content in files.items():
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
    return {path.name: path for path in files}
