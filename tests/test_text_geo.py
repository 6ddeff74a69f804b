from repertoire import geo
from repertoire.text import fold, slugify, sort_key


def test_fold_removes_accents_case_and_ligatures():
    assert fold("Égalité Femmes-Hommes") == "egalite femmes-hommes"
    assert fold("Œuvre") == "oeuvre"


def test_french_name_order_puts_accented_initials_among_their_letter():
    names = ["Zèbre", "Échanges", "abeilles", "Eau vive", "Ecole", "Élan", "Biens"]
    assert sorted(names, key=sort_key) == ["abeilles", "Biens", "Eau vive", "Échanges", "Ecole", "Élan", "Zèbre"]


def test_slug_is_url_safe():
    assert slugify("Comité de jumelage Rouen–Dakar !") == "comite-de-jumelage-rouen-dakar"
    assert slugify("???") == "acteur"


def test_countries_resolve_from_codes_and_names_in_any_case_or_accents():
    for value in ("ML", "ml", "MLI", "Mali", "MALI"):
        assert geo.resolve_country(value) == "ML"
    assert geo.resolve_country("maroc") == "MA"
    assert geo.resolve_country("Morocco") == "MA"
    assert geo.resolve_country("Algérie") == geo.resolve_country("algerie") == "DZ"
    assert geo.resolve_country("Sénégal") == geo.resolve_country("senegal") == "SN"
    assert geo.resolve_country("Côte d'Ivoire") == geo.resolve_country("cote d'ivoire") == "CI"
    assert geo.resolve_country("Corée du Sud") == "KR"
    assert geo.resolve_country("Atlantide") is None


def test_country_names_are_french():
    assert geo.country_name("DE") == "Allemagne"
    assert geo.country_name("KR") == "Corée du Sud"
    assert geo.country_name("PS") == "Palestine"


def test_the_101_departements_with_insee_codes():
    deps = geo.departments()
    assert len(deps) == 101
    assert deps["14"] == "Calvados" and deps["2A"] == "Corse-du-Sud" and deps["976"] == "Mayotte"
    assert geo.resolve_department("calvados") == "14"
    assert geo.resolve_department("2a") == "2A"
    assert geo.resolve_department("1") == "01"
    assert geo.resolve_department("Côte-d'Or") == geo.resolve_department("cote d or") == "21"
    assert geo.resolve_department("99") is None


def test_postcode_departement():
    assert geo.department_of_postcode("14000") == "14"
    assert geo.department_of_postcode("20000") == "2A"
    assert geo.department_of_postcode("20200") == "2B"
    assert geo.department_of_postcode("97232") == "972"


def test_fast_french_analysis_equals_whoosh_composed_chain():
    from repertoire.search.whoosh.analysis import french_analyzer, reference_french_analyzer
    text = ("L'Association « Écoles du Monde » coopère depuis l'été 2003 avec des coopératives ; "
            "ÉCOLES, écoles, école, Coopérations, eau potable, Haïti, Œuvre, Sénégal, à Ségou. C.I.T.I.M. 1979")
    fast = [(t.text, t.pos) for t in french_analyzer()(text, positions=True)]
    reference = [(t.text, t.pos) for t in reference_french_analyzer()(text, positions=True)]
    assert fast == reference and ("ecol", 2) in fast


def test_fast_folding_analysis_and_bulk_positions_equal_whoosh_chains():
    from repertoire.search.whoosh.analysis import (folding_analyzer, french_analyzer, reference_folding_analyzer,
                                         reference_french_analyzer)
    text = ("Le Comité de jumelage « Saint-Étienne-du-Rouvray » à l'œuvre au Bénin, en Côte d'Ivoire, "
            "à Ouagadougou et à São Tomé ; ÉCOLES, écoles. 1979 C.I.T.I.M. de la")
    for fast, reference in ((folding_analyzer(), reference_folding_analyzer()),
                            (french_analyzer(), reference_french_analyzer())):
        tokens = [(t.text, t.pos) for t in fast(text, positions=True)]
        assert tokens == [(t.text, t.pos) for t in reference(text, positions=True)]
        by_term = {}
        for term, pos in tokens:
            by_term.setdefault(term.encode(), []).append(pos)
        assert fast.positions(text) == fast.positions(text) == by_term  # what a bulk build indexes (cached)
    assert b"saint" in folding_analyzer().positions(text) and b"etien" in french_analyzer().positions(text)
