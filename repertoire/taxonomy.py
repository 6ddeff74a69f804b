"""The contract's default taxonomy: kinds, domains and activities (slug, French label)."""

KINDS = [
    ("association", "Association"),
    ("collectivite", "Collectivité territoriale"),
    ("comite-jumelage", "Comité de jumelage"),
    ("enseignement", "Établissement d'enseignement ou de recherche"),
    ("reseau", "Réseau ou collectif"),
    ("entreprise", "Entreprise de l'économie sociale et solidaire"),
    ("etablissement-public", "Établissement public"),
    ("fondation", "Fondation"),
]

DOMAINS = [
    ("agriculture", "Agriculture et sécurité alimentaire"),
    ("eau", "Eau et assainissement"),
    ("education", "Éducation et formation"),
    ("sante", "Santé"),
    ("culture", "Culture et patrimoine"),
    ("environnement", "Environnement et climat"),
    ("economie", "Développement économique et emploi"),
    ("droits", "Droits humains et démocratie"),
    ("gouvernance", "Gouvernance locale et décentralisation"),
    ("jeunesse", "Jeunesse, sport et mobilité"),
    ("urgence", "Urgence et action humanitaire"),
    ("egalite", "Égalité femmes-hommes"),
    ("energie", "Énergie"),
    ("habitat", "Habitat et urbanisme"),
    ("risques", "Prévention des risques majeurs"),
    ("tourisme", "Tourisme solidaire"),
]

ACTIVITIES = [
    ("projets", "Projets de développement"),
    ("ecsi", "Éducation à la citoyenneté et à la solidarité internationale"),
    ("volontariat", "Volontariat et envoi de bénévoles"),
    ("echanges", "Échanges interculturels et jumelages"),
    ("parrainage", "Parrainage"),
    ("commerce-equitable", "Commerce équitable"),
    ("collecte", "Collecte et envoi de matériel"),
    ("plaidoyer", "Plaidoyer et sensibilisation"),
    ("formation", "Formation et renforcement de capacités"),
    ("financement", "Soutien financier et microcrédit"),
]
