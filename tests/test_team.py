"""A team on one PostgreSQL dataset: several processes, holds on texts, one answer per question,
the server's faults, and secrets. Real server (a throwaway cluster), real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pg_cluster import free_port

import nbannotate as nba
from nbannotate import Database
from nbannotate.errors import StoreError

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
LABELS = ["PRODUCT"]


def texts(n: int) -> list[str]:
    from gadgets import gadget_texts

    return gadget_texts(n, seed=7)


def annotator_process(url: str, name: str, n_texts: int, *, overlap: bool = False, extra=""):
    """A process that annotates (manual) every text it is given until none is left, printing
    each acknowledged answer's input hash as it is stored."""
    code = f"""
        import sys, json, time
        sys.path.insert(0, {str(TESTS)!r})
        import nbannotate as nba
        from gadgets import gadget_texts
        s = nba.manual("team", gadget_texts({n_texts}, seed=7), labels=["PRODUCT"],
                       db={url!r}, annotator={name!r}, overlap={overlap!r}, lease=3,
                       split_sentences=False)
        {extra}
        while True:
            task = s.next_task(timeout=60)
            if task is None:
                break
            stored = s.answer(task, "accept")
            print(json.dumps({{"ih": stored["_input_hash"]}}), flush=True)
        s.close()
        print("DONE", flush=True)
    """
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in another Python process (another kernel) and wait for it."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def acknowledged(out: str) -> list[int]:
    return [json.loads(line)["ih"] for line in out.splitlines() if line.startswith("{")]


# -- bad addresses and faults ------------------------------------------------------------------


def test_an_unreachable_server_names_host_and_port():
    port = free_port()
    with pytest.raises(StoreError) as err:
        Database(f"postgresql://nba:topsecret@127.0.0.1:{port}/team")
    msg = str(err.value)
    assert f"127.0.0.1:{port}" in msg and "reach" in msg
    assert "topsecret" not in msg


def test_a_wrong_password_is_named_and_never_shown(pg_server):
    pg_server.sql("CREATE ROLE alice LOGIN PASSWORD 'right-pw'")
    url = pg_server.url("postgres", "alice", "wrong-pw-42")
    with pytest.raises(StoreError) as err:
        nba.teach("x", ["A text ."], "blank:en", labels=LABELS, db=url)
    msg = str(err.value)
    assert "password" in msg and "'alice'" in msg
    assert "wrong-pw-42" not in msg and "wrong-pw-42" not in repr(err.value)


def test_a_missing_database_says_how_to_create_it(pg_server):
    with pytest.raises(StoreError, match="does not exist.*CREATE DATABASE nosuchdb"):
        Database(pg_server.url("nosuchdb"))


@pytest.mark.parametrize(
    "url, fix",
    [
        ("postgressql://nba@127.0.0.1:5432/x", "postgressql"),
        ("psql://u:pw@127.0.0.1/x", "psql"),
    ],
)
def test_a_url_with_a_typo_in_the_scheme_is_refused(tmp_path, monkeypatch, url, fix):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=f"Unknown database URL scheme '{fix}'") as err:
        nba.manual("x", ["A text ."], labels=LABELS, db=url)
    assert ":pw@" not in str(err.value)
    assert list(tmp_path.iterdir()) == []  # no folder named after the scheme


def test_the_password_never_appears_in_reprs_progress_or_widget(pg_server):
    pg_server.sql("CREATE ROLE bob LOGIN PASSWORD 'pw-bob-7' SUPERUSER")
    url = pg_server.url(pg_server.create_database().rsplit("/", 1)[1], "bob", "pw-bob-7")
    db = Database(url)
    s = nba.manual("x", texts(3), labels=LABELS, db=db, annotator="bob")
    w = s.widget()
    seen = " ".join(
        [repr(db), db.path, repr(s), json.dumps(s.progress, default=str), repr(s.db_dataset)]
        + [json.dumps(w.get_state(), default=str)]
    )
    assert "pw-bob-7" not in seen
    assert "bob:***@" in db.path
    s.close()
    db.close()


def test_without_psycopg_a_url_says_what_to_install(pg_url):
    code = f"""
        import sys
        sys.modules["psycopg"] = None  # as if it were not installed
        import nbannotate as nba
        try:
            nba.Database({pg_url!r})
        except nba.errors.StoreError as e:
            print(e)
    """
    out = run_python(code)
    assert 'pip install "nbannotate[postgres]"' in out.stdout, out.stderr


def test_a_read_only_role_can_read_but_a_session_fails_at_the_call(pg_server):
    url = pg_server.create_database()
    dbname = url.rsplit("/", 1)[1]
    with Database(url) as db:
        db.dataset("gold", create=True).add({"text": "A Kindle ."}, answer="accept")
    pg_server.sql("CREATE ROLE reader LOGIN PASSWORD 'rpw'")
    pg_server.sql(
        "GRANT USAGE ON SCHEMA nbannotate TO reader; "
        "GRANT SELECT ON ALL TABLES IN SCHEMA nbannotate TO reader",
        dbname,
    )
    ro = pg_server.url(dbname, "reader", "rpw")
    with Database(ro) as db:
        assert len(db.dataset("gold").to_pandas()) == 1
    with pytest.raises(StoreError, match="may read but not write.*GRANT") as err:
        nba.manual("gold", ["Another text ."], labels=LABELS, db=ro)
    assert "rpw" not in str(err.value)
    with Database(url) as db:
        assert len(db.dataset("gold")) == 1


def test_names_are_data_never_sql(pg_url):
    name = "x'); DROP TABLE nbannotate.answers; --"
    s = nba.manual(name, texts(2), labels=LABELS, db=pg_url, annotator="o'brien; --")
    s.answer(s.next_task(), "accept")
    s.close()
    with Database(pg_url) as db:
        df = db.dataset(name).to_pandas()
        assert list(df["annotator"]) == ["o'brien; --"]
        assert db.datasets() == [name]


def test_the_server_going_away_loses_nothing_and_answering_resumes(pg_server):
    url = pg_server.create_database()
    s = nba.manual("x", texts(6), labels=LABELS, db=url, annotator="ann")
    first = s.next_task()
    s.answer(first, "accept")
    task = s.next_task()
    pg_server.stop("fast")
    try:
        with pytest.raises(StoreError, match="Lost the connection|reach") as err:
            s.answer(task, "accept")
        assert "Nothing was stored" in str(err.value) or "reach" in str(err.value)
    finally:
        pg_server.start()
    stored = s.answer(task, "accept")  # the same task, no restart of the session
    assert stored["_input_hash"] == task["_input_hash"]
    nxt = s.next_task()
    s.answer(nxt, "accept")
    s.close()
    with Database(url) as db:
        df = db.dataset("x").to_pandas()
    assert len(df) == 3 and df["input_hash"].is_unique


def test_a_hung_server_fails_the_call_that_waits_on_it_and_loses_nothing(pg_server, monkeypatch):
    """A server that stops answering (its processes stopped: the connection stays open and
    TCP still acknowledges) fails the answer that waits on it after STALL_TIMEOUT, with an
    error naming the hang, rather than blocking the kernel for ever. Once it answers again,
    the same answer is stored, once."""
    from nbannotate.store import postgres_engine

    url = pg_server.create_database()
    s = nba.manual("x", texts(6), labels=LABELS, db=url, annotator="ann")
    s.answer(s.next_task(), "accept")
    task = s.next_task()
    monkeypatch.setattr(postgres_engine, "STALL_TIMEOUT", 1.0)
    with pg_server.paused(), pytest.raises(StoreError, match="did not answer for 1 s") as err:
        s.answer(task, "accept")
    assert "not acknowledged" in str(err.value)
    monkeypatch.setattr(postgres_engine, "STALL_TIMEOUT", 60.0)
    s.answer(task, "accept")  # the same task, no restart of the session
    s.answer(s.next_task(), "accept")
    assert [r["answer"] for r in s.history()] == ["accept"] * 3
    s.close()
    with Database(url) as db:
        df = db.dataset("x").to_pandas()
    assert len(df) == 3 and df["input_hash"].is_unique


# -- several writers ---------------------------------------------------------------------------


def test_annotators_in_processes_share_the_texts_without_overlap(pg_url):
    n = 30
    procs = [annotator_process(pg_url, name, n) for name in ("ann", "ben", "cat")]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "DONE" in out, err
    acked = [acknowledged(out) for out, _ in outs]
    everyone = [ih for a in acked for ih in a]
    assert len(everyone) == len(set(everyone)) == n  # each text once, by one annotator
    with Database(pg_url) as db:
        df = db.dataset("team").to_pandas()
    assert sorted(df["input_hash"]) == sorted(everyone)  # every acknowledged answer stored
    by = df.groupby("annotator")["input_hash"].apply(set).to_dict()
    for name, got in zip(("ann", "ben", "cat"), acked):
        assert by.get(name, set()) == set(got)


def test_with_overlap_every_annotator_answers_every_text_once(pg_url):
    n = 12
    procs = [annotator_process(pg_url, name, n, overlap=True) for name in ("ann", "ben")]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and "DONE" in out, err
    with Database(pg_url) as db:
        df = db.dataset("team").to_pandas()
    assert len(df) == 2 * n
    for _name, group in df.groupby("annotator"):
        assert group["input_hash"].nunique() == n == len(group)


def test_a_killed_annotators_texts_go_back_to_the_pool_after_the_lease(pg_url):
    n = 8
    # ann takes three texts (holds them: a widget shows them) and is killed before answering
    grab = (
        "[s.next_task() for _ in range(3)]; print('HELD', flush=True); import time; time.sleep(600)"
    )
    ann = annotator_process(pg_url, "ann", n, extra=grab)
    assert ann.stdout is not None
    assert ann.stdout.readline().strip() == "HELD", ann.stderr.read() if ann.stderr else ""
    os.kill(ann.pid, signal.SIGKILL)
    ann.wait()
    ben = annotator_process(pg_url, "ben", n)
    out, err = ben.communicate(timeout=600)
    assert ben.returncode == 0 and "DONE" in out, err
    assert len(set(acknowledged(out))) == n  # ben got the held texts once the lease ran out


def test_a_session_learns_from_and_skips_what_other_processes_answered(pg_url):
    """A teach session in this kernel; another process answers on the same dataset: its
    answers reach this session's model and index (the watcher)."""
    from gadgets import gadget_texts, product_patterns

    s = nba.teach(
        "loop", gadget_texts(40, seed=3), "blank:en", labels=LABELS,
        patterns=product_patterns(), db=pg_url, annotator="me", batch_size=5,
    )  # fmt: skip
    code = f"""
        import nbannotate as nba
        db = nba.Database({pg_url!r})
        ds = db.dataset("loop")
        for i in range(12):
            text = "The Kindle is great number " + str(i) + " ."
            ds.add({{"text": text, "spans": [{{"start": 4, "end": 10, "label": "PRODUCT"}}]}},
                   answer="accept", annotator="other")
        print("OK")
    """
    out = run_python(code)
    assert "OK" in out.stdout, out.stderr
    deadline = time.monotonic() + 120
    while s.progress["updates"] < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert s.progress["updates"] >= 2  # 12 answers of another process, batches of 5
    assert s.progress["session"]["total"] == 0
    assert s.progress["annotators"].get("other") == 12
    s.close()


def test_the_store_refuses_a_second_answer_to_one_question_from_another_process(pg_url):
    """The process's own index has not seen the first answer (loaded before it): the mark
    the store sets with each answer refuses the second one all the same."""
    task = {"text": "A Kindle .", "spans": [{"start": 2, "end": 8, "label": "PRODUCT"}]}
    code = f"""
        import sys
        import nbannotate as nba
        ds = nba.Database({pg_url!r}).dataset("q", create=True)
        ds.answer_index()  # loaded now, before the other process answers
        print("READY", flush=True)
        sys.stdin.readline()
        try:
            ds.add({task!r}, answer="reject", once="task", session_id="two")
            print("STORED")
        except nba.errors.AnswerError as e:
            print("REFUSED", e)
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "READY"
    with Database(pg_url) as db:
        db.dataset("q").add(task, answer="accept", once="task", session_id="one")
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=120)
        assert out.startswith("REFUSED"), out + err
        df = db.dataset("q").to_pandas()
    assert list(df["answer"]) == ["accept"]


def test_a_session_keeps_hearing_others_after_another_session_of_its_kernel_closes(pg_url):
    """Two sessions, each with its own Database handle on the URL; the first one closes (and
    its handle with it): the second still reads the answers other processes store."""
    first = nba.manual("team", texts(4), labels=LABELS, db=pg_url, annotator="ann")
    second = nba.manual("team", texts(4), labels=LABELS, db=pg_url, annotator="ben")
    first.close()
    code = f"""
        import nbannotate as nba
        with nba.Database({pg_url!r}) as db:
            db.dataset("team").add({{"text": "Cat's text ."}}, answer="accept", annotator="cat")
    """
    out = run_python(code)
    assert out.returncode == 0, out.stderr
    deadline = time.monotonic() + 60
    while second.progress["annotators"].get("cat") != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert second.progress["annotators"].get("cat") == 1
    assert second.progress["store_error"] is None
    second.close()


def test_teach_in_two_processes_never_answers_a_question_twice(pg_url):
    code = """
        import sys, json
        sys.path.insert(0, {tests!r})
        import nbannotate as nba
        from gadgets import gadget_texts, oracle, product_patterns
        s = nba.teach("loop", gadget_texts(30, seed=5), "blank:en", labels=["PRODUCT"],
                      patterns=product_patterns(), db={url!r}, annotator={name!r},
                      whole=None, complete=None)
        while (task := s.next_task(timeout=120)) is not None:
            s.answer(task, oracle(task))
        s.close()
        print("DONE", flush=True)
    """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code.format(tests=str(TESTS), url=pg_url,
                                                               name=name))],
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("ann", "ben")
    ]  # fmt: skip
    for p in procs:
        out, err = p.communicate(timeout=900)
        assert p.returncode == 0 and "DONE" in out, err
    with Database(pg_url) as db:
        df = db.dataset("loop").to_pandas()
    assert len(df) > 30 and df["task_hash"].is_unique  # no question answered twice
    # (which annotator gets more depends on which process starts first: not checked)
    # A text goes to one session while it holds it; once that session closes, the text's
    # questions it did not ask (its model proposed others) go back to the pool: so most texts,
    # not all, were answered by one annotator only.
    per_text = df.groupby("input_hash")["annotator"].nunique()
    assert (per_text == 1).mean() > 0.5


def test_next_task_waits_for_a_server_that_restarts(pg_server):
    """A text is claimed before it is shown: with the server away that waits (up to a minute),
    so a restart costs the annotator a pause, not an error that stops the widget's feed."""
    import threading

    url = pg_server.create_database()
    s = nba.manual("x", texts(6), labels=LABELS, db=url, annotator="ann", split_sentences=False)
    s.answer(s.next_task(), "accept")
    pg_server.stop("fast")
    back = threading.Timer(2.0, pg_server.start)
    back.start()
    try:
        task = s.next_task()  # the hold waits for the server, then goes on
    finally:
        back.join()
    assert task is not None
    s.answer(task, "accept")
    s.close()
    with Database(url) as db:
        assert len(db.dataset("x")) == 2
