"""Exceptions raised by nbannotate.

Every error names the problem and how to fix it, and is raised at the call that received the bad
input. They subclass ValueError/RuntimeError where a caller would expect that, so generic
handlers keep working.
"""

from __future__ import annotations


class NBAnnotateError(Exception):
    """Base class of every error nbannotate raises on purpose."""


class ArgumentError(NBAnnotateError, ValueError, TypeError):
    """An argument has a value or type the call cannot use (a count that is not a positive
    integer, an unknown sorter name). Also a ValueError and a TypeError, what Python raises for
    such arguments, so handlers written for those keep working."""


class SourceError(NBAnnotateError, ValueError):
    """The source of texts is missing, unreadable or malformed."""


class ModelError(NBAnnotateError, ValueError):
    """The model cannot be loaded or cannot be used for NER with the requested labels."""


class PatternError(NBAnnotateError, ValueError):
    """A match pattern is invalid."""


class AnswerError(NBAnnotateError, ValueError):
    """An answer is invalid, or the task was already answered."""


class StoreError(NBAnnotateError, RuntimeError):
    """The database cannot be used as asked."""


class DatabaseLockedError(StoreError):
    """The DuckDB file is held by another process."""


class DatasetError(NBAnnotateError, ValueError):
    """A dataset is unknown, empty or unusable for what was asked."""


class TrainingError(NBAnnotateError, ValueError):
    """Training cannot run with these inputs."""


class SessionError(NBAnnotateError, RuntimeError):
    """The session was stopped (or closed) and cannot do what was asked."""
