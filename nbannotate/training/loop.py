"""One training run (spaCy's ``init_nlp`` and training loop on a generated config, into a
staging folder swapped into place) and ``train()``, which checks its arguments and runs it."""

from __future__ import annotations

import io
import json
import math
import shlex
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import DocBin
from spacy.training import Example

from ..errors import TrainingError
from ..examples import drop_dead_end_rejects
from ..models import ModelLike, has_vectors
from ..store import Database
from .arguments import _check_meta, _check_numbers
from .config import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BINARY_WEIGHT,
    DEFAULT_DROPOUT,
    DEFAULT_EPOCHS,
    DEFAULT_MAX_STEPS,
    DEFAULT_PATIENCE,
    _build_config,
    _fix_saved_config,
    _point_config_at,
    _Schedule,
)
from .corpus import BINARY_FLAG, _prepare, _Prepared
from .loggers import _ACTIVE, LOGGER_NAME, PROGRESS_NAME, _EarlyStop, _Monitor
from .output import (
    CODE_FILE,
    MARKER,
    TRAINING_CFG,
    _check_output,
    _clean_leftovers,
    _fix_meta,
    _hidden_name,
    _output_path,
    _swap_into_place,
    _write_code_file,
)
from .result import TrainResult


def _run(
    prep: _Prepared,
    train_examples: list[Example],
    out: Path,
    *,
    overwrite: bool,
    schedule: dict[str, Any],
    dropout: float,
    batch_size: int,
    seed: int,
    binary_weight: int,
    progress: bool,
    meta: Mapping[str, str],
    desc: str = "train",
) -> TrainResult:
    """Train on ``train_examples`` and write the result to ``out`` (checked by the caller)."""
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=_hidden_name(out, "stage"), dir=out.parent))
    try:
        base_ref, stage_ref = _stage_base(prep, stage)
        train_path, dev_path = stage / "train.spacy", stage / "dev.spacy"
        docs = [
            eg.reference
            for eg in train_examples
            for _ in range(binary_weight if eg.reference.user_data.get(BINARY_FLAG) else 1)
        ]
        DocBin(docs=docs).to_disk(train_path)
        DocBin(docs=[eg.reference for eg in prep.eval_examples]).to_disk(dev_path)
        sched = _Schedule.make(math.ceil(len(docs) / batch_size), **schedule)
        cfg, ner_name = _build_config(
            prep.base, stage_ref, prep.labels, prep.eval_kind, sched, dropout, batch_size, seed
        )
        cfg["paths"]["train"] = str(train_path)
        cfg["paths"]["dev"] = str(dev_path)
        monitor = _Monitor(sched, progress, desc)
        left_out = _train_in(stage, cfg, ner_name, prep.labels, train_examples, docs, monitor)
        # Paths relative to the output directory: rerun from inside it, wherever it is moved.
        _fix_saved_config(stage / "config.cfg", Path("train.spacy"), Path("dev.spacy"))
        cfg["paths"]["train"] = "train.spacy"
        cfg["paths"]["dev"] = "dev.spacy"
        if base_ref != stage_ref:
            _point_config_at(cfg, stage_ref, base_ref)
        cfg.to_disk(stage / TRAINING_CFG)
        _write_code_file(stage)
        evals = monitor.evals
        # spaCy saves model-best on ties too, so the latest of equal scores is the saved one.
        best = max(evals, key=lambda r: (r["score"], r["step"])) if evals else None
        if best is None:
            raise TrainingError("spaCy's training loop ended without an evaluation.")
        _fix_meta(stage / "meta.json", best, meta)
        stats = dict(
            prep.stats,
            train_texts=len(train_examples),
            rejects_left_out=left_out,
            steps=evals[-1]["step"] + 1,
            eval_every=sched.eval_every,
        )
        result = TrainResult(
            out,
            {"epochs": evals, "best": best, "eval": prep.eval_kind},
            stats,
            list(prep.labels),
            time.perf_counter() - started,
            _rerun_command(out),
            out / TRAINING_CFG,
            monitor.stopped,
        )
        (stage / MARKER).write_text(
            json.dumps(result.as_dict(), indent=2, default=str), encoding="utf8"
        )
        _swap_into_place(stage, out, overwrite)
        return result
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _stage_base(prep: _Prepared, stage: Path) -> tuple[str | None, str | None]:
    """What training.cfg sources the base from, and what this run sources it from: an
    in-memory Language (its components, tokenizer, vectors) is saved into the staging folder
    so spaCy can source from it; training.cfg names it relative to the output directory."""
    base_ref = prep.base.ref
    if base_ref is None and (prep.base.in_memory or has_vectors(prep.base.nlp)):
        prep.base.nlp.to_disk(stage / "base_model")
        return "base_model", str(stage / "base_model")
    return base_ref, base_ref


def _train_in(
    stage: Path,
    cfg: Any,
    ner_name: str,
    labels: list[str],
    train_examples: list[Example],
    docs: list[Any],
    monitor: _Monitor,
) -> int:
    """spaCy's init_nlp and training loop, watched by ``monitor``; the best pipeline is left at
    the root of ``stage``. Returns how many rejected spans were left out (E024)."""
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as spacy_train

    run_cfg = cfg.copy()
    run_cfg["training"]["logger"] = {"@loggers": LOGGER_NAME}
    run_cfg["training"]["before_update"] = {"@callbacks": PROGRESS_NAME}
    run_cfg["training"]["patience"] = 0  # the monitor stops the run (_EarlyStop)
    _ACTIVE.monitor = monitor
    sink = io.StringIO()
    ok = False
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*W(086|087|113).*")
            nlp = init_nlp(run_cfg)
            _add_labels(nlp, ner_name, labels)
            # Rejected spans spaCy's oracle cannot supervise (E024) never reach training,
            # as they never reach the in-loop update (checked with this NER's moves).
            ner: Any = nlp.get_pipe(ner_name)
            left_out = drop_dead_end_rejects(ner.moves, train_examples)
            if left_out:
                DocBin(docs=docs).to_disk(stage / "train.spacy")
            workdir = stage / "training"
            workdir.mkdir()
            try:
                spacy_train(nlp, workdir, stdout=sink, stderr=sink)
            except _EarlyStop:
                pass
        ok = True
    except TrainingError:
        raise
    except Exception as err:
        # Some of spaCy's (thinc's) failures are bare assertions: name the exception then.
        raise TrainingError(
            f"spaCy training failed: {str(err) or type(err).__name__} "
            f"(the output directory was not written)"
        ) from err
    finally:
        _ACTIVE.monitor = None
        monitor.close(ok)
    # The best pipeline at the root, the run's files beside it.
    shutil.copytree(workdir / "model-best", stage, dirs_exist_ok=True)
    shutil.rmtree(workdir)
    return left_out


def _rerun_command(out: Path) -> str:
    return (
        f"cd {shlex.quote(str(out))} && python -m spacy train {TRAINING_CFG} --code "
        f"{CODE_FILE} --output {shlex.quote('../' + out.name + '-rerun')}"
    )


def _add_labels(nlp: Language, ner_name: str, labels: list[str]) -> None:
    """Every label the NER must know, before the first update (a fresh NER only learned the
    labels of accepted spans; one seen only in rejections would be unknown)."""
    ner: Any = nlp.get_pipe(ner_name)  # an EntityRecognizer (spaCy types pipes as callables)
    for label in labels:
        if label not in ner.labels:
            ner.add_label(label)


# Long only by its keyword arguments and their docstring: the body is about 40 lines.
def train(
    datasets: str | Sequence[str],
    output_dir: str | Path,
    base_model: ModelLike = "blank:en",
    *,
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
    name: str | None = None,
    version: str | None = None,
) -> TrainResult:
    """Train a new NER pipeline from the answers in ``datasets`` and save it to ``output_dir``.

    ``datasets``: a name or list of names (binary teach answers, gold ``ner_manual`` answers,
    imported JSONL, silver analyses from ``nba.silver()``, or a mix; on a text a person
    answered, the person's answers win and its silver analysis is left out). ``base_model``:
    ``"blank:<lang>"``, an installed package, a pipeline directory or a ``spacy.Language``; it
    is never written. ``eval_dataset``: evaluate on this dataset (its texts are removed from
    training; it may not hold silver analyses); otherwise ``eval_split`` of the texts a person
    answered (seeded by ``seed``, split by input text) is held out, and texts known only from
    silver analyses all train: a model's own guesses are never scored as gold.
    ``labels``: train only these labels
    (other spans are left out; in gold texts their tokens become missing). Each label must have
    an accepted span or be known by the base NER (TrainingError otherwise). Labels the base NER
    lacks are added to it. The schedule counts steps (one update on ``batch_size`` texts), as
    spaCy's config does: ``max_steps`` (20,000) is the budget; ``eval_every`` steps between
    evaluations (None: once per epoch, at most 200 steps apart); ``patience``: stop after this
    many evaluations without a better score (0: never), counted from the first evaluation
    where the model finds an entity (or from step 2,000, when it finds none); ``epochs``: at
    most this many passes over the shuffled data (None: no cap); ``batch_size``: texts per
    update; ``dropout``; ``seed``. ``name``/``version``: the pipeline's name and version in
    its meta.json (spaCy's defaults "pipeline" and "0.0.0" otherwise). ``binary_weight``: how
    many times per epoch a text known only from binary answers, with an accepted span, is
    trained on (default 1: once, like every other text; such a text teaches nothing about its
    unanswered tokens, and a larger weight makes up for that).
    ``db``: a Database, the path of an existing database, or None for ``Database()``'s default
    path (read only: a missing file is an error, not created). ``overwrite``: replace a
    previous train() output in ``output_dir``. ``progress``: show a progress bar (tqdm; a
    widget in a notebook).

    The best epoch's pipeline is saved (by eval ents_f on complete annotations; by the binary
    accuracy on binary answers; the mean of both on a mix). Raises DatasetError (unknown/empty
    dataset, only ignored answers), StoreError (no database at the path), TrainingError (no
    accepted span, unknown labels, bad output_dir or arguments) and ModelError (a base model
    that cannot be loaded), before any training starts.
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
    meta = _check_meta(name, version)
    out = _output_path(output_dir)
    _clean_leftovers(out)
    if isinstance(base_model, (str, Path)) and not str(base_model).startswith("blank:"):
        # Refuse a bad output_dir before the (slow) load of the base model.
        path = Path(base_model).expanduser()
        if path.exists():
            _check_output(out, path.resolve(), overwrite)
    prep = _prepare(
        datasets, base_model, eval_dataset, args["eval_split"], labels, args["seed"], db
    )
    _check_output(out, prep.base.directory, overwrite)
    return _run(
        prep,
        prep.train_examples,
        out,
        overwrite=overwrite,
        schedule=args["schedule"],
        binary_weight=args["binary_weight"],
        dropout=args["dropout"],
        batch_size=args["batch_size"],
        seed=args["seed"],
        progress=progress,
        meta=meta,
    )
