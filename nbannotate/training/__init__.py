"""``train()``: a new spaCy pipeline trained from the annotations, in its own directory.

::

    result = nba.train("gadgets", output_dir="models/gadgets", base_model="blank:en")
    result.scores["best"]["ents_f"]
    nlp = spacy.load("models/gadgets")

How it works (spaCy's own machinery, so ``python -m spacy train`` can rerun it):

1. The answers of every dataset are merged per input text (``examples.merge_answers``: accepted
   spans are entities, rejected spans known-wrong, other tokens missing; gold texts complete;
   latest answer wins; a person's answers outrank silver analyses). Texts a person answered
   are split into train/eval by input hash, seeded, so no text is on both sides; silver-only
   texts always train (or ``eval_dataset`` is the eval set and its texts are removed from
   training).
2. The examples are written as ``train.spacy``/``dev.spacy`` (DocBin keeps missing entity tags
   and the rejected spans in ``doc.spans["incorrect_spans"]``).
3. A spaCy config is generated: spaCy's efficiency NER config (``spacy init config -p ner -o
   efficiency``) for a blank base; for a base pipeline every component is *sourced* from it, all
   but the NER are frozen, and an NER listening to a shared tok2vec gets its own copy of it
   (``replace_listeners``), so the other components keep their weights and outputs.
   Training runs through ``spacy.training.initialize.init_nlp`` and
   ``spacy.training.loop.train``, evaluating once per epoch.
4. ``output_dir`` receives the best pipeline (``model-best``; ``spacy.load(output_dir)`` works),
   ``training.cfg`` (the config used), ``train.spacy``, ``dev.spacy``,
   ``nbannotate_spacy.py`` (two small spaCy callbacks the config names, for ``--code``) and
   ``nbannotate_train.json`` (the scores and statistics). The output is built in a hidden
   sibling directory and moved into place at the end, so a failed run leaves nothing behind and
   ``overwrite=True`` replaces a previous output only after the new one is complete.

The modules follow spaCy's own ``spacy/training/`` layout: ``corpus`` (answers -> Examples, the
split), ``base`` (the base model), ``config`` (the spaCy config and the schedule), ``callbacks``
(the spaCy callbacks the config names, copied into the output), ``loggers`` (progress, the
evaluations, the early stop), ``loop`` (one run, and ``train()``), ``output`` (the output
directory), ``result`` (``TrainResult``), ``curve`` (``train_curve()``), ``arguments`` (the
checks of the arguments).
"""

from .curve import CurveResult, train_curve
from .loop import train
from .result import TrainResult

__all__ = ["CurveResult", "TrainResult", "train", "train_curve"]
