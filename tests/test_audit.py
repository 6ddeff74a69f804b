"""Issue 16 points 4 and 5: the audit log (who, when, what, before/after; filters, CSV, never editable) and
safe taxonomy and bulk changes (impact shown first, no preselected target, undo from the log)."""
import csv
import io
import re
import threading

import pytest
from sqlalchemy import func, select, text as sql

from conftest import add_actor, add_user, edit_actor, login
from repertoire.extensions import db
from repertoire.jobs import wait_inline
from repertoire.models import Actor, AuditEvent, ChangeRequest, Domain, Membership, User
from repertoire.operations import record_action
from web import ACTOR_FORM, csrf_token, submit, text


def events(app, kind=None):
    with app.app_context():
        query = select(AuditEvent).order_by(AuditEvent.id)
        if kind:
            query = query.where(AuditEvent.kind == kind)
        found = db.session.scalars(query).all()
        db.session.expunge_all()
        return found


def domain(app, slug):
    with app.app_context():
        return db.session.scalar(select(Domain).where(Domain.slug == slug))


def network_and_member(app):
    """A published network and an actor member of it; returns (network id, member id)."""
    network = add_actor(app, name="Réseau Normand", kind="reseau")
    member = add_actor(app, name="Puits du Bocage", domains="urgence", networks="reseau-normand")
    return network, member


@pytest.fixture
def admin_client(app):
    add_user(app, "admin@example.org", role="admin")
    client = app.test_client()
    login(client, "admin@example.org")
    return client


# -- point 4: every action is recorded by the operations ----------------------

def test_request_decisions_edit_archive_restore_are_recorded_with_before_and_after(app, coordinator_client):
    network, member = network_and_member(app)
    add_user(app, "m@example.org")
    client = app.test_client()
    login(client, "m@example.org")
    submit(client, "/mon-espace/inscrire", ACTOR_FORM)
    with app.app_context():
        request_id = db.session.scalar(select(ChangeRequest.id).where(ChangeRequest.kind == "new"))
    submit(coordinator_client, f"/moderation/demandes/{request_id}/accepter", {},
           form_url=f"/moderation/demandes/{request_id}")
    [approved] = events(app, "request.approve")
    assert approved.before["status"] == "pending" and approved.after["status"] == "published"
    assert approved.target_type == "request" and approved.target_id == request_id
    with app.app_context():
        coordinator = db.session.scalar(select(User).where(User.email == "coord@example.org"))
    assert approved.user_id == coordinator.id

    submit(coordinator_client, f"/moderation/acteurs/{member}/archiver", {}, form_url=f"/moderation/acteurs/{member}")
    submit(coordinator_client, f"/moderation/acteurs/{member}/restaurer", {}, form_url=f"/moderation/acteurs/{member}")
    assert [(e.before, e.after) for e in events(app, "actor.archive") + events(app, "actor.restore")] == [
        ({"status": "published"}, {"status": "archived"}), ({"status": "archived"}, {"status": "published"})]
    submit(coordinator_client, f"/moderation/acteurs/{member}", {**ACTOR_FORM, "name": "Puits du Bocage Normand",
                                                                "networks-0-network": "reseau-normand"})
    [edit] = events(app, "actor.edit")
    assert edit.before["name"] == "Puits du Bocage" and edit.after["name"] == "Puits du Bocage Normand"
    assert edit.networks == [network]  # the member's network
    page = coordinator_client.get(f"/moderation/journal?reseau={network}").get_data(as_text=True)
    assert "<td>Fiche modifiée" in page and "<td>Fiche archivée" in page and "<td>Demande acceptée" not in page


def test_taxonomy_duplicates_roles_and_imports_are_recorded(app, coordinator_client, admin_client, runner, tmp_path):
    eau = domain(app, "eau")
    submit(coordinator_client, "/moderation/taxonomie/domain/ajouter", {"label": "Numérique"},
           form_url="/moderation/taxonomie")
    submit(coordinator_client, f"/moderation/taxonomie/domain/{eau.id}/renommer", {"label": "Eau potable"},
           form_url="/moderation/taxonomie")
    submit(coordinator_client, f"/moderation/taxonomie/domain/{eau.id}/monter", {}, form_url="/moderation/taxonomie")
    rename = events(app, "term.rename")[0]
    assert rename.before["label"] == "Eau et assainissement" and rename.after["label"] == "Eau potable"
    assert [e.kind for e in events(app) if e.kind.startswith("term.")] == ["term.add", "term.rename", "term.move"]

    a = add_actor(app, name="Solidarité Bénin Caen", email="contact@benin.example.org")
    b = add_actor(app, name="Solidarite Benin Caen", email="contact@benin.example.org")
    submit(coordinator_client, f"/moderation/doublons/{a}/{b}/ignorer", {}, form_url="/moderation/doublons")
    assert events(app, "duplicate.dismiss")[0].after == {"actors": [a, b]}

    member = add_user(app, "promu@example.org")
    submit(admin_client, "/moderation/comptes", {"user_id": member, "role": "coordinator"})
    submit(admin_client, "/moderation/comptes", {"user_id": member, "role": "coordinator", "active": "0"})
    role, closed = events(app, "account.role")[0], events(app, "account.close")[0]
    assert (role.before, role.after, role.target_id) == ({"role": "member"}, {"role": "coordinator"}, member)
    assert "<td>promu@example.org</td>" in admin_client.get("/moderation/journal?type=account.role").get_data(
        as_text=True)
    assert closed.after == {"active": False}

    path = tmp_path / "acteurs.csv"
    path.write_text("name,kind,town,postcode,department\nAsso CLI,association,Caen,14000,14\n", encoding="utf-8")
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    [imported] = events(app, "import")
    assert imported.user_id is None and imported.after["created"] == 1 and imported.after["file"] == "acteurs.csv"
    page = text(coordinator_client.get("/moderation/journal?personne=cli&type=import"))
    assert "ligne de commande" in page and "Import" in page


def test_journal_filters_page_by_keyset_and_refuses_bad_values(app, coordinator_client):
    with app.app_context():
        for n in range(120):
            record_action(db.session, None, "term.add" if n % 2 else "import", ("test", n, f"objet {n:03d}"),
                          None, {"n": n}, [7] if n % 3 == 0 else [])
        db.session.commit()
    first = coordinator_client.get("/moderation/journal?type=import").get_data(as_text=True)
    assert first.count("Voir l'action n°") == 50 and "objet 118" in first and "objet 001" not in first
    more = re.search(r'href="([^"]+avant=\d+[^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    second = coordinator_client.get(more).get_data(as_text=True)
    assert "objet 018" in second and "objet 118" not in second and second.count("Voir l'action n°") == 10
    assert 'rel="next"' not in second
    by_network = coordinator_client.get("/moderation/journal?reseau=7").get_data(as_text=True)
    assert by_network.count("Voir l'action n°") == 40
    assert "Aucune action" in text(coordinator_client.get("/moderation/journal?du=2001-01-01&au=2001-01-02"))
    today = events(app)[-1].created_at.date().isoformat()
    assert coordinator_client.get(f"/moderation/journal?du={today}&au={today}&type=term.add") \
        .get_data(as_text=True).count("Voir l'action n°") == 50
    assert "Aucune action" in text(coordinator_client.get("/moderation/journal?type=network.other"))
    for bad in ("type=%3Cscript%3E", "du=hier", "reseau=-1", "personne=x", "avant=99999999999999"):
        assert coordinator_client.get(f"/moderation/journal?{bad}").status_code == 400, bad
    assert app.test_client().get("/moderation/journal").status_code in (302, 401, 403)
    add_user(app, "m@example.org")
    member = app.test_client()
    login(member, "m@example.org")
    assert member.get("/moderation/journal").status_code == 403
    assert member.get("/moderation/journal.csv").status_code == 403
    some = events(app)[0].id
    for url in (f"/moderation/journal/{some}", "/moderation/acteurs/lot?action=archiver",
                "/moderation/taxonomie/domain/1/fusionner", "/moderation/taxonomie/domain/1/retirer"):
        assert member.get(url).status_code == 403, url
    for url in (f"/moderation/journal/{some}/annuler", "/moderation/acteurs/lot"):
        token = csrf_token(member.get("/mon-espace/inscrire").get_data(as_text=True))
        assert member.post(url, data={"action": "archiver", "csrf_token": token}).status_code == 403, url
    assert len(events(app, "undo")) == 0


def test_journal_csv_is_formula_safe_and_filtered(app, coordinator_client):
    actor = add_actor(app, name="Association Bonne Eau")
    submit(coordinator_client, f"/moderation/acteurs/{actor}", {**ACTOR_FORM, "name": "=HYPERLINK(\"http://x\")"})
    response = coordinator_client.get("/moderation/journal.csv?type=actor.edit")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1 and rows[0]["kind"] == "actor.edit" and rows[0]["person"] == "coord@example.org"
    assert rows[0]["target"].startswith("'=HYPERLINK")
    assert '"name": "Association Bonne Eau"' in rows[0]["before"]


def test_the_log_is_never_editable(app, coordinator_client):
    add_user(app, "someone@example.org", role="coordinator")  # an event: account.create
    event = events(app)[-1]
    before = [(e.id, e.kind, e.after) for e in events(app)]
    for method in ("put", "patch", "delete"):
        assert getattr(coordinator_client, method)(f"/moderation/journal/{event.id}").status_code == 405
    with app.app_context():
        db.session.execute(sql("INSERT INTO audit_event_network (network_id, event_id) VALUES (1, :e)"),
                           {"e": event.id})
        db.session.commit()  # adding is allowed; changing or removing is not
        for statement in ("UPDATE audit_event SET kind = 'x'", "DELETE FROM audit_event",
                          f"DELETE FROM audit_event WHERE id = {event.id}", "UPDATE audit_event_network SET network_id = 2",
                          "DELETE FROM audit_event_network"):
            with pytest.raises(Exception, match="append-only"):
                db.session.execute(sql(statement))
            db.session.rollback()
        if db.engine.dialect.name == "postgresql":
            with pytest.raises(Exception, match="append-only"):
                db.session.execute(sql("TRUNCATE audit_event"))
            db.session.rollback()
    assert [(e.id, e.kind, e.after) for e in events(app)] == before


def test_deleting_an_account_keeps_its_actions(app, admin_client):
    member = add_user(app, "parti@example.org")
    submit(admin_client, "/moderation/comptes", {"user_id": member, "role": "coordinator"})
    with app.app_context():
        from repertoire.operations import delete_account
        delete_account(db.session, db.session.get(User, member))
        db.session.commit()
    [event] = events(app, "account.role")
    assert event.after == {"role": "coordinator"} and event.target_id == member  # the action stays...
    admin_client.get("/moderation/journal")  # the flash of the role change, shown once
    page = admin_client.get("/moderation/journal?type=account.role").get_data(as_text=True)
    assert "parti@example.org" not in page and f"compte supprimé n° {member}" in page  # ...not the address


# -- point 5: impact first, no preselected target, undo -----------------------

def test_merge_shows_impact_without_preselected_target_and_is_undone_once(app, coordinator_client):
    network, member = network_and_member(app)
    both = add_actor(app, name="Risques et Urgence", domains="urgence;risques")
    urgence, risques = domain(app, "urgence"), domain(app, "risques")
    response = coordinator_client.get(f"/moderation/taxonomie/domain/{urgence.id}/fusionner")
    page, body = response.get_data(as_text=True), text(response)
    assert "celle de 2 fiches (2 publiées)" in body and "Réseau Normand : 1 fiche" in body
    select_html = re.search(r'<select id="merge-target".*?</select>', page, re.S).group(0)
    assert re.findall(r"<option[^>]*selected", select_html) == ['<option value="" selected']
    no_target = coordinator_client.post(f"/moderation/taxonomie/domain/{urgence.id}/fusionner",
                                        data={"csrf_token": csrf_token(page), "target": ""})
    assert no_target.status_code == 400 and not domain(app, "urgence").retired
    coordinator_client.post(f"/moderation/taxonomie/domain/{urgence.id}/fusionner",
                            data={"csrf_token": csrf_token(page), "target": risques.id})
    public = app.test_client()
    assert public.get("/api/actors?domain=urgence").get_json()["total"] == 0
    [merge] = events(app, "term.merge")
    assert merge.networks == [network] and sorted(merge.before["actors"]) == sorted([member, both])

    event_page = coordinator_client.get(f"/moderation/journal/{merge.id}").get_data(as_text=True)
    assert "Annuler" in event_page
    done = coordinator_client.post(f"/moderation/journal/{merge.id}/annuler",
                                   data={"csrf_token": csrf_token(event_page)}, follow_redirects=True)
    assert "Action annulée." in text(done)
    assert public.get("/api/actors?domain=urgence").get_json()["total"] == 2
    assert public.get("/api/actors?domain=risques").get_json()["total"] == 1  # only the one that had it
    assert not domain(app, "urgence").retired
    replay = coordinator_client.post(f"/moderation/journal/{merge.id}/annuler",
                                     data={"csrf_token": csrf_token(event_page)}, follow_redirects=True)
    assert "déjà été annulée" in text(replay)
    [undo] = events(app, "undo")
    assert undo.undo_of_id == merge.id and undo.after == {"undone": 2, "skipped": 0}
    assert "Annuler</button>" not in coordinator_client.get(f"/moderation/journal/{merge.id}").get_data(as_text=True)
    assert coordinator_client.post("/moderation/journal/999999/annuler",
                                   data={"csrf_token": csrf_token(event_page)}).status_code == 404
    not_undoable = events(app, "request.approve") or events(app, "account.create")
    refused = coordinator_client.post(f"/moderation/journal/{not_undoable[0].id}/annuler",
                                      data={"csrf_token": csrf_token(event_page)}, follow_redirects=True)
    assert "ne peut pas être annulée" in text(refused)
    assert coordinator_client.post(f"/moderation/journal/{merge.id}/annuler", data={}).status_code == 400


def test_undo_leaves_actors_changed_since_as_they_are(app, coordinator_client):
    kept = add_actor(app, name="Urgence Haïti", domains="urgence")
    changed = add_actor(app, name="Urgence Sahel", domains="urgence")
    urgence, risques = domain(app, "urgence"), domain(app, "risques")
    submit(coordinator_client, f"/moderation/taxonomie/domain/{urgence.id}/fusionner", {"target": risques.id},
           form_url=f"/moderation/taxonomie/domain/{urgence.id}/fusionner")
    edit_actor(app, changed, domains=["sante"])  # changed again after the merge
    [merge] = events(app, "term.merge")
    done = submit(coordinator_client, f"/moderation/journal/{merge.id}/annuler", {},
                  form_url=f"/moderation/journal/{merge.id}", follow_redirects=True)
    assert "1 élément modifié depuis garde ses valeurs actuelles." in text(done)
    public = app.test_client()
    assert [r["id"] for r in public.get("/api/actors?domain=urgence").get_json()["results"]] == [kept]
    assert public.get(f"/api/actors/{changed}").get_json()["domains"] == ["sante"]


def test_retire_shows_impact_and_is_undone(app, coordinator_client):
    add_actor(app, name="Tourisme Équitable", domains="tourisme")
    tourisme = domain(app, "tourisme")
    page = text(coordinator_client.get(f"/moderation/taxonomie/domain/{tourisme.id}/retirer"))
    assert "celle de 1 fiche (1 publiée)" in page and "Aucun réseau concerné." in page
    submit(coordinator_client, f"/moderation/taxonomie/domain/{tourisme.id}/retirer", {},
           form_url=f"/moderation/taxonomie/domain/{tourisme.id}/retirer")
    assert domain(app, "tourisme").retired
    [retire] = events(app, "term.retire")
    submit(coordinator_client, f"/moderation/journal/{retire.id}/annuler", {}, form_url=f"/moderation/journal/{retire.id}")
    assert not domain(app, "tourisme").retired


def test_two_undos_at_once_undo_once(app, coordinator_client):
    add_actor(app, name="Urgence Haïti", domains="urgence")
    urgence, risques = domain(app, "urgence"), domain(app, "risques")
    submit(coordinator_client, f"/moderation/taxonomie/domain/{urgence.id}/fusionner", {"target": risques.id},
           form_url=f"/moderation/taxonomie/domain/{urgence.id}/fusionner")
    [merge] = events(app, "term.merge")
    add_user(app, "coord2@example.org", role="coordinator")
    clients = [coordinator_client, app.test_client()]
    login(clients[1], "coord2@example.org")
    tokens = [csrf_token(c.get(f"/moderation/journal/{merge.id}").get_data(as_text=True)) for c in clients]
    barrier, answers = threading.Barrier(2), []

    def undo(client, token):
        barrier.wait()
        answers.append(text(client.post(f"/moderation/journal/{merge.id}/annuler", data={"csrf_token": token},
                                        follow_redirects=True)))

    threads = [threading.Thread(target=undo, args=pair) for pair in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum("Action annulée." in a for a in answers) == 1
    assert sum("déjà été annulée" in a for a in answers) == 1
    assert len(events(app, "undo")) == 1
    with app.app_context():
        revisions = db.session.scalar(sql("SELECT count(*) FROM revision WHERE action = 'undo'"))
    assert revisions == 1


def test_bulk_archive_of_a_search_confirms_then_undoes(app, coordinator_client):
    network, member = network_and_member(app)
    other = add_actor(app, name="Puits de Falaise", networks="reseau-normand")
    add_actor(app, name="Tout Autre Chose")
    page = coordinator_client.get("/moderation/acteurs/lot?action=archiver&q=puits&status=published")
    body = text(page)
    assert "2 fiches sélectionnées" in body and "Réseau Normand : 2 fiches" in body
    assert "Tout Autre Chose" not in body
    token = csrf_token(page.get_data(as_text=True))
    add_actor(app, name="Puits Nouveau")  # the selection changes before the confirmation
    stale = coordinator_client.post("/moderation/acteurs/lot", data={"csrf_token": token, "action": "archiver",
                                                                     "q": "puits", "status": "published", "count": 2})
    assert stale.status_code == 409 and "3 fiches sélectionnées" in text(stale)
    queued = coordinator_client.post("/moderation/acteurs/lot", data={"csrf_token": token, "action": "archiver",
                                                                      "q": "puits", "status": "published", "count": 3})
    assert queued.status_code == 302 and "/moderation/taches/" in queued.headers["Location"]
    wait_inline(app)  # the job ran in a thread started after the commit
    done = coordinator_client.get(queued.headers["Location"])
    assert "3 fiches archivées." in text(done) and "terminée" in text(done)
    public = app.test_client()
    assert public.get("/api/actors?q=puits").get_json()["total"] == 0
    [bulk] = events(app, "bulk.archive")
    assert bulk.networks == [network] and bulk.after == {"archived": 3}
    edit_actor(app, other, name="Puits de Falaise")  # unchanged values: no revision, still archived
    with app.app_context():
        from repertoire.operations import restore_actor
        restore_actor(db.session, db.session.get(Actor, member))  # restored meanwhile by hand
        db.session.commit()
    queued = submit(coordinator_client, f"/moderation/journal/{bulk.id}/annuler", {},
                    form_url=f"/moderation/journal/{bulk.id}")
    assert queued.status_code == 302 and "/moderation/taches/" in queued.headers["Location"]  # a job
    wait_inline(app)
    done = coordinator_client.get(queued.headers["Location"])
    assert "2 fiches rétablies. 1 élément modifié depuis garde ses valeurs actuelles." in text(done)
    assert public.get("/api/actors?q=puits").get_json()["total"] == 3


def test_bulk_add_to_network_and_export(app, coordinator_client):
    network = add_actor(app, name="Réseau Normand", kind="reseau")
    ids = [add_actor(app, name=f"Forages {n}") for n in range(3)]
    page = coordinator_client.get("/moderation/acteurs/lot?action=reseau&q=forages")
    html = page.get_data(as_text=True)
    assert 'id="bulk-network-name"' in html and "Réseau Normand" not in html  # a name to type, no menu
    data = {"csrf_token": csrf_token(html), "action": "reseau", "q": "forages", "status": "", "count": 3}
    assert coordinator_client.post("/moderation/acteurs/lot", data=data).status_code == 400  # no network chosen
    queued = coordinator_client.post("/moderation/acteurs/lot", data={**data, "network": network})
    wait_inline(app)
    done = coordinator_client.get(queued.headers["Location"])
    assert "3 fiches ajoutées au réseau." in text(done)
    public = app.test_client()
    assert public.get(f"/api/actors/{ids[0]}").get_json()["networks"] == [{"network": "reseau-normand",
                                                                          "since": None}]
    [bulk] = events(app, "bulk.network")
    assert bulk.networks == [network]
    submit(coordinator_client, f"/moderation/journal/{bulk.id}/annuler", {}, form_url=f"/moderation/journal/{bulk.id}")
    wait_inline(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 0

    queued = coordinator_client.post("/moderation/acteurs/lot", data={**data, "action": "exporter"})
    wait_inline(app)
    page = coordinator_client.get(queued.headers["Location"])
    assert "3 fiches exportées." in text(page)
    file_url = re.search(r'href="([^"]*/fichier)"', page.get_data(as_text=True)).group(1)
    export = coordinator_client.get(file_url)
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(r["name"] for r in rows) == ["Forages 0", "Forages 1", "Forages 2"]
    assert events(app, "bulk.export")[0].after == {"exported": 3}
    assert coordinator_client.get("/moderation/acteurs/lot?action=supprimer").status_code == 400
