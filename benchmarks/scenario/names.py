"""French company names as they appear in a ledger and, differently, on bank lines.

A customer has one name in the books ("Boulangerie Lefèvre SARL") and its bank shows another:
upper case, no accents, legal form moved or dropped, "ETS" for "Établissements", or the name cut
at 18 to 35 characters. :func:`bank_name` gives that second name; the scenario keeps it stable per
account holder, as banks do.
"""

from __future__ import annotations

import random
import unicodedata

SURNAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent",
    "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François",
    "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry",
    "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez",
    "Fontaine", "Chevalier", "Robin", "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis",
    "Lemaire", "Duval", "Joly", "Gautier", "Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas",
    "Meunier", "Perez", "Marchand", "Dufour", "Blanchard", "Barbier", "Brun", "Dumas", "Brunet",
    "Schmitt", "Leroux", "Colin", "Fernandez", "Renard", "Arnaud", "Rolland", "Caron", "Aubert",
    "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud", "Lemoine", "Picard", "Gaillard", "Philippe",
    "Lacroix", "Fabre", "Dupuis", "Olivier", "Rodriguez", "Hubert", "Guillot", "Rivière", "Guillaume",
    "Adam", "Rey", "Moulin", "Gonzalez", "Berger", "Lecomte", "Ménard", "Fleury", "Deschamps",
    "Carpentier", "Julien", "Benoît", "Maillard", "Marchal", "Aubry", "Vasseur", "Renault", "Jacquet",
    "Collet", "Prévost", "Poirier", "Charpentier", "Royer", "Huet", "Baron", "Dupuy", "Pons", "Lainé",
    "Carré", "Breton", "Rémy", "Schneider", "Perrot", "Guyot", "Barre", "Marty", "Cousin", "Besson",
    "Bailly", "Hervé", "Tessier", "Chauvin", "Lebrun", "Texier", "Jacob", "Labbé", "Lemaître",
    "Bouvier", "Hamon", "Germain", "Millet", "Langlois", "Lejeune", "Riviere", "Bouchet", "Pasquier",
)  # fmt: skip
ACTIVITIES = (
    "Boulangerie",
    "Transports",
    "Garage",
    "Menuiserie",
    "Plomberie",
    "Électricité",
    "Imprimerie",
    "Pharmacie",
    "Restaurant",
    "Hôtel",
    "Cabinet",
    "Laboratoire",
    "Atelier",
    "Maçonnerie",
    "Charpente",
    "Fromagerie",
    "Boucherie",
    "Librairie",
    "Agence",
    "Bureau d'études",
    "Clinique vétérinaire",
    "Carrosserie",
    "Serrurerie",
    "Paysages",
    "Couverture",
    "Informatique",
    "Conseil",
    "Logistique",
    "Négoce",
    "Distribution",
    "Travaux publics",
    "Froid industriel",
    "Chaudronnerie",
    "Mécanique de précision",
    "Textiles",
    "Cosmétiques",
    "Vins et spiritueux",
    "Brasserie",
    "Fleurs",
    "Optique",
)
CITIES = (
    "Lyon", "Nantes", "Lille", "Rennes", "Bordeaux", "Toulouse", "Marseille", "Nice", "Grenoble",
    "Dijon", "Tours", "Angers", "Reims", "Metz", "Rouen", "Caen", "Brest", "Limoges", "Amiens",
    "Annecy", "Pau", "Nîmes", "Poitiers", "Orléans", "Besançon", "Valence", "Troyes", "Chartres",
    "Vannes",
)  # fmt: skip
LEGAL_FORMS = ("SARL", "SAS", "SA", "EURL", "SASU", "SNC")
GROUP_WORDS = (
    "Hexagone",
    "Atlantique",
    "Alpes",
    "Provence",
    "Armor",
    "Loire",
    "Vosges",
    "Occitane",
    "Rhône",
    "Azur",
)


def fold_upper(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).upper().replace("'", " ")


def company_name(rng: random.Random, taken: set[str]) -> str:
    """A plausible SME name with its legal form, unique among ``taken``.

    Namesakes that differ only by their legal form ("Martin et Fils SARL" / "... SAS") exist but are
    rare (about 3 %, more once the name space fills up), as in a real customer base.
    """
    for attempt in range(230):
        surname = rng.choice(SURNAMES)
        pattern = rng.random() if attempt < 30 else 1.0  # a crowded name space: longer names
        if pattern < 0.40:
            base = f"{rng.choice(ACTIVITIES)} {surname}"
        elif pattern < 0.55:
            base = f"{surname} et Fils"
        elif pattern < 0.70:
            base = f"Établissements {surname}"
        elif pattern < 0.82:
            base = f"{surname} {rng.choice(ACTIVITIES)}"
        elif pattern < 0.92:
            base = f"{surname} & {rng.choice(SURNAMES)}"
        elif pattern < 1.0:
            base = f"{rng.choice(ACTIVITIES)} du {rng.choice(CITIES)}"
        else:
            base = f"{rng.choice(ACTIVITIES)} {surname} {rng.choice(CITIES)}"
        name = f"{base} {rng.choice(LEGAL_FORMS)}"
        if name in taken:
            continue
        if f"base:{base}" in taken and rng.random() > 0.03:
            continue
        taken.add(name)
        taken.add(f"base:{base}")
        return name
    raise RuntimeError("name space exhausted")


def bank_name(rng: random.Random, name: str) -> tuple[str, list[str]]:
    """How a bank shows an account holder's name, and which kinds of noise that involves."""
    upper = fold_upper(name)
    words = upper.split()
    kinds: list[str] = []
    legal = words[-1] if words[-1] in LEGAL_FORMS else None
    core = words[:-1] if legal else words
    roll = rng.random()
    if roll < 0.35:
        shown = " ".join(words)
    elif roll < 0.55:
        shown = " ".join(core)
        kinds.append("name_variant")
    elif roll < 0.70 and legal:
        shown = " ".join([legal, *core])
        kinds.append("name_variant")
    elif roll < 0.80 and core[0] == "ETABLISSEMENTS":
        shown = " ".join(["ETS", *core[1:]] + ([legal] if legal else []))
        kinds.append("name_variant")
    elif roll < 0.88:
        shown = " ".join(words)[: rng.choice((18, 20, 24))].rstrip()
        kinds.append("name_truncated")
    else:
        shown = name  # as written in the books, mixed case and accents
    if len(shown) > 35:
        shown = shown[:35].rstrip()
        if "name_truncated" not in kinds:
            kinds.append("name_truncated")
    return shown, kinds


def person_name(rng: random.Random) -> str:
    first = rng.choice(
        ("JEAN", "MARIE", "PIERRE", "SOPHIE", "LUC", "ANNE", "PAUL", "CLAIRE", "MARC", "JULIE")
    )
    return f"M {first} {fold_upper(rng.choice(SURNAMES))}"
