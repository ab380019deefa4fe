"""Deterministic synthetic patrons for an Australian school, with planted defects.

The same seed and size always give the same records, so notebooks and tests can state exact
results. Defects are planted on distinct patrons in the fixed counts of :data:`PLANTED`, which
the audit notebook and the tests rely on and the docs list.
"""

from __future__ import annotations

import random
from typing import Any

FIRST_NAMES = ["Olivia", "Charlotte", "Amelia", "Isla", "Mia", "Ava", "Grace", "Willow", "Harper", "Chloe", "Ella", "Zoe", "Sophie", "Ruby", "Matilda", "Evie", "Ivy", "Lily", "Sienna", "Georgia", "Layla", "Hazel", "Aria", "Frankie", "Audrey", "Mila", "Maya", "Matilda", "Scarlett", "Jack", "Oliver", "Noah", "William", "Leo", "Henry", "Thomas", "Lucas", "Charlie", "James", "Hudson", "Oscar", "Theodore", "Archie", "Harrison", "Liam", "Mason", "Ethan", "Max", "Xavier", "Lachlan", "Cooper", "Hunter", "Riley", "Jayden", "Aarav", "Wei", "Minh", "Priya", "Mohammed", "Aisha", "Tane", "Kirra", "Jarrah", "Mei", "Arjun", "Sofia", "Luca", "Hana", "Kai"]
SURNAMES = ["Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin", "Anderson", "Thompson", "Nguyen", "Thomas", "Walker", "Harris", "Lee", "Ryan", "Robinson", "Kelly", "King", "Davis", "Wright", "Evans", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan", "Tran", "Chen", "Singh", "Murphy", "Mitchell", "Campbell", "O'Brien", "Hughes", "Edwards", "Baker", "Turner", "Cooper", "Morris", "Bell", "Ward", "Watson", "Stewart", "Kennedy", "Russell", "Phillips", "Marshall", "Ross", "Gray", "Fraser", "Le", "Zhang", "Wang", "Kaur", "Costa", "Rossi", "Papadopoulos", "Nakamura", "Ali", "Sharma", "McDonald", "Murray"]
DOMAIN = "westfield.school.edu.au"
FAMILY_DOMAINS = ("example.com", "mail.example.net", "example.org")
GRADES = tuple(f"{year}{stream}" for year in range(7, 13) for stream in "ABCD")
ROLE_SHARES = (("STUDENT", 0.80), ("PARENT", 0.10), ("TEACHER", 0.08), ("LIBRARIAN", 0.02))

#: Defects planted in every data set, each on its own patrons (none overlap).
PLANTED: dict[str, int] = {
    "duplicate_email": 16,  # patrons whose email another patron also has (8 pairs)
    "missing_email": 20,  # email is empty
    "malformed_email": 15,  # email present but not a valid address
    "stray_whitespace": 12,  # first name or surname with leading/trailing spaces
    "student_without_classgrade": 18,  # STUDENT with an empty class grade
    "classgrade_trailing_pipe": 10,  # a year level with a trailing "|" as real tenants have them: "7|", "8 |"
}
MIN_PATRONS = 200


def generate(count: int = 1500, *, seed: int = 2024) -> list[dict[str, Any]]:
    """``count`` patron records in the FSI wire shape, defects included."""
    if count < MIN_PATRONS:
        raise ValueError(f"the sandbox needs at least {MIN_PATRONS} patrons to plant its defects")
    rng = random.Random(seed)
    roles = _roles(count)
    records = [_patron(index, role, rng) for index, role in enumerate(roles, start=1)]
    _plant(records, rng)
    return records


def _roles(count: int) -> list[str]:
    roles: list[str] = []
    for role, share in ROLE_SHARES[1:]:
        roles += [role] * max(3, round(count * share))
    return ["STUDENT"] * (count - len(roles)) + roles


def _patron(index: int, role: str, rng: random.Random) -> dict[str, Any]:
    first, surname = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    username = f"{first[0]}{surname}".lower().replace("'", "") + str(index)
    staff_or_student = role != "PARENT"
    return {
        "barcode": f"{index:07d}",
        "username": username,
        "externalid": f"{'SMS' if staff_or_student else 'FAM'}{100000 + index}",
        "firstname": first,
        "surname": surname,
        "email": f"{username}@{DOMAIN}" if staff_or_student else f"{username}@{rng.choice(FAMILY_DOMAINS)}",
        "classgrade": rng.choice(GRADES) if role == "STUDENT" else "",
        "room": f"R{rng.randint(1, 4)}{rng.randint(1, 30):02d}" if role in ("STUDENT", "TEACHER") else "",
        "role": role,
    }


def _plant(records: list[dict[str, Any]], rng: random.Random) -> None:
    students = [r for r in records if r["role"] == "STUDENT"]
    chosen = rng.sample(students, PLANTED["student_without_classgrade"])
    for record in chosen:
        record["classgrade"] = ""
    taken = {id(r) for r in chosen}
    pool = [r for r in records if id(r) not in taken]
    rng.shuffle(pool)

    def take(n: int) -> list[dict[str, Any]]:
        return [pool.pop() for _ in range(n)]

    pairs = take(PLANTED["duplicate_email"])
    for original, copy in zip(pairs[::2], pairs[1::2], strict=True):
        copy["email"] = original["email"]
    for record in take(PLANTED["missing_email"]):
        record["email"] = ""
    broken = (
        lambda e: e.replace("@", "@@"),
        lambda e: e.replace("@", " at "),
        lambda e: e.split("@")[0],
        lambda e: e.replace("@", "@."),
        lambda e: e.replace(".", " ", 1),
    )
    for n, record in enumerate(take(PLANTED["malformed_email"])):
        record["email"] = broken[n % len(broken)](record["email"])
    for n, record in enumerate(take(PLANTED["stray_whitespace"])):
        field = "firstname" if n % 2 else "surname"
        record[field] = f" {record[field]}" if n % 3 else f"{record[field]}  "
    graded = [r for r in pool if r["role"] == "STUDENT" and r["classgrade"]]
    for n, record in enumerate(rng.sample(graded, PLANTED["classgrade_trailing_pipe"])):
        year = record["classgrade"].rstrip("ABCD")
        record["classgrade"] = f"{year}|" if n % 2 else f"{year} |"
