"""JupyterLab + Chromium harness shared by the e2e tests and benchmarks/widget_latency.py.

Facts this relies on are in shared/notes/widget-testing.md: ``--allow-root`` (CI runs as root),
``--expose-app-in-browser`` (``window.jupyterapp``), a kernelspec in the notebook metadata (no
"Select Kernel" dialog), the news toast switched off, Chromium's networking flags, and HOME plus
every Jupyter directory in a temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("NBANNOTATE_CHROMIUM", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running JupyterLab server with a temporary root directory."""

    APP = "lab"  # the ``jupyter`` subcommand
    APP_ARGS = ["--LabApp.extension_manager=readonly"]
    URL = "/lab/tree/{name}?reset&token={token}"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.root = tmp / "root"
        self.root.mkdir()
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.env = lab_env(tmp)
        cmd = [
            sys.executable,
            "-m",
            "jupyter",
            self.APP,
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--expose-app-in-browser",
            *self.APP_ARGS,
            "--ServerApp.log_level=WARN",
        ]
        self.log = open(tmp / "lab.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.root
        )
        self._wait_for_port()

    def _wait_for_port(self, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter {self.APP} exited at start:\n{self.logs()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"jupyter {self.APP} did not listen within {timeout}s:\n{self.logs()}")

    def logs(self) -> str:
        self.log.flush()
        return (self.tmp / "lab.log").read_text(errors="replace")[-5000:]

    def url(self, notebook: str) -> str:
        return f"http://127.0.0.1:{self.port}" + self.URL.format(name=notebook, token=self.token)

    def write_notebook(self, name: str, cells: list[str]) -> Path:
        nb = {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"cell-{i}",
                    "metadata": {},
                    "outputs": [],
                    "source": src,
                }
                for i, src in enumerate(cells)
            ],
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        path = self.root / name
        path.write_text(json.dumps(nb), encoding="utf8")
        return path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.log.close()


class Notebook7(Lab):
    """A running Jupyter Notebook 7 server (the ``notebook`` package): one document per tab,
    ``/notebooks/NAME.ipynb``. Its page exposes ``window.jupyterapp`` like Lab's, with the
    notebook panel as ``shell.currentWidget``, so :class:`Notebook` drives both."""

    APP = "notebook"
    APP_ARGS: list[str] = []
    URL = "/notebooks/{name}?token={token}"


class Marimo(Lab):
    """A running ``marimo run`` server (headless, no token) for one notebook file. marimo
    shows an anywidget in a shadow root (``<marimo-anywidget>``); its kernel runs in the
    server's process."""

    def __init__(self, tmp: Path, notebook: Path) -> None:
        self.tmp = tmp
        self.port = _free_port()
        self.env = lab_env(tmp)
        self.env["MARIMO_SKIP_UPDATE_CHECK"] = "1"
        self.env["XDG_CONFIG_HOME"] = str(Path(self.env["HOME"]) / "config")
        cmd = [
            sys.executable,
            "-m",
            "marimo",
            "run",
            str(notebook),
            "--headless",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-token",
        ]
        self.log = open(tmp / "marimo.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, cwd=notebook.parent
        )
        self._wait_for_port()

    APP = "marimo run"

    def logs(self) -> str:
        self.log.flush()
        return (self.tmp / "marimo.log").read_text(errors="replace")[-5000:]

    def url(self, query: str = "") -> str:  # type: ignore[override]
        return f"http://127.0.0.1:{self.port}/{query}"


def lab_env(tmp: Path) -> dict[str, str]:
    """Environment for Lab, its kernels and Chromium: everything they write stays under tmp."""
    home = tmp / "home"
    env = dict(os.environ)
    dirs = {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "IPYTHONDIR": home / "ipython",
        "JUPYTERLAB_SETTINGS_DIR": home / "settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "workspaces",
    }
    for key, path in dirs.items():
        path.mkdir(parents=True, exist_ok=True)
        env[key] = str(path)
    # No news or update toasts over the notebook.
    settings = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    # The kernel imports nbannotate from this checkout, installed or not.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("ANYWIDGET_HMR", None)
    return env


class Notebook:
    """A notebook opened in Lab, with helpers to run code on its kernel from the page."""

    def __init__(self, lab: Lab, page: Any, name: str) -> None:
        self.lab, self.page, self.name = lab, page, name
        self.page_errors: list[str] = []
        self.page_error_stacks: list[str] = []  # same order as page_errors
        self.dialogs: list[str] = []
        page.on("pageerror", self._on_page_error)
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def _on_page_error(self, error: Any) -> None:
        self.page_errors.append(str(error))
        self.page_error_stacks.append(getattr(error, "stack", None) or "")

    def open(self) -> None:
        self.page.goto(self.lab.url(self.name))
        self.wait_idle()

    def wait_idle(self, timeout: float = 60_000) -> None:
        self.page.wait_for_function(
            """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                 const k = w && w.sessionContext && w.sessionContext.session
                           && w.sessionContext.session.kernel;
                 return k && k.status === 'idle'; }""",
            timeout=timeout,
        )

    def run_all(self) -> None:
        self.page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

    def cell_count(self) -> int:
        return self.page.evaluate(
            "window.jupyterapp.shell.currentWidget.content.model.cells.length"
        )

    def execute(self, code: str, timeout: float = 30_000) -> str:
        """Run code on the notebook's kernel (no cell is added); returns its stdout."""
        return self.page.evaluate(
            """async ([code, timeout]) => {
                 const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
                 const future = kernel.requestExecute({code, store_history: false});
                 let out = '', err = '';
                 future.onIOPub = (msg) => {
                   if (msg.header.msg_type === 'stream') out += msg.content.text;
                   if (msg.header.msg_type === 'error')
                     err += msg.content.ename + ': ' + msg.content.evalue;
                 };
                 const timer = new Promise((_, rej) =>
                   setTimeout(() => rej(new Error('kernel execution timed out')), timeout));
                 await Promise.race([future.done, timer]);
                 if (err) throw new Error(err);
                 return out;
               }""",
            [code, timeout],
        )

    def kernel_json(self, expr: str) -> Any:
        """The value of a JSON-serialisable expression on the notebook's kernel."""
        return json.loads(self.execute(f"import json; print(json.dumps({expr}))"))

    def wait_kernel(self, expr: str, want: Any, timeout: float = 20.0) -> Any:
        """Poll an expression on the kernel until it equals ``want`` (answers travel async)."""
        end = time.monotonic() + timeout
        got = None
        while time.monotonic() < end:
            got = self.kernel_json(expr)
            if got == want:
                return got
            time.sleep(0.1)
        raise AssertionError(f"kernel: {expr} = {got!r}, wanted {want!r}")

    def drag(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        """Press the left mouse button at ``start``, move to ``end`` in steps, release."""
        self.page.mouse.move(*start)
        self.page.mouse.down()
        self.page.mouse.move(*end, steps=6)
        self.page.mouse.up()

    def shutdown(self) -> None:
        try:
            self.page.evaluate("window.jupyterapp.serviceManager.sessions.shutdownAll()")
        except Exception:  # page already gone: the server-side cleanup below still runs
            pass


def _rgba(color: str) -> tuple[float, float, float, float]:
    """A computed colour ("rgb(r, g, b)" or "rgba(r, g, b, a)") as r, g, b in 0-255 and a."""
    parts = [float(x) for x in re.findall(r"[\d.]+", color)]
    if len(parts) < 3:
        raise ValueError(f"not an rgb() colour: {color!r}")
    return parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0


def luminance(color: str) -> float:
    """WCAG relative luminance of an opaque computed colour."""
    r, g, b, _ = _rgba(color)
    lin = [
        c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        for c in (r / 255, g / 255, b / 255)
    ]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    """WCAG contrast ratio of colour ``fg`` drawn on the opaque ``bg`` (a translucent ``fg``,
    such as JupyterLab's secondary text colours, is blended over ``bg`` first)."""
    r, g, b, a = _rgba(fg)
    br, bgg, bb, _ = _rgba(bg)
    shown = f"rgb({r * a + br * (1 - a)}, {g * a + bgg * (1 - a)}, {b * a + bb * (1 - a)})"
    hi, lo = sorted((luminance(shown), luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def launch_chromium(playwright: Any) -> Any:
    """Debian's Chromium through playwright (playwright's own browser download fails here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
