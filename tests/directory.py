"""A small, hand-made directory whose expected search answers are known."""

ACTORS = [
    dict(name="Coordination Information Tiers-Monde", acronym="CITIM", town="Caen", postcode="14000",
         department="14", domains="education;droits", activities="ecsi;plaidoyer",
         description="Centre de documentation sur la coopération décentralisée et la solidarité internationale."),
    dict(name="Les Amis de Ségou", town="Bayeux", postcode="14400", department="14", countries="ML",
         intervention_towns="Ségou", domains="eau;sante", activities="projets",
         description="Forages et équipement d'une école à Ségou."),
    dict(name="Comité de jumelage Rouen–Dakar", kind="comite-jumelage", town="Rouen", postcode="76000",
         department="76", countries="SN", intervention_towns="Dakar", domains="education;culture",
         activities="echanges", description="Échanges scolaires entre lycéens."),
    dict(name="Écoles du Monde", town="Paris", postcode="75011", department="75", countries="BF;ML",
         intervention_towns="Ouagadougou", domains="education", activities="collecte",
         description="Construction d'écoles rurales."),
    dict(name="Ville de Vienne", kind="collectivite", town="Vienne", postcode="38200", department="38",
         countries="DE", intervention_towns="Esslingen", domains="gouvernance", activities="echanges"),
    dict(name="Association Poitou Solidarité", town="Poitiers", postcode="86000", department="86",
         countries="MA", intervention_towns="Taliouine", domains="agriculture", activities="projets"),
    dict(name="Zèbre Solidaire", town="Lyon", postcode="69007", department="69", countries="MG",
         domains="sante", activities="projets"),
    dict(name="Échanges Normandie Maroc", town="Caen", postcode="14000", department="14", countries="MA",
         domains="education;agriculture", activities="echanges"),
    dict(name="abeilles du sahel", town="Nantes", postcode="44000", department="44", countries="NE;ML",
         domains="agriculture", activities="projets", description="Apiculture et production de miel."),
    dict(name="Santé Sans Frontières Caen", acronym="SSFC", town="Caen", postcode="14000", department="14",
         countries="HT", intervention_towns="Carrefour;Port-au-Prince", domains="sante;urgence",
         activities="projets;collecte", email="contact@ssfc.example.org", phone="02 31 00 00 00",
         website="https://ssfc.example.org"),
]
PENDING = dict(name="Projet Secret Mali", town="Caen", postcode="14000", department="14", countries="ML",
               domains="eau", activities="projets", description="Entrée en attente de modération.")
ARCHIVED = dict(name="Ancienne Association Dakar", town="Rouen", postcode="76000", department="76",
                countries="SN", domains="education", activities="echanges")

NAMES_IN_FRENCH_ORDER = [
    "abeilles du sahel", "Association Poitou Solidarité", "Comité de jumelage Rouen–Dakar",
    "Coordination Information Tiers-Monde", "Échanges Normandie Maroc", "Écoles du Monde",
    "Les Amis de Ségou", "Santé Sans Frontières Caen", "Ville de Vienne", "Zèbre Solidaire",
]
