"""pytest fixtures for the end-to-end tests: real JupyterLab / Notebook 7, real kernel, real
Chromium.

One Lab server, one Notebook 7 server and one browser are shared by the whole pytest session
(each takes a few seconds to start, and only when a test asks for it); each test gets its own
browser context, writes its own notebook into the server's temporary root and shuts its kernels
down afterwards (the machine has two cores). See harness.py.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from harness import CHROMIUM, Lab, Notebook, Notebook7, launch_chromium  # noqa: E402


def _need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium` "
            "(or set NBANNOTATE_CHROMIUM)"
        )


def _serve(server_class: Any, directory: Path) -> Iterator[Any]:
    """A Jupyter server for the test session, stopped at its end."""
    _need_chromium()
    server = server_class(directory)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    yield from _serve(Lab, tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="session")
def notebook7_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Notebook7]:
    """A Jupyter Notebook 7 server (``jupyter notebook``), shared by the session."""
    yield from _serve(Notebook7, tmp_path_factory.mktemp("notebook7"))


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    _need_chromium()
    # Chromium writes under $HOME even with a temporary profile.
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(tmp_path_factory.mktemp("chromium-home"))
    try:
        with sync_playwright() as pw:
            b = launch_chromium(pw)
            yield b
            b.close()
    finally:
        if old_home is not None:
            os.environ["HOME"] = old_home


def _notebook_factory(
    server: Lab, browser: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Notebook]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    opened: list[Notebook] = []

    def make(cells: list[str], run: bool = True) -> Notebook:
        name = f"{request.node.name}.ipynb".replace("[", "_").replace("]", "_")
        server.write_notebook(name, cells)
        nb = Notebook(server, page, name)
        nb.open()
        if run:
            nb.run_all()
        opened.append(nb)
        return nb

    yield make
    for nb in opened:
        nb.shutdown()
    context.close()


@pytest.fixture
def notebook(lab: Lab, browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Factory: notebook(cells) writes a notebook, opens it in Lab and runs all cells."""
    yield from _notebook_factory(lab, browser, request)


@pytest.fixture
def notebook7(
    notebook7_server: Notebook7, browser: Any, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """Factory: notebook7(cells) writes a notebook, opens it in Notebook 7 and runs all cells."""
    yield from _notebook_factory(notebook7_server, browser, request)
