"""Shared helpers for the benchmark scripts: corpora, splits, the oracle annotator, timing.

The corpora are read from ``../shared/data`` relative to the project root (see
``/work/shared/data/README.md``): the Broad Twitter Corpus (Derczynski, Bontcheva, Roberts,
COLING 2016) and WNUT 2017 emerging entities (Derczynski, Nichols, van Erp, Limsopatham 2017).
When the folder is missing, ``load_corpus`` exits with a message that says where it looked and
how to point the scripts elsewhere (``NBANNOTATE_DATA``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_ENV = "NBANNOTATE_RESULTS"  # set by --results, so spawned workers write there too
RESULTS = Path(os.environ.get(RESULTS_ENV) or ROOT / "benchmarks" / "results")
UNITS = RESULTS / "learning_units"  # learning.py's results, one file per (corpus, seed)
DEFAULT_DATA = ROOT.parent / "shared" / "data"

if str(ROOT) not in sys.path:  # run as `python benchmarks/x.py` from a checkout
    sys.path.insert(0, str(ROOT))

SpanKey = tuple[int, int, str]

CORPORA = {
    "btc": {
        "files": ["btc/btc.jsonl"],
        "cite": "Broad Twitter Corpus: L. Derczynski, K. Bontcheva, I. Roberts. Broad Twitter "
        "Corpus: A Diverse Named Entity Recognition Resource. COLING 2016.",
    },
    "wnut17": {
        "files": ["wnut17/train.jsonl", "wnut17/dev.jsonl", "wnut17/test.jsonl"],
        "cite": "WNUT17: L. Derczynski, E. Nichols, M. van Erp, N. Limsopatham. Results of the "
        "WNUT2017 Shared Task on Novel and Emerging Entity Recognition. W-NUT 2017.",
    },
}


class DataMissing(Exception):
    """The shared corpora cannot be found (``run_main`` prints it and exits with status 2)."""


def run_main(main: Any) -> None:
    """Run a script's ``main()`` and exit with its status; missing data: message + status 2."""
    try:
        code = main()
    except DataMissing as err:
        print(f"error: {err}", file=sys.stderr)
        code = 2
    sys.exit(code)


def data_dir() -> Path:
    """The shared data folder: $NBANNOTATE_DATA or ../shared/data next to the project root."""
    path = Path(os.environ.get("NBANNOTATE_DATA", DEFAULT_DATA))
    if not path.is_dir():
        raise DataMissing(
            f"The shared NER corpora are missing: expected a folder at {path} "
            f"(../shared/data relative to the project root {ROOT}). Put the btc/ and wnut17/ "
            f"folders there, or set NBANNOTATE_DATA=/path/to/data."
        )
    return path


@dataclass
class Sentence:
    """One gold sentence: text (tokens joined by single spaces), tokens, gold spans."""

    text: str
    tokens: list[str]
    spans: list[SpanKey]
    part: str = ""  # the corpus file it came from (wnut17: train / dev / test)

    @property
    def gold(self) -> frozenset[SpanKey]:
        return frozenset(self.spans)


@dataclass
class Corpus:
    name: str
    sentences: list[Sentence]
    labels: list[str]
    cite: str

    def part(self, name: str) -> list[Sentence]:
        return [s for s in self.sentences if s.part == name]


def load_corpus(name: str) -> Corpus:
    """Read one shared corpus. Texts repeated in a corpus are kept once (the first)."""
    if name not in CORPORA:
        raise SystemExit(f"Unknown corpus {name!r}: use one of {', '.join(CORPORA)}.")
    root = data_dir()
    sentences: list[Sentence] = []
    seen: set[str] = set()
    labels: dict[str, None] = {}
    for rel in CORPORA[name]["files"]:
        path = root / rel
        if not path.is_file():
            raise DataMissing(
                f"Corpus file {path} is missing (corpus {name!r}; see {root / 'README.md'})."
            )
        part = Path(rel).stem
        with path.open(encoding="utf8") as fh:
            for line in fh:
                rec = json.loads(line)
                text = rec["text"]
                if not text.strip() or text in seen:
                    continue
                seen.add(text)
                spans = [(int(s["start"]), int(s["end"]), str(s["label"])) for s in rec["spans"]]
                for s in spans:
                    labels.setdefault(s[2])
                sentences.append(Sentence(text, list(rec["tokens"]), spans, part))
    return Corpus(name, sentences, sorted(labels), CORPORA[name]["cite"])


@dataclass
class Split:
    """seed (gold, starts the model) / pool (the stream) / dev (train()'s model selection) /
    test (reported scores). Disjoint by text."""

    seed: list[Sentence]
    pool: list[Sentence]
    dev: list[Sentence]
    test: list[Sentence]
    sizes: dict[str, int] = field(default_factory=dict)


def make_split(
    corpus: Corpus,
    seed: int,
    n_seed: int = 200,
    n_pool: int = 3000,
    n_dev: int = 300,
    n_test: int = 1000,
) -> Split:
    """A seeded split. WNUT17 keeps its official parts: seed+pool from train, dev from dev,
    test from test; BTC (one file) is shuffled and cut."""
    rng = random.Random(seed)
    if corpus.name == "wnut17":
        train, dev, test = (list(corpus.part(p)) for p in ("train", "dev", "test"))
        for part in (train, dev, test):
            rng.shuffle(part)
        out = Split(train[:n_seed], train[n_seed : n_seed + n_pool], dev[:n_dev], test[:n_test])
    else:
        sents = list(corpus.sentences)
        rng.shuffle(sents)
        a, b = n_test, n_test + n_dev
        out = Split(
            sents[b : b + n_seed], sents[b + n_seed : b + n_seed + n_pool], sents[a:b], sents[:a]
        )
    out.sizes = {k: len(getattr(out, k)) for k in ("seed", "pool", "dev", "test")}
    return out


def add_protocol_args(p: Any, wnut17: bool = True) -> None:
    """The learning protocol's split sizes and train() settings, shared by every script that
    trains or splits as ``learning.py`` does (so their numbers stay comparable)."""
    p.add_argument(
        "--base",
        default="blank:en",
        help="train()'s base_model for every model the protocol trains: 'blank:en' "
        "or a pipeline directory, e.g. word vectors from vectors.py",
    )
    p.add_argument(
        "--epochs", type=int, default=None, help="train()'s epochs cap (default: train()'s, none)"
    )
    p.add_argument(
        "--patience",
        type=int,
        default=8,
        help="train()'s patience in evaluations (default: train()'s)",
    )
    p.add_argument("--n-seed", type=int, default=200)
    if wnut17:
        p.add_argument(
            "--n-seed-wnut17",
            type=int,
            default=1000,
            help="WNUT17's seed size: at 200 sentences its starting model scores F 0",
        )
    p.add_argument("--n-pool", type=int, default=3000)
    p.add_argument("--n-dev", type=int, default=300)
    p.add_argument("--n-test", type=int, default=1000)


def protocol_split(corpus: Corpus, seed: int, args: Any) -> Split:
    """``make_split`` with the sizes of ``add_protocol_args`` (WNUT17's own seed size)."""
    n_seed = args.n_seed_wnut17 if corpus.name == "wnut17" else args.n_seed
    return make_split(
        corpus, seed, n_seed=n_seed, n_pool=args.n_pool, n_dev=args.n_dev, n_test=args.n_test
    )


def protocol_train(
    db: Any, datasets: list[str], out: Path, base: str, args: Any, seed: int, **extra: Any
) -> None:
    """``train()`` with the protocol's settings (``add_protocol_args``): best epoch on the
    dataset "dev", ``args.epochs`` and ``args.patience``, ``seed``; ``extra``: more of
    train()'s arguments."""
    from nbannotate.train import train

    train(
        datasets,
        out,
        base_model=base,
        eval_dataset="dev",
        db=db,
        epochs=args.epochs,
        patience=args.patience,
        seed=seed,
        progress=False,
        overwrite=True,
        **extra,
    )


def ask_completions_always(session: Any) -> None:
    """Benchmark variant: completion questions from the first answer, whatever share of the
    model's own span proposals is accepted (the rule ``teach`` applies by default)."""
    session._questions.proposals.trusted = lambda: True


# -- tasks for the store ---------------------------------------------------------------------

_TOKENIZER = None


def _tokenizer():
    global _TOKENIZER
    if _TOKENIZER is None:
        import spacy

        _TOKENIZER = spacy.blank("en")
    return _TOKENIZER


def gold_task(sent: Sentence) -> dict[str, Any]:
    """A complete (ner_manual, accepted) annotation of one sentence, as an annotator saves it."""
    from nbannotate.tasks import VIEW_MANUAL, doc_tokens, make_task

    doc = _tokenizer().make_doc(sent.text)
    spans = []
    for start, end, label in sent.spans:
        span = doc.char_span(start, end, alignment_mode="expand")
        spans.append(
            {
                "start": start,
                "end": end,
                "label": label,
                "token_start": span.start if span is not None else None,
                "token_end": span.end - 1 if span is not None else None,
            }
        )
    return make_task(sent.text, doc_tokens(doc), spans, {"source": "gold"}, view_id=VIEW_MANUAL)


def add_gold(db: Any, dataset: str, sentences: Iterable[Sentence]) -> int:
    """Store sentences as accepted gold annotations in ``dataset`` (created if new)."""
    tasks = [gold_task(s) for s in sentences]
    ds = db.dataset(dataset, create=True)
    if tasks:
        ds.add_many(tasks, answer="accept")
    return len(tasks)


# -- the simulated annotator -----------------------------------------------------------------


class Oracle:
    """Answers tasks from gold spans.

    Per-span task: accept iff its (start, end, label) is a gold span of the sentence.
    Whole-analysis task (``meta["whole"]``): accept iff its set of spans equals the sentence's
    gold set exactly (an empty analysis of an entity-free sentence is accepted).
    """

    def __init__(self, sentences: Iterable[Sentence]) -> None:
        self.gold: dict[str, frozenset[SpanKey]] = {s.text: s.gold for s in sentences}
        self.counts = {"accept": 0, "reject": 0, "whole_accept": 0, "whole_reject": 0}

    def __call__(self, task: Mapping[str, Any]) -> str:
        gold = self.gold.get(task["text"])
        if gold is None:
            raise KeyError(
                f"The oracle has no gold for text {task['text'][:60]!r}: the "
                f"session split or changed a text (run teach with "
                f"split_sentences=False)."
            )
        spans = {(int(s["start"]), int(s["end"]), str(s["label"])) for s in task["spans"]}
        whole = bool((task.get("meta") or {}).get("whole"))
        if whole:
            answer = "accept" if spans == gold else "reject"
            self.counts["whole_" + answer] += 1
        else:
            answer = "accept" if spans and spans <= gold else "reject"
        self.counts[answer] += 1
        return answer


# -- evaluation --------------------------------------------------------------------------------


def gold_examples(nlp: Any, sentences: Sequence[Sentence]) -> list[Any]:
    """Fully annotated examples (every token O or entity) on spaCy's tokenization; a gold span
    that cuts a spaCy token is widened to whole tokens (rare on these pre-tokenized texts)."""
    from spacy.training import Example

    out = []
    for s in sentences:
        ref = nlp.make_doc(s.text)
        ents = [ref.char_span(a, b, label=lab, alignment_mode="expand") for a, b, lab in s.spans]
        ents = spacy_filter([e for e in ents if e is not None])
        ref.set_ents(ents, default="outside")
        out.append(Example(nlp.make_doc(s.text), ref))
    return out


def spacy_filter(spans: list[Any]) -> list[Any]:
    from spacy.util import filter_spans

    return sorted(filter_spans(spans), key=lambda e: e.start)


def ents_prf(nlp: Any, examples: list[Any]) -> dict[str, float]:
    """ents_p / ents_r / ents_f of ``nlp`` on gold examples (spaCy's scorer)."""
    from spacy.training import Example

    # A pipeline with word vectors reads them from each doc's vocab: examples made with
    # another vocab (a blank probe) get their texts made again with this pipeline's.
    examples = [
        eg
        if eg.predicted.vocab is nlp.vocab
        else Example(nlp.make_doc(eg.reference.text), eg.reference)
        for eg in examples
    ]
    scores = nlp.evaluate(examples)
    return {k: float(scores.get(k) or 0.0) for k in ("ents_p", "ents_r", "ents_f")}


# -- timing, stats, machine ------------------------------------------------------------------


class Timer:
    """``with Timer() as t: ...``; then ``t.seconds``."""

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def mean_sd(values: Sequence[float | None]) -> tuple[float, float]:
    vals = [v for v in values if v is not None]
    if not vals:
        return float("nan"), float("nan")
    return statistics.fmean(vals), (statistics.stdev(vals) if len(vals) > 1 else 0.0)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    import duckdb
    import spacy

    return {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "nproc": os.cpu_count(),
        "ram_gb": ram,
        "cpu": cpu,
        "python": platform.python_version(),
        "spacy": spacy.__version__,
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
    }


def use_results(directory: str | Path) -> None:
    """Write (and read) results files in ``directory`` instead of ``benchmarks/results``."""
    global RESULTS, UNITS
    RESULTS = Path(directory).resolve()
    UNITS = RESULTS / "learning_units"
    os.environ[RESULTS_ENV] = str(RESULTS)


class _ResultsDir(argparse.Action):
    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        use_results(values)
        setattr(namespace, self.dest, str(RESULTS))


def add_results_arg(p: argparse.ArgumentParser) -> None:
    """``--results DIR``: where the script writes its results files (smoke tests: a temp dir)."""
    p.add_argument(
        "--results",
        metavar="DIR",
        default=str(RESULTS),
        action=_ResultsDir,
        help="directory for the results files (default: benchmarks/results, whose "
        "new files git ignores)",
    )


def write_json(name: str, payload: Mapping[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(payload, indent=1, default=str) + "\n", encoding="utf8")
    return path


def write_results(name: str, args: Any, **payload: Any) -> Path:
    """A script's results file: the machine and the settings it ran with, then ``payload``."""
    settings = {k: v for k, v in vars(args).items() if k != "silent"}
    return write_json(name, {"machine": machine(), "settings": settings, **payload})


def table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table (also readable in a terminal)."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)
    ]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |"
    sep = "| " + " | ".join("-" * w for w in widths) + " |"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    return "\n".join([line, sep, *body])


def run_units(
    unit: Callable[[Any], dict[str, Any]],
    jobs: Sequence[Any],
    n_jobs: int,
    done: Callable[[dict[str, Any]], None],
) -> None:
    """``unit(job)`` for every job, in ``n_jobs`` spawned processes (1: in this one); ``done``
    gets each result as it completes, so a killed run keeps the units it finished."""
    if n_jobs <= 1:
        for job in jobs:
            done(unit(job))
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    with ProcessPoolExecutor(n_jobs, mp_context=get_context("spawn")) as pool:
        for fut in as_completed([pool.submit(unit, job) for job in jobs]):
            done(fut.result())
