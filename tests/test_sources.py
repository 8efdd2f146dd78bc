"""Sources: every accepted input form, lazy file reading, skipped texts, and clear errors."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nbannotate.errors import SourceError
from nbannotate.sources import VALIDATE_LINES, Source


def write_jsonl(path: Path, objs: list[object]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


# -- accepted forms ---------------------------------------------------------------------------


def test_list_of_strings_yields_text_and_row():
    src = Source(["Apple makes phones.", "Google makes search."])
    assert list(src) == [
        {"text": "Apple makes phones.", "meta": {"row": 0}},
        {"text": "Google makes search.", "meta": {"row": 1}},
    ]
    assert src.total == 2
    assert Source(("a", "b")).total == 2


def test_list_of_dicts_keeps_meta_and_extra_keys():
    src = Source([{"text": "One", "meta": {"id": 7}}, {"text": "Two", "source": "web"}])
    items = list(src)
    assert items[0] == {"text": "One", "meta": {"row": 0, "id": 7}}
    assert items[1] == {"text": "Two", "meta": {"row": 1, "source": "web"}}


def test_custom_text_column_for_dicts_and_jsonl(tmp_path):
    assert list(Source([{"body": "hi"}], text_column="body")) == [
        {"text": "hi", "meta": {"row": 0}}
    ]
    path = write_jsonl(tmp_path / "c.jsonl", [{"body": "x", "id": 1}])
    assert list(Source(path, text_column="body")) == [{"text": "x", "meta": {"line": 1, "id": 1}}]


def test_dataframe_text_column_and_other_columns_in_meta():
    df = pd.DataFrame(
        {
            "comment": ["Great phone", "Bad battery"],
            "score": np.array([3, 5], dtype=np.int64),
            "when": pd.to_datetime(["2024-01-02", "2024-03-04"]),
        }
    )
    items = list(Source(df, text_column="comment"))
    assert [i["text"] for i in items] == ["Great phone", "Bad battery"]
    assert items[1]["meta"] == {"score": 5, "when": "2024-03-04T00:00:00", "row": 1}
    # Meta must survive JSON (numpy ints are not JSON-serialisable as-is).
    assert type(items[0]["meta"]["score"]) is int
    json.dumps(items)
    assert Source(df, text_column="comment").total == 2


def test_a_prodigy_export_as_a_dataframe_gives_the_meta_a_list_of_dicts_gives(tmp_path):
    """pd.read_json of a Prodigy export: its "meta" column is merged, and the annotation
    columns (tokens, hashes, the old answer) are not the input's meta, as for dict items."""
    task = {
        "text": "I bought an iPhone 12.",
        "meta": {"source": "reddit", "id": 7},
        "_input_hash": 123,
        "_task_hash": 456,
        "tokens": [{"text": "I", "id": 0}],
        "spans": [{"start": 12, "end": 21, "token_start": 3, "token_end": 4, "label": "PRODUCT"}],
        "_view_id": "ner_manual",
        "answer": "reject",
        "_session_id": "s",
        "_timestamp": 1,
    }
    path = write_jsonl(tmp_path / "export.jsonl", [task, {"text": "No meta here."}])
    df = pd.read_json(path, lines=True)
    from_df, from_dicts = list(Source(df)), list(Source(df.to_dict("records")))
    assert from_df[0]["meta"] == {"source": "reddit", "id": 7, "row": 0}
    assert [i["meta"] for i in from_df] == [i["meta"] for i in from_dicts]
    assert from_df[0]["spans"] == [{"start": 12, "end": 21, "label": "PRODUCT"}]
    # A column of the user's that happens to be called "meta" and holds no dicts is kept.
    items = list(Source(pd.DataFrame({"text": ["a b"], "meta": ["from the survey"]})))
    assert items[0]["meta"] == {"meta": "from the survey", "row": 0}


def test_a_plain_dataframe_keeps_its_label_and_answer_columns_in_meta():
    """Only a Prodigy export's annotation columns are left out: a "label" column of the
    user's own (a category, a survey answer) stays in the meta."""
    df = pd.DataFrame({"text": ["Great phone"], "label": ["review"], "answer": ["yes"]})
    (item,) = Source(df)
    assert item["meta"] == {"label": "review", "answer": "yes", "row": 0}


def test_span_offsets_may_be_numpy_integers():
    """Offsets taken from a DataFrame are numpy integers: integers all the same."""
    span = {"start": np.int64(12), "end": np.int32(21), "label": "PRODUCT"}
    (item,) = Source([{"text": "I bought an iPhone 12.", "spans": [span]}])
    assert item["spans"] == [{"start": 12, "end": 21, "label": "PRODUCT"}]
    assert all(type(item["spans"][0][k]) is int for k in ("start", "end"))
    json.dumps(item)
    with pytest.raises(SourceError, match="needs integer 'start'"):
        Source([{"text": "I bought an iPhone 12.", "spans": [dict(span, start=12.0)]}])
    with pytest.raises(SourceError, match="needs integer 'start'"):
        Source([{"text": "I bought an iPhone 12.", "spans": [dict(span, start=True)]}])


def test_dataframe_larger_than_a_chunk_keeps_positions():
    df = pd.DataFrame({"text": [f"text {i}" for i in range(5000)]})
    items = list(Source(df))
    assert len(items) == 5000
    assert items[4321] == {"text": "text 4321", "meta": {"row": 4321}}


def test_series_is_a_list_of_texts():
    src = Source(pd.Series(["a", None, "b"]))
    assert [i["text"] for i in src] == ["a", "b"]
    assert src.total == 3 and src.stats.skipped_non_string == 1


def test_jsonl_file(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(
        '{"text": "First", "meta": {"src": "a"}}\n\n   \n{"text": "Second"}\n', encoding="utf-8"
    )
    src = Source(path)
    assert list(src) == [
        {"text": "First", "meta": {"line": 1, "src": "a"}},
        {"text": "Second", "meta": {"line": 4}},
    ]
    assert src.stats.read == 2 and src.stats.skipped == 0  # blank lines are not items
    assert Source(str(path)).kind == "jsonl"
    ndjson = write_jsonl(tmp_path / "x.ndjson", [{"text": "n"}])
    assert list(Source(ndjson)) == [{"text": "n", "meta": {"line": 1}}]


def test_jsonl_with_bom_and_crlf(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"text": "caf\xc3\xa9"}\r\n{"text": "two"}\r\n')
    assert [i["text"] for i in Source(path)] == ["café", "two"]


def test_text_file_one_text_per_line(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("first line\n\n  \nsecond line\r\nlast without newline", encoding="utf-8")
    src = Source(path)
    assert list(src) == [
        {"text": "first line", "meta": {"line": 1}},
        {"text": "second line", "meta": {"line": 4}},
        {"text": "last without newline", "meta": {"line": 5}},
    ]
    assert src.stats.skipped_empty == 2
    assert src.total == 5


def test_generator_and_callable_and_one_shot_error():
    def gen():
        yield "a"
        yield {"text": "b", "meta": {"k": 1}}

    src = Source(gen())
    assert src.total is None
    assert list(src) == [
        {"text": "a", "meta": {"row": 0}},
        {"text": "b", "meta": {"row": 1, "k": 1}},
    ]
    with pytest.raises(SourceError, match="one-shot iterator"):
        list(src)
    restartable = Source(gen)  # a function returning a fresh generator restarts
    assert len(list(restartable)) == 2 and len(list(restartable)) == 2


def test_iterating_twice_restarts_for_lists_and_files(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": f"t{i}"} for i in range(5)])
    for src in (Source(["x", "y", "z"]), Source(path)):
        it = iter(src)
        first = next(it)
        assert next(iter(src)) == first  # a new iteration starts at the beginning
        assert len(list(src)) == src.total


def test_source_of_source_is_a_copy():
    inner = Source(["a", "b"])
    assert list(Source(inner)) == list(inner)


# -- skipped texts ----------------------------------------------------------------------------


def test_empty_and_non_string_texts_are_skipped_and_counted():
    src = Source(
        [
            "ok",
            "",
            "   \n",
            None,
            3,
            2.5,
            float("nan"),
            True,
            {"text": None},
            {"text": ""},
            np.int64(4),
            "fine",
        ]
    )
    assert [i["text"] for i in src] == ["ok", "fine"]
    assert src.stats.read == 2
    assert src.stats.skipped_empty == 3
    assert src.stats.skipped_non_string == 7
    assert src.stats.skipped == 10
    assert src.stats.as_dict()["skipped"] == 10


def test_stats_reset_on_each_pass():
    src = Source(["a", "", "b"])
    list(src)
    list(src)
    assert (src.stats.read, src.stats.skipped_empty) == (2, 1)


def test_dataframe_nan_and_none_texts_skipped():
    df = pd.DataFrame({"text": ["a", None, np.nan, "", "b", pd.NA]}, dtype=object)
    src = Source(df)
    assert [i["meta"]["row"] for i in src] == [0, 4]
    assert src.stats.skipped_non_string == 3 and src.stats.skipped_empty == 1


def test_jsonl_non_string_texts_skipped(tmp_path):
    path = write_jsonl(
        tmp_path / "n.jsonl", [{"text": None}, {"text": 12}, {"text": " "}, {"text": "real"}]
    )
    src = Source(path)
    assert [i["text"] for i in src] == ["real"]
    assert (src.stats.skipped_non_string, src.stats.skipped_empty) == (2, 1)


# -- laziness ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_jsonl(tmp_path_factory) -> Path:
    """200,000 lines, with a broken line far down: only a reader that reaches it fails."""
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    line = '{"text": "Some comment about the new phone number %d and its battery.", "meta": {}}\n'
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(line % i for i in range(150_000)))
        f.write("{broken json\n")
        f.write("".join(line % i for i in range(150_001, 200_000)))
    return path


def test_big_file_is_streamed_not_loaded(big_jsonl):
    size = big_jsonl.stat().st_size
    assert size > 10_000_000
    tracemalloc.start()
    try:
        src = Source(big_jsonl)  # validates the head only: the broken line is not reached
        it = iter(src)
        first = [next(it) for _ in range(1000)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first[999]["meta"]["line"] == 1000
    assert src.stats.read == 1000
    # Holding the file (or its parsed lines) would take tens of MB; streaming stays tiny.
    assert peak < 2_000_000, f"peak {peak} bytes while reading 1000 of 200,000 lines"
    it.close()


def test_big_file_total_counts_lines_without_parsing(big_jsonl):
    src = Source(big_jsonl)
    assert src.total == 200_000  # the broken line does not matter: no JSON parsing
    assert src.total == 200_000


def test_late_bad_line_raises_when_reached_with_its_line_number(big_jsonl):
    src = Source(big_jsonl)
    n = 0
    with pytest.raises(SourceError) as err:
        for _ in src:
            n += 1
    assert n == 150_000
    assert "line 150001" in str(err.value) and "big.jsonl" in str(err.value)
    assert "not valid JSON" in str(err.value)


# -- errors -----------------------------------------------------------------------------------


def test_missing_file_names_path_and_what_exists(tmp_path):
    (tmp_path / "comments.jsonl").write_text('{"text": "x"}\n')
    with pytest.raises(SourceError) as err:
        Source(tmp_path / "coments.jsonl")
    msg = str(err.value)
    assert "coments.jsonl" in msg and "does not exist" in msg and "comments.jsonl" in msg


def test_string_that_looks_like_text_is_not_a_path():
    with pytest.raises(SourceError, match="pass a list"):
        Source("Apple is looking at buying a U.K. startup.\nSecond text.")


def test_directory_is_rejected(tmp_path):
    (tmp_path / "a.jsonl").write_text("")
    with pytest.raises(SourceError, match="is a directory.*a.jsonl"):
        Source(tmp_path)


def test_csv_points_to_pandas(tmp_path):
    (tmp_path / "t.csv").write_text("text\nhello\n")
    with pytest.raises(SourceError, match="pandas.read_csv"):
        Source(tmp_path / "t.csv")


def _source_error_as_nobody(path: str) -> str:
    """Run Source(path) in a forked child that dropped root privileges; return its error."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        msg = "no error"
        try:
            os.setgid(65534)
            os.setuid(65534)
            Source(path)
        except SourceError as e:
            msg = "SourceError: " + str(e)
        except BaseException as e:  # report, never return into pytest in the child
            msg = f"{type(e).__name__}: {e}"
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read().decode()
    os.waitpid(pid, 0)
    return out


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        # Root reads any file, so check as an unprivileged user in a forked child.
        d = tempfile.mkdtemp(dir="/tmp")
        try:
            os.chmod(d, 0o755)
            path = Path(d) / "secret.jsonl"
            path.write_text('{"text": "x"}\n')
            os.chmod(path, 0o000)
            msg = _source_error_as_nobody(str(path))
        finally:
            shutil.rmtree(d)
        assert msg.startswith("SourceError"), msg
    else:
        path = tmp_path / "secret.jsonl"
        path.write_text('{"text": "x"}\n')
        os.chmod(path, 0o000)
        with pytest.raises(SourceError) as err:
            Source(path)
        msg = str(err.value)
    assert "secret.jsonl" in msg and "permission denied" in msg


@pytest.mark.parametrize(
    "obj, hint",
    [
        (42, "int"),
        (None, "NoneType"),
        ({"text": "x"}, "wrap it in a list"),
        (b"bytes", "Decode bytes"),
    ],
)
def test_unsupported_types_list_what_is_accepted(obj, hint):
    with pytest.raises(SourceError) as err:
        Source(obj)
    assert hint in str(err.value) and "Accepted:" in str(err.value)
    assert "DataFrame" in str(err.value) and ".jsonl" in str(err.value)


def test_dataframe_without_text_column_names_its_columns():
    with pytest.raises(SourceError) as err:
        Source(pd.DataFrame({"body": ["x"], "id": [1]}))
    assert "'body', 'id'" in str(err.value) and "text_column" in str(err.value)


def test_bad_jsonl_head_fails_at_construction(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\n{"text": "ok"}\nnot json at all\n', encoding="utf-8")
    with pytest.raises(SourceError) as err:
        Source(path)
    assert "bad.jsonl" in str(err.value) and "line 3" in str(err.value)


def test_jsonl_object_without_text_names_line_and_keys(tmp_path):
    path = write_jsonl(tmp_path / "nt.jsonl", [{"text": "a"}, {"body": "b", "id": 2}])
    with pytest.raises(SourceError) as err:
        Source(path)
    msg = str(err.value)
    assert "line 2" in msg and "no 'text' key" in msg and "'body'" in msg


def test_jsonl_line_not_an_object(tmp_path):
    path = tmp_path / "arr.jsonl"
    path.write_text('{"text": "a"}\n["a", "b"]\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"line 2: expected a JSON object.*array"):
        Source(path)


def test_bad_line_after_the_validated_head_fails_lazily(tmp_path):
    path = tmp_path / "late.jsonl"
    lines = [json.dumps({"text": f"t{i}"}) for i in range(VALIDATE_LINES + 50)]
    lines.append('{"no_text": 1}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    src = Source(path)  # the head is fine
    with pytest.raises(SourceError, match=f"line {VALIDATE_LINES + 51}"):
        list(src)
    assert src.stats.read == VALIDATE_LINES + 50


def test_decoding_error_names_the_line(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"fine\nalso fine\ncaf\xe9 in latin-1\n")
    with pytest.raises(SourceError, match="line 3: not valid UTF-8"):
        Source(path)


def test_list_item_of_wrong_type_and_dict_without_text():
    with pytest.raises(SourceError, match="item 1 .* is a list"):
        Source(["ok", ["nested"]])
    with pytest.raises(SourceError, match="item 0 .*no 'text' key"):
        Source([{"body": "x"}])
    with pytest.raises(SourceError, match="'meta' must be an object"):
        Source([{"text": "x", "meta": "oops"}])


# -- texts that are not valid Unicode, incoming spans ------------------------------------------


def test_a_lone_surrogate_is_refused_naming_its_line_or_row(tmp_path):
    """A tweet cut in the middle of an emoji ("\\ud83d" in JSON) cannot be tokenized, hashed or
    stored: it fails like a malformed line, at construction in the head, when reached later."""
    path = tmp_path / "tweets.jsonl"
    path.write_text(
        '{"text": "My Galaxy is great"}\n{"text": "Loving my new iPhone \\ud83d"}\n',
        encoding="utf-8",
    )
    with pytest.raises(SourceError) as err:
        Source(path)
    msg = str(err.value)
    assert "tweets.jsonl" in msg and "line 2" in msg and "lone surrogate" in msg
    assert "'\\ud83d' at character 21" in msg and "encode('utf-8', 'replace')" in msg

    late = tmp_path / "late.jsonl"
    lines = [json.dumps({"text": f"t{i}"}) for i in range(VALIDATE_LINES + 5)]
    late.write_text("\n".join([*lines, '{"text": "cut \\udc00 off"}']) + "\n", encoding="utf-8")
    src = Source(late)
    with pytest.raises(SourceError, match=f"line {VALIDATE_LINES + 6}: the text has a lone"):
        list(src)
    assert src.stats.read == VALIDATE_LINES + 5

    with pytest.raises(SourceError, match=r"item 1 of the list: the text has a lone surrogate"):
        Source(["fine", "cut \ud83d"])
    with pytest.raises(SourceError, match=r"item 0 of the list: meta\['user'\] has a lone"):
        Source([{"text": "fine", "meta": {"user": "ab\ud83d"}}])
    with pytest.raises(SourceError, match="row 1 of the DataFrame: the text has a lone"):
        list(Source(pd.DataFrame({"text": ["fine", "cut \ud83d"]})))


def test_incoming_spans_are_kept_and_checked(tmp_path):
    """Prodigy's "spans" reach the item (manual and correct pre-highlight them); malformed ones
    fail naming the line, like any malformed item."""
    spans = [{"start": 10, "end": 15, "label": "GPE", "token_start": 3, "token_end": 3}]
    path = write_jsonl(
        tmp_path / "review.jsonl",
        [
            {"text": "I flew to Tokyo.", "spans": spans, "answer": "accept"},
            {"text": "Nothing here.", "spans": []},
            {"text": "No spans key."},
        ],
    )
    assert list(Source(path)) == [
        {
            "text": "I flew to Tokyo.",
            "meta": {"line": 1},
            "spans": [{"start": 10, "end": 15, "label": "GPE"}],
        },
        {"text": "Nothing here.", "meta": {"line": 2}, "spans": []},
        {"text": "No spans key.", "meta": {"line": 3}},
    ]
    bad = [
        ({"start": 10, "end": 99, "label": "GPE"}, r"span 0 \(10-99\) is not inside the text"),
        ({"start": "10", "end": 15, "label": "GPE"}, "span 0 needs integer 'start'"),
        ({"start": 10, "end": 15}, "span 0 needs .* a non-empty 'label'"),
        ("Tokyo", "span 0 is a str"),
    ]
    for span, message in bad:
        write_jsonl(path, [{"text": "ok"}, {"text": "I flew to Tokyo.", "spans": [span]}])
        with pytest.raises(SourceError, match=f"review.jsonl', line 2: {message}"):
            Source(path)
    with pytest.raises(SourceError, match="'spans' must be a list"):
        Source([{"text": "I flew to Tokyo.", "spans": {"start": 10}}])


def test_a_dataframe_spans_column_holds_spans_not_meta(tmp_path):
    """pd.read_json of a Prodigy export gives a "spans" column: its rows carry spans like dict
    items (rows without any have none), and bad ones fail naming the row."""
    path = write_jsonl(
        tmp_path / "export.jsonl",
        [
            {"text": "I flew to Tokyo.", "spans": [{"start": 10, "end": 15, "label": "GPE"}]},
            {"text": "No spans key."},
        ],
    )
    df = pd.read_json(path, lines=True)
    assert list(Source(df)) == [
        {
            "text": "I flew to Tokyo.",
            "meta": {"row": 0},
            "spans": [{"start": 10, "end": 15, "label": "GPE"}],
        },
        {"text": "No spans key.", "meta": {"row": 1}},
    ]
    # .at sets the one cell to the list under every pandas (.loc unpacks a list differently
    # in 2.x and 3.x)
    df.at[1, "spans"] = [{"start": 0, "end": 99, "label": "GPE"}]
    with pytest.raises(SourceError, match=r"row 1 of the DataFrame: span 0 \(0-99\)"):
        list(Source(df))


# -- sentences: never cut inside a name, nor inside a span the item carries -------------------


def _sentences(session_maker, items):
    import nbannotate as nba

    s = session_maker(items)
    try:
        return [t["text"] for t in s.next_tasks(50, timeout=60)]
    finally:
        s.close()
        assert isinstance(s, nba.ManualSession | nba.TeachSession)


def test_the_default_splitter_does_not_cut_after_a_title_or_inside_a_hashtag(tmp_path):
    """spaCy's sentencizer cut "Lt. | Gen. Jubal Early" and "#MH17" into "#" and "MH17", so
    such an entity could never be proposed or accepted whole."""
    import nbannotate as nba

    text = (
        "Lt. Gen. Jubal Early led the troops. Mr. Smith met Capt. Hook and John F. "
        "Kennedy. Rest in peace. #MH17 #Gaza"
    )
    got = _sentences(
        lambda items: nba.manual("m", items, ["PER"], db=tmp_path / "m.duckdb"), [text]
    )
    assert got == [
        "Lt. Gen. Jubal Early led the troops.",
        "Mr. Smith met Capt. Hook and John F. Kennedy.",
        "Rest in peace.",
        "#MH17 #Gaza",
    ]


def test_the_default_splitter_cuts_few_gold_entities_of_the_btc(shared_data):
    """On the Broad Twitter Corpus (9,339 annotated texts), spaCy's sentencizer cut 163 gold
    entities in two (hashtags, "U . S ."); the rest go across a sentence end in the gold."""
    from nbannotate.candidates import sentence_splitter

    splitter = sentence_splitter("en")
    cut = 0
    with open(shared_data / "btc" / "btc.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            starts = [s.start_char for s in splitter(row["text"]).sents][1:]
            cut += sum(
                1 for x in starts for span in row["spans"] if span["start"] < x < span["end"]
            )
    assert cut <= 10


def test_a_pipeline_with_its_own_sentence_component_splits_with_it(tmp_path):
    """As Prodigy does, a pipeline's own parser, senter or sentencizer splits the texts (here
    one that ends sentences at "!" only); a blank pipeline gets the rule-based splitter."""
    import spacy

    import nbannotate as nba

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer", config={"punct_chars": ["!"]})
    text = "One. Two! Three. Four!"
    got = _sentences(
        lambda items: nba.manual("m", items, ["PER"], model=nlp, db=tmp_path / "m.duckdb"), [text]
    )
    assert got == ["One. Two!", "Three. Four!"]
    got = _sentences(
        lambda items: nba.manual("b", items, ["PER"], db=tmp_path / "b.duckdb"), [text]
    )
    assert got == ["One.", "Two!", "Three.", "Four!"]


def test_teach_never_cuts_inside_a_span_the_item_carries(tmp_path):
    """teach ignores the item's spans as answers, yet a span across a sentence end keeps its
    sentences together there too: the entity can be proposed and accepted whole."""
    import nbannotate as nba

    text = "I love New. York is big. The Pixel broke."
    items = [{"text": text, "spans": [{"start": 7, "end": 15, "label": "GPE"}]}]  # "New. York"
    got = _sentences(
        lambda items: nba.teach(
            "t",
            items,
            "blank:en",
            ["GPE"],
            [{"label": "GPE", "pattern": "York"}],
            db=tmp_path / "t.duckdb",
            whole=None,
            sorter="none",
        ),
        items,
    )
    assert set(got) == {"I love New. York is big.", "The Pixel broke."}


# -- a source without any text ----------------------------------------------------------------


@pytest.mark.parametrize("recipe", ["teach", "manual"])
@pytest.mark.parametrize(
    "make, says",
    [
        (
            lambda tmp: write_jsonl(tmp / "empty.jsonl", []),
            "empty.jsonl' has no text to annotate: it is empty",
        ),
        (
            lambda tmp: write_jsonl(tmp / "nulls.jsonl", [{"text": None}] * 3 + [{"text": " "}]),
            "none of its 4 items has a text \\(1 empty or whitespace only, 3 null",
        ),
        (
            lambda tmp: pd.DataFrame({"text": [None, np.nan], "body": ["a", "b"]}),
            "DataFrame source .* none of its 2 items .* text_column=",
        ),
        (lambda tmp: [], "it is empty"),
    ],
    ids=["empty file", "null texts", "dataframe", "empty list"],
)
def test_a_source_without_any_text_fails_at_the_call(tmp_path, recipe, make, says):
    """The widget just said "No more tasks", as if everything had been annotated."""
    import nbannotate as nba

    source = make(tmp_path)
    db = tmp_path / "a.duckdb"
    call = {
        "teach": lambda: nba.teach("t", source, "blank:en", ["PER"], db=db),
        "manual": lambda: nba.manual("t", source, ["PER"], db=db),
    }[recipe]
    with pytest.raises(SourceError, match=says):
        call()


@pytest.mark.parametrize("recipe", ["teach", "manual"])
def test_an_empty_generator_fails_at_the_first_next_task(tmp_path, recipe):
    """A generator cannot be read twice, so it is not read at the call: next_task says it."""
    import nbannotate as nba

    gen = (t for t in [None, "", "  "])
    db = tmp_path / "a.duckdb"
    s = (
        nba.teach("t", gen, "blank:en", ["PER"], db=db)
        if recipe == "teach"
        else nba.manual("t", gen, ["PER"], db=db)
    )
    try:
        for _ in range(2):  # and at every later call
            with pytest.raises(SourceError, match="none of its 3 items has a text"):
                s.next_task(timeout=60)
    finally:
        s.close()
