"""The spaCy training config train() runs, and its schedule in steps."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language

from ..models import INCORRECT_SPANS_KEY, find_ner, has_vectors
from .base import _Base
from .callbacks import PREPARE_NAME, SCORER_NAME

# The training schedule, in steps (one update on ``batch_size`` texts), like spaCy's own
# config (max_steps 20000, eval_frequency 200, patience 1600 = 8 evaluations): evaluate once
# per epoch, or every 200 steps when an epoch is longer; stop after 8 evaluations without a
# better score, but never before the model has predicted its first entity (a fresh model
# scores 0 for the first epochs on small data) unless FIRST_ENTITY_WAIT steps have passed.
DEFAULT_EPOCHS = None  # no cap on passes: MAX_STEPS and the patience end the run
DEFAULT_MAX_STEPS = 20_000
MAX_EVAL_EVERY = 200
DEFAULT_PATIENCE = 8  # evaluations
FIRST_ENTITY_WAIT = 2_000  # steps
DEFAULT_DROPOUT = 0.1
DEFAULT_BATCH_SIZE = 16
# How many times per epoch a text known only from binary answers (with an accepted span) is
# trained on. Such a text says nothing about its unanswered tokens, so it gives a smaller
# update than a complete annotation; but training on it twice or three times did not train
# better models (BENCHMARKS.md, "What was tried for learning quality"), so the default is once.
DEFAULT_BINARY_WEIGHT = 1
BINARY_KEY = "ents_binary_acc"


@dataclass(frozen=True)
class _Schedule:
    """How long one run trains and when it is evaluated, in steps (updates)."""

    steps_per_epoch: int
    epochs: int | None  # at most this many passes (None: no cap)
    max_steps: int
    eval_every: int
    patience: int  # evaluations without a better score before stopping; 0: never

    @classmethod
    def make(
        cls,
        steps_per_epoch: int,
        epochs: int | None,
        max_steps: int,
        eval_every: int | None,
        patience: int,
    ) -> _Schedule:
        every = eval_every or min(steps_per_epoch, MAX_EVAL_EVERY)
        return cls(steps_per_epoch, epochs, max_steps, every, patience)

    @property
    def last_step(self) -> int:
        """spaCy's max_steps: a multiple of eval_every, so the budget ends with an evaluation
        (the one at step s runs after s + 1 updates)."""
        budget = self.max_steps
        if self.epochs is not None:
            budget = min(budget, self.epochs * self.steps_per_epoch)
        return max(1, math.ceil(budget / self.eval_every)) * self.eval_every


def _listens(nlp: Language, name: str) -> bool:
    return any(name in getattr(pipe, "listening_components", []) for _, pipe in nlp.pipeline)


def _build_config(
    base: _Base,
    base_ref: str | None,
    labels: list[str],
    eval_kind: str,
    schedule: _Schedule,
    dropout: float,
    batch_size: int,
    seed: int,
) -> tuple[Any, str]:
    """The spaCy training config (uninterpolated) and the name of its NER component."""
    from spacy.cli.init_config import init_config

    binary_eval = eval_kind != "gold"
    frozen_keys: set[str] = set()
    nlp = base.nlp
    cfg = init_config(lang=nlp.lang or "xx", pipeline=["ner"], optimize="efficiency")
    # A base's word vectors are features of a new NER's tok2vec: spaCy's efficiency config
    # leaves them out, and they are most of what a pipeline of vectors alone has to give.
    # A base with vectors always has a ``base_ref`` (train() saves one passed in memory).
    if has_vectors(nlp) and base_ref is not None:
        embed = cfg["components"]["tok2vec"]["model"]["embed"]
        embed["include_static_vectors"] = True
    cfg["nlp"]["tokenizer"] = dict(nlp.config["nlp"]["tokenizer"])
    if nlp.component_names:  # a trained base pipeline: source everything, train only the NER
        assert base_ref is not None
        ner_name = _source_pipeline(cfg, nlp, base_ref, labels, binary_eval)
        # Frozen components' scores (tag_acc, ...) do not change: keep them out of the choice.
        for name in cfg["training"]["frozen_components"]:
            for key in nlp.get_pipe_meta(name).default_score_weights or {}:
                frozen_keys.add(key)
    else:
        ner_name = "ner"
        cfg["components"]["ner"]["incorrect_spans_key"] = INCORRECT_SPANS_KEY
        if binary_eval:
            cfg["components"]["ner"]["scorer"] = dict(_SCORER)
    if base_ref is not None:  # the base's tokenizer settings and vocab (and vectors)
        cfg["initialize"]["before_init"] = {
            "@callbacks": "spacy.copy_from_base_model.v1",
            "tokenizer": base_ref,
            "vocab": base_ref,
        }
        if has_vectors(nlp):
            cfg["paths"]["vectors"] = base_ref
    _set_training(cfg["training"], eval_kind, schedule, dropout, batch_size, seed, frozen_keys)
    return cfg, ner_name


_SCORER = {"@scorers": SCORER_NAME, "incorrect_spans_key": INCORRECT_SPANS_KEY}


def _source_pipeline(
    cfg: Any, nlp: Language, base_ref: str, labels: list[str], binary_eval: bool
) -> str:
    """Every component of a trained base sourced from it, all but the NER frozen; returns the
    NER's name (the base's own NER, or a new one with its own tok2vec)."""
    pipeline = list(nlp.component_names)  # disabled ones too (en_core_web_*'s senter)
    components: dict[str, Any] = {}
    for name in pipeline:
        components[name] = {"source": base_ref}
    ner_pipe = find_ner(nlp)
    if ner_pipe is not None:
        ner_name = next(n for n, p in nlp.pipeline if p is ner_pipe)
        if _listens(nlp, ner_name):
            components[ner_name]["replace_listeners"] = ["model.tok2vec"]
        cfg["initialize"]["after_init"] = {
            "@callbacks": PREPARE_NAME,
            "ner_name": ner_name,
            "incorrect_spans_key": INCORRECT_SPANS_KEY,
            "labels": labels,
            "binary_scorer": binary_eval,
        }
    else:  # a new NER with its own tok2vec, so the base's shared tok2vec stays frozen
        ner_name = "ner" if "ner" not in pipeline else "nbannotate_ner"
        ner_cfg = dict(cfg["components"]["ner"])
        model = dict(ner_cfg["model"])
        model["tok2vec"] = dict(cfg["components"]["tok2vec"]["model"])
        model["tok2vec"]["embed"] = dict(model["tok2vec"]["embed"], width=96)
        ner_cfg["model"] = model
        ner_cfg["incorrect_spans_key"] = INCORRECT_SPANS_KEY
        if binary_eval:
            ner_cfg["scorer"] = dict(_SCORER)
        components[ner_name] = ner_cfg
        pipeline.append(ner_name)
    cfg["components"] = components
    cfg["nlp"]["pipeline"] = pipeline
    cfg["nlp"]["disabled"] = list(nlp.config["nlp"].get("disabled", []))
    cfg["training"]["frozen_components"] = [n for n in pipeline if n != ner_name]
    return ner_name


def _set_training(
    t: Any,
    eval_kind: str,
    schedule: _Schedule,
    dropout: float,
    batch_size: int,
    seed: int,
    frozen_keys: set[str],
) -> None:
    """The [training] block: seed, dropout, the schedule in steps, the batcher, the weights."""
    t["seed"] = seed
    t["dropout"] = dropout
    # The evaluation after epoch k runs on the first batch of epoch k + 1.
    t["max_epochs"] = schedule.epochs + 1 if schedule.epochs else 0
    t["max_steps"] = schedule.last_step
    t["eval_frequency"] = schedule.eval_every
    # spaCy's own rule for a rerun (train() applies its own, see _Monitor).
    t["patience"] = schedule.patience * schedule.eval_every
    t["batcher"] = {
        "@batchers": "spacy.batch_by_sequence.v1",
        "size": batch_size,
        "get_length": None,
    }
    # Which evaluation picks the saved epoch: F on complete annotations, the accuracy of the
    # accept/reject decisions on binary ones, the mean of both on a mix.
    f_weight = {"gold": 1.0, "binary": 0.0, "mixed": 0.5}[eval_kind]
    t["score_weights"] = {"ents_f": f_weight, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None}
    if eval_kind != "gold":
        t["score_weights"][BINARY_KEY] = 1.0 - f_weight
    for key in frozen_keys - set(t["score_weights"]):
        t["score_weights"][key] = None


def _fix_saved_config(path: Path, train_path: Path, dev_path: Path) -> None:
    """Make a saved pipeline config loadable without nbannotate: spaCy's own logger/scorer."""
    from thinc.api import Config

    cfg = Config().from_disk(path, interpolate=False)
    cfg["paths"]["train"] = str(train_path)
    cfg["paths"]["dev"] = str(dev_path)
    cfg["training"]["logger"] = {"@loggers": "spacy.ConsoleLogger.v1", "progress_bar": False}
    cfg["training"]["before_update"] = None
    for comp in cfg["components"].values():
        if isinstance(comp, dict) and comp.get("scorer", {}).get("@scorers") == SCORER_NAME:
            comp["scorer"] = {"@scorers": "spacy.ner_scorer.v1"}
    after = cfg["initialize"].get("after_init")
    if isinstance(after, dict) and after.get("@callbacks") == PREPARE_NAME:
        cfg["initialize"]["after_init"] = None
    cfg.to_disk(path)


def _point_config_at(cfg: Any, old: str | None, new: str | None) -> None:
    """Replace the staging path of an in-memory base by its final path in the config."""
    for comp in cfg["components"].values():
        if isinstance(comp, dict) and comp.get("source") == old:
            comp["source"] = new
    before = cfg["initialize"].get("before_init")
    if isinstance(before, dict):
        for key in ("tokenizer", "vocab"):
            if before.get(key) == old:
                before[key] = new
    if cfg["paths"].get("vectors") == old:
        cfg["paths"]["vectors"] = new
