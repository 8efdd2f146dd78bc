"""TrainResult: what train() returns, printed as text tables and shown in a notebook as HTML."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from wasabi import table as wasabi_table


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@dataclass
class TrainResult:
    """What ``train()`` returns.

    - ``output_dir``: the trained pipeline (``spacy.load(output_dir)``).
    - ``scores``: ``{"epochs": [...], "best": {...}, "eval": "gold"|"binary"|"mixed"}``. Each
      record has ``epoch``, ``step``, ``ents_p``, ``ents_r``, ``ents_f`` (scored on the eval
      texts with a complete annotation only; None when there is none, as on binary-only eval
      data, where the other tokens are unknown and no true entity F exists),
      ``ents_per_type`` (label -> p/r/f),
      ``binary`` (None, or ``accuracy`` with ``correct``/``incorrect``/``total`` and
      ``accept_correct``/``accept_total``/``reject_correct``/``reject_total``), ``loss``.
      Record 0 is the evaluation after the first batch; then one per epoch (record k after
      epoch k: spaCy evaluates at a step, here the first batch of the next epoch), or every
      200 steps when an epoch is longer (``epoch`` is then fractional). ``best`` is the
      saved one (of equal scores, the latest). ``stopped``: None, or where the run stopped
      early (``epoch``, ``step``, ``patience`` evaluations without a better score since
      ``since_epoch``).
    - ``stats``: counts behind the examples (answers, ignored, conflicts, examples, train/eval
      texts, labels, ...).
    """

    output_dir: Path
    scores: dict[str, Any]
    stats: dict[str, Any]
    labels: list[str]
    seconds: float
    rerun_command: str
    config_path: Path
    stopped: dict[str, Any] | None = None

    @property
    def best(self) -> dict[str, Any]:
        """The scores of the saved (best) epoch: ``scores["best"]``."""
        return self.scores["best"]

    def _rows(self) -> tuple[list[str], list[list[str]]]:
        binary = self.scores["eval"] != "gold"
        head = ["epoch", "step", "loss", "P", "R", "F"] + (
            ["accuracy", "correct/total"] if binary else []
        )
        rows = []
        for rec in self.scores["epochs"]:
            row = [
                str(rec["epoch"]) + ("*" if rec is self.best or rec == self.best else ""),
                str(rec["step"]),
                f"{rec['loss']:.1f}",
                _fmt(rec["ents_p"]),
                _fmt(rec["ents_r"]),
                _fmt(rec["ents_f"]),
            ]
            if binary:
                b = rec["binary"]
                row += [_fmt(b["accuracy"]), f"{b['correct']}/{b['total']}"] if b else ["-", "-"]
            rows.append(row)
        return head, rows

    def table(self) -> str:
        """The readable report printed by ``print(result)``."""
        head, rows = self._rows()
        lines = [_text_table(head, rows)]
        per_type = self.best["ents_per_type"]
        if per_type:
            lines.append("")
            lines.append(
                _text_table(
                    ["label", "P", "R", "F"],
                    [[k, _fmt(v["p"]), _fmt(v["r"]), _fmt(v["f"])] for k, v in per_type.items()],
                )
            )
        for note in self._notes():
            lines += ["", note]
        return "\n".join(lines)

    def _notes(self) -> list[str]:
        """The paragraphs under the tables: the binary eval, then the data and the output."""
        notes = []
        b = self.best["binary"]
        if b:
            notes.append(
                f"Binary eval: accuracy {b['accuracy']:.3f} ({b['correct']} of {b['total']} "
                f"decisions right; accepted spans predicted {b['accept_correct']}/"
                f"{b['accept_total']}, rejected spans not predicted {b['reject_correct']}/"
                f"{b['reject_total']})"
            )
        stop = self.stopped
        if stop:
            best = self.best["epoch"]
            tie = (
                f" (the same score as epoch {stop['since_epoch']}; of equal scores the "
                f"latest is saved)"
                if best != stop["since_epoch"]
                else ""
            )
            notes.append(
                f"Stopped early at epoch {stop['epoch']} (no gain in "
                f"{stop['patience']} evaluations); best epoch {best}{tie}."
            )
        s = self.stats
        notes.append(
            f"{s['train_texts']} train texts, {s['eval_texts']} eval texts ({self.scores['eval']}"
            f"), {s['answers']} answers, {s['ignored']} ignored, {s['conflicts']} conflicts "
            f"(latest answer kept); labels {', '.join(self.labels)}; {self.seconds:.1f} s\n"
            f"Best model (epoch {self.best['epoch']}, marked *): {self.output_dir}"
        )
        return notes

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        f = self.best["ents_f"]
        b = self.best["binary"]
        parts = [f"output_dir={str(self.output_dir)!r}", f"best_epoch={self.best['epoch']}"]
        if f is not None:
            parts.append(f"ents_f={f:.3f}")
        if b:
            parts.append(f"binary_accuracy={b['accuracy']:.3f}")
        return f"TrainResult({', '.join(parts)})\n{self.table()}"

    def _repr_html_(self) -> str:
        head, rows = self._rows()
        out = [_html_table(head, rows)]
        per_type = self.best["ents_per_type"]
        if per_type:
            out.append(
                _html_table(
                    ["label", "P", "R", "F"],
                    [[k, _fmt(v["p"]), _fmt(v["r"]), _fmt(v["f"])] for k, v in per_type.items()],
                )
            )
        out.append("<pre>" + html.escape("\n\n".join(self._notes())) + "</pre>")
        return "<div class='nba-train'>" + "".join(out) + "</div>"

    def as_dict(self) -> dict[str, Any]:
        """The result as plain JSON-able data: output_dir, scores, stats, labels, seconds,
        stopped, rerun_command."""
        return {
            "output_dir": str(self.output_dir),
            "scores": self.scores,
            "stats": self.stats,
            "labels": self.labels,
            "seconds": self.seconds,
            "stopped": self.stopped,
            "rerun_command": self.rerun_command,
        }


def _text_table(head: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns two spaces apart, a dashed line under the header (wasabi, as
    spaCy's CLI prints its tables)."""
    text = wasabi_table(rows, header=head, divider=True, spacing=2, max_col=10_000, aligns="l")
    return text.strip("\n")


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    """The same table as HTML (pandas escapes every cell: text is data)."""
    frame = pd.DataFrame(rows, columns=head)
    return frame.to_html(index=False, escape=True, border=0, classes="nba-table")
