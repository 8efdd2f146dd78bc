"""One DuckDB file, several notebooks: real processes (kernels) sharing a database file.

Each kernel is a real Python process; they coordinate through their stdin/stdout and the
database only (every wait is on a condition, with a generous timeout).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from nbannotate.store import Database

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent


def kernel(code: str) -> subprocess.Popen:
    """A Python process importing this checkout (and tests/gadgets.py), driven by stdin."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(TESTS)]))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_line(proc: subprocess.Popen) -> str:
    """The process's next line of output (its stderr when it ended instead)."""
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=120)
        raise AssertionError(f"the process ended ({proc.returncode}): {proc.stderr.read()}")
    return line.strip()


def tell(proc: subprocess.Popen, command: str) -> str:
    proc.stdin.write(command + "\n")
    proc.stdin.flush()
    return read_line(proc)


def finish(proc: subprocess.Popen) -> tuple[str, str]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out, err


def stored(path: Path, dataset: str) -> list[tuple[int, int, str]]:
    """(task hash, input hash, answer) of every stored answer, read with DuckDB itself."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT task_hash, input_hash, answer FROM answers WHERE dataset = ? ORDER BY id",
            [dataset],
        ).fetchall()
    finally:
        con.close()


# Kernel A: a teach session answering as the oracle until told to stop; prints every answer
# the session acknowledged, then "done" once the session is closed.
TEACH = """
    import json, sys, threading
    import nbannotate as nba
    from gadgets import answer_tasks, gadget_texts, product_patterns

    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    s = nba.teach("shared", gadget_texts(3000), "blank:en", ["PRODUCT"], product_patterns(),
                  db=sys.argv[1], split_sentences=False)
    while not stop.is_set():
        done = answer_tasks(s, 1)
        if not done:
            break
        print(json.dumps([done[0]["_task_hash"], done[0]["answer"]]), flush=True)
    s.close()
    print("done", flush=True)
"""

# Kernel B: reads the dataset as another notebook would, `rounds` times, each time once A has
# stored more answers than B saw the time before; prints what each round read.
READER = """
    import json, sys, tempfile, time
    import nbannotate as nba

    path, out = sys.argv[1], sys.argv[2]
    seen = 0
    for i in range(int(sys.argv[3])):
        deadline = time.monotonic() + 300
        while nba.Database(path).dataset("shared").counts()["total"] <= seen:
            assert time.monotonic() < deadline, "kernel A stored nothing new for 300 s"
            time.sleep(0.05)
        df = nba.Database(path).dataset("shared").to_pandas()
        n = nba.Database(path).dataset("shared").export_jsonl(f"{out}/export{i}.jsonl")
        result = nba.train("shared", f"{out}/model{i}", db=path, epochs=1, eval_split=0.2,
                           progress=False, overwrite=True)
        seen = len(set(df["task_hash"]))
        print(json.dumps({"hashes": sorted(set(int(h) for h in df["task_hash"])),
                          "exported": n, "trained": bool(result)}), flush=True)
    print("reader done", flush=True)
"""


def test_a_second_kernel_reads_and_trains_while_a_session_annotates(tmp_path):
    """Kernel A annotates without pause; meanwhile kernel B reads the same file again and
    again (to_pandas, export_jsonl, counts, train). B succeeds and sees A's new answers; A
    loses nothing: every answer its session acknowledged is stored, none twice."""
    path = tmp_path / "shared.duckdb"
    a = kernel(TEACH.replace("sys.argv[1]", repr(str(path))))
    acks: list[list] = []
    b = None
    try:
        for _ in range(3):  # B starts once the dataset holds answers
            acks.append(json.loads(read_line(a)))
        b = kernel(
            READER.replace("sys.argv[1]", repr(str(path)))
            .replace("sys.argv[2]", repr(str(tmp_path)))
            .replace("sys.argv[3]", "3")
        )
        reads = []
        while (line := read_line(b)) != "reader done":
            reads.append(json.loads(line))
        finish(b)
        a.stdin.write("stop\n")
        a.stdin.flush()
        while (line := read_line(a)) != "done":
            acks.append(json.loads(line))
        finish(a)
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    rows = stored(path, "shared")
    assert [(th, ans) for th, _, ans in rows] == [tuple(x) for x in acks]  # all, in order
    assert len({th for th, _, _ in rows}) == len(rows)  # no question twice
    acked = {x[0] for x in acks}
    assert len(reads) == 3
    sizes = [len(r["hashes"]) for r in reads]
    assert sizes == sorted(set(sizes)), sizes  # every round saw answers the last did not
    for r in reads:
        assert set(r["hashes"]) <= acked  # only what A's session acknowledged
        assert r["exported"] >= len(r["hashes"]) and r["trained"]


# A manual session in its own kernel, one command a line: "next" takes a task and prints its
# text; "answer" accepts the last task and prints "ok" or the error; "stats" prints the
# stored total; "close" closes the session.
MANUAL = """
    import sys
    import nbannotate as nba
    texts = [f"I bought a Pixel number {i} ." for i in range(20)]
    s = nba.manual("shared", texts, labels=["PRODUCT"], db=sys.argv[1])
    task = None
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "next":
            task = s.next_task()
            print(task["text"], flush=True)
        elif cmd == "answer":
            try:
                s.answer(task, "accept")
                print("ok", flush=True)
            except nba.errors.AnswerError as e:
                print(f"refused: {e}", flush=True)
        elif cmd == "stats":
            print(s.progress["dataset"]["total"], flush=True)
        elif cmd == "close":
            s.close()
            print("closed", flush=True)
            break
"""


def test_two_kernels_annotating_one_dataset_never_store_a_text_twice(tmp_path):
    """Two manual sessions, in two kernels, on the same texts of one dataset: both store;
    a text the other kernel annotated after it was handed out is refused, not stored twice;
    and each kernel's session skips the texts the other annotated."""
    path = tmp_path / "shared.duckdb"
    a = kernel(MANUAL.replace("sys.argv[1]", repr(str(path))))
    c = kernel(MANUAL.replace("sys.argv[1]", repr(str(path))))
    try:
        assert read_line(a) == read_line(c) == "ready"
        # Both hand out text 0; A answers first: C's answer is refused.
        assert tell(a, "next") == tell(c, "next") == "I bought a Pixel number 0 ."
        assert tell(a, "answer") == "ok"
        refused = tell(c, "answer")
        assert refused.startswith("refused:") and "another session" in refused
        # Both hand out text 1; now C is first.
        assert tell(c, "next") == tell(a, "next") == "I bought a Pixel number 1 ."
        assert tell(c, "answer") == "ok"
        assert tell(a, "answer").startswith("refused:")
        # A annotates texts 2 and 3 while C waits; C's next store call brings them into its
        # session, which then skips them.
        for i in (2, 3):
            assert tell(a, "next") == f"I bought a Pixel number {i} ."
            assert tell(a, "answer") == "ok"
        assert tell(c, "stats") == "4"
        assert tell(c, "next") == "I bought a Pixel number 4 ."
        assert tell(c, "answer") == "ok"
        assert tell(a, "stats") == "5"
        assert tell(a, "next") == "I bought a Pixel number 5 ."
        assert tell(a, "close") == tell(c, "close") == "closed"
        finish(a)
        finish(c)
    finally:
        for p in (a, c):
            if p.poll() is None:
                p.kill()
                p.wait()
    rows = stored(path, "shared")
    assert len(rows) == 5 and len({ih for _, ih, _ in rows}) == 5


HOLDER = """
    import sys, duckdb
    c = duckdb.connect(sys.argv[1])
    print("holding", flush=True)
    sys.stdin.readline()
    c.close()
    print("released", flush=True)
    sys.stdin.readline()
"""


def test_a_kernel_waits_for_a_file_held_a_moment_then_reads_it(tmp_path):
    """While another process (here a plain duckdb.connect) holds the file, a read waits for
    it, then succeeds once it is released."""
    path = tmp_path / "held.duckdb"
    with Database(path) as db:
        db.dataset("d", create=True).add({"text": "A Pixel ."}, answer="accept")
    holder = kernel(HOLDER.replace("sys.argv[1]", repr(str(path))))
    reader = None
    try:
        assert read_line(holder) == "holding"
        reader = kernel(f"""
            import nbannotate as nba
            from nbannotate.store import duckdb_engine
            duckdb_engine.LOCK_WAIT = 600.0
            find = duckdb_engine._lock_holder
            def reported(err):  # says so the first time it finds the file held
                holder = find(err)
                if holder is not None and not reported.done:
                    reported.done = True
                    print("blocked", flush=True)
                return holder
            reported.done = False
            duckdb_engine._lock_holder = reported
            print(len(nba.Database({str(path)!r}).dataset("d").to_pandas()), flush=True)
        """)
        assert read_line(reader) == "blocked"
        assert tell(holder, "release") == "released"
        assert read_line(reader) == "1"
        finish(reader)
    finally:
        for p in (holder, reader):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


def test_a_file_held_longer_than_the_wait_fails_with_a_clear_error(tmp_path):
    """The bounded wait ends in DatabaseLockedError, naming the holder and PostgreSQL for
    several notebooks writing at once; nothing stored before is damaged."""
    path = tmp_path / "held.duckdb"
    with Database(path) as db:
        db.dataset("d", create=True).add({"text": "A Pixel ."}, answer="accept")
    holder = kernel(HOLDER.replace("sys.argv[1]", repr(str(path))))
    try:
        assert read_line(holder) == "holding"
        other = kernel(f"""
            import nbannotate as nba
            from nbannotate.store import duckdb_engine
            duckdb_engine.LOCK_WAIT = 1.0
            try:
                nba.Database({str(path)!r}).dataset("d").to_pandas()
            except nba.errors.DatabaseLockedError as e:
                print(e)
        """)
        out, _ = finish(other)
        assert f"PID {holder.pid}" in out and "did not let go" in out
        assert 'db="postgresql://' in out
        assert tell(holder, "release") == "released"
    finally:
        holder.kill()
        holder.wait()
    assert [a for _, _, a in stored(path, "d")] == ["accept"]


@pytest.mark.parametrize("dataset_op", ["to_pandas", "add"])
def test_an_open_database_in_this_process_lets_another_kernel_in(tmp_path, dataset_op):
    """A Database handle kept open (as a notebook keeps one) holds the file only while it
    works: another kernel reads and writes between this one's calls."""
    path = tmp_path / "x.duckdb"
    db = Database(path)
    ds = db.dataset("d", create=True)
    ds.add({"text": "Mine ."}, answer="accept")
    other = kernel(f"""
        import nbannotate as nba
        ds = nba.Database({str(path)!r}).dataset("d")
        ds.add({{"text": "Theirs ."}}, answer="reject")
        print(len(ds.to_pandas()), flush=True)
    """)
    assert read_line(other) == "2"
    finish(other)
    if dataset_op == "add":
        ds.add({"text": "Mine again ."}, answer="accept")
        assert ds.counts() == {"accept": 2, "reject": 1, "ignore": 0, "total": 3}
    else:
        assert list(ds.to_pandas()["text"]) == ["Mine .", "Theirs ."]
    db.close()


# A teach session answering `n` questions as the oracle, as fast as it can; prints every answer
# its session acknowledged and every one it refused as answered by another session.
TEACH_N = """
    import json, sys
    import nbannotate as nba
    from gadgets import gadget_texts, in_step, oracle, product_patterns

    s = nba.teach("shared", gadget_texts(200), "blank:en", ["PRODUCT"], product_patterns(),
                  db=sys.argv[1], split_sentences=False)
    print("ready", flush=True)
    sys.stdin.readline()
    done = 0
    while done < 25 and (task := s.next_task(timeout=60)) is not None:
        try:
            stored = s.answer(task, oracle(task))
        except nba.errors.AnswerError as e:
            assert "already" in str(e), e
            print(json.dumps(["refused", task["_task_hash"]]), flush=True)
            continue
        done += 1
        print(json.dumps(["ok", stored["_task_hash"], stored["answer"]]), flush=True)
        in_step(s)
    s.close()
    print("done", flush=True)
"""


def test_two_kernels_teaching_one_dataset_store_every_answer_once(tmp_path):
    """Two teach sessions, in two kernels, on the same texts and dataset, answering at the
    same time: every answer either kernel acknowledged is stored, and no question twice."""
    path = tmp_path / "shared.duckdb"
    Database(path).close()  # made once, before both start
    kernels = [kernel(TEACH_N.replace("sys.argv[1]", repr(str(path)))) for _ in range(2)]
    acks: list[tuple[int, str]] = []
    try:
        for k in kernels:
            assert read_line(k) == "ready"
        for k in kernels:  # both start answering together
            k.stdin.write("go\n")
            k.stdin.flush()
        for k in kernels:
            while (line := read_line(k)) != "done":
                kind, *rest = json.loads(line)
                if kind == "ok":
                    acks.append((rest[0], rest[1]))
            finish(k)
    finally:
        for k in kernels:
            if k.poll() is None:
                k.kill()
                k.wait()
    rows = stored(path, "shared")
    assert len(acks) == 50
    assert sorted((th, a) for th, _, a in rows) == sorted(acks)
    assert len({th for th, _, _ in rows}) == len(rows)
