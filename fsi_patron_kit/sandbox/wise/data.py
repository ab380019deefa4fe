"""Deterministic synthetic data for the Wise emulator: a Dutch public library system.

Three libraries (Wise "instances"), each with its branches, its subscriptions (by age group,
with fees in cents that differ per branch and zip code) and its own rules: ``VWIZBET`` is set
for Bibliotheek Salland (subscriptions are invoiced and active at once) and not set for
Bibliotheek Drenthe (they wait in the basket until paid); Bibliotheek Waterland lacks the
customer type N definition, so subscribing there cannot complete, as the document warns.

The same size, seed and day always give the same data, so tests and notebooks can state exact
results. Dates are relative to the day the data are generated for (the emulator's today).
"""

from __future__ import annotations

import calendar
import hashlib
import random
from datetime import date, timedelta
from typing import Any

import attrs

MIN_PATRONS = 120

#: Library id -> name, VWIZBET, whether its subscription table defines customer type N, branches
#: (branch id -> (name, zip code prefix of its town)).
LIBRARIES: dict[str, dict[str, Any]] = {
    "I018": {"name": "Bibliotheek Salland", "vwizbet": True, "customer_type_n": True,
             "branches": {"9042": ("Raalte", "8102"), "9043": ("Deventer", "7411"), "9044": ("Olst", "8121")}},
    "I304": {"name": "Bibliotheek Drenthe", "vwizbet": False, "customer_type_n": True,
             "branches": {"3041": ("Eelde", "9761"), "3042": ("Assen", "9401"), "3043": ("Emmen", "7811")}},
    "I410": {"name": "Bibliotheek Waterland", "vwizbet": True, "customer_type_n": False,
             "branches": {"4101": ("Purmerend", "1441"), "4102": ("Edam", "1135")}},
}

#: Subscriptions per library: id, description, type (age group), ages from..to, cents, months,
#: internet fee, CAPTCHA, offered through web registration, additional information.
SUBSCRIPTIONS: dict[str, list[dict[str, Any]]] = {
    "I018": [
        {"id": 10, "description": "Jeugd 0-17", "type": "0-17", "ages": (0, 17), "cents": 0, "months": 12},
        {"id": 45, "description": "Standaardsubscription", "type": "18-64", "ages": (18, 64), "cents": 4350,
         "months": 12, "info": "Subscription: Default subscription. incl. Ebooks"},
        {"id": 200, "description": "Digital Standard (Ebooks)", "type": "18-99", "ages": (18, 99), "cents": 4200,
         "months": 12, "info": "Abonnement: Digital Standard (Ebooks)"},
        {"id": 46, "description": "Senioren 65+", "type": "65-99", "ages": (65, 99), "cents": 3600, "months": 12},
        {"id": 90, "description": "Personeel", "type": "18-99", "ages": (18, 99), "cents": 0, "months": 12,
         "web": False},
    ],
    "I304": [
        {"id": 310, "description": "Jeugd", "type": "0-17", "ages": (0, 17), "cents": 0, "months": 12},
        {"id": 320, "description": "Volwassen basis", "type": "18-99", "ages": (18, 99), "cents": 3900,
         "months": 12, "internet_fee": 150},
        {"id": 321, "description": "Volwassen plus", "type": "18-99", "ages": (18, 99), "cents": 5900,
         "months": 12, "captcha": True, "info": "Onbeperkt lenen, incl. e-books en luisterboeken"},
        {"id": 330, "description": "Studenten 18-26", "type": "18-26", "ages": (18, 26), "cents": 2250,
         "months": 6},
    ],
    "I410": [
        {"id": 410, "description": "Standaard", "type": "18-99", "ages": (18, 99), "cents": 4500, "months": 12},
        {"id": 411, "description": "Jeugd", "type": "0-17", "ages": (0, 17), "cents": 0, "months": 12},
    ],
}
#: Fees that differ per branch (cents added) and per zip code prefix (cents added, may be negative);
#: free subscriptions stay free.
BRANCH_SURCHARGE: dict[str, int] = {"9043": 300, "3043": -400}
ZIP_ADJUSTMENT: dict[str, dict[str, int]] = {"I018": {"8102": -500}, "I304": {"9761": 250}}

#: The required-fields answer per library: (id, type, label, required, desired, visible, format, group,
#: group label, order). Drenthe also requires a phone number and a formatted zip code.
_FIELDS: list[tuple[str, str, str, bool, bool, bool, str, str, str, str]] = [
    ("PVL", "C", "Initials", False, True, True, "", "P", "APP-FORMS__LABEL-PERSONAL", "01-1"),
    ("PVN", "C", "First name", False, True, True, "", "P", "APP-FORMS__LABEL-PERSONAL", "02-1"),
    ("PAN", "C", "Last name", True, False, True, "", "P", "APP-FORMS__LABEL-PERSONAL", "03-1"),
    ("PGD", "D", "Date of birth", True, False, True, "yyyy-MM-dd", "P", "APP-FORMS__LABEL-PERSONAL", "04-1"),
    ("PGS", "C", "Gender", True, False, True, "", "P", "APP-FORMS__LABEL-PERSONAL", "05-1"),
    ("PST", "C", "Street", True, False, True, "", "B", "APP-FORMS__LABEL-ADDRESS", "06-1"),
    ("PHN", "N", "House number", True, False, True, "", "B", "APP-FORMS__LABEL-ADDRESS", "07-1"),
    ("PTV", "C", "Addition", False, False, True, "", "B", "APP-FORMS__LABEL-ADDRESS", "07-2"),
    ("PPC", "C", "Zip code", True, False, True, "", "B", "APP-FORMS__LABEL-ADDRESS", "08-1"),
    ("PWP", "C", "City", True, False, True, "", "B", "APP-FORMS__LABEL-ADDRESS", "09-1"),
    ("PTL", "C", "Phone number", False, True, True, "", "C", "APP-FORMS__LABEL-CONTACT", "10-1"),
    ("PVS", "C", "Home branch", True, False, True, "", "C", "APP-FORMS__LABEL-CONTACT", "11-1"),
    ("PML", "C", "Emailaddress", True, False, True, "email", "A", "APP-FORMS__LABEL-AUTHENTICATION", "12-1"),
    ("PGN", "C", "Username", True, False, True, "", "A", "APP-FORMS__LABEL-AUTHENTICATION", "13-1"),
    ("PWW", "C", "Password", True, False, True, "", "A", "APP-FORMS__LABEL-AUTHENTICATION", "14-1"),
    ("PID", "C", "Identification number", False, False, False, "", "A", "APP-FORMS__LABEL-AUTHENTICATION", "15-1"),
]
_LIBRARY_FIELD_RULES: dict[str, dict[str, dict[str, Any]]] = {
    "I304": {"PTL": {"required": True, "desired": False}, "PPC": {"format": "9999 AA"}},
}

#: Defects planted in every system, each on its own patrons (none overlap), for the audit.
PLANTED: dict[str, int] = {
    "username_leading_space": 5,  # usernames " 2X..." as in the document's own sample
    "shared_email": 6,  # patrons whose email another patron also has (3 pairs)
    "expired_unblocked": 7,  # membership ended, yet no block set (every other expired patron is blocked)
    "malformed_zipcode": 4,  # zip codes not written "9999 AA" ("9765tk")
}
DELETED_PATRONS = 12

FIRST_NAMES = ["Jan", "Sanne", "Daan", "Emma", "Lucas", "Julia", "Sem", "Tess", "Bram", "Lotte", "Thijs", "Fleur",
               "Ruben", "Anouk", "Jesse", "Iris", "Milan", "Noor", "Lars", "Eva", "Finn", "Sophie", "Luuk", "Femke",
               "Koen", "Lieke", "Stijn", "Maud", "Joris", "Mila", "Wouter", "Esther", "Pieter", "Marieke", "Hendrik",
               "Willemijn", "Kees", "Annelies", "Gerrit", "Ingrid", "Mohamed", "Yasmina", "Mehmet", "Elif", "Rahul"]
FEMALE = {"Sanne", "Emma", "Julia", "Tess", "Lotte", "Fleur", "Anouk", "Iris", "Noor", "Eva", "Sophie", "Femke",
          "Lieke", "Maud", "Mila", "Esther", "Marieke", "Willemijn", "Annelies", "Ingrid", "Yasmina", "Elif"}
SURNAMES = [("", "Jansen"), ("", "Bakker"), ("", "Visser"), ("", "Smit"), ("", "Meijer"), ("de", "Boer"),
            ("", "Mulder"), ("de", "Groot"), ("", "Bos"), ("", "Vos"), ("", "Peters"), ("", "Hendriks"),
            ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"), ("de", "Wit"), ("", "Dijkstra"), ("", "Smits"),
            ("de", "Graaf"), ("van der", "Meer"), ("van der", "Linden"), ("", "Kok"), ("", "Jacobs"),
            ("de", "Haan"), ("", "Vermeulen"), ("van den", "Heuvel"), ("van der", "Veen"), ("van den", "Broek"),
            ("de", "Bruijn"), ("", "Schouten"), ("van", "Dijk"), ("", "Postma"), ("", "Hoekstra"), ("ter", "Horst"),
            ("", "Yilmaz"), ("", "El Amrani")]
STREETS = ["Kerkstraat", "Schoolstraat", "Molenweg", "Dorpsstraat", "Stationsweg", "Julianastraat", "Beatrixlaan",
           "Nieuwstraat", "Wilhelminastraat", "Markt", "Veldweg", "Kastanjelaan", "Berkenlaan", "Eikenlaan",
           "Parallelweg", "Machlaan", "Zuiderweg", "Brink", "Raadhuisstraat", "Sportlaan"]
ADDITIONS = ["", "", "", "", "", "A", "B", "bis", "1-hoog"]
EMAIL_DOMAINS = ("example.nl", "example.com", "example.org")


@attrs.define
class SystemData:
    """Everything the emulator stores, as Wise-shaped records."""

    patrons: list[dict[str, Any]]
    deleted: list[dict[str, Any]]
    showcase: dict[str, dict[str, Any]]


def field_definitions(library_id: str) -> list[dict[str, Any]]:
    """The required-fields answer for ``library_id``, in Wise's shape."""
    rules = _LIBRARY_FIELD_RULES.get(library_id, {})
    answer = []
    for ident, kind, label, required, desired, visible, fmt, group, group_label, order in _FIELDS:
        field = {"id": ident, "validationErrors": [], "type": kind, "label": label, "required": required,
                 "desired": desired, "visible": visible, "description": "", "format": fmt, "group": group,
                 "groupLabel": group_label, "order": order}
        field.update(rules.get(ident, {}))
        answer.append(field)
    return answer


def end_of_month(day: date, months_ahead: int = 0) -> date:
    """The last day of the month ``months_ahead`` after ``day``'s month."""
    month_index = day.year * 12 + day.month - 1 + months_ahead
    year, month = divmod(month_index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _years(born: date, today: date) -> int:
    """A generated patron's age, counted so that it is the same whatever day the data are made for
    (the same seed then gives the same patrons, cards and situations on every day)."""
    return (today - born).days // 366


def system_id(rng: random.Random) -> str:
    """A patronSystemId: 32 lower-case hex digits."""
    return f"{rng.getrandbits(128):032x}"


def card_number(rng: random.Random) -> str:
    """A library card: ``2X`` and twelve digits, as in the document's samples."""
    return "2X" + "".join(str(rng.randrange(10)) for _ in range(12))


def password_for(index: int) -> str:
    """Sandbox patrons' passwords are derived from their number (the sandbox is not a secret)."""
    return f"lezen-{hashlib.sha256(str(index).encode()).hexdigest()[:8]}"


def generate(count: int = 600, *, seed: int = 2024, today: date) -> SystemData:
    """``count`` patrons over the three libraries, the planted defects and the deleted list."""
    if count < MIN_PATRONS:
        raise ValueError(f"the Wise sandbox needs at least {MIN_PATRONS} patrons to plant its defects")
    rng = random.Random(seed)
    cards: set[str] = set()
    patrons = [_patron(n, rng, today, cards) for n in range(count)]
    showcase = _showcase(patrons, today)
    _plant(patrons, rng, today, spared={p["patronSystemId"] for p in showcase.values()})
    deleted = [{"patronSystemId": system_id(rng), "libraryId": rng.choice(list(LIBRARIES)),
                "deleted": today - timedelta(days=rng.randint(0, 60))} for _ in range(DELETED_PATRONS)]
    return SystemData(patrons=patrons, deleted=deleted, showcase=showcase)


def _patron(index: int, rng: random.Random, today: date, cards: set[str]) -> dict[str, Any]:
    library_id = rng.choices(["I018", "I304", "I410"], weights=[5, 4, 1])[0]
    branch_id = rng.choice(list(LIBRARIES[library_id]["branches"]))
    town, zip_prefix = LIBRARIES[library_id]["branches"][branch_id]
    first = rng.choice(FIRST_NAMES)
    prefix, last = rng.choice(SURNAMES)
    born = today - timedelta(days=rng.randint(6 * 365, 88 * 365))
    card = card_number(rng)
    while card in cards:
        card = card_number(rng)
    cards.add(card)
    handle = f"{first}.{prefix.replace(' ', '')}{last}".lower().replace(" ", "")
    patron: dict[str, Any] = {
        "patronId": 1_500_000 + index,
        "patronSystemId": system_id(rng),
        "initials": f"{first[0]}.",
        "firstName": first,
        "prefix": prefix,
        "lastName": last,
        "dateOfBirth": born,
        "gender": "FEMALE" if first in FEMALE else "MALE",
        "addresses": [{"street": rng.choice(STREETS), "houseNumber": str(rng.randint(1, 180)),
                       "addition": rng.choice(ADDITIONS), "zipCode": f"{zip_prefix} {_letters(rng)}",
                       "city": town, "region": "", "country": "Nederland", "type": "H", "typeLabel": "Hoofdadres"}],
        "phoneNumber": f"06{rng.randint(10_000_000, 99_999_999)}",
        "smsNumber": "",
        "emailAddress": f"{handle}{index}@{rng.choice(EMAIL_DOMAINS)}",
        "username": f"{handle}{index}",
        "password": password_for(index),
        "eid": f"NL{rng.randint(10_000_000, 99_999_999)}",
        "language": "nl_NL",
        "libraryCards": [{"cardNumber": card, "type": "H", "mainCard": True}],
        "homeLibrary": library_id,
        "homeBranch": branch_id,
        "memberships": [_membership(library_id, born, rng, today)],
        "blocks": {},
        "roles": ["PATRON"],
        "registrationDate": today - timedelta(days=rng.randint(30, 3650)),
        "updated": today - timedelta(days=rng.randint(0, 90)),
    }
    if rng.random() < 0.08:  # some are members of a second library too
        other = rng.choice([lib for lib in LIBRARIES if lib != library_id])
        patron["memberships"].append(_membership(other, born, rng, today))
    for membership in patron["memberships"]:
        if membership["end"] < today:  # an expired membership is blocked, except where planted
            patron["blocks"][membership["libraryId"]] = {"generalBlock": True, "blockMessage": "Abonnement verlopen"}
    return patron


def _letters(rng: random.Random) -> str:
    return "".join(rng.choice("ABCDEGHJKLMNPRSTVWXZ") for _ in range(2))


def _membership(library_id: str, born: date, rng: random.Random, today: date) -> dict[str, Any]:
    age = _years(born, today)
    fitting = [s for s in SUBSCRIPTIONS[library_id] if s["ages"][0] <= age <= s["ages"][1]] or \
        SUBSCRIPTIONS[library_id][:1]
    subscription = rng.choice(fitting)
    months = rng.choice([-14, -6, -2, 1, 2, 4, 6, 8, 10, 11, 12])  # most run on, some ended
    return {"libraryId": library_id, "subscriptionId": subscription["id"], "end": end_of_month(today, months),
            "status": "5"}


def _showcase(patrons: list[dict[str, Any]], today: date) -> dict[str, dict[str, Any]]:
    """Patrons with known situations that the tour and the tests start from.

    ``member``: active in Salland until months ahead, no blocks; ``lapsed``: a Salland member who
    has never been a member in Drenthe (re-subscribes there: PUT, basket, payment);
    ``ending``: active in Drenthe until the end of this month (may re-subscribe now);
    ``active``: active in Drenthe well beyond this month (may not).
    """
    situations = {"member": ("I018", 6), "lapsed": ("I018", 8), "ending": ("I304", 0), "active": ("I304", 9)}
    chosen: dict[str, dict[str, Any]] = {}
    adults = [p for p in patrons if _years(p["dateOfBirth"], today) >= 27]
    for (name, (library_id, months)), patron in zip(situations.items(), adults, strict=False):
        born = patron["dateOfBirth"]
        adult = next(s for s in SUBSCRIPTIONS[library_id] if s["ages"][0] <= _years(born, today) <= s["ages"][1])
        home = next(iter(LIBRARIES[library_id]["branches"]))
        town, zip_prefix = LIBRARIES[library_id]["branches"][home]
        patron.update(homeLibrary=library_id, homeBranch=home, blocks={},
                      memberships=[{"libraryId": library_id, "subscriptionId": adult["id"],
                                    "end": end_of_month(today, months), "status": "5"}])
        patron["addresses"][0].update(city=town, zipCode=f"{zip_prefix} AB")
        chosen[name] = patron
    return chosen


def _plant(patrons: list[dict[str, Any]], rng: random.Random, today: date, *, spared: set[str]) -> None:
    """Plant :data:`PLANTED` on distinct patrons, sparing the showcase."""
    clean = [p for p in patrons if p["patronSystemId"] not in spared]
    expired = [p for p in clean if all(m["end"] < today for m in p["memberships"])]
    unblocked = rng.sample(expired, PLANTED["expired_unblocked"])
    for patron in unblocked:
        patron["blocks"] = {}
    others = [p for p in clean if p not in unblocked]
    picks = rng.sample(others, PLANTED["username_leading_space"] + PLANTED["shared_email"]
                       + PLANTED["malformed_zipcode"])
    spaces = picks[:PLANTED["username_leading_space"]]
    shared = picks[len(spaces):len(spaces) + PLANTED["shared_email"]]
    zips = picks[len(spaces) + len(shared):]
    for patron in spaces:
        patron["username"] = " " + patron["libraryCards"][0]["cardNumber"]
    for first, second in zip(shared[::2], shared[1::2], strict=True):
        second["emailAddress"] = first["emailAddress"]
    for patron in zips:
        address = patron["addresses"][0]
        address["zipCode"] = address["zipCode"].replace(" ", "").lower()
