"""nba.agreement(): inter-annotator agreement over answers in a real DuckDB file.

A hand-computed case (the arithmetic written out), checks against scikit-learn's Cohen's kappa
and statsmodels' Fleiss' kappa on random answers, answers made by real manual and teach
sessions with annotator=, and the errors a user gets for bad input.
"""

from __future__ import annotations

import itertools
import math
import random
import warnings
from pathlib import Path

import pytest
from gadgets import PATTERN_PRODUCTS, answer_tasks, gadget_texts, gold_spans, product_patterns
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

import nbannotate as nba
from nbannotate.agreement import ALL, Version, versions
from nbannotate.errors import ArgumentError, DatasetError, StoreError
from nbannotate.store import Database
from nbannotate.tasks import VIEW_MANUAL, make_task

T1 = "Apple makes the iPhone and Google makes the Pixel ."
T2 = "I read on a Kindle every day ."
T3 = "The Galaxy and the Surface came from Samsung and Microsoft in Seoul ."


def span(text: str, word: str, label: str) -> dict:
    start = text.index(word)
    return {"start": start, "end": start + len(word), "label": label}


def gold(text: str, *spans: tuple[str, str], whole: bool = False) -> dict:
    """A complete annotation of ``text`` (a manual one, or teach's whole analysis)."""
    marked = [span(text, w, lb) for w, lb in spans]
    if whole:
        return make_task(text, [], marked, meta={"whole": True})
    return make_task(text, [], marked, view_id=VIEW_MANUAL)


def question(text: str, word: str, label: str) -> dict:
    """A binary question about one span."""
    return make_task(text, [], [span(text, word, label)])


def row(frame, **where):
    """The one row of ``frame`` whose columns have these values, as a dict."""
    hit = frame
    for column, value in where.items():
        hit = hit[hit[column] == value]
    assert len(hit) == 1, (where, frame)
    return hit.iloc[0].to_dict()


# -- the hand-computed case -------------------------------------------------------------------

QUESTIONS = [  # (word, label) asked about on T3, and alice's, bob's, carol's answers
    ("Galaxy", "PRODUCT", "accept", "accept", "accept"),  # q1
    ("Surface", "PRODUCT", "accept", "reject", "accept"),  # q2
    ("The Galaxy", "PRODUCT", "reject", "reject", "reject"),  # q3 (alice: accept, then reject)
    ("Samsung", "ORG", "accept", "accept", "reject"),  # q4
    ("Seoul", "ORG", "reject", "accept", "reject"),  # q5
    ("Microsoft", "ORG", "accept", "accept", "accept"),  # q6
    ("Surface", "ORG", "accept", "ignore", "accept"),  # q7: bob ignored it
]


@pytest.fixture
def team(db_path: Path) -> Path:
    """Three annotators' answers in one dataset, told apart by their annotator."""
    with Database(db_path) as db:
        ds = db.dataset("team", create=True)
        add = ds.add
        # Complete annotations. T1: alice and carol mark the same 4 spans; bob misses Google
        # and labels Pixel ORG. T2: alice first stored it without a span, then with Kindle
        # (the latest counts); bob the same Kindle; carol rejected teach's whole analysis of
        # it, which is no complete annotation.
        four = [("Apple", "ORG"), ("iPhone", "PRODUCT"), ("Google", "ORG"), ("Pixel", "PRODUCT")]
        add(gold(T1, *four), answer="accept", annotator="alice")
        add(gold(T1, ("Apple", "ORG"), ("iPhone", "PRODUCT"), ("Pixel", "ORG")),
            answer="accept", annotator="bob")  # fmt: skip
        add(gold(T1, *four), answer="accept", annotator="carol")
        add(gold(T2), answer="accept", annotator="alice")
        add(gold(T2, ("Kindle", "PRODUCT")), answer="accept", annotator="alice")
        add(gold(T2, ("Kindle", "PRODUCT")), answer="accept", annotator="bob")
        add(gold(T2, ("Kindle", "ORG"), whole=True), answer="reject", annotator="carol")
        # Binary decisions on T3.
        add(question(T3, "The Galaxy", "PRODUCT"), answer="accept", annotator="alice")
        for word, label, *answers in QUESTIONS:
            for who, answer in zip(("alice", "bob", "carol"), answers):
                add(question(T3, word, label), answer=answer, annotator=who)
    return db_path


def test_a_hand_computed_case_of_three_annotators_in_one_dataset(team: Path) -> None:
    result = nba.agreement("team", db=team)
    assert result.annotators == ("alice", "bob", "carol")
    assert result.labels == ("ORG", "PRODUCT")
    f1 = {
        (r["annotator_a"], r["annotator_b"], r["label"]): r for r in result.gold.to_dict("records")
    }
    # alice-bob share T1 and T2. alice: Apple/ORG iPhone/PRODUCT Google/ORG Pixel/PRODUCT
    # Kindle/PRODUCT (5 spans); bob: Apple/ORG iPhone/PRODUCT Pixel/ORG Kindle/PRODUCT (4);
    # matched: Apple, iPhone, Kindle (3). F1 = 2*3 / (5+4) = 6/9.
    ab = f1[("alice", "bob", ALL)]
    assert (ab["texts"], ab["spans_a"], ab["spans_b"], ab["matched"]) == (2, 5, 4, 3)
    assert ab["f1"] == pytest.approx(6 / 9)
    # PRODUCT: alice iPhone Pixel Kindle (3), bob iPhone Kindle (2), matched 2: 2*2/(3+2) = 4/5
    assert f1[("alice", "bob", "PRODUCT")]["f1"] == pytest.approx(4 / 5)
    # ORG: alice Apple Google (2), bob Apple Pixel (2), matched 1: 2*1/(2+2) = 1/2
    assert f1[("alice", "bob", "ORG")]["f1"] == pytest.approx(1 / 2)
    # alice-carol share T1 only (carol's T2 is a rejected whole analysis): 4 of 4 spans match.
    ac = f1[("alice", "carol", ALL)]
    assert (ac["texts"], ac["matched"], ac["f1"]) == (1, 4, 1.0)
    # bob-carol on T1: bob 3 spans, carol 4, matched 2 (Apple, iPhone): 2*2/(3+4) = 4/7
    assert f1[("bob", "carol", ALL)]["f1"] == pytest.approx(4 / 7)
    # the mean over the three pairs: (6/9 + 1 + 4/7) / 3
    assert row(result.gold_mean, label=ALL)["f1"] == pytest.approx((6 / 9 + 1 + 4 / 7) / 3)
    assert row(result.gold_mean, label=ALL)["pairs"] == 3

    binary = {
        (r["annotator_a"], r["annotator_b"], r["label"]): r
        for r in result.binary.to_dict("records")
    }
    # alice-bob decided q1-q6 (bob ignored q7): alice A A R A R A, bob A R R A A A.
    # Agreed on q1 q3 q4 q6: 4/6. Chance: both accept 4/6, reject 2/6:
    # pe = 4/6*4/6 + 2/6*2/6 = 20/36 = 5/9; kappa = (4/6 - 5/9) / (1 - 5/9) = (1/9)/(4/9) = 1/4.
    ab = binary[("alice", "bob", ALL)]
    assert (ab["questions"], ab["agreed"]) == (6, 4)
    assert ab["percent"] == pytest.approx(100 * 4 / 6)
    assert ab["kappa"] == pytest.approx(1 / 4)
    # PRODUCT (q1-q3): alice A A R, bob A R R: po = 2/3; pe = 2/3*1/3 + 1/3*2/3 = 4/9;
    # kappa = (2/3 - 4/9) / (1 - 4/9) = (2/9)/(5/9) = 2/5
    assert binary[("alice", "bob", "PRODUCT")]["kappa"] == pytest.approx(2 / 5)
    # ORG (q4-q6): alice A R A, bob A A A: po = 2/3; pe = 2/3*1 + 1/3*0 = 2/3; kappa = 0
    assert binary[("alice", "bob", "ORG")]["kappa"] == pytest.approx(0.0)
    # alice-carol decided q1-q7: alice A A R A R A A, carol A A R R R A A: agreed 6/7.
    # pe = 5/7*4/7 + 2/7*3/7 = 26/49; kappa = (42/49 - 26/49) / (23/49) = 16/23
    ac = binary[("alice", "carol", ALL)]
    assert (ac["questions"], ac["agreed"]) == (7, 6)
    assert ac["kappa"] == pytest.approx(16 / 23)

    # Fleiss on q1-q6 (decided by all three); per question (accepts, rejects):
    # (3,0) (2,1) (0,3) (2,1) (1,2) (3,0). P_i = (sum n_ij^2 - 3) / (3*2): 1, 1/3, 1, 1/3,
    # 1/3, 1; P = 4/6 = 2/3. p_accept = 11/18, p_reject = 7/18: Pe = (121 + 49)/324 = 85/162.
    # kappa = (2/3 - 85/162) / (1 - 85/162) = (23/162) / (77/162) = 23/77
    fleiss = row(result.fleiss, label=ALL)
    assert (fleiss["annotators"], fleiss["questions"]) == (3, 6)
    assert fleiss["kappa"] == pytest.approx(23 / 77)

    # What each pair shares; T1 differs in its annotations, T3 in some decisions.
    pairs = {(r["annotator_a"], r["annotator_b"]): r for r in result.pairs.to_dict("records")}
    assert [pairs[p]["texts"] for p in pairs] == [3, 3, 3]
    assert [pairs[p]["gold_texts"] for p in pairs] == [2, 1, 1]
    assert [pairs[p]["questions"] for p in pairs] == [6, 7, 6]
    assert [pairs[p]["disagreements"] for p in pairs] == [2, 1, 2]
    dis = result.disagreements.set_index("text")
    assert sorted(dis.index) == sorted([T1, T3])
    assert bool(dis.loc[T1, "gold"]) and not dis.loc[T1, "binary"]
    assert bool(dis.loc[T3, "binary"]) and not dis.loc[T3, "gold"]
    assert (result.texts, result.gold_texts, result.questions) == (3, 2, 7)
    assert "complete annotations: 2 texts annotated by two or more annotators; mean span F1 " \
        "0.746" in repr(result)  # fmt: skip


def test_the_summary_shows_the_numbers_and_escapes_names(db_path: Path) -> None:
    with Database(db_path) as db:
        ds = db.dataset("team", create=True)
        for who, answer in (("<b>ann</b>", "accept"), ("ben", "reject")):
            ds.add(question(T3, "Galaxy", "PRODUCT"), answer=answer, annotator=who)
            ds.add(gold(T2, ("Kindle", "PRODUCT")), answer="accept", annotator=who)
    result = nba.agreement("team", db=db_path)
    page = result._repr_html_()
    assert "&lt;b&gt;ann&lt;/b&gt;" in page and "<b>ann" not in page
    assert "Fleiss" not in page  # two annotators: Cohen's kappa only
    assert len(result.fleiss) == 0
    text = repr(result)
    assert "'<b>ann</b>', 'ben'" in text
    assert "mean span F1 1" in text  # the one text: the same Kindle
    assert "mean percent agreement 0" in text  # the one question: accept vs reject
    assert "texts with a disagreement: 1 of the 2 texts" in text


def test_labels_restrict_every_table(team: Path) -> None:
    result = nba.agreement("team", db=team, labels=["PRODUCT"])
    assert result.labels == ("PRODUCT",)
    assert set(result.gold["label"]) == set(result.binary["label"]) == {ALL, "PRODUCT"}
    # only PRODUCT spans: alice-bob's overall F1 is their PRODUCT F1 (4/5)
    assert row(result.gold, annotator_a="alice", annotator_b="bob", label=ALL)["f1"] == (
        pytest.approx(4 / 5)
    )
    # only the PRODUCT questions q1-q3: kappa 2/5 for alice-bob
    ab = row(result.binary, annotator_a="alice", annotator_b="bob", label=ALL)
    assert ab["questions"] == 3 and ab["kappa"] == pytest.approx(2 / 5)
    # T1's annotations still differ on PRODUCT (bob's Pixel is ORG); T3 on q2
    assert sorted(result.disagreements["text"]) == sorted([T1, T3])


def test_versions_give_each_annotators_latest_answer(team: Path) -> None:
    by_text = versions("team", db=team)
    t2 = [v for v in by_text[make_task(T2, [], [])["_input_hash"]]]
    assert all(isinstance(v, Version) for v in t2)
    complete = {v.annotator: v for v in t2 if v.complete}
    assert set(complete) == {"alice", "bob"}
    # alice's second annotation of T2 (with Kindle) is hers, and it came from this dataset
    assert complete["alice"].span_keys == {(12, 18, "PRODUCT")}
    assert complete["alice"].dataset == "team" and complete["alice"].tasks[-1]["answer"] == "accept"
    (carol,) = [v for v in t2 if v.annotator == "carol"]
    assert (carol.kind, carol.answer, carol.complete) == ("gold", "reject", False)
    t3 = by_text[make_task(T3, [], [])["_input_hash"]]
    q3 = [v for v in t3 if v.annotator == "alice" and v.spans[0]["start"] == 0]
    # q3: alice accepted, then rejected: one version, the reject, with both answers behind it
    assert [v.answer for v in q3] == ["reject"]
    assert [t["answer"] for t in q3[0].tasks] == ["accept", "reject"]
    assert {v.label for v in t3} == {"PRODUCT", "ORG"}
    only_org = versions("team", db=team, labels=["ORG"])
    assert {v.label for vs in only_org.values() for v in vs if v.kind == "binary"} == {"ORG"}
    assert all(s["label"] == "ORG" for vs in only_org.values() for v in vs for s in v.spans)


def test_a_changed_or_undone_answer_counts_as_it_is_now(db_path: Path) -> None:
    with Database(db_path) as db:
        a, b = db.dataset("a", create=True), db.dataset("b", create=True)
        for ds in (a, b):  # no annotator named: each dataset is one annotator
            ds.add(question(T3, "Galaxy", "PRODUCT"), answer="accept")
            ds.add(question(T3, "Surface", "PRODUCT"), answer="accept")
        first = row(nba.agreement(["a", "b"], db=db).binary, label=ALL)
        assert (first["questions"], first["agreed"]) == (2, 2)
        b.update_answer(question(T3, "Galaxy", "PRODUCT")["_task_hash"], "reject")
        b.remove(question(T3, "Surface", "PRODUCT")["_task_hash"])
        now = row(nba.agreement(["a", "b"], db=db).binary, label=ALL)
        assert (now["annotator_a"], now["annotator_b"]) == ("a", "b")
        assert (now["questions"], now["agreed"]) == (1, 0)


def test_a_prodigy_import_with_several_annotators_and_per_span_answers(db_path: Path) -> None:
    """Prodigy's feed_overlap datasets hold every annotator's answers (``_annotator_id``); a
    ner.teach export may answer each span of a task on its own."""
    spans = [span(T3, "Galaxy", "PRODUCT"), span(T3, "Samsung", "ORG")]
    lines = [
        {"text": T3, "spans": [{**spans[0], "answer": a0}, {**spans[1], "answer": a1}],
         "answer": "accept", "_annotator_id": who, "_timestamp": 1_700_000_000}
        for who, a0, a1 in (("team-alice", "accept", "accept"), ("team-bob", "accept", "reject"))
    ]  # fmt: skip
    with Database(db_path) as db:
        db.dataset("team", create=True).import_jsonl(lines, progress=False)
        result = nba.agreement("team", db=db)
        assert not db.closed  # a Database passed in is the caller's: left open
    assert result.annotators == ("team-alice", "team-bob")
    got = row(result.binary, label=ALL)
    assert (got["questions"], got["agreed"]) == (2, 1)  # each span is a question
    assert row(result.binary, label="PRODUCT")["agreed"] == 1
    assert row(result.binary, label="ORG")["agreed"] == 0


# -- against scikit-learn and statsmodels ---------------------------------------------------

RATERS = ["ann", "ben", "cat", "dan"]


@pytest.fixture
def random_answers(db_path: Path) -> tuple[Path, dict[str, dict[int, tuple[str, str]]]]:
    """Four annotators, one dataset each (the answers name nobody), answering 150 questions
    of two labels at random: each skips some, ignores some, and leans its own way."""
    rng = random.Random(7)
    texts = gadget_texts(150, seed=3)
    decided: dict[str, dict[int, tuple[str, str]]] = {r: {} for r in RATERS}
    with Database(db_path) as db:
        for k, rater in enumerate(RATERS):
            tasks = []
            for i, text in enumerate(texts):
                if rng.random() < 0.1:
                    continue  # not answered
                label = "PRODUCT" if i % 3 else "ORG"
                task = make_task(text, [], [span(text, text.split()[1], label)])
                truth = i % 2 == 0
                flip = rng.random() < 0.2 + 0.05 * k
                answer = "accept" if truth != flip else "reject"
                if rng.random() < 0.05:
                    answer = "ignore"
                else:
                    decided[rater][task["_task_hash"]] = (label, answer)
                tasks.append({**task, "answer": answer})
            db.dataset(rater, create=True).add_many(tasks)
    return db_path, decided


def test_cohens_kappa_and_percent_agree_with_scikit_learn(random_answers) -> None:
    db_path, decided = random_answers
    result = nba.agreement(RATERS, db=db_path)
    assert result.annotators == tuple(sorted(RATERS))
    checked = 0
    for a, b in itertools.combinations(sorted(RATERS), 2):
        for label in (ALL, "PRODUCT", "ORG"):
            shared = [
                q
                for q in decided[a]
                if q in decided[b] and (label == ALL or decided[a][q][0] == label)
            ]
            xa = [decided[a][q][1] for q in shared]
            xb = [decided[b][q][1] for q in shared]
            got = row(result.binary, annotator_a=a, annotator_b=b, label=label)
            assert got["questions"] == len(shared) > 20
            assert got["kappa"] == pytest.approx(cohen_kappa_score(xa, xb))
            agreed = sum(x == y for x, y in zip(xa, xb))
            assert got["percent"] == pytest.approx(100 * agreed / len(shared))
            checked += 1
    assert checked == 6 * 3


def test_fleiss_kappa_agrees_with_statsmodels(random_answers) -> None:
    db_path, decided = random_answers
    result = nba.agreement(RATERS, db=db_path)
    everyone = set.intersection(*(set(decided[r]) for r in RATERS))
    for label in (ALL, "PRODUCT", "ORG"):
        qs = sorted(q for q in everyone if label == ALL or decided["ann"][q][0] == label)
        table = [[decided[r][q][1] for r in RATERS] for q in qs]
        counts, _categories = aggregate_raters(table)
        got = row(result.fleiss, label=label)
        assert (got["annotators"], got["questions"]) == (4, len(qs))
        assert len(qs) > 20
        assert got["kappa"] == pytest.approx(fleiss_kappa(counts, method="fleiss"))
    # three of the four: Fleiss over those three only
    three = nba.agreement(RATERS[:3], db=db_path)
    qs = sorted(set.intersection(*(set(decided[r]) for r in RATERS[:3])))
    counts, _ = aggregate_raters([[decided[r][q][1] for r in RATERS[:3]] for q in qs])
    assert row(three.fleiss, label=ALL)["kappa"] == pytest.approx(fleiss_kappa(counts))


def test_kappa_is_undefined_when_both_give_one_answer_to_everything(db_path: Path) -> None:
    with Database(db_path) as db:
        for who in ("ann", "ben"):
            ds = db.dataset(who, create=True)
            for word in ("Galaxy", "Surface"):
                ds.add(question(T3, word, "PRODUCT"), answer="accept")
    got = row(nba.agreement(["ann", "ben"], db=db_path).binary, label=ALL)
    assert got["percent"] == 100.0
    assert math.isnan(got["kappa"])  # chance agreement is 1: kappa is 0/0 (scikit-learn: nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns that kappa is undefined
        assert math.isnan(cohen_kappa_score(["accept"] * 2, ["accept"] * 2))


# -- real sessions ----------------------------------------------------------------------------


def test_real_manual_sessions_one_dataset_per_annotator(db_path: Path) -> None:
    """alice accepts the patterns' pre-highlighting; bob also marks the products no pattern
    knows. Their agreement is what the patterns miss."""
    texts = gadget_texts(12, seed=5)
    answered: dict[str, dict[str, set]] = {}
    for who in ("alice", "bob"):
        s = nba.manual(
            f"gadgets_{who}",
            texts,
            ["PRODUCT"],
            patterns=product_patterns(),
            db=db_path,
            split_sentences=False,
            annotator=who,
        )
        answered[who] = {}
        for _ in texts:
            task = s.next_task(timeout=60)
            if who == "alice":
                spans = task["spans"]
            else:
                spans = [
                    {"start": a, "end": b, "label": lb} for a, b, lb in gold_spans(task["text"])
                ]
            stored = s.answer(task, "accept", spans=spans)
            assert stored["_annotator_id"] == who
            answered[who][task["text"]] = {
                (x["start"], x["end"], x["label"]) for x in stored["spans"]
            }
        s.close()
    result = nba.agreement(["gadgets_alice", "gadgets_bob"], db=db_path)
    assert result.annotators == ("alice", "bob")
    alice, bob = answered["alice"], answered["bob"]
    n_a = sum(len(v) for v in alice.values())
    n_b = sum(len(v) for v in bob.values())
    matched = sum(len(alice[t] & bob[t]) for t in texts)
    got = row(result.gold, label=ALL)
    assert (got["texts"], got["spans_a"], got["spans_b"], got["matched"]) == (
        12,
        n_a,
        n_b,
        matched,
    )
    assert got["f1"] == pytest.approx(2 * matched / (n_a + n_b))
    assert 0 < matched < n_b  # the patterns know some products, not all
    differing = {t for t in texts if alice[t] != bob[t]}
    assert set(result.disagreements["text"]) == differing
    assert all(
        not any(p in t for p in PATTERN_PRODUCTS) for t in differing
    )  # only texts without a pattern product differ
    assert row(result.pairs, annotator_a="alice")["questions"] == 0
    assert "No question was accepted or rejected by two annotators" in result._repr_html_()


def test_real_teach_sessions_with_annotators_on_one_source(db_path: Path) -> None:
    """Two annotators teach from the same texts, each into a dataset of their own, and
    answer the questions they share differently now and then."""
    texts = gadget_texts(40, seed=6)
    given: dict[str, dict[int, str]] = {}
    for who, rule in (("alice", 0), ("bob", 1)):

        def decide(task, rule=rule):
            words = task["text"][task["spans"][0]["start"] : task["spans"][0]["end"]]
            good = {(s["start"], s["end"], s["label"]) for s in task["spans"]} <= gold_spans(
                task["text"]
            )
            if rule and words == "Kindle":
                return "ignore"
            if rule and len(words) % 5 == 0:
                return "reject" if good else "accept"  # bob errs on these
            return "accept" if good else "reject"

        with nba.teach(
            f"teach_{who}",
            texts,
            "blank:en",
            labels=["PRODUCT"],
            patterns=product_patterns(),
            db=db_path,
            split_sentences=False,
            annotator=who,
        ) as s:
            stored = answer_tasks(s, 30, decide)
        given[who] = {t["_task_hash"]: t["answer"] for t in stored if not t["meta"].get("whole")}
    result = nba.agreement(["teach_alice", "teach_bob"], db=db_path, labels="PRODUCT")
    shared = [
        q
        for q, ans in given["alice"].items()
        if ans != "ignore" and given["bob"].get(q, "ignore") != "ignore"
    ]
    assert len(shared) >= 10
    assert any(given["bob"].get(q) == "ignore" for q in given["alice"])  # left out
    xa = [given["alice"][q] for q in shared]
    xb = [given["bob"][q] for q in shared]
    got = row(result.binary, label=ALL)
    assert got["questions"] == len(shared)
    assert got["agreed"] == sum(x == y for x, y in zip(xa, xb))
    assert 0 < got["agreed"] < got["questions"]  # bob errs now and then
    assert got["kappa"] == pytest.approx(cohen_kappa_score(xa, xb))


# -- bad input ------------------------------------------------------------------------------


def test_an_unknown_dataset_names_the_known_ones(team: Path) -> None:
    before = team.read_bytes()
    with pytest.raises(DatasetError, match=r"No dataset 'teem'.*Known datasets: 'team'"):
        nba.agreement(["team", "teem"], db=team)
    assert team.read_bytes() == before
    with Database(team) as db:
        assert db.datasets() == ["team"]


def test_one_annotator_is_nothing_to_compare(db_path: Path) -> None:
    with Database(db_path) as db:
        ds = db.dataset("solo", create=True)
        ds.add(question(T3, "Galaxy", "PRODUCT"), answer="accept", annotator="alice")
        ds.add(question(T3, "Surface", "PRODUCT"), answer="reject", annotator="alice")
        db.dataset("empty", create=True)
    with pytest.raises(DatasetError) as err:
        nba.agreement("solo", db=db_path)
    message = str(err.value)
    assert "Nothing to compare" in message and "one annotator only ('alice')" in message
    assert "annotator=" in message and "one dataset per annotator" in message
    with pytest.raises(DatasetError, match="no answers"):
        nba.agreement("empty", db=db_path)
    with Database(db_path) as db:
        assert len(db.dataset("solo")) == 2 and db.datasets() == ["empty", "solo"]


def test_labels_nobody_used_name_the_labels_present(team: Path) -> None:
    with pytest.raises(DatasetError, match=r"label\(s\) PERSON.*Labels present: ORG, PRODUCT"):
        nba.agreement("team", db=team, labels=["PRODUCT", "PERSON"])
    with pytest.raises(ArgumentError, match="labels must be"):
        nba.agreement("team", db=team, labels=[])
    with pytest.raises(ArgumentError, match="datasets must be"):
        nba.agreement([], db=team)


def test_a_missing_database_file_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "answers.duckdb"
    with pytest.raises(StoreError, match="No database at .*does not create a database"):
        nba.agreement(["a", "b"], db=path)
    assert not path.exists() and not path.parent.exists()
    with pytest.raises(StoreError, match="in-memory"):
        nba.agreement(["a", "b"], db=":memory:")


def test_one_dataset_with_overlap_compares_the_annotators_in_it(store_address: str) -> None:
    """Two annotators' sessions on one dataset with overlap=True both annotate every text
    (on a DuckDB file and on PostgreSQL); agreement compares them within that dataset."""
    texts = gadget_texts(6, seed=8)
    for who in ("alice", "bob"):
        s = nba.manual(
            "team", texts, ["PRODUCT"], patterns=product_patterns(), db=store_address,
            split_sentences=False, annotator=who, overlap=True,
        )  # fmt: skip
        while (task := s.next_task(timeout=60)) is not None:
            spans = task["spans"] if who == "alice" else [
                {"start": a, "end": b, "label": lb} for a, b, lb in gold_spans(task["text"])
            ]  # fmt: skip
            s.answer(task, "accept", spans=spans)
        s.close()
    result = nba.agreement("team", db=store_address)
    pair = result.pairs.iloc[0]
    assert {pair["annotator_a"], pair["annotator_b"]} == {"alice", "bob"}
    assert pair["gold_texts"] == len(texts)
