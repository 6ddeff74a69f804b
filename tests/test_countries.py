"""Country names as real files and people write them (issue 15, point 8).

The list is held here so that an upgrade of pycountry cannot silently drop one.
"""
import pytest

from repertoire import geo

SPELLINGS = {
    # ISO 3166 French short names, official inverted forms (comma, parentheses, articles)
    "Corée, République de": "KR", "Corée (République de)": "KR", "Corée (la République de)": "KR",
    "Corée, République populaire démocratique de": "KP", "Corée (République populaire démocratique de)": "KP",
    "Congo, La République démocratique du": "CD", "Congo (la République démocratique du)": "CD",
    "Congo (République démocratique du)": "CD", "Congo (République démocratique)": "CD",
    "Iran, République islamique d'": "IR", "Iran (République islamique d')": "IR",
    "Iran (République Islamique d’)": "IR",
    "Bolivie, État plurinational de": "BO", "Bolivie (État plurinational de)": "BO",
    "Tanzanie, République-Unie de": "TZ", "Tanzanie (République-Unie de)": "TZ",
    "Moldova, République de": "MD", "Moldavie (République de)": "MD",
    "Russie, Fédération de": "RU", "Russie (Fédération de)": "RU",
    "Syrienne, République arabe": "SY", "Lao, République démocratique populaire": "LA",
    "Micronésie, États fédérés de": "FM", "Micronésie (États fédérés de)": "FM",
    "Vénézuela, République bolivarienne du": "VE", "Palestine, État de": "PS", "Palestine (État de)": "PS",
    "Taïwan, Province de Chine": "TW", "Pays-Bas (les)": "NL", "Philippines (les)": "PH",
    "Comores (les)": "KM", "Niger (le)": "NE", "Soudan (le)": "SD", "Émirats arabes unis (les)": "AE",
    "États-Unis d'Amérique (les)": "US", "Centrafricaine (République)": "CF",
    "Centrafricaine (la République)": "CF", "Dominicaine (République)": "DO", "Tchèque (République)": "CZ",
    "Marshall (Îles)": "MH", "Salomon (Îles)": "SB", "Palaos (Îles)": "PW", "Féroé (Îles)": "FO",
    "Saint-Siège (État de la Cité du Vatican)": "VA",
    "Royaume-Uni de Grande-Bretagne et d'Irlande du Nord": "GB",
    # INSEE's list of foreign countries and territories
    "Afghanistan": "AF", "Afrique du Sud": "ZA", "Albanie": "AL", "Algérie": "DZ", "Allemagne": "DE",
    "Andorre": "AD", "Angola": "AO", "Antigua-et-Barbuda": "AG", "Arabie saoudite": "SA", "Argentine": "AR",
    "Arménie": "AM", "Australie": "AU", "Autriche": "AT", "Azerbaïdjan": "AZ", "Bahreïn": "BH",
    "Bangladesh": "BD", "Barbade": "BB", "Belgique": "BE", "Bénin": "BJ", "Bhoutan": "BT",
    "Biélorussie": "BY", "Bélarus": "BY", "Birmanie": "MM", "Bosnie-Herzégovine": "BA", "Botswana": "BW",
    "Brésil": "BR", "Brunei": "BN", "Bulgarie": "BG", "Burkina": "BF", "Burkina Faso": "BF", "Burundi": "BI",
    "Cambodge": "KH", "Cameroun": "CM", "Canada": "CA", "Cap-Vert": "CV", "Cabo Verde": "CV", "Chili": "CL",
    "Chine": "CN", "Chypre": "CY", "Colombie": "CO", "Comores": "KM", "Congo": "CG", "Costa Rica": "CR",
    "Côte d'Ivoire": "CI", "Côte d’Ivoire": "CI", "COTE D'IVOIRE": "CI", "Croatie": "HR", "Cuba": "CU",
    "Danemark": "DK", "Djibouti": "DJ", "Dominique": "DM", "Égypte": "EG", "El Salvador": "SV",
    "Émirats arabes unis": "AE", "Équateur": "EC", "Érythrée": "ER", "Espagne": "ES", "Estonie": "EE",
    "Eswatini": "SZ", "États-Unis": "US", "Éthiopie": "ET", "Fidji": "FJ", "Finlande": "FI", "Gabon": "GA",
    "Gambie": "GM", "Géorgie": "GE", "Ghana": "GH", "Grèce": "GR", "Grenade": "GD", "Guatemala": "GT",
    "Guinée": "GN", "Guinée-Bissau": "GW", "Guinée équatoriale": "GQ", "Guyana": "GY", "Haïti": "HT",
    "Honduras": "HN", "Hongrie": "HU", "Inde": "IN", "Indonésie": "ID", "Iran": "IR", "Iraq": "IQ",
    "Irlande": "IE", "Islande": "IS", "Israël": "IL", "Italie": "IT", "Jamaïque": "JM", "Japon": "JP",
    "Jordanie": "JO", "Kazakhstan": "KZ", "Kenya": "KE", "Kirghizistan": "KG", "Kiribati": "KI",
    "Koweït": "KW", "Laos": "LA", "Lesotho": "LS", "Lettonie": "LV", "Liban": "LB", "Liberia": "LR",
    "Libye": "LY", "Lituanie": "LT", "Luxembourg": "LU", "Macédoine du Nord": "MK", "Madagascar": "MG",
    "Malaisie": "MY", "Malawi": "MW", "Maldives": "MV", "Mali": "ML", "Malte": "MT", "Maroc": "MA",
    "Maurice": "MU", "Mauritanie": "MR", "Mexique": "MX", "Moldavie": "MD", "Monaco": "MC",
    "Mongolie": "MN", "Monténégro": "ME", "Mozambique": "MZ", "Myanmar": "MM", "Namibie": "NA",
    "Népal": "NP", "Nicaragua": "NI", "Niger": "NE", "Nigeria": "NG", "Norvège": "NO",
    "Nouvelle-Zélande": "NZ", "Oman": "OM", "Ouganda": "UG", "Ouzbékistan": "UZ", "Pakistan": "PK",
    "Panama": "PA", "Papouasie-Nouvelle-Guinée": "PG", "Paraguay": "PY", "Pays-Bas": "NL", "Pérou": "PE",
    "Philippines": "PH", "Pologne": "PL", "Portugal": "PT", "Qatar": "QA", "Roumanie": "RO",
    "Royaume-Uni": "GB", "Russie": "RU", "Rwanda": "RW", "Saint-Christophe-et-Niévès": "KN",
    "Sainte-Lucie": "LC", "Saint-Marin": "SM", "Saint-Siège": "VA", "Saint-Vincent-et-les-Grenadines": "VC",
    "Samoa occidentales": "WS", "Sao Tomé-et-Principe": "ST", "Sénégal": "SN", "Serbie": "RS",
    "Seychelles": "SC", "Sierra Leone": "SL", "Singapour": "SG", "Slovaquie": "SK", "Slovénie": "SI",
    "Somalie": "SO", "Soudan": "SD", "Soudan du Sud": "SS", "Sri Lanka": "LK", "Suède": "SE",
    "Suisse": "CH", "Suriname": "SR", "Syrie": "SY", "Tadjikistan": "TJ", "Tanzanie": "TZ", "Tchad": "TD",
    "Thaïlande": "TH", "Timor oriental": "TL", "Togo": "TG", "Tonga": "TO", "Trinité-et-Tobago": "TT",
    "Tunisie": "TN", "Turkménistan": "TM", "Turquie": "TR", "Türkiye": "TR", "Tuvalu": "TV",
    "Ukraine": "UA", "Uruguay": "UY", "Vanuatu": "VU", "Venezuela": "VE", "Viêt Nam": "VN", "Yémen": "YE",
    "Zambie": "ZM", "Zimbabwe": "ZW",
    # usual French names, abbreviations, older names
    "RDC": "CD", "R.D.C.": "CD", "RD Congo": "CD", "Congo-Kinshasa": "CD", "Zaïre": "CD",
    "République démocratique du Congo": "CD", "Congo-Brazzaville": "CG", "Centrafrique": "CF",
    "République centrafricaine": "CF", "Corée du Sud": "KR", "Corée du Nord": "KP", "EAU": "AE",
    "Émirats": "AE", "USA": "US", "Grande-Bretagne": "GB", "Angleterre": "GB", "Écosse": "GB", "UK": "GB",
    "Hollande": "NL", "Tchéquie": "CZ", "République tchèque": "CZ", "Vietnam": "VN", "Macédoine": "MK",
    "Swaziland": "SZ", "Haute-Volta": "BF", "Dahomey": "BJ", "Ceylan": "LK", "Île Maurice": "MU",
    "La Réunion": "RE", "Territoires palestiniens": "PS", "Cisjordanie": "PS", "Gaza": "PS",
    "Palestine": "PS", "Vatican": "VA", "Irak": "IQ", "Salvador": "SV", "Guinée-Conakry": "GN",
    "Bolivie": "BO", "Vénézuéla": "VE", "Taïwan": "TW", "Kirghizstan": "KG", "le Mali": "ML",
    "la Guinée": "GN", "l'Algérie": "DZ", "les Comores": "KM", "guinee equatoriale": "GQ",
    "GUINEE  EQUATORIALE": "GQ", "cote-d-ivoire": "CI", "  maroc ": "MA", "algerie": "DZ",
    # English names, older and newer pycountry spellings, codes
    "Democratic Republic of the Congo": "CD", "Congo, The Democratic Republic of the": "CD", "DRC": "CD",
    "Republic of the Congo": "CG", "South Korea": "KR", "Korea, Republic of": "KR", "North Korea": "KP",
    "Ivory Coast": "CI", "Czech Republic": "CZ", "Czechia": "CZ", "United Kingdom": "GB", "England": "GB",
    "United States": "US", "United States of America": "US", "Russia": "RU", "Russian Federation": "RU",
    "Syria": "SY", "Iran, Islamic Republic of": "IR", "Laos": "LA", "Vietnam": "VN",
    "Bolivia, Plurinational State of": "BO", "Tanzania": "TZ", "Tanzania, United Republic of": "TZ",
    "Moldova": "MD", "North Macedonia": "MK", "Macedonia, Republic of": "MK", "Burma": "MM",
    "Cape Verde": "CV", "Turkey": "TR", "The Gambia": "GM", "East Timor": "TL", "Timor-Leste": "TL",
    "Netherlands": "NL", "Germany": "DE", "Morocco": "MA", "Senegal": "SN", "Holy See": "VA",
    "Palestine, State of": "PS", "Micronesia": "FM", "Brunei Darussalam": "BN", "UAE": "AE",
    "Central African Republic": "CF", "Eswatini ": "SZ", "ML": "ML", "MLI": "ML", "bfa": "BF",
    "cod": "CD", "civ": "CI",
}


def test_the_list_is_long_enough():
    assert len(SPELLINGS) >= 150


@pytest.mark.parametrize("spelling,code", sorted(SPELLINGS.items()))
def test_country_spelling(spelling, code):
    assert geo.resolve_country(spelling) == code


@pytest.mark.parametrize("value", ["", "   ", "Atlantide", "République", "Guinée (Nouvelle)", "(", ",", "le"])
def test_unknown_names_stay_unknown(value):
    assert geo.resolve_country(value) is None


def test_every_country_resolves_from_its_display_names():
    for code in geo.countries():
        assert geo.resolve_country(geo.french_country_name(code)) == code
        assert geo.resolve_country(geo.english_country_name(code)) == code
