"""pytest fixtures for the end-to-end tests: real JupyterLab, real kernel, real Chromium.

One Lab server and one browser are shared by the whole pytest session (they take ~4 s to start);
each test gets its own browser context, writes its own notebook into the server's temporary root
and shuts its kernels down afterwards (the machine has two cores). See harness.py.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from harness import CHROMIUM, Lab, Notebook, launch_chromium  # noqa: E402


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium` "
                    "(or set NBANNOTATE_CHROMIUM)")
    server = Lab(tmp_path_factory.mktemp("lab"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(lab: Lab) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Chromium writes under $HOME even with a temporary profile.
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = lab.env["HOME"]
    try:
        with sync_playwright() as pw:
            b = launch_chromium(pw)
            yield b
            b.close()
    finally:
        if old_home is not None:
            os.environ["HOME"] = old_home


@pytest.fixture
def notebook(lab: Lab, browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Factory: notebook(cells) writes a notebook, opens it and runs all cells."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    opened: list[Notebook] = []

    def make(cells: list[str], run: bool = True) -> Notebook:
        name = f"{request.node.name}.ipynb".replace("[", "_").replace("]", "_")
        lab.write_notebook(name, cells)
        nb = Notebook(lab, page, name)
        nb.open()
        if run:
            nb.run_all()
        opened.append(nb)
        return nb

    yield make
    for nb in opened:
        nb.shutdown()
    context.close()
