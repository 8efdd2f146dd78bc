"""The base model train() starts from: blank, an installed package, a directory or a Language."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language

from ..models import ModelLike, load_language


@dataclass
class _Base:
    nlp: Language
    ref: str | None  # what the config sources from: a directory or package name
    directory: Path | None  # directory never to write
    in_memory: bool = False  # a spacy.Language passed in: saved for spaCy to source from


def _resolve_base(base_model: ModelLike) -> _Base:
    nlp = load_language(base_model, need_ner=True)  # ModelError when it cannot be loaded
    if isinstance(base_model, Language):
        # Trained from the object as it is in memory (saved by _run), not from the directory
        # it was loaded from: patterns, components or a tokenizer changed since would be lost.
        path = base_model.path
        where = Path(path).resolve() if path is not None and Path(path).exists() else None
        return _Base(nlp, None, where, in_memory=True)
    name = str(base_model)
    if name.startswith("blank:"):
        return _Base(nlp, None, None)
    path = Path(name).expanduser()
    if path.exists():
        return _Base(nlp, str(path.resolve()), path.resolve())
    return _Base(nlp, name, spacy.util.get_package_path(name).resolve())
