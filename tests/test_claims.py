"""The rules of holds on texts (store/claims.py), in memory with a clock the test moves: the
same rules the PostgreSQL engine keeps in its table (tests/test_team.py runs those)."""

from __future__ import annotations

from nbannotate.store.claims import ClaimBook


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_text_goes_to_one_session_until_its_lease_runs_out():
    clock = Clock()
    book = ClaimBook(clock)
    got = book.hold("d", [1, 2], "s1", "ann", lease=30)
    assert got.mine == {1, 2} and not got.others
    other = book.hold("d", [2, 3], "s2", "ben", lease=30)
    assert other.mine == {3} and other.others == {2: "ann"}
    assert book.hold("d", [1], "s1", "ann", lease=30).mine == {1}  # its own: kept
    clock.now += 20
    book.renew(["s1"], lease=30)  # s1 is alive: renewed
    clock.now += 20
    assert book.hold("d", [2], "s2", "ben", lease=30).others == {2: "ann"}
    clock.now += 31  # s1's kernel died: nothing renewed it
    assert book.hold("d", [2], "s2", "ben", lease=30).mine == {2}


def test_release_gives_back_and_finish_is_for_good_until_reopened():
    book = ClaimBook(Clock())
    book.hold("d", [1, 2], "s1", "ann", lease=30)
    book.finish("d", [1], "s1")
    book.release("s1")  # at close: the unfinished text goes back, the finished one stays done
    got = book.hold("d", [1, 2], "s2", "ben", lease=30)
    assert got.mine == {2} and got.done == {1} and not got.others
    book.finish("d", [2], "s1")  # not s1's any more: nothing happens
    assert book.hold("d", [2], "s3", None, lease=30).others == {2: "ben"}
    book.reopen("d", [1], "s1", "ann", lease=30)  # an answer about it undone
    assert book.hold("d", [1], "s2", "ben", lease=30).others == {1: "ann"}


def test_datasets_are_apart_and_a_dropped_dataset_forgets_its_holds():
    book = ClaimBook(Clock())
    book.hold("a", [1], "s1", "ann", lease=30)
    assert book.hold("b", [1], "s2", "ben", lease=30).mine == {1}
    book.drop_dataset("a")
    assert book.hold("a", [1], "s2", "ben", lease=30).mine == {1}
