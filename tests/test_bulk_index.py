"""Bulk indexing: segments built in one pass (and in several processes) read back as Whoosh's own."""
import json
import pathlib
from collections import Counter

import pytest
from sqlalchemy import func, select

from conftest import edit_actor
from repertoire.extensions import db
from repertoire.models import Actor, ActorCountry
from repertoire.records import published_records
from repertoire.search import documents as search_documents, get_index
from repertoire.search.whoosh import parallel
from repertoire.search.whoosh.bulk import BulkSegmentWriter
from repertoire.search.whoosh.parallel import build_segment_in
from repertoire.search.whoosh.schema import make_schema, to_fields


def import_generated(runner, tmp_path, n, seed=5):
    path = tmp_path / f"generated-{n}.csv"
    assert runner.invoke(args=["generate", str(n), str(path), "--seed", str(seed)]).exit_code == 0
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output


def test_the_whoosh_engine_runs_on_the_version_it_is_written_against():
    """bulk.py fills Whoosh's internals: another version must pass the comparison below first, then say so."""
    from importlib.metadata import version

    from repertoire.search.whoosh import WRITTEN_AGAINST
    pyproject = (pathlib.Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert version("whoosh-reloaded") == WRITTEN_AGAINST
    assert f'"whoosh-reloaded=={WRITTEN_AGAINST}"' in pyproject


def test_a_bulk_segment_holds_what_whoosh_writer_writes(app, runner, tmp_path):
    """Every term, posting (document, weight, positions), length, stored value and column: the same."""
    from whoosh.filedb.filestore import FileStorage

    import_generated(runner, tmp_path, 400)
    with app.app_context(), db.engine.connect() as connection:
        labels = search_documents.taxonomy_labels(connection)
        documents = [to_fields(search_documents.index_document(r, labels)) for r in published_records(connection)]
    assert len(documents) == 400

    def fresh(name):
        (tmp_path / name).mkdir()
        return FileStorage(str(tmp_path / name)).create_index(make_schema())

    reference, bulk = fresh("reference"), fresh("bulk")
    with reference.writer() as writer:
        for document in documents:
            writer.add_document(**document)
    writer = BulkSegmentWriter(bulk)  # holds the index's lock while the segment is built
    writer.built.append(build_segment_in(str(tmp_path / "bulk"), documents))
    writer.commit()

    expected, got = reference.reader(), bulk.reader()
    assert got.doc_count() == expected.doc_count() == 400
    assert list(got.all_terms()) == list(expected.all_terms())
    infos = ("weight", "doc_frequency", "min_length", "max_length", "max_weight", "min_id", "max_id")
    for fieldname, text in expected.all_terms():
        mine, theirs = got.term_info(fieldname, text), expected.term_info(fieldname, text)
        assert [getattr(mine, i)() for i in infos] == [getattr(theirs, i)() for i in infos], (fieldname, text)
        assert list(got.postings(fieldname, text).all_items()) == \
            list(expected.postings(fieldname, text).all_items()), (fieldname, text)
    schema = make_schema()
    for docnum in range(400):
        assert got.stored_fields(docnum) == expected.stored_fields(docnum)
        for fieldname in schema.names():
            assert got.doc_field_length(docnum, fieldname) == expected.doc_field_length(docnum, fieldname)
    for fieldname in schema.names():
        assert got.field_length(fieldname) == expected.field_length(fieldname)
        if schema[fieldname].column_type:
            assert list(got.column_reader(fieldname)) == list(expected.column_reader(fieldname))
    for fieldname, text in expected.all_terms():  # positions decoded, for phrases
        if fieldname in ("text", "name", "place"):
            assert list(got.postings(fieldname, text).items_as("positions")) == \
                list(expected.postings(fieldname, text).items_as("positions"))
    expected.close(), got.close()


def facet_counts_in_database(app):
    with app.app_context():
        published = select(Actor.id).where(Actor.status == "published")
        return Counter(db.session.scalars(select(ActorCountry.code).where(ActorCountry.actor_id.in_(published))))


@pytest.mark.parametrize("processes,start,cap,segments", [(1, None, 1000, 1), (2, "fork", 1000, 2),
                                                        (2, "spawn", 1000, 2), (2, "fork", 40, 4)])
def test_a_large_import_is_indexed_in_bulk_and_stays_editable(app, runner, client, tmp_path, monkeypatch,
                                                             processes, start, cap, segments):
    monkeypatch.setattr("repertoire.search.whoosh.store.BULK_FROM", 30)
    monkeypatch.setattr(parallel, "BULK_FROM", 30)
    monkeypatch.setattr(parallel, "BUILD_PROCESSES", processes)
    monkeypatch.setattr(parallel, "SEGMENT_AT_MOST", cap)
    if start == "spawn":  # what a web server running threads gets
        monkeypatch.setattr(parallel.threading, "active_count", lambda: 3)
    built = []
    original = parallel.build_segments
    monkeypatch.setattr("repertoire.search.whoosh.store.build_segments",
                        lambda *a, **k: built.append(1) or original(*a, **k))
    import_generated(runner, tmp_path, 150)
    assert built, "150 new actors (more than BULK_FROM) are built in bulk"
    with app.app_context():
        leaves = get_index()._current().leaves
        assert len([1 for _, cache, _ in leaves if cache.size]) == segments  # one a process, of cap at most

    browse = client.get("/api/actors?per_page=100").get_json()
    assert browse["total"] == 150
    assert {f["value"]: f["count"] for f in browse["facets"]["country"]} == facet_counts_in_database(app)
    assert runner.invoke(args=["index", "check"]).exit_code == 0

    # Actors of the bulk segments are updated and removed like any other.
    with app.app_context():
        first, second = db.session.scalars(select(Actor.id).order_by(Actor.id).limit(2)).all()
    edit_actor(app, first, name="Renommée Après Import Massif")
    found = client.get("/api/actors?name=renommee massif").get_json()
    assert [r["id"] for r in found["results"]] == [first]
    with app.app_context():
        actor = db.session.get(Actor, second)
        actor.status = "archived"
        db.session.commit()
    assert client.get("/api/actors").get_json()["total"] == 149
    assert runner.invoke(args=["index", "check"]).exit_code == 0
    assert runner.invoke(args=["reindex"]).exit_code == 0
    assert client.get("/api/actors").get_json()["total"] == 149
    assert client.get("/api/actors?name=renommee massif").get_json()["total"] == 1


def test_rows_inserted_in_later_batches_are_stored_like_the_first(app, client):
    """Large imports insert their first batch through SQLAlchemy, the next ones (SQLite) through the driver."""
    from sqlalchemy import text

    from repertoire import operations
    from repertoire.models import Revision
    from repertoire.validation import Vocabulary, validate_actor

    with app.app_context():
        vocab = Vocabulary(db.session)
        rows = [validate_actor({"name": f"Lot {i} Égalité", "kind": "association", "town": "Caen",
                                "department": "14", "countries": "ML;SN", "intervention_towns": "Bamako",
                                "domains": "eau;sante", "activities": "projets"}, vocab)[0] for i in range(5)]
        summary = operations.import_actors(db.session, rows, vocab, batch_size=2)
        db.session.commit()
        assert summary.created == 5
        stored = db.session.execute(text(
            "SELECT a.name, a.created_at, a.updated_at, r.created_at, r.data FROM actor a "
            "JOIN revision r ON r.actor_id = a.id ORDER BY a.id")).all()
        assert [row[0] for row in stored] == [f"Lot {i} Égalité" for i in range(5)]
        def data(value):
            return {**(value if isinstance(value, dict) else json.loads(value)), "name": ""}

        first, *later = stored
        for row in later:  # the same formats (dates, JSON) whatever the batch
            assert [len(str(v)) for v in row[1:4]] == [len(str(v)) for v in first[1:4]]
            assert data(row[4]) == data(first[4])
        revisions = db.session.scalars(select(Revision).order_by(Revision.id)).all()
        assert [r.data["name"] for r in revisions] == [f"Lot {i} Égalité" for i in range(5)]
        assert all(r.created_at.tzinfo is not None for r in revisions)
    found = client.get("/api/actors?country=SN&domain=eau&per_page=10").get_json()
    assert sorted(r["name"] for r in found["results"]) == [f"Lot {i} Égalité" for i in range(5)]
    assert all(r["intervention_towns"] == ["Bamako"] for r in found["results"])


def test_a_large_file_is_checked_by_several_processes_with_the_same_verdict(app, runner, tmp_path, monkeypatch):
    from repertoire import importing
    from repertoire.interchange import parse_file

    path = tmp_path / "mixed.csv"
    assert runner.invoke(args=["generate", "60", str(path), "--seed", "9"]).exit_code == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[7] = lines[7].replace(",14,", ",99,", 1) if ",14," in lines[7] else lines[7] + "x,,"  # a bad row
    lines.append(lines[3])  # the same actor twice
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(importing, "PARALLEL_FROM", 10)
    monkeypatch.setattr(importing, "CHUNK", 7)
    with app.app_context():
        parsed = parse_file(str(path))
        alone = importing.check_import(db.session, parsed, processes=1)
        together = importing.check_import(db.session, parsed, processes=2)
    assert together.errors == alone.errors and len(alone.errors) >= 2
    assert [line for line, _ in alone.errors][-1] == len(lines)  # the repeated row, reported on its own line
    assert [(line, d, d.key, d.slug) for line, d in together.valid] == \
        [(line, d, d.key, d.slug) for line, d in alone.valid]
    result = runner.invoke(args=["import", str(path)])  # the command uses the processes
    assert result.exit_code == 1 and f"line {len(lines)}:" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Actor)) == 0


@pytest.mark.parametrize("processes", [1, 2])
def test_an_import_written_while_checked_leaves_nothing_when_a_late_row_is_bad(app, runner, client, tmp_path,
                                                                               monkeypatch, processes):
    from repertoire import importing
    from repertoire.interchange import parse_file
    from repertoire.models import IndexLog, Revision

    path = tmp_path / "late.csv"
    assert runner.invoke(args=["generate", "40", str(path), "--seed", "4"]).exit_code == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    good = lines[:]
    lines.append(lines[2])  # the last row repeats the second actor
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(importing, "PARALLEL_FROM", 10)
    monkeypatch.setattr(importing, "CHUNK", 6)
    with app.app_context():
        check, summary = importing.check_and_import(db.session, parse_file(str(path)), processes=processes,
                                                    batch_size=5)
        assert summary is None and check.errors == [(len(lines), "même nom, même commune et même département "
                                                                  "qu'à la ligne 3")]
        assert db.session.scalar(select(func.count()).select_from(Actor)) > 0  # written meanwhile…
        db.session.rollback()
        for model in (Actor, Revision, IndexLog):  # …and gone with the transaction
            assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert client.get("/api/actors").get_json()["total"] == 0

    path.write_text("\n".join(good) + "\n", encoding="utf-8")
    with app.app_context():
        check, summary = importing.check_and_import(db.session, parse_file(str(path)), processes=processes,
                                                    batch_size=5)
        assert check.ok and summary.created == check.to_create == 40
        db.session.commit()
    assert client.get("/api/actors").get_json()["total"] == 40
    assert runner.invoke(args=["index", "check"]).exit_code == 0
