"""Backups: a snapshot written, then restored into a fresh instance, gives the same state."""
import json

from sqlalchemy import select

from conftest import add_actor, add_user, build_app, dispose, login
from repertoire.extensions import db
from repertoire.models import Actor, ChangeRequest, Revision, User
from web import ACTOR_FORM, submit


def state(app):
    with app.app_context():
        return {
            "actors": sorted((a.id, a.slug, a.name, a.status, tuple(a.countries), tuple(d.slug for d in a.domains),
                              a.owner_id, a.updated_at.isoformat()) for a in db.session.scalars(select(Actor))),
            "users": sorted((u.id, u.email, u.role) for u in db.session.scalars(select(User))),
            "requests": sorted((r.id, r.kind, r.status, r.actor_id) for r in db.session.scalars(select(ChangeRequest))),
            "revisions": db.session.query(Revision).count(),
        }


def populate(app):
    add_actor(app, name="Publiée Sauvegardée", countries="ML;SN", domains="eau")
    add_actor(app, name="Archivée Sauvegardée", status="archived")
    add_user(app, "membre@example.org")
    add_user(app, "coord@example.org", role="coordinator")
    client = app.test_client()
    login(client, "membre@example.org")
    submit(client, "/mon-espace/inscrire", ACTOR_FORM)


def test_backup_then_restore_into_a_fresh_instance(app, runner, tmp_path):
    populate(app)
    result = runner.invoke(args=["backup", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    folder = next((tmp_path / "backups").iterdir())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["actor"] == 3 and manifest["passwords"] is False
    users = [json.loads(line) for line in (folder / "tables" / "user_account.jsonl").read_text().splitlines()]
    assert all(u["password_hash"] is None for u in users)
    exported = json.loads((folder / "actors.json").read_text())
    assert [a["name"] for a in exported] == ["Publiée Sauvegardée"]

    fresh = build_app(tmp_path / "fresh")
    restored = fresh.test_cli_runner().invoke(args=["restore", str(folder)])
    assert restored.exit_code == 0, restored.output
    assert state(fresh) == state(app)
    client = fresh.test_client()
    assert [r["name"] for r in client.get("/api/actors").get_json()["results"]] == ["Publiée Sauvegardée"]
    assert fresh.test_cli_runner().invoke(args=["index", "check"]).exit_code == 0
    # without their hashes, accounts must choose a new password
    refused = submit(client, "/compte/connexion", {"email": "membre@example.org", "password": "mot de passe solide"})
    assert refused.status_code == 200
    # the restored instance keeps working: new ids do not collide
    add_actor(fresh, name="Après Restauration")
    assert client.get("/api/actors").get_json()["total"] == 2
    dispose(fresh)


def test_backup_with_passwords_keeps_logins(app, runner, tmp_path):
    add_user(app, "garde@example.org")
    runner.invoke(args=["backup", str(tmp_path / "b"), "--with-passwords"])
    folder = next((tmp_path / "b").iterdir())
    fresh = build_app(tmp_path / "fresh")
    assert fresh.test_cli_runner().invoke(args=["restore", str(folder)]).exit_code == 0
    login(fresh.test_client(), "garde@example.org")
    dispose(fresh)


def test_restore_refuses_a_used_database_and_a_wrong_folder(app, runner, tmp_path):
    add_actor(app, name="Occupée")
    runner.invoke(args=["backup", str(tmp_path / "b")])
    folder = next((tmp_path / "b").iterdir())
    refused = runner.invoke(args=["restore", str(folder)])
    assert refused.exit_code != 0 and "n'est pas vide" in refused.output
    assert runner.invoke(args=["restore", str(folder), "--force"]).exit_code == 0
    wrong = runner.invoke(args=["restore", str(tmp_path)])
    assert wrong.exit_code != 0 and "n'est pas une sauvegarde" in wrong.output
