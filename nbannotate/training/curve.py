"""train_curve(): train on growing fractions of the data, to see whether more annotation helps."""

from __future__ import annotations

import html
import io
import math
import random
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import TrainingError
from ..models import ModelLike
from ..store import Database
from .arguments import _check_fractions, _check_numbers, _percent
from .config import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BINARY_WEIGHT,
    DEFAULT_DROPOUT,
    DEFAULT_EPOCHS,
    DEFAULT_MAX_STEPS,
    DEFAULT_PATIENCE,
)
from .corpus import _prepare, _Prepared
from .loop import _run
from .output import _check_output, _clean_leftovers, _output_path
from .result import TrainResult, _fmt, _text_table


@dataclass
class CurveResult:
    """What ``train_curve()`` returns: one row per training fraction, and the plot.

    ``rows``: ``{"fraction", "train_texts", "ents_p", "ents_r", "ents_f", "accuracy",
    "seconds"}`` per fraction; ``results``: the TrainResult of each run; ``figure``: a
    matplotlib Figure (None when matplotlib is not installed or plot=False).
    """

    rows: list[dict[str, Any]]
    results: list[TrainResult]
    figure: Any = None
    metric: str = "ents_f"

    def table(self) -> str:
        """The scores per fraction of the data as a text table, and the verdict below it."""
        head = ["%", "texts", "P", "R", "F", "accuracy", "change"]
        body, prev = [], None
        for r in self.rows:
            value = r[self.metric]
            change = "" if prev is None or value is None else f"{value - prev:+.3f}"
            prev = value if value is not None else prev
            body.append(
                [
                    _percent(r["fraction"]),
                    str(r["train_texts"]),
                    _fmt(r["ents_p"]),
                    _fmt(r["ents_r"]),
                    _fmt(r["ents_f"]),
                    _fmt(r["accuracy"]),
                    change,
                ]
            )
        return _text_table(head, body) + "\n\n" + self.verdict()

    def verdict(self) -> str:
        """Whether the score still rose between the last two fractions: more annotation would
        likely help."""
        values = [r[self.metric] for r in self.rows if r[self.metric] is not None]
        if len(values) < 2:
            return "Not enough runs to compare."
        last = values[-1] - values[-2]
        if last > 0.005:
            return (
                f"{self.metric} still rose in the last step ({last:+.3f}): more annotations "
                f"will likely improve the model."
            )
        return (
            f"{self.metric} changed {last:+.3f} in the last step: more annotations of the "
            f"same kind may not help much."
        )

    def plot(self) -> Any:
        """A matplotlib Figure of the scores against the training fraction."""
        try:
            from matplotlib.figure import Figure
        except ImportError as err:
            raise TrainingError(
                "train_curve() plots with matplotlib, which is not installed: "
                "pip install matplotlib (the scores are in .rows and the printed table)."
            ) from err
        fig = Figure(figsize=(5, 3.2))
        ax = fig.add_subplot()
        xs = [r["fraction"] * 100 for r in self.rows]
        for key, name in (
            ("ents_f", "F"),
            ("ents_p", "P"),
            ("ents_r", "R"),
            ("accuracy", "binary accuracy"),
        ):
            ys = [r[key] for r in self.rows]
            if any(y is not None for y in ys):
                ax.plot(xs, [math.nan if y is None else y for y in ys], marker="o", label=name)
        ax.set_xlabel("% of training data")
        ax.set_ylabel("score")
        ax.set_ylim(0, 1)
        ax.set_xticks(xs)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
        fig.tight_layout()
        return fig

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"CurveResult({len(self.rows)} runs)\n{self.table()}"

    def _repr_html_(self) -> str:
        import base64

        parts = ["<pre>" + html.escape(self.table()) + "</pre>"]
        if self.figure is not None:
            buf = io.BytesIO()
            self.figure.savefig(buf, format="png", dpi=90)
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            parts.append(f"<img alt='train curve' src='data:image/png;base64,{data}'/>")
        return "<div class='nba-train-curve'>" + "".join(parts) + "</div>"


def train_curve(
    datasets: str | Sequence[str],
    base_model: ModelLike = "blank:en",
    *,
    fractions: Sequence[float] = (0.25, 0.5, 0.75, 1.0),
    output_dir: str | Path | None = None,
    eval_dataset: str | Sequence[str] | None = None,
    eval_split: float = 0.2,
    labels: Iterable[str] | str | None = None,
    epochs: int | None = DEFAULT_EPOCHS,
    max_steps: int = DEFAULT_MAX_STEPS,
    eval_every: int | None = None,
    patience: int = DEFAULT_PATIENCE,
    dropout: float = DEFAULT_DROPOUT,
    batch_size: int = DEFAULT_BATCH_SIZE,
    seed: int = 0,
    binary_weight: int = DEFAULT_BINARY_WEIGHT,
    db: Database | str | Path | None = None,
    overwrite: bool = False,
    progress: bool = True,
    plot: bool = True,
) -> CurveResult:
    """Train on growing fractions of the training data and report the best scores of each.

    The eval set is the same for every run (as in ``train()``); the training texts are shuffled
    once (seeded) and the first 25/50/75/100% used. Arguments as in ``train()``. The pipelines
    go to ``output_dir/<percent>`` (``25``, ``50``, ..., ``12.5`` for 0.125) when output_dir
    is given, else to a temporary directory that is deleted; fractions that would share a
    directory are refused. ``plot``: build ``result.figure`` with matplotlib; when matplotlib
    is missing a warning says so and the figure is None (the scores are still returned and
    printed).
    """
    args = _check_numbers(
        epochs,
        max_steps,
        eval_every,
        dropout,
        batch_size,
        patience,
        seed,
        binary_weight,
        eval_split,
        eval_dataset is None,
    )
    fracs = _check_fractions(fractions)
    root = _output_path(output_dir) if output_dir is not None else None
    prep = _prepare(
        datasets, base_model, eval_dataset, args["eval_split"], labels, args["seed"], db
    )
    order = list(prep.train_examples)
    random.Random(args["seed"]).shuffle(order)
    tmp = None
    if root is None:
        tmp = tempfile.TemporaryDirectory(prefix="nbannotate-curve-")
        root = Path(tmp.name)
    for frac in fracs:  # refuse a bad output_dir before the first (slow) run
        _clean_leftovers(root / _percent(frac))
        _check_output(root / _percent(frac), prep.base.directory, overwrite)
    try:
        rows, results = _curve_runs(prep, order, fracs, root, args, overwrite, progress)
    finally:
        if tmp is not None:
            tmp.cleanup()
    metric = "ents_f" if prep.eval_kind != "binary" else "accuracy"
    curve = CurveResult(rows, results, None, metric)
    if plot:
        try:
            curve.figure = curve.plot()
        except TrainingError as err:
            warnings.warn(str(err), stacklevel=2)
    return curve


def _curve_runs(
    prep: _Prepared,
    order: list[Any],
    fracs: list[float],
    root: Path,
    args: dict[str, Any],
    overwrite: bool,
    progress: bool,
) -> tuple[list[dict[str, Any]], list[TrainResult]]:
    """One run per fraction on the first texts of ``order``, into ``root/<percent>``."""
    rows, results = [], []
    for frac in fracs:
        n = max(1, round(len(order) * frac))
        subset = order[:n]
        if not any(eg.reference.ents for eg in subset):
            subset = order[: n - 1] + [next(eg for eg in order if eg.reference.ents)]
        out = root / _percent(frac)
        res = _run(
            prep,
            subset,
            out,
            overwrite=overwrite,
            schedule=args["schedule"],
            dropout=args["dropout"],
            binary_weight=args["binary_weight"],
            batch_size=args["batch_size"],
            seed=args["seed"],
            progress=progress,
            meta={},
            desc=f"{_percent(frac)}%",
        )
        b = res.best
        rows.append(
            {
                "fraction": frac,
                "train_texts": n,
                "ents_p": b["ents_p"],
                "ents_r": b["ents_r"],
                "ents_f": b["ents_f"],
                "accuracy": b["binary"]["accuracy"] if b["binary"] else None,
                "seconds": res.seconds,
            }
        )
        results.append(res)
    return rows, results
