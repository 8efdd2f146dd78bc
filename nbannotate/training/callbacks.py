"""spaCy callbacks named by training.cfg (written by nbannotate.train).

This module imports nothing from nbannotate: train() copies this file into its output directory
as ``nbannotate_spacy.py``, so spaCy's CLI reruns the config without nbannotate installed::

    python -m spacy train training.cfg --code nbannotate_spacy.py --output <dir>
"""

import spacy

SCORER_NAME = "nbannotate.ner_scorer.v1"
PREPARE_NAME = "nbannotate.prepare_ner.v1"


def is_complete_reference(ref, binary_key="nbannotate_binary"):
    """True for a complete annotation, False for one known only from binary answers: those are
    marked with the span group ``binary_key``; unmarked, a complete annotation says "O"
    somewhere (or has no missing tag at all), which binary answers never do."""
    return binary_key not in ref.spans and (
        any(t.ent_iob == 2 for t in ref) or all(t.ent_iob != 0 for t in ref)
    )


def binary_scores(examples, incorrect_spans_key="incorrect_spans", binary_key="nbannotate_binary"):
    """Accuracy of the predicted entities against binary accept/reject decisions.

    For each example known only from binary answers (marked with the span group
    ``binary_key``; unmarked: no token is "O" and some are missing): an accepted span (a
    reference entity) is right when exactly that span and label is predicted; a rejected span
    (``reference.spans[key]``) is right when it is not predicted.
    """
    counts = {"accept_correct": 0, "accept_total": 0, "reject_correct": 0, "reject_total": 0}
    for eg in examples:
        ref = eg.reference
        if is_complete_reference(ref, binary_key):
            continue
        predicted = {(e.start_char, e.end_char, e.label_) for e in eg.predicted.ents}
        for span in ref.ents:
            counts["accept_total"] += 1
            counts["accept_correct"] += (span.start_char, span.end_char, span.label_) in predicted
        for span in ref.spans.get(incorrect_spans_key, []):
            counts["reject_total"] += 1
            counts["reject_correct"] += (
                span.start_char,
                span.end_char,
                span.label_,
            ) not in predicted
    total = counts["accept_total"] + counts["reject_total"]
    correct = counts["accept_correct"] + counts["reject_correct"]
    counts.update(correct=correct, incorrect=total - correct, total=total)
    return {"ents_binary_acc": correct / total if total else None, "ents_binary": counts}


def make_ner_scorer(
    incorrect_spans_key: str = "incorrect_spans", binary_key: str = "nbannotate_binary"
):
    """spaCy's NER scores on the complete annotations, plus ``ents_binary_acc`` /
    ``ents_binary`` on the binary ones (see binary_scores).

    On a binary example spaCy's P/R/F would count only the predictions that overlap an
    accepted span (the other tokens are missing), so precision looks near perfect and F is no
    entity F: those examples are scored by accuracy alone, and P/R/F are None without any
    complete annotation.
    """
    from spacy.scorer import get_ner_prf

    def score(examples, **kwargs):
        examples = list(examples)
        complete = [eg for eg in examples if is_complete_reference(eg.reference, binary_key)]
        return {
            **get_ner_prf(complete, **kwargs),
            **binary_scores(examples, incorrect_spans_key, binary_key),
        }

    return score


def make_prepare_ner(
    ner_name: str, incorrect_spans_key: str, labels: list, binary_scorer: bool = False
):
    """[initialize.after_init] callback for an NER sourced from a base pipeline.

    A sourced component keeps the config it was saved with, so its incorrect-spans key is set
    on the pipe here, labels the base NER lacks are added (output layer resized before the
    first update), and the binary scorer is attached when the eval data has binary answers.
    """

    def prepare(nlp):
        ner = nlp.get_pipe(ner_name)
        ner.cfg["incorrect_spans_key"] = incorrect_spans_key
        ner.moves.cfg["neg_key"] = incorrect_spans_key
        for label in labels:
            if label not in ner.labels:
                ner.add_label(label)
        if binary_scorer:
            ner.scorer = make_ner_scorer(incorrect_spans_key)
        return nlp

    return prepare


spacy.registry.scorers.register(SCORER_NAME, func=make_ner_scorer)
spacy.registry.callbacks.register(PREPARE_NAME, func=make_prepare_ner)
