"""The output directory: checked before training, built in a hidden sibling folder and swapped
into place at the end (a kill at any point leaves the previous output whole), leftovers of
killed runs cleaned; meta.json and the spaCy callbacks file written into it."""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import socket
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import TrainingError
from . import callbacks
from .config import BINARY_KEY

MARKER = "nbannotate_train.json"
CODE_FILE = "nbannotate_spacy.py"
TRAINING_CFG = "training.cfg"


def _output_path(output_dir: Any) -> Path:
    if not isinstance(output_dir, (str, os.PathLike)) or not os.fspath(output_dir):
        raise TrainingError(
            f"output_dir must be a directory path, e.g. 'models/gadgets', got {output_dir!r}."
        )
    return Path(output_dir).expanduser().resolve()


def _check_output(out: Path, base_dir: Path | None, overwrite: bool) -> None:
    """Refuse an output_dir that could write into (or replace) the base model, or clobber."""
    if base_dir is not None:
        bdir = base_dir
        if out == bdir or bdir in out.parents:
            raise TrainingError(
                f"output_dir {str(out)!r} is the base model's directory or inside it "
                f"({str(bdir)!r}); the base model is never written. Choose another directory, "
                f"e.g. 'models/<name>'."
            )
        if out in bdir.parents:
            raise TrainingError(
                f"output_dir {str(out)!r} contains the base model ({str(bdir)!r}); writing or "
                f"replacing it could destroy the base model. Choose another directory."
            )
    if out.exists() and not out.is_dir():
        raise TrainingError(f"output_dir {str(out)!r} is a file. Choose a directory path.")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise TrainingError(
                f"output_dir {str(out)!r} is not empty. Pass overwrite=True to replace a "
                f"previous train() output, or choose a new directory."
            )
        if not (out / MARKER).exists():
            raise TrainingError(
                f"output_dir {str(out)!r} is not empty and was not written by train(): "
                f"overwrite=True only replaces a previous train() output (it has {MARKER}). "
                f"Empty it yourself or choose a new directory."
            )


_HIDDEN = re.compile(
    r"^\.(?P<name>.+)\.nbannotate-(?P<kind>stage|old)-(?P<pid>\d+)@"
    r"(?P<host>.*)-[a-z0-9_]+$"
)
PAUSE_ENV = "NBANNOTATE_TEST_SWAP_PAUSE"


def _hidden_name(out: Path, kind: str) -> str:
    """The prefix of a hidden sibling of ``out`` that names its owner process, so a later run
    can tell a killed run's folder from a live one."""
    return f".{out.name}.nbannotate-{kind}-{os.getpid()}@{socket.gethostname()}-"


def _alive(pid: int, host: str) -> bool:
    if host != socket.gethostname():
        return True  # another machine's run (a shared folder): not ours to judge
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _swap_into_place(stage: Path, out: Path, overwrite: bool) -> None:
    """Move the finished output into ``out``. A previous output is renamed aside first and
    removed last: a kill at any point leaves it whole (restored by the next train() call)."""
    aside = None
    if out.exists():
        if overwrite and any(out.iterdir()):
            aside = out.parent / (_hidden_name(out, "old") + os.urandom(4).hex())
            out.rename(aside)
        else:
            out.rmdir()
    pause = os.environ.get(PAUSE_ENV)
    if pause:  # tests: a real process killed between the two renames
        Path(pause).write_text(str(os.getpid()), encoding="utf8")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            time.sleep(0.5)
    stage.rename(out)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def _clean_leftovers(out: Path) -> None:
    """Folders left beside ``out`` by train() runs that were killed: a staging folder is
    removed; a previous output renamed aside is put back when ``out`` is missing (the kill came
    between the renames of a swap), else removed."""
    if not out.parent.is_dir():
        return
    for path in sorted(out.parent.glob(glob.escape(f".{out.name}.nbannotate-") + "*")):
        m = _HIDDEN.match(path.name)
        if m is None or m["name"] != out.name or not path.is_dir():
            continue
        if _alive(int(m["pid"]), m["host"]):
            continue
        if m["kind"] == "old" and not out.exists():
            path.rename(out)
            warnings.warn(
                f"A train() run into {str(out)!r} was killed while replacing its "
                f"output: the previous output was put back.",
                stacklevel=3,
            )
        else:
            shutil.rmtree(path, ignore_errors=True)


def _fix_meta(path: Path, best: Mapping[str, Any], meta: Mapping[str, str]) -> None:
    """meta.json as the result reports it: the saved evaluation's scores (None where there is
    no entity F, not spaCy's 0.0), and the pipeline's name and version when given."""
    data = json.loads(path.read_text(encoding="utf8"))
    perf = data.setdefault("performance", {})
    for key in ("ents_p", "ents_r", "ents_f"):
        if key in perf:
            perf[key] = best[key]
    if BINARY_KEY in perf:
        perf[BINARY_KEY] = best["binary"]["accuracy"] if best["binary"] else None
    data.update(meta)
    path.write_text(json.dumps(data, indent=2), encoding="utf8")


def _write_code_file(directory: Path) -> None:
    """The spaCy callbacks the config names, for ``python -m spacy train --code``: a copy of
    the module nbannotate registers them from (it imports nothing from nbannotate)."""
    shutil.copyfile(Path(callbacks.__file__), directory / CODE_FILE)
