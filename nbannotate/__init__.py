"""nbannotate: model-in-the-loop NER annotation inside Jupyter.

    import nbannotate as nba
    session = nba.teach("gadgets", source="comments.jsonl", model="blank:en",
                        labels=["PRODUCT"], patterns="product_patterns.jsonl")
    session                      # in a notebook: the annotation widget
    nba.Database().dataset("gadgets").to_pandas()
"""

from .errors import (
    AnswerError,
    ArgumentError,
    DatabaseLockedError,
    DatasetError,
    ModelError,
    NBAnnotateError,
    PatternError,
    SessionError,
    SourceError,
    StoreError,
    TrainingError,
)
from .manual import ManualSession
from .recipes import correct, manual, silver, teach
from .session import TeachSession
from .sources import Source
from .store import Database, Dataset
from .train import CurveResult, TrainResult, train, train_curve

__version__ = "0.1.0"

__all__ = [
    "AnswerError",
    "ArgumentError",
    "CurveResult",
    "Database",
    "DatabaseLockedError",
    "Dataset",
    "ManualSession",
    "DatasetError",
    "ModelError",
    "NBAnnotateError",
    "PatternError",
    "SessionError",
    "Source",
    "SourceError",
    "StoreError",
    "TeachSession",
    "TrainingError",
    "correct",
    "manual",
    "silver",
    "teach",
    "train",
    "train_curve",
    "TrainResult",
]
