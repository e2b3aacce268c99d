"""Two ingests of one file at once, and a file ingested again: the session stored first is the answer.

A racing ingest that commits first makes the store raise AlreadyStored, at ``begin`` or at ``commit``
(the SQL stores find out at either); the loser reports the winner's session as found again, exactly
as if it had started after it, and stores nothing of its own.
"""

from __future__ import annotations

import copy
import io

import pytest

from hrviz.core.errors import AlreadyStored
from hrviz.core.ingest import ingest
from hrviz.core.model import Kind, Session
from tests.unit.fakes import MemoryStore, MemoryWriter

CSV = b"timestamp,bpm\n" + b"".join(
    f"2024-05-01T10:00:{i:02d}Z,{v}\n".encode()
    for i, v in enumerate([70, 71, 70, 69, 70, 71, 70, 69, 70, 71, 115, 118, 72, 70, "", "", 71, 70, 69, 70])
)


def stored_elsewhere() -> tuple[Session, MemoryStore]:
    """The session the other ingest commits (under another name, so that it can be told apart)."""
    other = MemoryStore()
    (winner,) = ingest(io.BytesIO(CSV), "first.csv", other)
    return winner, other


class RacingStore(MemoryStore):
    """The other ingest commits while this one reads the file: this one learns it at ``at``."""

    def __init__(self, at: str) -> None:
        super().__init__()
        self.at = at
        self.winner, self.other = stored_elsewhere()

    def other_commits(self, session: Session) -> None:
        assert session.fingerprint == self.winner.fingerprint  # the same file and settings: the same session
        self.sessions[self.winner.id] = copy.copy(self.other.sessions[self.winner.id])
        self.rows[self.winner.id] = self.other.rows[self.winner.id]
        self.marks[self.winner.id] = -1

    def begin(self, session: Session) -> MemoryWriter:
        if self.at == "begin":
            self.other_commits(session)
            raise AlreadyStored(self.winner.id)
        return RacingWriter(self, session)


class RacingWriter(MemoryWriter):
    store: RacingStore

    def commit(self, session: Session) -> None:
        self.store.other_commits(session)
        raise AlreadyStored(session.id)


@pytest.mark.parametrize(("at", "aborted"), [("begin", 0), ("commit", 1)])
def test_an_ingest_that_loses_the_race_reports_the_winners_session(at: str, aborted: int) -> None:
    store = RacingStore(at)
    (got,) = ingest(io.BytesIO(CSV), "second.csv", store)
    assert got.existing and (got.id, got.source) == (store.winner.id, "first.csv")
    assert [a.kind for a in got.anomalies] == [Kind.SPIKE, Kind.MISSING]
    assert (got.readings, got.filled) == (20, 2)
    assert list(store.sessions) == [store.winner.id] and len(store.rows[store.winner.id]) == 20
    assert store.aborted == aborted  # a writer that was begun is always let go


class GoneAfterRace(MemoryStore):
    """A store that says AlreadyStored but then cannot find the session: a broken store, said in words."""

    def begin(self, session: Session) -> MemoryWriter:
        raise AlreadyStored(session.id)


def test_a_store_that_cannot_find_what_it_says_is_stored_is_an_error() -> None:
    with pytest.raises(RuntimeError) as failed:
        ingest(io.BytesIO(CSV), "a.csv", GoneAfterRace())
    assert str(failed.value) == "session 33e4368d9dd9 was reported stored but cannot be found"


class RowOnlyFind(MemoryStore):
    """``find`` reads the session's row alone, as the SQL stores do; ``get`` brings its anomalies."""

    def find(self, fingerprint: str) -> Session | None:
        found = super().find(fingerprint)
        if found is not None:
            found.anomalies = []
        return found


def test_a_session_found_again_comes_with_its_anomalies() -> None:
    store = RowOnlyFind()
    (first,) = ingest(io.BytesIO(CSV), "a.csv", store)
    (again,) = ingest(io.BytesIO(CSV), "a.csv", store)
    assert again.existing and again.id == first.id
    assert [a.kind for a in again.anomalies] == [Kind.SPIKE, Kind.MISSING]


def test_a_session_deleted_between_find_and_get_is_still_reported() -> None:
    class DeletedMeanwhile(RowOnlyFind):
        def get(self, session_id: str) -> Session | None:
            return None

    store = DeletedMeanwhile()
    (first,) = ingest(io.BytesIO(CSV), "a.csv", store)
    (again,) = ingest(io.BytesIO(CSV), "a.csv", store)
    assert again.existing and (again.id, again.readings, again.anomalies) == (first.id, 20, [])


def test_a_two_subject_file_ingested_again_reports_both_subjects() -> None:
    two = b"subject,time,bpm\nann,2024-05-01T10:00:00Z,70\nann,2024-05-01T10:00:01Z,71\nbob,2024-05-01T10:00:00Z,80\n"
    store = MemoryStore()
    ingest(io.BytesIO(two), "two.csv", store)
    again = ingest(io.BytesIO(two), "two.csv", store)
    assert [(s.subject, s.readings, s.existing) for s in again] == [("ann", 2, True), ("bob", 1, True)]
