"""nbannotate: model-in-the-loop NER annotation inside Jupyter.

    import nbannotate as nba
    nba.example_data()           # writes gadgets.jsonl and product_patterns.jsonl here
    session = nba.teach("gadgets", source="gadgets.jsonl", model="blank:en",
                        labels=["PRODUCT"], patterns="product_patterns.jsonl")
    session                      # in a notebook: the annotation widget
    nba.Database().dataset("gadgets").to_pandas()

``help(nba.teach)``, ``help(nba.Database)``, ``help(session)`` and so on describe every call.
"""

from .agreement import Agreement, agreement
from .data import example_data
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
from .review import ReviewSession, review
from .session import TeachSession
from .sources import Source
from .store import Database, Dataset
from .train import CurveResult, TrainResult, train, train_curve

__version__ = "0.2.0"

__all__ = [
    "Agreement",
    "AnswerError",
    "ArgumentError",
    "CurveResult",
    "Database",
    "DatabaseLockedError",
    "Dataset",
    "ManualSession",
    "ReviewSession",
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
    "agreement",
    "correct",
    "example_data",
    "manual",
    "review",
    "silver",
    "teach",
    "train",
    "train_curve",
    "TrainResult",
]
