"""Part 6: what each way of annotating buys at equal effort, counted in actions.

An action is a key or click (``nbannotate.effort``): a binary answer is 1; a manual sentence is
one selection and one label per entity plus a submit; a correction is one per fix plus a submit.
The simulated annotator answers from gold and is charged what the widget would count.

Per domain and seed, from one starting model, each configuration spends actions until each
checkpoint B (the first answer at or past B), then ``train()`` runs on the seed gold + its
answers with the same settings and the result is scored on held-out test sentences:

- ``binary``: ``teach`` answering questions only (``correct_rejected=False``);
- ``loop+fix``: ``teach`` at its defaults: a rejected whole analysis or completion question is
  fixed (token-snapped, pre-filled with the model's spans) and stored as gold, and the loop
  offers corrections directly once they bring more entities per action (``loop+fix/whole``:
  only for whole analyses, not for texts the model asks span questions about; ``loop+fix/none``:
  with ``sorter="none"``, every candidate offered in stream order rather than the uncertain
  ones);
- ``correct``: ``nba.correct`` over the pool in random order (the starting model pre-highlights,
  the annotator fixes), ``correct+update``: the same with ``update=True``;
- ``manual``: gold sentences from the pool in random order, each at its manual cost.

Domains: ``btc`` and ``wnut17`` (the split and starting model of ``learning.py``), and
``btc>wnut17``: a pipeline trained on BTC (seed + pool of the BTC split) adapted to WNUT17 with
its labels mapped (person -> PER, location -> LOC, corporation and group -> ORG; product and
creative-work are not entities here): no target gold to start with; every ``train()`` fine-tunes
the BTC pipeline on the answers (dev: WNUT17's dev part).

Writes ``benchmarks/results/<out>.json`` (units saved as they finish, ``--summarize`` rebuilds
the report) and prints tables: F per checkpoint, paired differences with their standard errors,
the exchange rates (actions per gold sentence, per correction, entities per action).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common as C  # noqa: E402

CONFIGS = (
    "binary",
    "loop+fix",
    "loop+fix/whole",
    "loop+fix/none",
    "correct",
    "correct+update",
    "manual",
)
DEFAULT_CONFIGS = ("binary", "loop+fix", "correct", "manual")
#: The teach configurations: their in-loop model is scored too.
LOOPS = tuple(c for c in CONFIGS if c == "binary" or c.startswith("loop+fix"))
DOMAINS = ("btc", "wnut17", "btc>wnut17")
WNUT_TO_BTC = {"person": "PER", "location": "LOC", "corporation": "ORG", "group": "ORG"}


@dataclass
class Setup:
    """One domain and seed: the split, the labels, the starting model, what train() adds."""

    split: C.Split
    labels: list[str]
    start: Path
    base: str  # train()'s base_model for every model after the start
    seed_sets: list[str]  # gold datasets every train() includes (empty when adapting)
    start_scores: dict[str, float]


def _mapped(sentences: list[C.Sentence], mapping: Mapping[str, str]) -> list[C.Sentence]:
    return [
        C.Sentence(s.text, s.tokens, [(a, b, mapping[x]) for a, b, x in s.spans if x in mapping])
        for s in sentences
    ]


def _train(
    db: Any, datasets: list[str], out: Path, base: str, args: argparse.Namespace, seed: int
) -> float:
    with C.Timer() as t:
        C.protocol_train(db, datasets, out, base, args, seed)
    return t.seconds


def _score(path: Path, examples: list[Any]) -> dict[str, float]:
    import spacy

    return C.ents_prf(spacy.load(path), examples)


def setup(domain: str, seed: int, args: argparse.Namespace, root: Path, db: Any) -> Setup:
    import spacy

    if ">" not in domain:
        corpus = C.load_corpus(domain)
        split = C.protocol_split(corpus, seed, args)
        C.add_gold(db, "seed", split.seed)
        C.add_gold(db, "dev", split.dev)
        _train(db, ["seed"], root / "start", args.base, args, seed)
        scores = _score(root / "start", C.gold_examples(spacy.blank("en"), split.test))
        return Setup(split, corpus.labels, root / "start", args.base, ["seed"], scores)
    source, target = domain.split(">")
    src = C.protocol_split(C.load_corpus(source), seed, args)
    C.add_gold(db, "source", [*src.seed, *src.pool])
    C.add_gold(db, "dev", src.dev)
    _train(db, ["source"], root / "start", args.base, args, seed)
    db.drop_dataset("dev")
    tgt = C.load_corpus(target)
    mapped = C.Corpus(target, [], sorted(set(WNUT_TO_BTC.values())), tgt.cite)
    for part in ("train", "dev", "test"):
        for s in _mapped(tgt.part(part), WNUT_TO_BTC):
            mapped.sentences.append(C.Sentence(s.text, s.tokens, s.spans, part))
    split = C.make_split(
        mapped, seed, n_seed=0, n_pool=args.n_pool, n_dev=args.n_dev, n_test=args.n_test
    )
    C.add_gold(db, "dev", split.dev)
    scores = _score(root / "start", C.gold_examples(spacy.blank("en"), split.test))
    return Setup(split, mapped.labels, root / "start", str(root / "start"), [], scores)


def _gold_spans(gold: frozenset[C.SpanKey]) -> list[dict[str, Any]]:
    return [{"start": a, "end": b, "label": x} for a, b, x in sorted(gold)]


def drive(
    session: Any,
    oracle: C.Oracle,
    budgets: list[int],
    at_budget: Callable[[int, int], None],
    fix: bool,
) -> dict[str, Any]:
    """Answer ``session``'s tasks from gold until the last budget of actions is spent; call
    ``at_budget(budget, actions)`` at the first answer at or past each budget."""
    from nbannotate.tasks import VIEW_MANUAL, is_correction, is_whole

    actions = 0
    kinds = dict.fromkeys(("questions", "corrections", "direct corrections", "sentences"), 0)
    fix_actions = entities = 0
    answered: set[int] = set()
    pending = sorted(budgets)
    while pending:
        task = session.next_task(timeout=300)
        if task is None:
            break
        if task["_task_hash"] in answered:  # a question set aside and offered again: settled
            continue
        gold = oracle.gold[task["text"]]
        if task.get("_view_id") == VIEW_MANUAL:  # correct mode, or a correction offered directly
            stored = session.answer(task, "accept", spans=_gold_spans(gold))
            key = "direct corrections" if is_correction(task) else "sentences"
            kinds[key] += 1
            fix_actions += stored["meta"]["actions"]
            entities += len(gold)
        else:
            answer = oracle(task)
            stored = session.answer(task, answer)
            kinds["questions"] += 1
            if answer == "accept":
                entities += len(task["spans"])
            if answer == "reject" and fix and is_whole(task):
                correction = session.correction(task)
                if correction is not None:
                    actions += stored["meta"]["actions"]
                    answered.add(stored["_task_hash"])
                    stored = session.answer(correction, "accept", spans=_gold_spans(gold))
                    kinds["corrections"] += 1
                    fix_actions += stored["meta"]["actions"]
                    entities += len(gold)
        answered.add(stored["_task_hash"])
        actions += stored["meta"]["actions"]
        while pending and actions >= pending[0]:
            at_budget(pending.pop(0), actions)
    fixes = kinds["corrections"] + kinds["direct corrections"] + kinds["sentences"]
    return {
        "actions": actions,
        **kinds,
        "actions_per_fix": round(fix_actions / fixes, 3) if fixes else None,
        "entities_per_action": round(entities / actions, 4) if actions else None,
        "budgets_missed": pending,
    }


def run_unit(domain: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    import spacy

    import nbannotate as nba
    from nbannotate.effort import gold_sentence_actions

    tmp = tempfile.TemporaryDirectory(prefix=f"nba-actions-{seed}-")
    root = Path(tmp.name)
    db = nba.Database(root / "answers.duckdb")
    t0 = time.perf_counter()
    s = setup(domain, seed, args, root, db)
    probe = spacy.blank("en")
    test = C.gold_examples(probe, s.split.test)
    loop_test = test[: args.loop_test]
    pool = s.split.pool
    order = list(pool)
    random.Random(seed + 1000).shuffle(order)
    source = [{"text": x.text, "meta": {"i": i}} for i, x in enumerate(order)]
    out: dict[str, Any] = {
        "domain": domain,
        "seed": seed,
        "sizes": s.split.sizes,
        "labels": s.labels,
        "budgets": args.budgets,
        "start": s.start_scores,
        "gold_sentence_actions": sum(gold_sentence_actions(x.spans) for x in pool) / len(pool),
        "entities_per_sentence": sum(len(x.spans) for x in pool) / len(pool),
        "configs": {},
    }
    log = (lambda m: None) if args.silent else (lambda m: print(f"[{time.strftime('%X')}] {m}"))
    log(f"{domain} seed {seed}: start F={100 * s.start_scores['ents_f']:.1f}")

    def trained(name: str, budget: int) -> dict[str, Any]:
        path = root / f"m_{name}"
        secs = _train(db, [*s.seed_sets, name], path, s.base, args, seed)
        return {**_score(path, test), "train_seconds": round(secs, 1)}

    for cfg in args.configs:
        res: dict[str, Any] = {"final": {}, "in_loop": []}
        name = cfg.replace("+", "_").replace("/", "_")
        if cfg == "manual":  # gold sentences in the random order, each at its manual cost
            spent, n = 0, 0
            for budget in args.budgets:
                first = n
                while spent < budget and n < len(order):
                    spent += gold_sentence_actions(order[n].spans)
                    n += 1
                C.add_gold(db, name, order[first:n])
                res["final"][budget] = {**trained(name, budget), "actions": spent, "sentences": n}
                f1 = 100 * res["final"][budget]["ents_f"]
                log(f"{domain} seed {seed} {cfg} {budget}: F={f1:.1f}")
            res["stats"] = {"actions": spent, "sentences": n}
            out["configs"][cfg] = res
            continue
        common = {"db": db, "labels": s.labels}
        if cfg in LOOPS:
            session = nba.teach(
                name,
                source,
                str(s.start),
                split_sentences=False,
                seed=seed,
                correct_rejected=cfg != "binary",
                sorter="none" if cfg == "loop+fix/none" else "prefer_uncertain",
                **common,
            )
            session.correct_texts = cfg in ("loop+fix", "loop+fix/none")
        else:
            session = nba.correct(
                name,
                source,
                str(s.start),
                update=cfg == "correct+update",
                split_sentences=False,
                **common,
            )
        oracle = C.Oracle(pool)

        def at_budget(
            budget: int,
            actions: int,
            res: dict[str, Any] = res,
            cfg: str = cfg,
            session: Any = session,
            name: str = name,
        ) -> None:
            if cfg in LOOPS:
                from learning import _in_loop_f

                res["in_loop"].append((actions, _in_loop_f(session, loop_test)))
            res["final"][budget] = {**trained(name, budget), "actions": actions}
            log(
                f"{domain} seed {seed} {cfg} {budget}: F={100 * res['final'][budget]['ents_f']:.1f}"
                f" (actions {actions})"
            )

        try:
            if cfg in LOOPS:
                from learning import _in_loop_f

                res["in_loop"].append((0, _in_loop_f(session, loop_test)))
            res["stats"] = drive(session, oracle, args.budgets, at_budget, fix=cfg != "binary")
            res["stats"]["session_actions"] = session.progress["actions"]
        finally:
            session.stop()
        out["configs"][cfg] = res
    out["seconds"] = round(time.perf_counter() - t0, 1)
    db.close()
    tmp.cleanup()
    return out


def _unit(job: tuple[str, int, argparse.Namespace]) -> dict[str, Any]:
    domain, seed, args = job
    try:
        return run_unit(domain, seed, args)
    except BaseException as err:
        if isinstance(err, C.DataMissing):
            raise
        return {"domain": domain, "seed": seed, "error": repr(err), "tb": traceback.format_exc()}


# -- report ------------------------------------------------------------------------------------


def _get(d: Mapping[Any, Any], n: int) -> Any:
    return d.get(n, d.get(str(n)))


def _f(values: list[float]) -> str:
    m, sd = C.mean_sd(values)
    return (
        "-"
        if m != m
        else f"{100 * m:.1f} ± {100 * sd:.1f}"
        if len(values) > 1
        else f"{100 * m:.1f}"
    )


def _diff(values: list[float]) -> str:
    """Mean ± sd of paired differences, x100, with the standard error and how many are > 0."""
    if not values:
        return "-"
    m, sd = C.mean_sd(values)
    se = sd / len(values) ** 0.5 if len(values) > 1 else float("nan")
    ahead = sum(v > 0 for v in values)
    return f"{100 * m:+.1f} ± {100 * sd:.1f} (se {100 * se:.1f}; {ahead}/{len(values)} ahead)"


#: A paired difference "resolves 1 F" when its standard error is at most this (1 F = 2 se).
RESOLVES = 0.005


def _resolution(paired: Mapping[str, Mapping[Any, list[float]]]) -> str:
    """How many paired differences resolve 1 F, and the seeds the others would need at the
    spread measured (sd / se_target, squared)."""
    cells = [v for by in paired.values() for v in by.values() if len(v) > 1]
    if not cells:
        return ""
    sds = [C.mean_sd(v)[1] for v in cells]
    ses = [sd / len(v) ** 0.5 for sd, v in zip(sds, cells, strict=True)]
    need = max(math.ceil((sd / RESOLVES) ** 2) for sd in sds)
    ok = sum(se <= RESOLVES + 1e-12 for se in ses)
    return (
        f"- resolution: {ok} of {len(cells)} paired differences have a standard error of at "
        f"most {100 * RESOLVES:.1f} F (they resolve 1 F); the largest is {100 * max(ses):.1f} F; "
        f"resolving all would take {need} seeds at the spread measured"
    )


#: (a, b) pairs the report compares seed by seed; the first is the default loop.
PAIRS = (
    ("loop+fix", "manual"),
    ("loop+fix", "correct"),
    ("loop+fix", "binary"),
    ("loop+fix", "loop+fix/whole"),
    ("loop+fix", "loop+fix/none"),
    ("loop+fix/none", "correct"),
    ("binary", "manual"),
    ("correct", "manual"),
    ("correct+update", "correct"),
)


def summarize(units: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for domain in args.domains:
        # Seeds with every configuration asked for (a merged run may lack some): all rows and
        # paired differences are over the same seeds.
        runs = [
            u
            for u in units
            if u["domain"] == domain
            and "error" not in u
            and all(c in u["configs"] for c in args.configs)
        ]
        if not runs:
            continue
        budgets = runs[0]["budgets"]
        cfgs = [c for c in CONFIGS if c in args.configs]
        final = {
            c: {
                b: [
                    _get(u["configs"][c]["final"], b)["ents_f"]
                    for u in runs
                    if _get(u["configs"][c]["final"], b)
                ]
                for b in budgets
            }
            for c in cfgs
        }
        paired = {}
        for a, b in PAIRS:
            if a in cfgs and b in cfgs:
                paired[f"{a} - {b}"] = {
                    n: [
                        _get(u["configs"][a]["final"], n)["ents_f"]
                        - _get(u["configs"][b]["final"], n)["ents_f"]
                        for u in runs
                        if _get(u["configs"][a]["final"], n) and _get(u["configs"][b]["final"], n)
                    ]
                    for n in budgets
                }
        in_loop = {}
        for c in LOOPS:
            if c in cfgs:
                curves = [u["configs"][c]["in_loop"] for u in runs]
                in_loop[c] = {
                    "mean": [
                        C.mean_sd([cv[i][1] for cv in curves if len(cv) > i])[0]
                        for i in range(max(len(cv) for cv in curves))
                    ],
                    "seeds_below_start": sum(
                        min(f for _, f in cv) < cv[0][1] - 1e-9 for cv in curves
                    ),
                    "min_drop": min(min(f for _, f in cv) - cv[0][1] for cv in curves),
                }
        rates = {
            "gold_sentence_actions": C.mean_sd([u["gold_sentence_actions"] for u in runs])[0],
            "entities_per_sentence": C.mean_sd([u["entities_per_sentence"] for u in runs])[0],
        }
        rates["manual entities_per_action"] = (
            rates["entities_per_sentence"] / rates["gold_sentence_actions"]
        )
        for c in cfgs:
            stats = [u["configs"][c]["stats"] for u in runs]
            for key in ("actions_per_fix", "entities_per_action"):
                vals = [st[key] for st in stats if st.get(key) is not None]
                if vals:
                    rates[f"{c} {key}"] = C.mean_sd(vals)[0]
        mean = {c: {n: C.mean_sd(v)[0] for n, v in by.items()} for c, by in final.items()}
        targets = {}
        if "loop+fix" in mean:
            for other in ("manual", "correct"):
                if other in mean:
                    targets[f"loop+fix >= {other} at every checkpoint (means)"] = all(
                        mean["loop+fix"][n] >= mean[other][n] for n in budgets
                    )
            if "loop+fix" in in_loop:
                targets["in-loop model never below its start (every seed)"] = (
                    in_loop["loop+fix"]["seeds_below_start"] == 0
                )
        summary[domain] = {
            "seeds": [u["seed"] for u in runs],
            "budgets": budgets,
            "start": [u["start"]["ents_f"] for u in runs],
            "final": final,
            "paired": paired,
            "in_loop": in_loop,
            "rates": rates,
            "targets": targets,
        }
    return summary


def report(summary: dict[str, Any], units: list[dict[str, Any]]) -> str:
    lines = []
    for domain, s in summary.items():
        b = s["budgets"]
        lines.append(f"\n### {domain} (seeds {s['seeds']}; test F x100)\n")
        lines.append(f"Starting model: {_f(s['start'])}\n")
        head = ["train() on the answers of", *[f"{n} actions" for n in b]]
        rows = [[c, *[_f(s["final"][c][n]) for n in b]] for c in s["final"]]
        lines.append(C.table(head, rows))
        lines.append("")
        rows = [[k, *[_diff(v[n]) for n in b]] for k, v in s["paired"].items()]
        lines.append(C.table(["paired difference", *[f"{n}" for n in b]], rows))
        lines.append("\nExchange rates (means over seeds):\n")
        lines.extend(f"- {k}: {v:.3f}" for k, v in s["rates"].items())
        for c, il in s["in_loop"].items():
            curve = " -> ".join(f"{100 * f:.1f}" for f in il["mean"])
            lines.append(
                f"- in-loop model, {c} (start, then at each checkpoint): {curve}; seeds "
                f"ever below their start: {il['seeds_below_start']}, worst drop "
                f"{100 * il['min_drop']:+.1f}"
            )
        lines.append(_resolution(s["paired"]))
        lines.append("\nTargets:\n")
        lines.extend(f"- {k}: {'MET' if v else 'not met'}" for k, v in s["targets"].items())
    for u in units:
        if "error" in u:
            lines.append(f"\nERROR in {u['domain']} seed {u['seed']}: {u['error']}\n{u['tb']}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--domains", default=",".join(DOMAINS), help="comma-separated")
    p.add_argument("--seeds", default="0,1,2,3", help="comma-separated seeds")
    p.add_argument("--configs", default=",".join(DEFAULT_CONFIGS), help="comma-separated")
    p.add_argument("--budgets", default="1000,2000,4000", help="checkpoints, in actions")
    C.add_protocol_args(p)
    p.set_defaults(epochs=8, patience=3)  # learning.py's part-1 settings: 32 seeds fit a night
    p.add_argument("--loop-test", type=int, default=500)
    p.add_argument("--jobs", type=int, default=1, help="(domain, seed) units run in parallel")
    p.add_argument("--quick", action="store_true", help="smoke mode: tiny sizes, about a minute")
    C.add_results_arg(p)
    p.add_argument("--out", default="equal_actions", help="results file stem")
    p.add_argument("--silent", action="store_true")
    p.add_argument("--summarize", action="store_true", help="report from saved unit results")
    p.add_argument(
        "--merge",
        default="",
        help="with --summarize: comma-separated result stems whose configurations of the same "
        "domain and seed join this run's (runs of other configurations on the same seeds)",
    )
    args = p.parse_args(argv)
    if args.quick:
        if args.domains == ",".join(DOMAINS):  # the default: one domain
            args.domains = "btc"
        args.seeds, args.budgets = "0", "60,120"
        args.epochs, args.patience = 2, 0
        args.n_seed, args.n_pool, args.n_dev, args.n_test, args.loop_test = 100, 200, 50, 100, 100
        args.out = "equal_actions_quick"
    args.domains = [d.strip() for d in args.domains.split(",") if d.strip()]
    args.seeds = [int(x) for x in args.seeds.split(",") if x.strip()]
    args.configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    args.budgets = sorted(int(n) for n in args.budgets.split(",") if n.strip())
    args.merge = [m.strip() for m in args.merge.split(",") if m.strip()]
    for d in args.domains:
        if d not in DOMAINS:
            p.error(f"unknown domain {d!r}: use {', '.join(DOMAINS)}")
    for c in args.configs:
        if c not in CONFIGS:
            p.error(f"unknown configuration {c!r}: use {', '.join(CONFIGS)}")
    return args


def _unit_path(args: argparse.Namespace, domain: str, seed: int, stem: str = "") -> Path:
    return C.UNITS / f"{stem or args.out}_{domain.replace('>', '-to-')}_{seed}.json"


def finish(
    units: list[dict[str, Any]], args: argparse.Namespace, seconds: float, quiet: bool = False
) -> int:
    summary = summarize(units, args)
    text = report(summary, units)
    if not quiet:
        print(text)
    path = C.write_results(
        f"{args.out}.json",
        args,
        seconds=round(seconds, 1),
        summary=summary,
        units=units,
        report=text,
    )
    if not quiet:
        print(f"\nWrote {path}")
    return 1 if any("error" in u for u in units) else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for d in args.domains:  # fail fast, with the clear message, before any work
        for name in d.split(">"):
            C.load_corpus(name)
    t0 = time.perf_counter()
    jobs = [(d, seed, args) for seed in args.seeds for d in args.domains]
    if args.summarize:  # configs of one domain and seed from several runs (--merge) join
        units = []
        for d, x, _ in jobs:
            parts = [_unit_path(args, d, x, stem) for stem in [args.out, *args.merge]]
            found = [json.loads(p.read_text()) for p in parts if p.exists()]
            if found:
                for other in found[1:]:
                    found[0]["configs"].update(other["configs"])
                units.append(found[0])
        return finish(units, args, sum(u.get("seconds", 0) for u in units))
    C.UNITS.mkdir(parents=True, exist_ok=True)
    units: list[dict[str, Any]] = []

    def done(unit: dict[str, Any]) -> None:  # saved as it completes: a killed run keeps it
        units.append(unit)
        if "error" not in unit:
            _unit_path(args, unit["domain"], unit["seed"]).write_text(json.dumps(unit))
        finish(units, args, time.perf_counter() - t0, quiet=True)

    C.run_units(_unit, jobs, args.jobs, done)
    units.sort(key=lambda u: (args.domains.index(u["domain"]), u["seed"]))
    return finish(units, args, time.perf_counter() - t0)


if __name__ == "__main__":
    C.run_main(main)
