"""DuckDB store: real database files, real second processes, durability under SIGKILL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from nbannotate.errors import (
    AnswerError,
    DatabaseLockedError,
    DatasetError,
    SourceError,
    StoreError,
)
from nbannotate.store import Database, Dataset, close_all
from nbannotate.tasks import VIEW_MANUAL, input_hash, make_task

ROOT = Path(__file__).resolve().parents[1]
TEXT = "I bought the new iPhone from Apple yesterday."


def binary_task(
    text: str = TEXT,
    start: int = 17,
    end: int = 23,
    label: str = "PRODUCT",
    score: float = 0.61,
    meta: dict | None = None,
) -> dict:
    span = {
        "start": start,
        "end": end,
        "token_start": 3,
        "token_end": 3,
        "label": label,
        "score": score,
    }
    return make_task(text, [], [span], meta=meta or {"score": score})


def gold_task(text: str = TEXT) -> dict:
    spans = [
        {"start": 17, "end": 23, "token_start": 3, "token_end": 3, "label": "PRODUCT"},
        {"start": 29, "end": 34, "token_start": 5, "token_end": 5, "label": "ORG"},
    ]
    return make_task(text, [], spans, view_id=VIEW_MANUAL)


@pytest.fixture
def db(store_address):
    """A Database on each engine (the shared store behaviour runs against both)."""
    database = Database(store_address)
    yield database
    database.close()


@pytest.fixture
def ds(db) -> Dataset:
    return db.dataset("gadgets", create=True)


def run_py(code: str, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


# -- opening ----------------------------------------------------------------------------------


def test_default_path_is_cwd_and_env_var_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NBANNOTATE_DB", raising=False)
    with Database() as d:
        assert d.path == str(tmp_path / "nbannotate.duckdb")
    assert (tmp_path / "nbannotate.duckdb").exists()
    monkeypatch.setenv("NBANNOTATE_DB", str(tmp_path / "env" / "other.duckdb"))
    with Database() as d:
        assert d.path == str(tmp_path / "env" / "other.duckdb")  # parent dir created
    assert (tmp_path / "env" / "other.duckdb").exists()


def test_memory_databases_are_separate():
    a, b = Database(":memory:"), Database(":memory:")
    a.add_dataset("x")
    assert a.datasets() == ["x"] and b.datasets() == []
    assert a.path == ":memory:"
    a.close()
    b.close()


def test_handles_on_the_same_file_share_one_connection(tmp_path):
    a = Database(tmp_path / "s.duckdb")
    b = Database(str(tmp_path / "sub" / ".." / "s.duckdb"))  # same file, other spelling
    a.dataset("d", create=True).add(binary_task(), answer="accept")
    assert len(b.dataset("d")) == 1
    a.close()
    assert len(b.dataset("d")) == 1  # b still open
    with pytest.raises(StoreError, match="closed"):
        a.datasets()
    b.close()
    # Released: another process can now open the file.
    p = run_py(f"""
        from nbannotate.store import Database
        print(len(Database({str(tmp_path / "s.duckdb")!r}).dataset('d')))
    """)
    out, err = p.communicate(timeout=60)
    assert out.strip() == "1", err


def test_close_all_releases_every_handle(tmp_path):
    a = Database(tmp_path / "c.duckdb")
    close_all()
    with pytest.raises(StoreError, match="closed"):
        a.datasets()
    a.close()  # closing again is harmless
    with Database(tmp_path / "c.duckdb") as b:  # reopening works
        assert b.datasets() == []


def test_file_held_by_another_process_raises_locked_error(tmp_path, monkeypatch):
    """A process that keeps the file (here a plain duckdb.connect) for longer than the bounded
    wait: DatabaseLockedError naming the file, the holder and what to do."""
    from nbannotate.store import duckdb_engine

    path = tmp_path / "held.duckdb"
    with Database(path) as d:
        d.dataset("d", create=True)
    holder = run_py(f"""
        import sys, duckdb
        c = duckdb.connect({str(path)!r})
        print("ready", flush=True)
        sys.stdin.readline()
        c.close()
    """)
    monkeypatch.setattr(duckdb_engine, "LOCK_WAIT", 0.5)  # the holder keeps it: no need to wait
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr.read()
        with pytest.raises(DatabaseLockedError) as err:
            Database(path)
        msg = str(err.value)
        assert str(path) in msg
        assert "another process" in msg and f"PID {holder.pid}" in msg
        assert "kernel" in msg and "different file" in msg
        assert 'db="postgresql://' in msg
    finally:
        holder.communicate("\n", timeout=60)
    with Database(path) as d:  # free again once the other process let go
        assert d.datasets() == ["d"]


def _counts_from_another_process(path: Path) -> str:
    other = run_py(f"""
        from nbannotate.store import Database
        print(Database({str(path)!r}).dataset("t").counts()["total"])
    """)
    out, err = other.communicate(timeout=120)
    return out.strip() or err.strip().splitlines()[-1]


def test_an_open_database_does_not_keep_the_file_from_other_processes(tmp_path):
    """The README's one-liner, Database(path).dataset(name).to_pandas(), leaves no handle to
    close, and a handle kept open does not hold the file either: another process reads it."""
    path = tmp_path / "x.duckdb"
    with Database(path) as db:
        db.dataset("t", create=True).add(make_task("A text .", [], []), answer="accept")
    kept = Database(path)
    assert len(Database(path).dataset("t").to_pandas()) == 1
    assert _counts_from_another_process(path) == "1"  # while `kept` is open
    kept.dataset("t").add(make_task("Another text .", [], []), answer="accept")
    assert _counts_from_another_process(path) == "2"
    del kept
    assert len(Database(path).dataset("t")) == 2  # and it opens again here


def test_an_open_session_does_not_keep_the_file_from_other_processes(tmp_path):
    """A kernel annotating lets another process (a training job, a second notebook) read the
    database meanwhile, whether the session opened it or was given a Database."""
    import nbannotate as nba

    path = tmp_path / "x.duckdb"
    with nba.teach(
        "t", ["I bought an iPhone ."], "blank:en", ["PRODUCT"], db=path, split_sentences=False
    ) as s:
        s.answer(s.next_task(timeout=30), "accept")
        assert _counts_from_another_process(path) == "1"
    assert _counts_from_another_process(path) == "1"
    m = nba.manual("t", ["My Pixel broke ."], labels=["PRODUCT"], db=path)
    m.answer(m.next_task(timeout=30), "accept")
    assert _counts_from_another_process(path) == "2"
    m.close()
    # a Database passed in belongs to the caller: closing the session leaves it open
    db = Database(path)
    s = nba.teach("t", ["Her Kindle fell ."], "blank:en", ["PRODUCT"], db=db, split_sentences=False)
    s.close()
    assert db.dataset("t").counts()["total"] == 2
    assert _counts_from_another_process(path) == "2"
    db.close()


def test_silver_releases_the_file_it_opened(tmp_path):
    import nbannotate as nba
    from nbannotate.train import train

    path = tmp_path / "x.duckdb"
    with Database(path) as db:
        db.dataset("t", create=True).add_many(
            [
                make_task(
                    f"I bought an iPhone {i} .",
                    [],
                    [
                        {
                            "start": 12,
                            "end": 18,
                            "token_start": 3,
                            "token_end": 3,
                            "label": "PRODUCT",
                        }
                    ],
                    view_id=VIEW_MANUAL,
                )
                for i in range(6)
            ],
            answer="accept",
        )
        train("t", tmp_path / "model", db=db, epochs=1, eval_split=0.34, progress=False)
    stats = nba.silver("t", ["My iPhone broke ."], str(tmp_path / "model"), threshold=0.01, db=path)
    assert _counts_from_another_process(path) == str(6 + stats["kept"])


def _tables(path: Path) -> list[str]:
    con = duckdb.connect(str(path))
    try:
        return sorted(
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        )
    finally:
        con.close()


@pytest.mark.parametrize("table", ["datasets", "answers"])
def test_another_applications_database_is_refused_untouched(tmp_path, table):
    """A DuckDB file of another application with a table of one of our names: refused at
    the call, and nothing of ours is added to it (before, a 'datasets' table of its own was
    accepted, our tables added, and the first use failed with DuckDB's BinderException)."""
    import nbannotate as nba

    path = tmp_path / "app.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE {table} (id INTEGER, path VARCHAR)")
    con.execute(f"INSERT INTO {table} VALUES (1, '/data/x.csv')")
    con.close()
    for call in (
        lambda: Database(path),
        lambda: nba.teach("t", ["A text ."], "blank:en", ["PRODUCT"], db=path),
    ):
        with pytest.raises(
            StoreError,
            match=f"has a '{table}' table that nbannotate did not create .* another application",
        ):
            call()
    assert _tables(path) == [table]


def test_a_damaged_database_file_fails_at_the_call_that_opens_it(tmp_path):
    """A file cut short (an interrupted copy or sync) opened fine and failed later with
    DuckDB's raw IOException; now Database() and teach() say the file is damaged."""
    import nbannotate as nba

    good = tmp_path / "good.duckdb"
    with Database(good) as db:
        db.dataset("t", create=True).add_many(
            [make_task(f"text {i} about an iPhone", [], []) for i in range(2000)], answer="accept"
        )
    bad = tmp_path / "copy.duckdb"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    for call in (
        lambda: Database(bad),
        lambda: nba.teach("t", ["A text ."], "blank:en", ["PRODUCT"], db=bad),
    ):
        with pytest.raises(StoreError, match="cannot be read: it looks damaged"):
            call()
    with Database(good) as db:  # the intact one is fine
        assert len(db.dataset("t")) == 2000


def test_a_corrupt_database_file_is_damaged_not_locked(tmp_path):
    """A block whose checksum fails made DuckDB say "... in block at location 8192", and every
    message with "lock" in it was read as the file being held by another process."""
    good = tmp_path / "good.duckdb"
    with Database(good) as db:
        db.dataset("t", create=True).add_many(
            [make_task(f"text {i} about an iPhone", [], []) for i in range(2000)], answer="accept"
        )
    data = bytearray(good.read_bytes())
    # The first data block, damaged in place (the file keeps its length: not cut short).
    data[12288 + 100 : 12288 + 200] = bytes(100)
    bad = tmp_path / "damaged.duckdb"
    bad.write_bytes(bytes(data))
    with pytest.raises(StoreError) as err:
        Database(bad)
    assert not isinstance(err.value, DatabaseLockedError)
    msg = str(err.value)
    assert str(bad) in msg and "looks damaged" in msg and "intact copy" in msg
    assert "another process" not in msg


def _open_error_as_user(path: str) -> str:
    """``Database(path)``'s error, as an unprivileged user: in a forked child that dropped
    root's privileges when run as root (root may write anywhere)."""
    if os.geteuid() != 0:
        try:
            Database(path).close()
        except StoreError as e:
            return f"{type(e).__name__}: {e}"
        return "no error"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        msg = "no error"
        try:
            os.setgid(65534)
            os.setuid(65534)
            Database(path).close()
        except BaseException as e:  # report, never return into pytest in the child
            msg = f"{type(e).__name__}: {e}"
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read().decode()
    os.waitpid(pid, 0)
    return out


def test_a_new_database_in_a_folder_the_user_cannot_write_names_the_folder(tmp_path):
    """The file does not exist, so blaming "the database file ... fix its permissions" sent
    the user after the wrong thing. Checked as an unprivileged user (root writes anywhere)."""
    folder = Path(tempfile.mkdtemp(dir="/tmp"))  # not under tmp_path: nobody must reach it
    try:
        os.chmod(folder, 0o555)
        out = _open_error_as_user(str(folder / "answers.duckdb"))
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(folder)
    assert out.startswith("StoreError"), out
    assert f"folder {str(folder)!r}" in out and "permission denied" in out
    assert "fix its permissions" not in out.lower()


def test_a_session_on_a_database_it_cannot_write_fails_at_the_call(tmp_path, monkeypatch):
    """A writable file in a read-only folder: DuckDB opens it and fails at the first write
    (its '.wal' file), so every answer failed; the session now refuses at teach(). (Root may
    write anywhere, so the folder's permission is what os.access reports here.)"""
    import nbannotate as nba

    path = tmp_path / "ro" / "answers.duckdb"
    with Database(path) as db:
        db.dataset("t", create=True).add(make_task("A text .", [], []), answer="accept")
    folder = str(path.parent)
    real = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode, **kw: (
            False if os.fspath(p) == folder and mode == os.W_OK else real(p, mode, **kw)
        ),
    )
    with pytest.raises(StoreError, match="is not writable, so no answer could be stored"):
        nba.teach("t", ["Another text ."], "blank:en", ["PRODUCT"], db=path)
    with Database(path) as db:  # reading it still works
        assert len(db.dataset("t").to_pandas()) == 1


def test_bad_paths(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        Database(tmp_path)
    junk = tmp_path / "notes.duckdb"
    junk.write_text("these are my notes, not a database\n" * 200)
    with pytest.raises(StoreError, match="not a DuckDB database"):
        Database(junk)
    assert junk.read_text().startswith("these are my notes")  # untouched


@pytest.mark.parametrize(
    "name, content",
    [
        ("source.jsonl", '{"text": "I love my iPhone"}\n'),
        ("source.csv", "text\nI love my iPhone\n"),
    ],
)
def test_a_data_file_passed_as_the_database_is_refused(tmp_path, name, content):
    """DuckDB itself would open a JSONL or CSV file as an in-memory database with a view over
    it: every answer stored there would be gone when the kernel stops."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(StoreError, match="not a DuckDB database .*db='answers.duckdb'"):
        Database(path)
    assert path.read_text(encoding="utf-8") == content


def test_foreign_answers_table_is_rejected(tmp_path):
    path = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE answers (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="did not create"):
        Database(path)


# -- datasets ---------------------------------------------------------------------------------


def test_dataset_lifecycle(db):
    assert db.datasets() == []
    with pytest.raises(DatasetError, match="none yet"):
        db.dataset("gadgets")
    ds = db.add_dataset("gadgets", meta={"labels": ["PRODUCT"]})
    assert ds.name == "gadgets" and ds.meta == {"labels": ["PRODUCT"]}
    assert ds.created.tzinfo is not None
    assert abs(ds.created.timestamp() - time.time()) < 60
    again = db.add_dataset("gadgets", meta={"other": 1})  # idempotent, meta kept
    assert again.meta == {"labels": ["PRODUCT"]} and again.created == ds.created
    db.dataset("drugs", create=True)
    assert db.datasets() == ["drugs", "gadgets"] and "drugs" in db
    with pytest.raises(DatasetError) as err:
        db.dataset("gadget")
    assert "'drugs', 'gadgets'" in str(err.value) and "create=True" in str(err.value)
    ds.add(binary_task(), answer="accept")
    assert db.drop_dataset("gadgets") == 1
    assert db.datasets() == ["drugs"]
    with pytest.raises(DatasetError, match="dropped"):
        ds.add(binary_task(), answer="accept")
    with pytest.raises(DatasetError, match="no such dataset"):
        db.drop_dataset("gadgets")


@pytest.mark.parametrize("name", ["", "   ", " padded", "a\nb", "x" * 201, 5, None])
def test_invalid_dataset_names(db, name):
    with pytest.raises(DatasetError):
        db.dataset(name, create=True)


# -- answers ----------------------------------------------------------------------------------


def test_add_stamps_and_returns_stored_task(ds):
    task = binary_task(meta={"score": 0.61, "source": "reddit"})
    before = dict(task)
    stored = ds.add(task, answer="accept", annotator="alex", session_id="gadgets-1")
    assert task == before  # the caller's dict is not changed
    assert stored["answer"] == "accept"
    assert stored["_annotator_id"] == "alex" and stored["_session_id"] == "gadgets-1"
    assert isinstance(stored["_timestamp"], int) and abs(stored["_timestamp"] - time.time()) < 60
    assert stored["_task_hash"] == task["_task_hash"]
    assert ds.answers() == [stored]
    assert len(ds) == 1


def test_add_fills_missing_hashes_and_uses_task_answer(ds):
    stored = ds.add({"text": "Plain text", "answer": "ignore"})
    assert stored["_input_hash"] == input_hash("Plain text")
    assert isinstance(stored["_task_hash"], int)
    assert ds.counts() == {"accept": 0, "reject": 0, "ignore": 1, "total": 1}


def test_bad_answers_raise_and_leave_rows_intact(ds):
    ds.add(binary_task(), answer="accept")
    with pytest.raises(AnswerError) as err:
        ds.add(binary_task(start=29, end=34), answer="maybe")
    assert "'maybe'" in str(err.value) and "'accept', 'reject', 'ignore'" in str(err.value)
    with pytest.raises(AnswerError, match="no answer"):
        ds.add(binary_task(start=29, end=34))
    with pytest.raises(AnswerError, match="no text"):
        ds.add({"spans": []}, answer="accept")
    with pytest.raises(ValueError):  # AnswerError is a ValueError for generic handlers
        ds.add({"text": None}, answer="accept")
    with pytest.raises(AnswerError, match="must be a dict"):
        ds.add("just a string", answer="accept")  # type: ignore[arg-type]
    # A batch with one bad task stores nothing of the batch.
    with pytest.raises(AnswerError, match="task 1"):
        ds.add_many(
            [{**binary_task(start=29, end=34), "answer": "reject"}, {"text": "x", "answer": "nope"}]
        )
    assert len(ds) == 1 and ds.counts()["accept"] == 1


def test_binary_row_columns_and_gold_row(ds, db):
    ds.add(binary_task(), answer="accept", annotator="alex", session_id="s1")
    ds.add(gold_task(), answer="accept")
    ds.add(make_task("No entities here.", [], []), answer="reject")
    df = ds.to_pandas()
    b, g, empty = df.iloc[0], df.iloc[1], df.iloc[2]
    assert (b.text, b.span_text, b.label, b.start, b.end) == (TEXT, "iPhone", "PRODUCT", 17, 23)
    assert (b.token_start, b.token_end, b.score, b.kind) == (3, 3, 0.61, "binary")
    assert (b.annotator, b.session_id, b.answer) == ("alex", "s1", "accept")
    assert g.kind == "gold" and pd.isna(g.label) and pd.isna(g.start) and pd.isna(g.span_text)
    assert [s["label"] for s in g.spans] == ["PRODUCT", "ORG"]
    assert empty.spans == [] and pd.isna(empty.label)
    assert [t["_view_id"] for t in ds.answers(kind="gold")] == [VIEW_MANUAL]
    assert len(ds.answers(kind="binary")) == 2
    with pytest.raises(DatasetError, match="kind"):
        ds.answers(kind="silver")


def test_remove_latest_and_by_session(ds):
    t = binary_task()
    ds.add(t, answer="accept", session_id="s1")
    ds.add(t, answer="reject", session_id="s2")
    removed = ds.remove(t["_task_hash"], session_id="s1")
    assert removed is not None and removed["answer"] == "accept"
    assert [a["_session_id"] for a in ds.answers()] == ["s2"]
    assert ds.remove(t["_task_hash"], session_id="s1") is None
    assert ds.remove(t["_task_hash"])["answer"] == "reject"
    assert len(ds) == 0 and ds.task_hashes() == set()


def test_update_answer_changes_latest(ds):
    t = binary_task()
    ds.add(t, answer="accept")
    updated = ds.update_answer(t["_task_hash"], "reject")
    assert updated["answer"] == "reject"
    assert ds.answers()[0]["answer"] == "reject"
    assert ds.counts() == {"accept": 0, "reject": 1, "ignore": 0, "total": 1}
    assert ds.to_pandas().answer.tolist() == ["reject"]
    with pytest.raises(AnswerError, match="'accept', 'reject', 'ignore'"):
        ds.update_answer(t["_task_hash"], "maybe")
    with pytest.raises(AnswerError, match="No answer with task hash 12345"):
        ds.update_answer(12345, "accept")


def test_a_session_changes_only_its_own_answer_and_the_change_is_the_latest(ds):
    """Two sessions answered the same task (a teach cell run twice): changing A's answer must
    leave B's alone, and the changed answer gets a new time, so train() sees it as latest."""
    t = binary_task()
    ds.import_jsonl(
        [{**t, "answer": "accept", "_timestamp": 1_700_000_000, "_session_id": "A"}]
    )  # answered in 2023
    ds.add(t, answer="accept", session_id="B")
    changed = ds.update_answer(t["_task_hash"], "reject", session_id="A")
    assert changed["_timestamp"] > 1_700_000_000
    rows = {a["_session_id"]: a for a in ds.answers()}
    assert (rows["A"]["answer"], rows["B"]["answer"]) == ("reject", "accept")
    assert rows["A"]["_timestamp"] == changed["_timestamp"]
    df = ds.to_pandas()
    assert df.loc[df.session_id == "A", "timestamp"].iloc[0] == pd.Timestamp(
        changed["_timestamp"], unit="s", tz="UTC"
    )
    with pytest.raises(AnswerError, match="from session 'C'"):
        ds.update_answer(t["_task_hash"], "reject", session_id="C")


def test_hashes_counts_len(ds):
    a, b = binary_task(), binary_task(start=29, end=34, label="ORG")
    ds.add_many([a, b], answer="accept")
    ds.add(binary_task(text="Other text with iPhone", start=16, end=22), answer="ignore")
    assert ds.task_hashes() == {
        a["_task_hash"],
        b["_task_hash"],
        binary_task("Other text with iPhone", 16, 22)["_task_hash"],
    }
    assert ds.input_hashes() == {input_hash(TEXT), input_hash("Other text with iPhone")}
    assert ds.counts() == {"accept": 2, "reject": 0, "ignore": 1, "total": 3}
    assert len(ds) == 3


def test_to_pandas_columns_and_types(ds):
    ds.add(binary_task(meta={"score": 0.61, "src": "r/phones"}), answer="accept")
    df = ds.to_pandas()
    assert list(df.columns) == [
        "text",
        "span_text",
        "label",
        "start",
        "end",
        "token_start",
        "token_end",
        "answer",
        "score",
        "kind",
        "view_id",
        "annotator",
        "session_id",
        "timestamp",
        "input_hash",
        "task_hash",
        "spans",
        "meta",
    ]
    assert isinstance(df.timestamp.dtype, pd.DatetimeTZDtype)
    assert abs(df.timestamp.iloc[0].timestamp() - time.time()) < 60
    assert df.meta.iloc[0] == {"score": 0.61, "src": "r/phones"}
    assert df.spans.iloc[0][0]["label"] == "PRODUCT"
    assert df.input_hash.iloc[0] == input_hash(TEXT)
    empty = ds.db.dataset("empty", create=True).to_pandas()
    assert len(empty) == 0 and list(empty.columns) == list(df.columns)
    # the same dtypes as a filled frame (pd.concat and .apply behave alike)
    assert (
        (empty.spans.dtype, empty.meta.dtype) == (object, object) == (df.spans.dtype, df.meta.dtype)
    )


def test_to_pandas_many_answers(db):
    # Speed is measured in benchmarks/store_speed.py, not asserted here.
    ds = db.dataset("big", create=True)
    # Hashes given (as in an export), so setup time goes to the store, not to hashing.
    tasks = [
        {
            "text": f"Text number {i} about a phone",
            "meta": {"i": i},
            "_input_hash": i,
            "_task_hash": i,
            "spans": [
                {
                    "start": 0,
                    "end": 4,
                    "token_start": 0,
                    "token_end": 0,
                    "label": "PRODUCT",
                    "score": 0.5,
                }
            ],
        }
        for i in range(20_000)
    ]
    ds.add_many(tasks, answer="accept")
    df = ds.to_pandas()
    assert len(df) == 20_000
    assert df.meta.iloc[19_999] == {"i": 19_999} and df.span_text.iloc[5] == "Text"
    assert df.task_hash.iloc[19_999] == 19_999 and (df.label == "PRODUCT").all()


def test_threads_write_while_reading(ds):
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader():
        try:
            while not stop.is_set():
                ds.to_pandas()
                len(ds)
                ds.task_hashes()
        except BaseException as e:  # surface in the main thread
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(150):
            ds.add(binary_task(text=f"Text {i} mentions iPhone.", start=0, end=4), answer="accept")
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    assert len(ds) == 150 and len(ds.task_hashes()) == 150


# -- durability -------------------------------------------------------------------------------


def test_sigkill_loses_no_returned_answer(tmp_path):
    path = tmp_path / "kill.duckdb"
    writer = run_py(f"""
        from nbannotate.store import Database
        ds = Database({str(path)!r}).dataset("d", create=True)
        i = 0
        while True:
            t = ds.add({{"text": f"text number {{i}}"}}, answer="accept")
            print(t["_task_hash"], flush=True)  # printed only after add() returned
            i += 1
    """)
    acknowledged: list[int] = []
    try:
        while len(acknowledged) < 60:
            line = writer.stdout.readline()
            assert line, writer.stderr.read()
            acknowledged.append(int(line))
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=60)
    # Lines already in the pipe were acknowledged too.
    acknowledged += [int(x) for x in writer.stdout.read().split()]
    assert writer.returncode == -signal.SIGKILL
    with Database(path) as fresh:
        stored = fresh.dataset("d").task_hashes()
    assert set(acknowledged) <= stored
    assert len(stored) >= len(acknowledged)


# -- JSONL ------------------------------------------------------------------------------------


def test_export_import_round_trip(ds, db, tmp_path):
    ds.add(binary_task(), answer="accept", annotator="alex", session_id="s1")
    ds.add(gold_task(), answer="accept")
    ds.add(binary_task(start=29, end=34, label="ORG", score=0.2), answer="reject")
    out = tmp_path / "out" / "gadgets.jsonl"
    assert ds.export_jsonl(out) == 3
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["answer"] for x in lines] == ["accept", "accept", "reject"]
    copy = db.dataset("copy", create=True)
    assert copy.import_jsonl(out) == 3
    assert copy.answers() == ds.answers()
    cols = [c for c in ds.to_pandas().columns]
    pd.testing.assert_frame_equal(copy.to_pandas()[cols], ds.to_pandas()[cols])


def test_import_prodigy_style_without_hashes(ds, tmp_path):
    path = tmp_path / "prodigy.jsonl"
    path.write_text(
        json.dumps(
            {
                "text": "Apple rocks",
                "spans": [{"start": 0, "end": 5, "label": "ORG"}],
                "answer": "accept",
                "_timestamp": 1700000000,
            }
        )
        + "\n\n"
        + json.dumps({"text": "Pear", "answer": "reject", "_input_hash": 11, "_task_hash": 22})
        + "\n",
        encoding="utf-8",
    )
    assert ds.import_jsonl(path) == 2
    first, second = ds.answers()
    assert first["_input_hash"] == input_hash("Apple rocks") and first["_timestamp"] == 1700000000
    # another tool's hashes are recomputed (so resume and train() know the text), and kept
    assert second["_input_hash"] == input_hash("Pear")
    assert (second["_source_input_hash"], second["_source_task_hash"]) == (11, 22)
    assert ds.to_pandas().timestamp.iloc[0] == pd.Timestamp(1700000000, unit="s", tz="UTC")
    # a task hash without its input hash is not nbannotate's either
    only_task = ds.db.dataset("only_task_hash", create=True)
    only_task.import_jsonl([{"text": "Pear", "answer": "reject", "_task_hash": 22}])
    (row,) = only_task.answers()
    assert row["_task_hash"] != 22 and row["_source_task_hash"] == 22
    assert row["_input_hash"] == input_hash("Pear")
    forced = ds.db.dataset("forced", create=True)
    forced.import_jsonl(path, rehash=True)  # the originals are kept here too
    assert (
        forced.answers()[1]["_source_input_hash"],
        forced.answers()[1]["_source_task_hash"],
    ) == (11, 22)
    kept = ds.db.dataset("as_given", create=True)
    kept.import_jsonl(path, rehash=False)
    assert (kept.answers()[1]["_input_hash"], kept.answers()[1]["_task_hash"]) == (11, 22)
    ours = ds.db.dataset("ours", create=True)
    ours.import_jsonl(ds.answers())  # nbannotate's own hashes: nothing to recompute
    assert [a["_task_hash"] for a in ours.answers()] == [a["_task_hash"] for a in ds.answers()]
    assert "_source_input_hash" not in ours.answers()[0]


def test_answers_imported_from_prodigy_are_not_asked_again_and_merge(tmp_path):
    """A Prodigy db-out line carries Prodigy's own hashes: after the import, teach must not
    ask that text's answered question again, and train() must see one text, not two."""
    import nbannotate as nba
    from nbannotate.examples import merge_answers

    text = "I bought an iPhone today."
    line = {
        "text": text,
        "_input_hash": 1386283540,
        "_task_hash": -1705634219,
        "spans": [{"start": 12, "end": 18, "token_start": 3, "token_end": 3, "label": "PRODUCT"}],
        "meta": {"score": 0.5},
        "_view_id": "ner",
        "answer": "accept",
        "_timestamp": 1700000000,
    }
    path = tmp_path / "prodigy_export.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    db = Database(tmp_path / "x.duckdb")
    db.dataset("gadgets", create=True).import_jsonl(path)
    s = nba.teach(
        "gadgets",
        [text],
        "blank:en",
        ["PRODUCT"],
        [{"label": "PRODUCT", "pattern": [{"lower": "iphone"}]}],
        db=db,
        whole=None,
    )
    asked = []
    try:
        while (task := s.next_task(timeout=30)) is not None:
            asked.append(task["text"][task["spans"][0]["start"] : task["spans"][0]["end"]])
            s.answer(task, "reject")
    finally:
        s.stop()
    assert "iPhone" not in asked
    merged = merge_answers(db.dataset("gadgets").answers())
    assert [item.text for item in merged] == [text]
    db.close()


@pytest.mark.parametrize(
    "change, error",
    [
        ({"spans": [{"start": 0, "end": 5}]}, "span 0 needs a non-empty 'label'"),
        ({"spans": [{"start": 0, "end": 5, "label": None}]}, "span 0 needs a non-empty 'label'"),
        (
            {"spans": [{"start": 5, "end": 2, "label": "ORG"}]},
            r"span 0 \(5, 2\) is not a non-empty",
        ),
        ({"spans": [{"start": 0, "end": 99, "label": "ORG"}]}, r"span 0 \(0, 99\) .*length 11"),
        ({"spans": [{"start": "0", "end": 5, "label": "ORG"}]}, "span 0 needs an integer 'start'"),
        ({"meta": "x"}, "'meta' must be a dict"),
        ({"_input_hash": "abc"}, "'_input_hash' must be an integer"),
        ({"_timestamp": 1700000000000}, "'_timestamp' must be seconds since 1970 .*milliseconds"),
    ],
)
def test_import_refuses_bad_fields_naming_the_line(ds, tmp_path, change, error):
    ds.add(binary_task(), answer="accept")
    good = {"text": "Apple rocks", "answer": "accept"}
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(good) + "\n" + json.dumps({**good, **change}) + "\n", encoding="utf-8"
    )
    with pytest.raises(AnswerError, match="bad.jsonl', line 2: " + error):
        ds.import_jsonl(path)
    assert len(ds) == 1  # all or nothing: the good line 1 is not stored either


def test_import_errors_name_the_line_and_store_nothing(ds, tmp_path):
    ds.add(binary_task(), answer="accept")
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps({"text": "a", "answer": "accept"}) + "\n" + json.dumps({"text": "b"}) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(AnswerError, match=r"bad.jsonl', line 2: the task has no answer"):
        ds.import_jsonl(path)
    path.write_text(json.dumps({"text": "a", "answer": "accept"}) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(SourceError, match="line 2: not valid JSON"):
        ds.import_jsonl(path)
    with pytest.raises(SourceError, match="no such file"):
        ds.import_jsonl(tmp_path / "missing.jsonl")
    assert len(ds) == 1  # the failed imports stored nothing


def test_import_from_iterable(ds):
    assert ds.import_jsonl([{"text": "x", "answer": "ignore"}]) == 1
    with pytest.raises(AnswerError, match="task 0: invalid answer 'yes'"):
        ds.import_jsonl([{"text": "y", "answer": "yes"}])


def test_reprs(ds, db):
    ds.add(binary_task(), answer="accept")
    assert "'gadgets': 1 answers" in repr(db) and db.path in repr(db)
    assert repr(ds).startswith("Dataset('gadgets', 1 answers: 1 accept, 0 reject, 0 ignore")
    db.close()
    assert "closed" in repr(db)


def test_the_answer_index_follows_every_write(db, tmp_path):
    """Sessions ask the dataset's live index whether a question or text is answered: every
    write through the store keeps it exact, so no session asks what another just answered."""
    ds = db.dataset("live", create=True)
    index = ds.answer_index()
    a, b = binary_task(), binary_task(start=29, end=34, label="ORG")
    ds.add(a, answer="accept")
    ds.add_many([b], answer="reject")
    gold = gold_task("Other text with iPhone and Apple, long enough to hold the spans.")
    ds.add(gold, answer="reject")
    assert index.has_task(a["_task_hash"]) and index.has_task(b["_task_hash"])
    # Accepted spans settle the questions they overlap, also for sessions started later.
    ih = a["_input_hash"]
    assert index.overlaps_accepted(ih, 17, 23) and index.overlaps_accepted(ih, 20, 30)
    assert not index.overlaps_accepted(ih, 0, 17)  # touching is not overlapping
    assert not index.overlaps_accepted(ih, 29, 34)  # b was rejected
    ds.update_answer(b["_task_hash"], "accept")
    assert index.overlaps_accepted(ih, 29, 34)
    ds.update_answer(b["_task_hash"], "reject")
    assert not index.overlaps_accepted(ih, 29, 34)
    assert not index.overlaps_accepted(gold["_input_hash"], 0, 100)  # gold: is_complete's
    assert index.has_gold(gold["_input_hash"]) and not index.is_complete(gold["_input_hash"])
    ds.update_answer(gold["_task_hash"], "accept")
    assert index.is_complete(gold["_input_hash"])
    # A handle opened elsewhere in the process sees the same index.
    with Database(db.path) as again:
        assert again.dataset("live").answer_index() is index
    with pytest.raises(AnswerError, match="already answered"):
        ds.add(a, answer="reject", once="task")
    with pytest.raises(AnswerError, match="already annotated"):
        ds.add(gold, answer="accept", once="text")
    assert len(ds) == 3
    ds.add(a, answer="reject")  # a second row (an import, or an older version)
    ds.remove(a["_task_hash"])
    assert index.has_task(a["_task_hash"])  # one row of it is left: the accept
    assert index.overlaps_accepted(ih, 17, 23)
    ds.remove(a["_task_hash"])
    assert not index.has_task(a["_task_hash"]) and not index.overlaps_accepted(ih, 17, 23)
    ds.export_jsonl(tmp_path / "live.jsonl")
    other = db.dataset("other", create=True)
    other_index = other.answer_index()
    other.import_jsonl(tmp_path / "live.jsonl")
    assert other_index.has_task(b["_task_hash"]) and other_index.is_complete(gold["_input_hash"])
    db.drop_dataset("live")
    assert not index.has_task(b["_task_hash"]) and not index.has_gold(gold["_input_hash"])
    other.add(a, answer="accept")
    # Read from the file by a process that opens it afresh.
    close_all()
    with Database(db.path) as fresh:
        assert fresh.dataset("other").answer_index().has_task(b["_task_hash"])
        assert fresh.dataset("other").answer_index().overlaps_accepted(ih, 17, 23)
        assert not fresh.dataset("other").answer_index().overlaps_accepted(ih, 29, 34)


def _as_before_the_spans_columns(path) -> None:
    """Make a file as nbannotate wrote it before the spans and meta columns existed."""
    conn = duckdb.connect(str(path))
    conn.execute("ALTER TABLE answers DROP COLUMN spans")
    conn.execute("ALTER TABLE answers DROP COLUMN meta")
    conn.close()


def test_a_file_from_before_the_spans_columns_is_upgraded_when_opened(tmp_path):
    """to_pandas reads spans and meta from columns of their own (parsing each task's JSON,
    token list and all, made it 2.5 times slower than DuckDB's own .df()); files written
    before get them, filled from the task JSON, and read and write as before."""
    path = tmp_path / "old.duckdb"
    with Database(path) as db:
        ds = db.dataset("gadgets", create=True)
        ds.add(binary_task(meta={"score": 0.61, "src": "r/phones"}), answer="accept")
        ds.add(gold_task(), answer="accept")
        ds.add({"text": "No spans or meta here"}, answer="ignore")
        before = ds.to_pandas()
    _as_before_the_spans_columns(path)
    with Database(path) as db:
        ds = db.dataset("gadgets")
        after = ds.to_pandas()
        ds.add(binary_task(text="Another iPhone text here .", start=8, end=14), answer="reject")
        assert len(ds.to_pandas()) == 4
    pd.testing.assert_frame_equal(after, before)
    assert after.spans.iloc[1] == gold_task()["spans"] and after.meta.iloc[2] == {}
    assert _columns(path)[-2:] == ["spans", "meta"]


def test_a_file_from_before_the_spans_columns_reads_where_it_cannot_be_upgraded(tmp_path):
    """In a folder the user cannot write to the file stays as it is: to_pandas parses the task
    JSON, and storing an answer says why it cannot."""
    folder = Path(tempfile.mkdtemp(dir="/tmp"))
    try:
        path = folder / "old.duckdb"
        with Database(path) as db:
            db.dataset("gadgets", create=True).add(gold_task(), answer="accept")
        _as_before_the_spans_columns(path)
        os.chmod(path, 0o666)  # the file is writable, its folder (for DuckDB's .wal) not
        os.chmod(folder, 0o555)
        out = _as_user(f"""
            ds = Database({str(path)!r}).dataset("gadgets")
            df = ds.to_pandas()
            assert df.spans.iloc[0] == {gold_task()["spans"]!r}, df.spans.iloc[0]
            try:
                ds.add({{"text": "A new text ."}}, answer="accept")
            except StoreError as e:
                print("refused:", e)
        """)
    finally:
        os.chmod(folder, 0o755)
        shutil.rmtree(folder)
    assert out.startswith("refused:"), out
    assert "earlier nbannotate" in out and "writable" in out


def _columns(path) -> list[str]:
    conn = duckdb.connect(str(path))
    try:
        return [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'answers' "
                "ORDER BY ordinal_position"
            ).fetchall()
        ]
    finally:
        conn.close()


def _as_user(code: str) -> str:
    """Run ``code`` (with Database and StoreError imported) as an unprivileged user: in a
    forked child that dropped root's privileges when run as root; returns what it printed or
    the error it raised."""
    import contextlib
    import io

    def run() -> str:
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                exec(textwrap.dedent(code), {"Database": Database, "StoreError": StoreError})
        except BaseException as e:  # report, never return into pytest in a child
            return f"{type(e).__name__}: {e}"
        return buf.getvalue()

    if os.geteuid() != 0:
        return run()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        try:
            os.setgid(65534)
            os.setuid(65534)
            msg = run()
        except BaseException as e:
            msg = f"{type(e).__name__}: {e}"
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read().decode()
    os.waitpid(pid, 0)
    return out
