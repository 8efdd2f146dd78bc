"""``train()`` and ``train_curve()``: the names ``nbannotate.train`` has always exported; the code
lives in the ``nbannotate.training`` package, one module per job."""

from .training.callbacks import (
    PREPARE_NAME,
    SCORER_NAME,
    binary_scores,
    is_complete_reference,
    make_ner_scorer,
    make_prepare_ner,
)
from .training.config import (
    BINARY_KEY,
    DEFAULT_BATCH_SIZE,
    DEFAULT_BINARY_WEIGHT,
    DEFAULT_DROPOUT,
    DEFAULT_EPOCHS,
    DEFAULT_MAX_STEPS,
    DEFAULT_PATIENCE,
    FIRST_ENTITY_WAIT,
    MAX_EVAL_EVERY,
    _Schedule,
)
from .training.corpus import BINARY_FLAG
from .training.curve import CurveResult, train_curve
from .training.loggers import LOGGER_NAME, PROGRESS_NAME, _EarlyStop, _Monitor
from .training.loop import train
from .training.output import CODE_FILE, MARKER, PAUSE_ENV, TRAINING_CFG
from .training.result import TrainResult

__all__ = [
    "BINARY_FLAG",
    "BINARY_KEY",
    "CODE_FILE",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_BINARY_WEIGHT",
    "DEFAULT_DROPOUT",
    "DEFAULT_EPOCHS",
    "DEFAULT_MAX_STEPS",
    "DEFAULT_PATIENCE",
    "FIRST_ENTITY_WAIT",
    "LOGGER_NAME",
    "MARKER",
    "MAX_EVAL_EVERY",
    "PAUSE_ENV",
    "PREPARE_NAME",
    "PROGRESS_NAME",
    "SCORER_NAME",
    "TRAINING_CFG",
    "CurveResult",
    "TrainResult",
    "_EarlyStop",
    "_Monitor",
    "_Schedule",
    "binary_scores",
    "is_complete_reference",
    "make_ner_scorer",
    "make_prepare_ner",
    "train",
    "train_curve",
]
