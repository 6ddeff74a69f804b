"""Partnerships and memberships as part of an actor's entry (issue 14, point 1; contract §5)."""
import pytest

from conftest import add_actor, edit_actor
from repertoire.extensions import db
from repertoire.models import Actor, Membership, Partnership, Revision
from repertoire.operations import OperationError, actor_input, merge_actors, update_actor
from repertoire.validation import Vocabulary, validate_actor

TWINNING = {"kind": "jumelage", "start": "1962",
            "partners": [{"name": "Sesto Fiorentino", "country": "Italie", "locality": "Sesto Fiorentino"}]}
THREE_PARTY = {"kind": "jumelage", "status": "active", "start": "1989-05",
               "partners": [{"name": "Oranienburg", "country": "DE", "locality": "Oranienburg"},
                            {"name": "Massala", "country": "Mali", "locality": ""},
                            {"name": "Le Robert", "country": "Martinique", "locality": "Le Robert"}]}


def errors_of(app, **fields):
    base = {"name": "Ville Témoin", "kind": "collectivite", "town": "Bagnolet", "department": "93"}
    with app.test_request_context():
        _data, errors = validate_actor({**base, **fields}, Vocabulary(db.session))
    return [message for _field, message in errors]


@pytest.mark.parametrize("partnership, words", [
    ({**TWINNING, "partners": [{"name": "Atlantide", "country": "Atlantide"}]}, "pays inconnu « Atlantide »"),
    ({**TWINNING, "start": "2005", "end": "1999"}, "la fin (1999) précède le début (2005)"),
    ({**TWINNING, "start": "2999"}, "le début « 2999 » est dans le futur"),
    ({**TWINNING, "start": "1962-13"}, "date invalide « 1962-13 »"),
    ({**TWINNING, "kind": "mariage"}, "type de partenariat inconnu « mariage »"),
    ({**TWINNING, "status": "morte"}, "statut inconnu « morte »"),
    ({**TWINNING, "partners": []}, "indiquez au moins un partenaire"),
    ({**TWINNING, "partners": [{"name": "", "country": "IT"}]}, "partenaire 1 : le nom est obligatoire"),
    ({**TWINNING, "domains": ["cuisine"]}, "domaine inconnu « cuisine »"),
    ({**TWINNING, "source": "pas une adresse"}, "adresse de la source invalide"),
])
def test_bad_partnerships_are_refused_in_french(app, partnership, words):
    (message,) = errors_of(app, partnerships=[partnership])
    assert message.startswith("partenariat 1 : ") and words in message


def test_end_at_a_coarser_precision_is_not_before_the_start(app):
    assert errors_of(app, partnerships=[{**TWINNING, "start": "1990-05-12", "end": "1990"}]) == []


@pytest.mark.parametrize("cell, words", [
    ("Horizons Solidaires", "réseau invalide"),
    ("horizons-solidaires:98", "année d'adhésion invalide « 98 »"),
    ("horizons-solidaires:2999", "année d'adhésion invalide « 2999 »"),
])
def test_bad_networks_are_refused(app, cell, words):
    (message,) = errors_of(app, networks=cell)
    assert words in message


def test_a_three_party_twinning_and_a_membership_reach_the_api(app, client):
    network = add_actor(app, name="Horizons Solidaires", kind="reseau", town="Caen", department="14")
    actor_id = add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93",
                         partnerships=[THREE_PARTY, TWINNING], networks="horizons-solidaires:1998")
    data = client.get(f"/api/actors/{actor_id}").get_json()
    assert data["networks"] == [{"network": "horizons-solidaires", "since": 1998}]
    first, second = data["partnerships"]
    assert [p["country"] for p in first["partners"]] == ["DE", "ML", "MQ"]
    assert (first["kind"], first["status"], first["start"], first["end"]) == ("jumelage", "active", "1989-05", "")
    assert second["partners"] == [{"name": "Sesto Fiorentino", "country": "IT", "locality": "Sesto Fiorentino",
                                   "actor": None}]
    assert isinstance(first["id"], int) and first["id"] != second["id"]
    assert client.get(f"/api/actors/{network}").get_json()["networks"] == []


def test_a_partner_in_the_directory_is_linked_and_may_not_be_the_holder(app, client):
    add_actor(app, name="Ville de Sesto", kind="collectivite", town="Caen", department="14")
    actor_id = add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93",
                         partnerships=[{**TWINNING, "partners": [{"name": "Sesto", "country": "IT",
                                                                  "actor": "ville-de-sesto"}]}])
    (partner,) = client.get(f"/api/actors/{actor_id}").get_json()["partnerships"][0]["partners"]
    assert partner["actor"] == "ville-de-sesto"
    with app.test_request_context():
        actor = db.session.get(Actor, actor_id)
        vocab = Vocabulary(db.session)
        for wrong, words in (("ville-de-bagnolet", "ne peut pas être la fiche elle-même"),
                             ("ville-inconnue", "aucune fiche « ville-inconnue »")):
            data = actor_input(actor)
            data.partnerships = [{**data.partnerships[0], "partners": [
                {"name": "X", "country": "IT", "locality": "", "actor": wrong}]}]
            with pytest.raises(OperationError, match=words):
                update_actor(db.session, actor, data, vocab)
            db.session.rollback()
        data = actor_input(actor)
        data.networks = [{"network": "ville-de-bagnolet", "since": None}]
        with pytest.raises(OperationError, match="membre d'elle-même"):
            update_actor(db.session, actor, data, vocab)


def test_changes_are_revisions_and_unchanged_partnerships_keep_their_ids(app, client):
    actor_id = add_actor(app, name="Ville de Bagnolet", kind="collectivite", town="Bagnolet", department="93",
                         partnerships=[TWINNING, THREE_PARTY])
    before = client.get(f"/api/actors/{actor_id}").get_json()["partnerships"]
    assert edit_actor(app, actor_id, description="Nouvelle présentation")
    assert client.get(f"/api/actors/{actor_id}").get_json()["partnerships"] == before
    with app.app_context():
        actor = db.session.get(Actor, actor_id)
        data = actor_input(actor)
        data.partnerships = [data.partnerships[0], {**data.partnerships[1], "status": "terminee", "end": "2001"}]
        assert update_actor(db.session, actor, data, Vocabulary(db.session))
        db.session.commit()
        history = db.session.query(Revision).filter_by(actor_id=actor_id).order_by(Revision.id).all()
        assert history[-1].data["partnerships"][1]["end"] == "2001"
        assert history[-2].data["partnerships"][1]["end"] == ""
    after = client.get(f"/api/actors/{actor_id}").get_json()["partnerships"]
    assert [p["id"] for p in after] == [p["id"] for p in before]
    assert after[1]["status"] == "terminee"


def test_a_merge_moves_members_and_partner_links_to_the_kept_network(app, client):
    keep = add_actor(app, name="Maison de l'Europe", kind="reseau", town="Nantes", department="44")
    drop = add_actor(app, name="Maison de l'Europe de Nantes", kind="reseau", town="Nantes", department="44")
    member = add_actor(app, name="OMRI", kind="association", town="Saint-Sébastien-sur-Loire", department="44",
                       networks="maison-de-l-europe-de-nantes:2001",
                       partnerships=[{**TWINNING, "partners": [{"name": "Maison", "country": "FR",
                                                                "actor": "maison-de-l-europe-de-nantes"}]}])
    with app.app_context():
        merge_actors(db.session, db.session.get(Actor, keep), db.session.get(Actor, drop), {}, None)
        db.session.commit()
        assert db.session.query(Membership).filter_by(network_id=keep).count() == 1
        assert db.session.query(Partnership).count() == 1
    data = client.get(f"/api/actors/{member}").get_json()
    assert data["networks"] == [{"network": "maison-de-l-europe", "since": 2001}]
    assert data["partnerships"][0]["partners"][0]["actor"] == "maison-de-l-europe"
