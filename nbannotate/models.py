"""Loading the spaCy pipeline a session works on.

``load_model`` always returns a private copy in memory: the base model on disk (or the
``Language`` object the caller passed) is never changed. The copy has an NER component that
knows every requested label and learns from rejected spans (``INCORRECT_SPANS_KEY``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRecognizer
from spacy.tokens import Doc
from spacy.training import Example

from .errors import ModelError

INCORRECT_SPANS_KEY = "incorrect_spans"
# Marks a reference known only from binary answers (an empty span group: DocBin keeps it), so
# scoring never takes one whose accepted span covers the whole text for a complete annotation.
BINARY_SPANS_KEY = "nbannotate_binary"
ModelLike = str | Path | Language


def _load_blank(lang: str) -> Language:
    try:
        spacy.util.get_lang_class(lang)
    except Exception as err:
        raise ModelError(
            f"Unknown spaCy language code '{lang}' in 'blank:{lang}'. Use a code spaCy "
            f"supports, such as 'blank:en', 'blank:de' or 'blank:xx' (multi-language)."
        ) from err
    try:
        return spacy.blank(lang)
    except ImportError as err:  # ja needs SudachiPy, th needs PyThaiNLP, ...
        raise ModelError(f"spaCy's blank '{lang}' pipeline needs an extra package: {err}") from err


def _copy_language(nlp: Language) -> Language:
    """A deep copy of a Language, so the caller's object is never updated.

    Through a directory, the round trip every component supports: ``from_bytes`` into a
    pipeline built from the config left an entity_ruler's phrase patterns out (spaCy 3.8)."""
    try:
        with tempfile.TemporaryDirectory(prefix="nbannotate-copy-") as tmp:
            nlp.to_disk(tmp)
            copy = spacy.load(tmp)
    except Exception as err:
        raise ModelError(
            f"Could not copy the spacy.Language passed as model: saving it with "
            f"nlp.to_disk() and loading it back with spacy.load() failed ({err}). Every "
            f"component, and the tokenizer, must be able to save itself, and every factory "
            f"must be registered in this process."
        ) from err
    copy.max_length = nlp.max_length  # not in the config or on disk: keep a raised limit
    copy._path = nlp.path  # where the caller's pipeline came from, not the deleted directory
    return copy


def load_language(model: ModelLike, need_ner: bool = False) -> Language:
    """Load ``model`` as a new Language object without adding anything to it.

    ``model`` is ``"blank:<lang>"``, the name of an installed pipeline package, a pipeline
    directory, or a ``spacy.Language`` (copied). With ``need_ner`` (the NER is used or
    trained), ModelError when its only NER is disabled.
    """
    nlp = _load_language(model)
    return _check_ner_enabled(nlp, model) if need_ner else nlp


def _check_ner_enabled(nlp: Language, model: ModelLike) -> Language:
    """A disabled NER would be neither used nor replaced (a second 'ner' clashes with it)."""
    if find_ner(nlp) is not None:
        return nlp
    for name in nlp.disabled:
        if isinstance(nlp.get_pipe(name), EntityRecognizer):
            what = "the spacy.Language passed" if isinstance(model, Language) else repr(model)
            raise ModelError(
                f"The NER {name!r} of {what} is disabled (spacy.load(..., disable=[{name!r}]), "
                f"or 'disabled' in its config.cfg), so it can neither annotate nor be trained. "
                f"Enable it (nlp.enable_pipe({name!r})) and pass the Language, or load the "
                f"pipeline without disabling it."
            )
    return nlp


def _load_language(model: ModelLike) -> Language:
    if isinstance(model, Language):
        return _copy_language(model)
    if not isinstance(model, (str, Path)):
        raise ModelError(
            f"model must be 'blank:<lang>', an installed pipeline name, a pipeline directory "
            f"or a spacy.Language, not {type(model).__name__}."
        )
    name = str(model)
    if name.startswith("blank:"):
        return _load_blank(name.split(":", 1)[1].strip())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.cfg").exists():
            raise ModelError(
                f"'{path}' is not a spaCy pipeline directory: it has no config.cfg. Point to "
                f"the directory written by nlp.to_disk() or spacy train (e.g. .../model-best)."
            )
        try:
            return spacy.load(path)
        except Exception as err:
            raise ModelError(f"Could not load the pipeline in '{path}': {err}") from err
    if spacy.util.is_package(name):
        try:
            return spacy.load(name)
        except Exception as err:
            raise ModelError(f"Could not load the installed pipeline '{name}': {err}") from err
    installed = sorted(spacy.util.get_installed_models())
    raise ModelError(
        f"Unknown model '{name}': it is not 'blank:<lang>', not an installed spaCy pipeline "
        f"(installed: {', '.join(installed) or 'none'}) and not an existing directory. "
        f"Use e.g. model='blank:en', a package name, or the path of a saved pipeline."
    )


def find_ner(nlp: Language) -> EntityRecognizer | None:
    """The pipeline's entity recognizer ('ner', 'beam_ner' or any EntityRecognizer), if any."""
    for _name, pipe in nlp.pipeline:
        if isinstance(pipe, EntityRecognizer):
            return pipe
    return None


def require_ner(nlp: Language) -> EntityRecognizer:
    """The pipeline's entity recognizer; ModelError if it has none (callers have loaded the
    model with ``load_model``, which adds one, so this names a broken invariant clearly)."""
    ner = find_ner(nlp)
    if ner is None:
        raise ModelError(
            "The pipeline has no NER component: load it with labels=[...] so that one is added."
        )
    return ner


def has_vectors(nlp: Language) -> bool:
    """True when the pipeline has word vectors, which a new NER should read as features."""
    return bool(nlp.vocab.vectors.shape[0])


def ner_labels(nlp: Language) -> list[str]:
    ner = find_ner(nlp)
    return list(ner.labels) if ner is not None else []


def _is_initialized(nlp: Language, ner: EntityRecognizer) -> bool:
    # Thinc has no public "initialized" flag; an uninitialized model fails to predict.
    try:
        ner.predict([nlp.make_doc("probe")])
        return True
    except Exception:
        return False


def load_model(model: ModelLike, labels: Iterable[str] | None = None) -> Language:
    """A private, ready-to-update copy of ``model`` for NER with ``labels``.

    Missing labels are added (the output layer is resized here, before any thread uses the
    model). A pipeline without NER gets a new one when labels are given (reading the
    pipeline's word vectors, if it has any); otherwise ModelError.
    """
    labels = normalize_labels(labels)
    nlp = load_language(model, need_ner=True)
    ner = find_ner(nlp)
    if ner is None:
        if not labels:
            raise ModelError(
                f"The pipeline {model!r} has no NER component and no labels were given. "
                f"Pass labels=[...] to add a new entity recognizer for them."
            )
        config: dict = {"incorrect_spans_key": INCORRECT_SPANS_KEY}
        if has_vectors(nlp):
            config["model"] = {"tok2vec": {"pretrained_vectors": True}}
        ner = cast(EntityRecognizer, nlp.add_pipe("ner", config=config))
    # The key of a loaded pipeline comes from its saved cfg; set it on the pipe itself.
    ner.cfg["incorrect_spans_key"] = INCORRECT_SPANS_KEY
    ner.moves.cfg["neg_key"] = INCORRECT_SPANS_KEY
    missing = [label for label in labels if label not in ner.labels]
    fresh = not _is_initialized(nlp, ner)
    for label in missing:
        ner.add_label(label)
    if fresh:
        if not ner.labels:
            raise ModelError("The NER component has no labels: pass labels=[...].")
        doc = nlp.make_doc("init")
        ner.initialize(lambda: [Example(doc, doc)], nlp=nlp)
    # Remembered on our private copy: a fresh NER's suggestions are noise until it has learnt.
    nlp.meta.setdefault("nbannotate", {})["fresh_ner"] = fresh
    return nlp


def is_fresh(nlp: Language) -> bool:
    """True when ``load_model`` had to initialize the NER and it has learnt nothing since
    (no checkpoint of an earlier loop was loaded into it)."""
    return started_blank(nlp) and not resumed_updates(nlp)


def started_blank(nlp: Language) -> bool:
    """True when the NER was initialized from nothing (by ``load_model``, or before the
    updates of a loaded checkpoint)."""
    return bool(nlp.meta.get("nbannotate", {}).get("fresh_ner"))


def resumed_updates(nlp: Language) -> int:
    """Model updates of earlier loops held by the weights (a loaded checkpoint), else 0."""
    return int(nlp.meta.get("nbannotate", {}).get("resumed_updates", 0))


def normalize_labels(
    labels: Iterable[str] | str | None, error: type[Exception] = ModelError
) -> list[str]:
    """Labels as a de-duplicated list; "A, B" is accepted too. ``error`` names a bad label."""
    if labels is None:
        return []
    if isinstance(labels, str):
        labels = [part.strip() for part in labels.split(",") if part.strip()]
    out: list[str] = []
    for label in labels:
        if not isinstance(label, str) or not label.strip():
            raise error(f"Labels must be non-empty strings, got {label!r}.")
        if label.strip() not in out:
            out.append(label.strip())
    return out


def upstream_docs(nlp: Language, texts: list[str]) -> list[Doc]:
    """Docs with every component before the NER applied (sentences, tok2vec listeners)."""
    ner = find_ner(nlp)
    names = [name for name, pipe in nlp.pipeline if pipe is ner]
    return list(nlp.pipe(texts, disable=names))
