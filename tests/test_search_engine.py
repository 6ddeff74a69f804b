"""The search engine port (``repertoire.search.engine``), tested through the interface, for every engine.

Documents are the engine-neutral ones ``search.documents.index_document`` makes.
"""
import ast
import pathlib
import threading

import pytest

from conftest import add_actor, build_app, dispose
from repertoire import create_app
from repertoire.actor_fields import FIELDS
from repertoire.extensions import db
from repertoire.search import get_index
from repertoire.search.engine import (ENGINES, FACETS, PORT_VERSION, Alternative, Criteria, Hits, IndexUnavailable, SearchEngine,
                                      WriterBusy, make_engine)
from repertoire.text import sort_key

LABELS = {"kind": {"association": "Association", "collectivite": "Collectivité"},
          "domain": {"eau": "Eau et assainissement", "sante": "Santé"},
          "activity": {"projets": "Projets", "formation": "Formation"}}


def doc(actor_id, name, updated=1_700_000_000.0, **fields):
    """A neutral document as ``index_document`` makes it."""
    data = {f.name: f.empty() for f in FIELDS}
    data.update(kind="association", town="Caen", postcode="14000", department="14")
    data.update(fields, id=actor_id, name=name, slug=f"acteur-{actor_id}", url=f"/acteurs/acteur-{actor_id}")
    data.update(name_sort=sort_key(name), updated_ts=updated, labels=LABELS)
    return data


class Source:
    """A ``DocumentSource`` over documents at hand (the unpublished simply absent)."""

    shareable = False

    def __init__(self, *documents):
        self.by_id = {d["id"]: d for d in documents}

    def documents(self, actor_ids, progress=None):
        found = [self.by_id[i] for i in sorted(actor_ids) if i in self.by_id]
        if progress:
            progress(len(found))
        return found


WELLS = doc(1, "Puits du Sahel", countries=["ML"], domains=["eau"], activities=["projets"],
            description="Forages et puits au Mali.", updated=1_700_000_100.0)
CLINIC = doc(2, "Amis de Kayes", countries=["ML", "SN"], domains=["sante"], activities=["formation"],
             description="Un dispensaire.", town="Rouen", postcode="76000", department="76")
SCHOOL = doc(3, "Zèbre école", countries=["SN"], domains=["eau", "sante"], activities=["formation"],
             kind="collectivite", description="Une école et un puits.")


@pytest.fixture(params=ENGINES)
def engine_name(request):
    return request.param


@pytest.fixture
def engine(engine_name, tmp_path):
    engine = make_engine(engine_name, str(tmp_path / "index"))
    engine.open()
    yield engine
    engine.close()


def fill(engine, *documents, position=(0, 0)):
    with engine.changes() as changes:
        changes.add([d["id"] for d in documents], Source(*documents))
        changes.set_position(*position)


def test_an_engine_is_what_the_port_declares(engine):
    assert isinstance(engine, SearchEngine) and engine.PORT_VERSION == PORT_VERSION
    assert engine.exists() and engine.is_current() and engine.count() == 0
    assert engine.applied_position() == (0, 0)


def test_the_configuration_chooses_the_engine(tmp_path):
    with pytest.raises(ValueError, match="solr"):
        create_app({"TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}",
                    "REPERTOIRE_INDEX_DIR": str(tmp_path / "a"), "REPERTOIRE_SEARCH_ENGINE": "solr"},
                   instance_path=str(tmp_path / "instance"))
    app = build_app(tmp_path / "b", REPERTOIRE_SEARCH_ENGINE="whoosh")
    add_actor(app, name="Puits de Kayes")
    with app.app_context():
        assert isinstance(get_index(), SearchEngine) and get_index().location == str(tmp_path / "b" / "index")
    assert app.test_client().get("/api/actors?q=puits").get_json()["total"] == 1
    dispose(app)


def test_apply_adds_upserts_and_deletes_with_the_position_applied(engine):
    fill(engine, WELLS, CLINIC, position=(2, 0))
    assert engine.applied_position() == (2, 0)
    assert engine.search(Criteria(q="puits"), 0, 10).actor_ids == [1]
    with engine.changes() as changes:
        assert changes.position == (2, 0)  # as read under the writer
        changes.upsert([doc(1, "Sahel vert", description="Maraîchage.", updated=1_700_000_200.0)])
        changes.upsert([SCHOOL])  # absent: inserted
        changes.delete([2, 99])  # 99 is not there: ignored
        changes.set_position(5, 3)
    assert engine.applied_position() == (5, 3)
    assert engine.search(Criteria(q="puits"), 0, 10).actor_ids == [3]
    assert engine.search(Criteria(q="maraîchage"), 0, 10).actor_ids == [1]
    assert engine.indexed() == {1: [1_700_000_200_000_000], 3: [1_700_000_000_000_000]}
    assert engine.count() == 2


def test_changes_are_all_or_nothing(engine):
    fill(engine, WELLS, position=(1, 0))
    with pytest.raises(RuntimeError), engine.changes() as changes:
        changes.delete([1])
        changes.add([2], Source(CLINIC))
        changes.set_position(2, 0)
        raise RuntimeError("a crash half-way")
    assert engine.applied_position() == (1, 0)
    assert set(engine.indexed()) == {1}


def test_search_gives_ordered_ids_and_disjunctive_facet_counts(engine):
    fill(engine, WELLS, CLINIC, SCHOOL)
    every = engine.search(Criteria(), 0, 10)
    assert isinstance(every, Hits) and set(every.facets) == set(FACETS)
    assert every.total == 3 and every.actor_ids == [2, 1, 3]  # by name
    assert engine.search(Criteria(sort="updated"), 0, 10).actor_ids[0] == 1  # newest first
    assert engine.search(Criteria(), 1, 1).actor_ids == [1]  # a page
    hits = engine.search(Criteria(filters={"country": ["SN"], "domain": ["eau"]}), 0, 10)
    assert hits.total == 1 and hits.actor_ids == [3]
    # Each facet is counted under every other facet's filter, not its own.
    assert hits.facets["country"] == {"SN": 1, "ML": 1}  # the "eau" actors: 1 (ML) and 3 (SN)
    assert hits.facets["domain"] == {"eau": 1, "sante": 2}  # the SN actors: 2 and 3
    assert hits.facets["kind"] == {"collectivite": 1}
    text = engine.search(Criteria(q="puits", sort="relevance"), 0, 10)
    assert text.actor_ids == [1, 3]  # in the name first
    assert engine.search(Criteria(place="Rouen"), 0, 10).actor_ids == [2]
    senegal = Alternative("Sénégal", ["SN"], exact=True)
    assert engine.search(Criteria(intervention="Sénégal", interventions=[senegal]), 0, 10).actor_ids == [2, 3]
    assert engine.search(Criteria(name="zebre"), 0, 10).actor_ids == [3]


def test_place_and_intervention_values_are_either_whole_words_start_or_code(engine):
    fill(engine, WELLS, CLINIC, SCHOOL, doc(4, "Jumelage", town="Saint-Denis", postcode="93200",
                                            department="93", intervention_towns=["Kayes"]))

    def ids(**criteria):
        return sorted(engine.search(Criteria(**criteria), 0, 10).actor_ids)
    assert ids(place="Rou") == [2]  # the start of a town
    assert ids(place="Saint-D") == [4]
    assert ids(place="Rou", places=[Alternative("Rou", [], exact=True)]) == []  # exact: no start
    assert ids(place="Rouen, 93", places=[Alternative("Rouen"), Alternative("93", ["93"], exact=True)]) == [2, 4]
    assert ids(place="Normandie", places=[Alternative("Normandie", ["14", "76"], exact=True)]) == [1, 2, 3]
    assert ids(intervention="Kay") == [4]
    assert ids(intervention="x", interventions=[Alternative("x", ["SN"]), Alternative("Kayes")]) == [2, 3, 4]


def test_the_name_or_acronym_typed_exactly_comes_first(engine):
    fill(engine, doc(1, "Amis du Sahel Amis", description="amis amis amis"), doc(2, "Amis", acronym="ADS"),
         doc(3, "Les Amis"))
    assert engine.search(Criteria(name="amis", sort="relevance"), 0, 10).actor_ids[0] == 2
    assert engine.search(Criteria(q="Les Amis", sort="relevance"), 0, 10).actor_ids[0] == 3
    assert engine.search(Criteria(q="ads", sort="relevance"), 0, 10).actor_ids == [2]


def test_lexicon_gives_what_searches_can_match(engine):
    fill(engine, WELLS, CLINIC, doc(4, "Zèbre", town="Caen", intervention_towns=["Kayes", "Ségou"]))
    assert engine.lexicon("place") == {"Caen": 2, "Calvados": 2, "Rouen": 1, "Seine-Maritime": 1}
    assert engine.lexicon("intervention") == {"Kayes": 1, "Ségou": 1}
    assert {"puits", "sahel", "amis", "kayes", "zebre"} <= set(engine.lexicon("name"))


def test_suggest_counts_live_documents_by_place(engine):
    fill(engine, WELLS, CLINIC, SCHOOL)
    assert engine.suggest_places("ca", 5) == [("Caen", 2), ("Calvados", 2)]
    with engine.changes() as changes:
        changes.delete([3])
    assert engine.suggest_places("ca", 5) == [("Caen", 1), ("Calvados", 1)]
    assert engine.suggest_places("x", 5) == []


def test_the_version_changes_on_every_write(engine):
    fill(engine, WELLS)
    first = engine.version()
    assert engine.version() == first  # nothing written
    with engine.changes() as changes:
        changes.upsert([CLINIC])
    second = engine.version()
    assert second != first
    with engine.rebuild() as changes:
        changes.add([1], Source(WELLS))
    assert engine.version() not in (first, second)


def test_a_rebuild_is_made_aside_then_swapped_in(engine):
    fill(engine, WELLS, CLINIC, position=(7, 0))
    seen_during = []
    with engine.rebuild() as changes:
        changes.add([3], Source(SCHOOL))
        changes.set_position(9, 8)
        seen_during.append((engine.search(Criteria(), 0, 10).actor_ids, engine.applied_position()))
    assert seen_during == [([2, 1], (7, 0))]  # searches kept the live index meanwhile
    assert engine.search(Criteria(), 0, 10).actor_ids == [3]
    assert engine.applied_position() == (9, 8)


def test_a_failed_rebuild_leaves_the_live_index(engine):
    fill(engine, WELLS, position=(4, 0))
    with pytest.raises(RuntimeError), engine.rebuild() as changes:
        changes.add([3], Source(SCHOOL))
        raise RuntimeError("killed")
    assert engine.search(Criteria(), 0, 10).actor_ids == [1] and engine.applied_position() == (4, 0)


def test_indexed_tells_a_check_what_the_index_holds(engine):
    fill(engine, WELLS, CLINIC)
    assert engine.indexed() == {1: [1_700_000_100_000_000], 2: [1_700_000_000_000_000]}


def test_close_then_use_opens_again(engine):
    fill(engine, WELLS)
    engine.close()
    assert engine.search(Criteria(q="puits"), 0, 10).actor_ids == [1]


def test_one_writer_at_a_time(engine, engine_name):
    fill(engine, WELLS)
    held, release, outcome = threading.Event(), threading.Event(), []

    def hold():
        with engine.changes() as changes:
            changes.delete([1])
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    try:
        other = make_engine(engine_name, engine.location)  # as another process opens it
        with pytest.raises(WriterBusy), other.changes(timeout=0.1):
            outcome.append("got the writer")
    finally:
        release.set()
        thread.join()
    assert outcome == [] and engine.indexed() == {}


def test_a_missing_index_is_unavailable(engine_name, tmp_path):
    engine = make_engine(engine_name, str(tmp_path / "nowhere"))
    assert not engine.exists()
    for call in (engine.applied_position, engine.count, engine.version, engine.indexed,
                 lambda: engine.search(Criteria(), 0, 10), lambda: engine.suggest_places("caen", 5)):
        with pytest.raises(IndexUnavailable):
            call()
    with pytest.raises(IndexUnavailable), engine.changes():
        pass
    engine.open()
    assert engine.count() == 0 and engine.search(Criteria(), 0, 10).total == 0


PACKAGE = pathlib.Path(__file__).parent.parent / "repertoire"


def imported_modules(path):
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    package = ["repertoire", *path.relative_to(PACKAGE).parent.parts]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            yield node.lineno, module
            yield from ((node.lineno, f"{module}.{a.name}") for a in node.names)


def test_nothing_outside_its_subpackage_imports_whoosh():
    """Whoosh is imported only in search/whoosh/, which only the engine factory names."""
    whoosh = PACKAGE / "search" / "whoosh"
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if whoosh in path.parents:
            continue
        for line, module in imported_modules(path):
            if module.split(".")[0] == "whoosh" or (module.startswith("repertoire.search.whoosh")
                                                     and path != PACKAGE / "search" / "engine.py"):
                offenders.append(f"{path.relative_to(PACKAGE)}:{line} {module}")
    assert offenders == []



def test_a_forked_process_makes_its_own_snapshot_with_the_same_results(engine):
    """A preloaded server's workers and the bench's children are forks: each reads the index through files of
    its own (a shared file offset would mix two processes' reads), with the same results."""
    import os
    fill(engine, WELLS, CLINIC, SCHOOL)
    criteria = Criteria(q="puits")
    ids = engine.search(criteria, 0, 10).actor_ids
    parent_version = engine.version()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            same = engine.search(criteria, 0, 10).actor_ids == ids
            code = 0 if same and engine.version() != parent_version else 2
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert engine.search(criteria, 0, 10).actor_ids == ids and engine.version() == parent_version


def test_a_web_worker_makes_its_first_snapshot_as_it_starts_not_a_command(tmp_path):
    import click
    add_actor(built := build_app(tmp_path / "data"), name="Puits de Kayes")
    config = {key: built.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "REPERTOIRE_INDEX_DIR")}
    dispose(built, drop=False)
    with click.Context(click.Command("import")):  # a command: nothing made before it asks
        command = build_app(tmp_path / "cli", REPERTOIRE_WARM_INDEX=True, **config)
    worker = build_app(tmp_path / "web", REPERTOIRE_WARM_INDEX=True, **config)
    try:
        worker.extensions["repertoire.warmup"].join(30)  # no request made by the test
        assert worker.extensions["repertoire.index"]._snapshot is not None
        assert "repertoire.warmup" not in command.extensions
        assert command.extensions["repertoire.index"]._snapshot is None
        assert worker.test_client().get("/api/actors?q=puits").get_json()["total"] == 1
    finally:
        dispose(command, drop=False)
        dispose(worker)  # the database too, now that no app uses it


def test_the_warm_up_is_on_in_production_by_default_and_can_be_set(tmp_path):
    from repertoire.config import finish
    for given, expected in (({"REPERTOIRE_ENV": "production"}, True), ({}, False),
                            ({"REPERTOIRE_ENV": "production", "REPERTOIRE_WARM_INDEX": "0"}, False),
                            ({"REPERTOIRE_WARM_INDEX": "1"}, True),
                            ({"REPERTOIRE_ENV": "production", "TESTING": True}, False)):
        config = {"SECRET_KEY": "k" * 32, "REPERTOIRE_BASE_URL": "https://repertoire.example.org",
                  "SQLALCHEMY_DATABASE_URI": "sqlite://", **given}
        finish(config, str(tmp_path))
        assert config["REPERTOIRE_WARM_INDEX"] is expected, given


def test_a_worker_forked_after_the_warm_up_opens_its_own_database_connections(tmp_path):
    """gunicorn --preload: the warm-up runs in the process that forks the workers; a worker must not share its
    parent's SQLite or PostgreSQL connections."""
    import os
    app = build_app(tmp_path, REPERTOIRE_WARM_INDEX=True)
    add_actor(app, name="Puits de Kayes")
    app.extensions["repertoire.warmup"].join(30)
    try:
        with app.app_context():
            parent = db.engine.pool.checkedin()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                with app.app_context():
                    fresh = db.engine.pool.checkedin() == 0  # the parent's pooled connections left to it
                code = 0 if fresh and app.test_client().get("/api/actors?q=puits").get_json()["total"] == 1 else 2
            finally:
                os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0 and parent >= 1
        assert app.test_client().get("/api/actors?q=puits").get_json()["total"] == 1
    finally:
        dispose(app)
