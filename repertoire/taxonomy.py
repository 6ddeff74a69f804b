"""The contract's default taxonomy: kinds, domains and activities (slug, French label, English label)."""

KINDS = [
    ("association", "Association", "Association"),
    ("collectivite", "Collectivité territoriale", "Local authority"),
    ("comite-jumelage", "Comité de jumelage", "Twinning committee"),
    ("enseignement", "Établissement d'enseignement ou de recherche", "School, university or research body"),
    ("reseau", "Réseau ou collectif", "Network or collective"),
    ("entreprise", "Entreprise de l'économie sociale et solidaire", "Social and solidarity economy enterprise"),
    ("etablissement-public", "Établissement public", "Public body"),
    ("fondation", "Fondation", "Foundation"),
]

DOMAINS = [
    ("agriculture", "Agriculture et sécurité alimentaire", "Agriculture and food security"),
    ("eau", "Eau et assainissement", "Water and sanitation"),
    ("education", "Éducation et formation", "Education and training"),
    ("sante", "Santé", "Health"),
    ("culture", "Culture et patrimoine", "Culture and heritage"),
    ("environnement", "Environnement et climat", "Environment and climate"),
    ("economie", "Développement économique et emploi", "Economic development and employment"),
    ("droits", "Droits humains et démocratie", "Human rights and democracy"),
    ("gouvernance", "Gouvernance locale et décentralisation", "Local governance and decentralisation"),
    ("jeunesse", "Jeunesse, sport et mobilité", "Youth, sport and mobility"),
    ("urgence", "Urgence et action humanitaire", "Emergency and humanitarian aid"),
    ("egalite", "Égalité femmes-hommes", "Gender equality"),
    ("energie", "Énergie", "Energy"),
    ("habitat", "Habitat et urbanisme", "Housing and urban planning"),
    ("risques", "Prévention des risques majeurs", "Major risk prevention"),
    ("tourisme", "Tourisme solidaire", "Solidarity tourism"),
]

ACTIVITIES = [
    ("projets", "Projets de développement", "Development projects"),
    ("ecsi", "Éducation à la citoyenneté et à la solidarité internationale", "Global citizenship and solidarity education"),
    ("volontariat", "Volontariat et envoi de bénévoles", "Volunteering and sending volunteers"),
    ("echanges", "Échanges interculturels et jumelages", "Intercultural exchanges and twinning"),
    ("parrainage", "Parrainage", "Sponsorship"),
    ("commerce-equitable", "Commerce équitable", "Fair trade"),
    ("collecte", "Collecte et envoi de matériel", "Collecting and shipping equipment"),
    ("plaidoyer", "Plaidoyer et sensibilisation", "Advocacy and awareness-raising"),
    ("formation", "Formation et renforcement de capacités", "Training and capacity building"),
    ("financement", "Soutien financier et microcrédit", "Financial support and microcredit"),
]
