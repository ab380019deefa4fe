"""Deterministic synthetic FOLIO tenant: a US university library, with planted defects.

The same size, seed and day always give the same tenant, so notebooks and tests can state exact
results. Dates are relative to the day the tenant is generated for (the emulator's today): loans
fall due around it and the planted "expired yesterday" users expired the day before it.

Records are kept in FOLIO's own shapes: users as mod-users records (which is also mod-patron's
``userdata`` shape), staging users as mod-users staging users, and circulation records (loans,
requests, fee/fine accounts) with the fields mod-patron builds its answers from.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import attrs

#: Patron groups, with fixed ids (the four standard ones are FOLIO's reference data ids).
PATRON_GROUPS: dict[str, str] = {
    "Remote Non-circulating": "63f8065f-df84-4e76-a36b-3ba32dbdc9e5",
    "Basic -- Minor (INTERNAL)": "f1b3a7c2-8d4e-4f6a-9b2c-5e7d8a9c0b1d",
    "undergrad": "bdc2b6d4-5ceb-4a12-ab46-249b9a68473e",
    "graduate": "ad0bc554-d5bc-463c-85d1-5562127ae91b",
    "faculty": "503a81cd-6c26-400f-b620-14c08943697c",
    "staff": "3684a786-6671-4268-8ed0-9db82ebca60b",
}
REMOTE_GROUP = "Remote Non-circulating"
MINOR_GROUP = "Basic -- Minor (INTERNAL)"
HOME_ADDRESS_TYPE = "93d3d88d-499b-45d0-9bc7-ac73c3a19880"
EMAIL_CONTACT_TYPE = "002"

#: Service points; Online is not a pickup location.
SERVICE_POINTS: list[dict[str, Any]] = [
    {"id": "3a40852d-49fd-4df2-a1f9-6e2641a6e91f", "name": "Circ Desk 1", "discoveryName": "Circ Desk 1", "pickupLocation": True},
    {"id": "c4c90014-c8c9-4ade-8f24-b5e313319f4b", "name": "Circ Desk 2", "discoveryName": "Circ Desk 2", "pickupLocation": True},
    {"id": "7c5abc9f-f3d7-4856-b8d7-6712462ca007", "name": "Online", "discoveryName": "Online", "pickupLocation": False},
]
CANCELLATION_REASONS: list[dict[str, str]] = [
    {"id": "75187e8d-e25a-47a7-89ad-23ba612338de", "name": "Patron Cancelled"},
    {"id": "b548b182-55c2-4741-b169-616d9cd995a8", "name": "Item Not Available"},
    {"id": "2f8b6da8-3bd1-4a5c-8e2f-6c1d0b9a7e54", "name": "Needed For Course Reserves"},
]
#: Fee/fine types: (id, lowest amount, highest amount, charged for an item).
FEE_FINE_TYPES: dict[str, tuple[str, float, float, bool]] = {
    "Overdue fine": ("9523cb96-e752-40c2-89da-60f3961a488d", 0.25, 15.0, True),
    "Lost item fee": ("cf238f9f-7018-47b7-b815-bb2db798e19f", 45.0, 120.0, True),
    "Lost item processing fee": ("c7dede15-aa48-45ed-860b-f996540180e0", 10.0, 25.0, True),
    "Damaged item": ("e8b1d4a7-2c6f-4b9e-8a3d-5f1c7e9b2d40", 5.0, 60.0, True),
    "Replacement library card": ("d2a6c3b1-7f4e-4c8a-9e1d-3b5f7a9c2e64", 5.0, 5.0, False),
}

ADMIN_USERNAME = "sandbox_admin"
EDGE_USERNAME = "edge_patron"
LOAN_DAYS = 28
MAX_RENEWALS = 3
RECALLED_LOANS = 2  # loans whose item another patron has recalled: renewing them is refused
LOANS_AT_RENEWAL_LIMIT = 1  # loans renewed MAX_RENEWALS times already
STAGING_USERS = 12
MIN_USERS = 100

#: Defects planted in every tenant, each on its own users (none overlap).
PLANTED: dict[str, int] = {
    "duplicate_email": 6,  # users whose email another user also has (3 pairs)
    "inactive": 10,  # users of circulating groups whose account is not active
    "remote_expired_yesterday": 4,  # Remote Non-circulating users whose expirationDate was yesterday (inactive)
    "remote_expired_earlier": 3,  # Remote Non-circulating users that expired weeks ago (inactive)
}
#: Defects planted for the audit after circulation, with a generator of their own (so the rest of
#: the tenant is the same with or without them), on users without loans, requests or charges.
AUDIT_PLANTED: dict[str, int] = {
    "expired_but_active": 3,  # active users whose expirationDate passed 10 to 200 days ago
    "username_whitespace": 2,  # usernames with a trailing space
}

# Shares of the users after the two system users; undergrads are the rest.
GROUP_SHARES = (("graduate", 0.18), ("faculty", 0.10), ("staff", 0.08), (REMOTE_GROUP, 0.12), (MINOR_GROUP, 0.03))
MIN_REMOTE = 20
CIRCULATING = ("undergrad", "graduate", "faculty", "staff", MINOR_GROUP)

FIRST_NAMES = ["James", "Mary", "Michael", "Patricia", "Robert", "Jennifer", "John", "Linda", "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Christopher", "Karen", "Daniel", "Emily", "Matthew", "Ashley", "Anthony", "Olivia", "Andrew", "Emma", "Joshua", "Sophia", "Ethan", "Madison", "Tyler", "Hannah", "Brandon", "Abigail", "Jacob", "Isabella", "Nathan", "Grace", "Aiden", "Chloe", "Carlos", "Maria", "Luis", "Sofia", "Diego", "Camila", "Jamal", "Aaliyah", "DeShawn", "Imani", "Wei", "Mei", "Hiroshi", "Yuki", "Priya", "Arjun", "Ananya", "Rahul", "Fatima", "Omar", "Minh", "Linh", "Ji-woo", "Seo-yeon", "Kwame", "Amara", "Noah", "Ava", "Liam", "Mia", "Benjamin", "Harper", "Samuel", "Evelyn", "Katherine", "Alexander", "Margaret", "Nicholas"]
NICKNAMES = {"Katherine": "Kate", "Alexander": "Alex", "Elizabeth": "Liz", "Michael": "Mike", "William": "Will", "Robert": "Bob", "Margaret": "Peggy", "Nicholas": "Nick", "Benjamin": "Ben", "Christopher": "Chris", "Jennifer": "Jen", "Samuel": "Sam", "Joshua": "Josh", "Patricia": "Trish", "Matthew": "Matt", "Daniel": "Dan"}
SURNAMES = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Kim", "Patel", "Chen", "Wang", "Singh", "Tanaka", "Okafor", "Mensah", "O'Connor", "Murphy", "Kowalski", "Novak", "Rossi", "Schmidt", "Cohen", "Park", "Tran", "Ali", "Haddad", "Washington", "Jefferson", "Brooks", "Bennett", "Reyes", "Morales", "Ortiz", "Sullivan", "Foster", "Hughes", "Price"]
STREETS = ["Main St", "Oak Ave", "Maple St", "Washington Ave", "College Ave", "University Blvd", "Park Pl", "Elm St", "Cedar Ln", "Lincoln Ave", "Church St", "Highland Ave", "Lake Shore Dr", "Chestnut St", "Franklin St", "State St", "Division St", "Mill Rd", "Spring St", "Ridge Rd", "Walnut St", "Hillside Ave", "Campus Dr", "Jefferson St"]
UNITS = ["Apt 1A", "Apt 2B", "Apt 3C", "Apt 4B", "Unit 5", "Apt 12", "Suite 200", "Apt 7D"]
CITIES = [("Ann Arbor", "MI", "48104"), ("Ypsilanti", "MI", "48197"), ("Madison", "WI", "53703"), ("Evanston", "IL", "60201"), ("Chicago", "IL", "60637"), ("Columbus", "OH", "43201"), ("Bloomington", "IN", "47401"), ("Urbana", "IL", "61801"), ("Ithaca", "NY", "14850"), ("Boston", "MA", "02115"), ("Cambridge", "MA", "02138"), ("Berkeley", "CA", "94704"), ("Austin", "TX", "78705"), ("Chapel Hill", "NC", "27514"), ("Durham", "NC", "27701"), ("Boulder", "CO", "80302"), ("Seattle", "WA", "98105"), ("Minneapolis", "MN", "55455"), ("Iowa City", "IA", "52240"), ("Lawrence", "KS", "66044")]
AREA_CODES = ["734", "608", "847", "312", "614", "812", "217", "607", "617", "510", "512", "919", "303", "206", "612", "319", "785"]
PERSONAL_DOMAINS = ("example.com", "example.net", "example.org")
EMAIL_TOPICS = ("Support", "Programs", "Services")

SUBJECTS = ["Organic Chemistry", "Microeconomics", "American History", "Linear Algebra", "Cognitive Psychology", "Data Structures", "Molecular Biology", "Constitutional Law", "Renaissance Art", "Climate Science", "Statistical Learning", "Urban Sociology", "Medieval Europe", "Quantum Mechanics", "World Religions", "Public Health", "Comparative Literature", "Machine Learning", "Political Philosophy", "Human Anatomy", "Music Theory", "Environmental Ethics", "Game Theory", "Latin American Studies", "Cell Biology", "Computer Networks", "Social Psychology", "Astrophysics", "African American Literature", "Financial Accounting"]
TITLE_FORMS = ["Introduction to {}", "Principles of {}", "{}: A Modern Approach", "Essentials of {}", "Readings in {}", "{} in Context", "Foundations of {}", "A History of {}", "Advanced {}", "{}: Theory and Practice"]
PUBLISHER_PREFIXES = ["0-262", "0-19", "0-521", "1-4008", "0-300", "0-226", "0-674", "1-118"]


@attrs.define
class Tenant:
    """Everything the emulator stores, as lists of FOLIO-shaped records."""

    users: list[dict[str, Any]]
    staging_users: list[dict[str, Any]]
    instances: list[dict[str, Any]]
    items: list[dict[str, Any]]
    loans: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    charges: list[dict[str, Any]]
    #: what the audit finds in this tenant, by check: planted above, or counted as it was made
    audit: dict[str, int] = attrs.field(factory=dict)


def iso(moment: datetime) -> str:
    """FOLIO's instant format: ``2024-08-29T13:29:39.248+00:00``."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def at(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), timezone.utc)


def end_of(day: date) -> datetime:
    """The last second of a day: FOLIO expiration and due dates fall there."""
    return at(day, 23, 59, 59)


def new_id(rng: random.Random) -> str:
    """A version 4 UUID drawn from ``rng``, so ids repeat with the seed."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def generate(count: int = 300, *, seed: int = 2024, today: date) -> Tenant:
    """A tenant of ``count`` users (two of them system users), defects included."""
    if count < MIN_USERS:
        raise ValueError(f"the FOLIO sandbox needs at least {MIN_USERS} users to plant its defects")
    rng = random.Random(seed)
    users = _users(count, rng, today)
    _plant(users, rng, today)
    instances, items = _catalogue(max(60, count // 2), rng)
    loans, requests, charges = _Circulation(users, instances, items, rng, today).run()
    staging = [_staging_user(n, rng, today, users[0]["id"]) for n in range(1, STAGING_USERS + 1)]
    tenant = Tenant(users=users, staging_users=staging, instances=instances, items=items,
                    loans=loans, requests=requests, charges=charges)
    _plant_for_audit(tenant, random.Random(f"audit-{seed}"), today)
    return tenant


# -- users -------------------------------------------------------------------------------------
def _groups(count: int) -> list[str]:
    """The patron group of every user after the two system users, undergrads first."""
    others = count - 2
    groups: list[str] = []
    for name, share in GROUP_SHARES:
        groups += [name] * max(MIN_REMOTE if name == REMOTE_GROUP else 3, round(others * share))
    return ["undergrad"] * (others - len(groups)) + groups


def _users(count: int, rng: random.Random, today: date) -> list[dict[str, Any]]:
    admin = _user(0, "staff", rng, today, username=ADMIN_USERNAME, first="Sandbox", last="Administrator")
    edge = _user(1, "staff", rng, today, username=EDGE_USERNAME, first="Edge", last="Patron")
    users = [admin, edge] + [_user(n, group, rng, today) for n, group in enumerate(_groups(count), start=2)]
    for user in users:
        user["metadata"]["createdByUserId"] = user["metadata"]["updatedByUserId"] = admin["id"]
    return users


def _user(index: int, group: str, rng: random.Random, today: date, *, username: str | None = None,
          first: str | None = None, last: str | None = None) -> dict[str, Any]:
    first = first or rng.choice(FIRST_NAMES)
    last = last or rng.choice(SURNAMES)
    remote = group == REMOTE_GROUP
    handle = username or f"{first[0]}{last}".lower().replace("'", "").replace("-", "") + str(index)
    created = at(today - timedelta(days=rng.randint(30, 1500)), rng.randint(8, 18), rng.randint(0, 59), rng.randint(0, 59))
    user: dict[str, Any] = {
        "id": new_id(rng),
        "externalSystemId": new_id(rng),
        "active": True,
        "type": "staff" if group == "staff" else "patron",
        "patronGroup": PATRON_GROUPS[group],
        "departments": [],
        "personal": _personal(first, last, _email(handle, first, last, index, group, rng), rng),
        "enrollmentDate": iso(created),
        "expirationDate": iso(end_of(_expiry(group, rng, today))),
        "createdDate": iso(created),
        "updatedDate": iso(created),
        "metadata": {"createdDate": iso(created), "updatedDate": iso(created)},
    }
    if not remote:  # remote (LC) patrons never log in and carry no library card
        user["username"] = handle
        user["barcode"] = f"21847{index:09d}"
    else:
        user["preferredEmailCommunication"] = sorted(rng.sample(EMAIL_TOPICS, rng.randint(1, 3)))
    return user


def _email(handle: str, first: str, last: str, index: int, group: str, rng: random.Random) -> str:
    if group in (REMOTE_GROUP, MINOR_GROUP):
        local = f"{first}.{last}{index}".lower().replace("'", "").replace(" ", "")
        return f"{local}@{rng.choice(PERSONAL_DOMAINS)}"
    domain = "students.example.edu" if group in ("undergrad", "graduate") else "example.edu"
    return f"{handle}@{domain}"


def _personal(first: str, last: str, email: str, rng: random.Random) -> dict[str, Any]:
    personal: dict[str, Any] = {"lastName": last, "firstName": first}
    if rng.random() < 0.4:
        personal["middleName"] = rng.choice(FIRST_NAMES) if rng.random() < 0.6 else f"{rng.choice('ABCDEFGHJKLMNPRSTW')}."
    if first in NICKNAMES and rng.random() < 0.6:
        personal["preferredFirstName"] = NICKNAMES[first]
    area = rng.choice(AREA_CODES)
    personal.update({
        "email": email,
        "phone": f"{area}-555-01{rng.randint(0, 99):02d}",
        "mobilePhone": f"{rng.choice(AREA_CODES)}-555-01{rng.randint(0, 99):02d}",
        "addresses": [_home_address(rng)],
        "preferredContactTypeId": EMAIL_CONTACT_TYPE,
    })
    return personal


def _home_address(rng: random.Random) -> dict[str, Any]:
    city, region, postal_code = rng.choice(CITIES)
    address: dict[str, Any] = {
        "id": new_id(rng),
        "countryId": "US",
        "addressLine1": f"{rng.randint(10, 9899)} {rng.choice(STREETS)}",
        "city": city,
        "region": region,
        "postalCode": postal_code,
        "addressTypeId": HOME_ADDRESS_TYPE,
        "primaryAddress": True,
    }
    if rng.random() < 0.35:
        address["addressLine2"] = rng.choice(UNITS)
    return address


def _expiry(group: str, rng: random.Random, today: date) -> date:
    """Students until a coming May 31st, others a year or more ahead, remote patrons within a year."""
    if group in ("undergrad", "graduate", MINOR_GROUP):
        return date(today.year + rng.randint(1, 4), 5, 31)
    if group == REMOTE_GROUP:
        return today + timedelta(days=rng.randint(7, 365))
    return today + timedelta(days=rng.randint(365, 1095))


def _plant(users: list[dict[str, Any]], rng: random.Random, today: date) -> None:
    """Plant :data:`PLANTED` on distinct users; the system users and the first undergrad are spared."""
    remote_id = PATRON_GROUPS[REMOTE_GROUP]
    circulating = [u for u in users[3:] if u["patronGroup"] != remote_id]
    chosen = rng.sample(circulating, PLANTED["duplicate_email"] + PLANTED["inactive"])
    pairs, inactive = chosen[:PLANTED["duplicate_email"]], chosen[PLANTED["duplicate_email"]:]
    for original, copy in zip(pairs[::2], pairs[1::2], strict=True):
        copy["personal"]["email"] = original["personal"]["email"]
    for user in inactive:
        user["active"] = False
        if rng.random() < 0.5:
            user["expirationDate"] = iso(end_of(today - timedelta(days=rng.randint(20, 400))))
    remote = rng.sample([u for u in users if u["patronGroup"] == remote_id],
                        PLANTED["remote_expired_yesterday"] + PLANTED["remote_expired_earlier"])
    for n, user in enumerate(remote):
        days_ago = 1 if n < PLANTED["remote_expired_yesterday"] else rng.randint(14, 90)
        user["active"] = False
        user["expirationDate"] = iso(end_of(today - timedelta(days=days_ago)))


def _plant_for_audit(tenant: Tenant, rng: random.Random, today: date) -> None:
    """Plant :data:`AUDIT_PLANTED` and record every count the audit's checks can be held to."""
    users = tenant.users
    busy = {r["userId"] for r in tenant.loans + tenant.charges} | {r["requesterId"] for r in tenant.requests}
    emails = Counter(u["personal"]["email"] for u in users)
    calm = [u for u in users[3:] if u["active"] and u.get("username") and u["id"] not in busy
            and emails[u["personal"]["email"]] == 1]
    chosen = rng.sample(calm, sum(AUDIT_PLANTED.values()))
    expired, spaced = chosen[:AUDIT_PLANTED["expired_but_active"]], chosen[AUDIT_PLANTED["expired_but_active"]:]
    for user in expired:
        user["expirationDate"] = iso(end_of(today - timedelta(days=rng.randint(10, 200))))
    for user in spaced:
        user["username"] += " "
    inactive = {u["id"] for u in users if not u["active"]}
    with_loans = {loan["userId"] for loan in tenant.loans if loan["status"] == "Open"}
    tenant.audit = {
        **AUDIT_PLANTED,
        "inactive_account": PLANTED["inactive"] + PLANTED["remote_expired_yesterday"] + PLANTED["remote_expired_earlier"],
        "inactive_with_open_loans": len(inactive & with_loans),  # as the loans happened to fall
    }


# -- catalogue -----------------------------------------------------------------------------------
def _catalogue(count: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    instances, items = [], []
    for n in range(count):
        authors = "; ".join(f"{rng.choice(SURNAMES)}, {rng.choice(FIRST_NAMES)}" for _ in range(rng.choice((1, 1, 2))))
        instance = {
            "id": new_id(rng),
            "title": rng.choice(TITLE_FORMS).format(SUBJECTS[n % len(SUBJECTS)]) + _edition(n // len(SUBJECTS) + 1),
            "author": authors,
            "isbn": _isbn(rng),
        }
        instances.append(instance)
        for copy in range(rng.choice((1, 2, 2, 3))):
            items.append({"id": new_id(rng), "instanceId": instance["id"], "barcode": f"39015{n:05d}{copy:02d}",
                          "status": "Available"})
    return instances, items


def _edition(number: int) -> str:
    """", 2nd ed." and so on; nothing for a first edition."""
    if number == 1:
        return ""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f", {number}{suffix} ed."


def _isbn(rng: random.Random) -> str:
    """A valid ISBN-13 of a plausible academic publisher."""
    digits = "978" + rng.choice(PUBLISHER_PREFIXES).replace("-", "")
    digits += "".join(str(rng.randint(0, 9)) for _ in range(12 - len(digits)))
    check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10) % 10
    return digits + str(check)


# -- circulation ---------------------------------------------------------------------------------
class _Circulation:
    """Loans, requests and fee/fine charges over the catalogue, with the planted renewal cases.

    The first undergrad (``users[2]``) always has an overdue loan, a loan in good standing, an
    open hold and a partly paid fine, so there is a patron with all three kinds of record.
    """

    def __init__(self, users: list[dict[str, Any]], instances: list[dict[str, Any]], items: list[dict[str, Any]],
                 rng: random.Random, today: date) -> None:
        self.rng = rng
        self.today = today
        self.items = items
        self.instances = {i["id"]: i for i in instances}
        groups = {PATRON_GROUPS[name] for name in CIRCULATING}
        self.borrowers = [u for u in users[2:] if u["patronGroup"] in groups]
        self.requesters = [u for u in self.borrowers if u["active"]]
        self.available = list(items)
        self.loans: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.charges: list[dict[str, Any]] = []
        self.queues: dict[str, int] = {}  # open requests per item id
        self.taken: set[tuple[str, str]] = set()  # (item id, user id) on loan or requested

    def run(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        showcase = self.borrowers[0]
        overdue = self.lend(showcase, days_ago=40)
        self.lend(showcase, days_ago=5)
        for user in self.borrowers[1:]:
            for _ in range(self.rng.choice((0, 0, 0, 0, 0, 1, 1, 2))):
                self.lend(user, days_ago=self.rng.randint(1, 60))
        lent = [i for i in self.items if i["status"] == "Checked out" and (i["id"], showcase["id"]) not in self.taken]
        self.request(showcase, self.rng.choice(lent), "Hold")
        self.charge(showcase, "Overdue fine", item_id=overdue["itemId"], paid_share=0.5)
        self.plant_renewal_cases(showcase)
        for user in self.rng.sample(self.requesters[1:], len(self.requesters) // 10):
            for item in self.rng.sample(self.items, self.rng.choice((1, 1, 2))):
                if (item["id"], user["id"]) not in self.taken:
                    self.request(user, item, "Page" if item["status"] == "Available" else "Hold")
        for user in self.rng.sample(self.borrowers[1:], len(self.borrowers) // 12):
            for _ in range(self.rng.choice((1, 1, 2))):
                self.charge(user, self.rng.choice(list(FEE_FINE_TYPES)))
        self.close_some_requests()
        return self.loans, self.requests, self.charges

    def lend(self, user: dict[str, Any], *, days_ago: int) -> dict[str, Any]:
        item = self.available.pop(self.rng.randrange(len(self.available)))
        item["status"] = "Checked out"
        self.taken.add((item["id"], user["id"]))
        loaned = at(self.today - timedelta(days=days_ago), self.rng.randint(9, 20), self.rng.randint(0, 59))
        loan = {"id": new_id(self.rng), "userId": user["id"], "itemId": item["id"], "loanDate": iso(loaned),
                "dueDate": iso(end_of(loaned.date() + timedelta(days=LOAN_DAYS))), "renewalCount": 0,
                "status": "Open"}
        self.loans.append(loan)
        return loan

    def request(self, user: dict[str, Any], item: dict[str, Any], kind: str) -> dict[str, Any]:
        made = at(self.today - timedelta(days=self.rng.randint(0, 20)), self.rng.randint(8, 22), self.rng.randint(0, 59))
        request: dict[str, Any] = {
            "id": new_id(self.rng), "requestType": kind, "requesterId": user["id"], "itemId": item["id"],
            "instanceId": item["instanceId"], "requestDate": iso(made),
            "pickupServicePointId": self.rng.choice(SERVICE_POINTS[:2])["id"], "status": "Open - Not yet filled",
            "position": self.queues.get(item["id"], 0) + 1,
        }
        self.queues[item["id"]] = request["position"]
        self.taken.add((item["id"], user["id"]))
        if self.rng.random() < 0.5:
            request["expirationDate"] = iso(end_of(made.date() + timedelta(days=90)))
        if kind == "Page":
            item["status"] = "Paged"
            self.available.remove(item)
        self.requests.append(request)
        return request

    def charge(self, user: dict[str, Any], reason: str, *, item_id: str | None = None,
               paid_share: float | None = None) -> None:
        type_id, low, high, for_item = FEE_FINE_TYPES[reason]
        amount = round(self.rng.uniform(low, high) * 4) / 4
        share = self.rng.choice((0, 0, 0, 0.25, 0.5)) if paid_share is None else paid_share
        paid = round(amount * share, 2)
        charge: dict[str, Any] = {
            "id": new_id(self.rng), "feeFineId": type_id, "userId": user["id"], "amount": amount,
            "remaining": round(amount - paid, 2), "state": "Paid Partially" if paid else "Outstanding", "reason": reason,
            "accrualDate": iso(at(self.today - timedelta(days=self.rng.randint(1, 120)), self.rng.randint(0, 23))),
        }
        if for_item:
            charge["itemId"] = item_id or self.rng.choice(self.items)["id"]
        self.charges.append(charge)

    def plant_renewal_cases(self, showcase: dict[str, Any]) -> None:
        """Recall some loans and take one to its renewal limit; renewing them is refused."""
        others = [loan for loan in self.loans if loan["userId"] != showcase["id"]]
        chosen = self.rng.sample(others, RECALLED_LOANS + LOANS_AT_RENEWAL_LIMIT)
        items = {i["id"]: i for i in self.items}
        for loan in chosen[:RECALLED_LOANS]:
            recaller = self.rng.choice([u for u in self.requesters if (loan["itemId"], u["id"]) not in self.taken])
            self.request(recaller, items[loan["itemId"]], "Recall")
        for loan in chosen[RECALLED_LOANS:]:
            loan["renewalCount"] = MAX_RENEWALS

    def close_some_requests(self) -> None:
        """Give a few patrons a request history: filled and cancelled requests that are closed."""
        for item in self.rng.sample(self.items, len(self.items) // 15):
            requester = self.rng.choice(self.requesters[1:])
            made = at(self.today - timedelta(days=self.rng.randint(60, 300)), self.rng.randint(8, 22))
            status = self.rng.choice(("Closed - Filled", "Closed - Filled", "Closed - Cancelled"))
            request = {"id": new_id(self.rng), "requestType": "Hold", "requesterId": requester["id"], "itemId": item["id"],
                       "instanceId": item["instanceId"], "requestDate": iso(made),
                       "pickupServicePointId": SERVICE_POINTS[0]["id"], "status": status}
            if status == "Closed - Cancelled":
                request.update({"cancellationReasonId": CANCELLATION_REASONS[0]["id"], "canceledByUserId": requester["id"],
                                "canceledDate": iso(made + timedelta(days=2))})
            self.requests.append(request)


# -- staging users -------------------------------------------------------------------------------
def _staging_user(index: int, rng: random.Random, today: date, admin_id: str) -> dict[str, Any]:
    """A self-registered patron waiting in mod-users' staging area."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    city, region, postal_code = rng.choice(CITIES)
    created = at(today - timedelta(days=rng.randint(0, 45)), rng.randint(7, 23), rng.randint(0, 59), rng.randint(0, 59))
    tier = rng.choice(("TIER-1", "TIER-1", "TIER-2"))
    general: dict[str, Any] = {"firstName": first, "lastName": last}
    if first in NICKNAMES:
        general["preferredFirstName"] = NICKNAMES[first]
    address = {"addressLine0": f"{rng.randint(10, 9899)} {rng.choice(STREETS)}", "city": city, "province": region,
               "zip": postal_code, "country": "US"}
    if rng.random() < 0.3:
        address["addressLine1"] = rng.choice(UNITS)
    staging: dict[str, Any] = {
        "id": new_id(rng),
        "isEmailVerified": tier == "TIER-2",
        "status": tier,
        "externalSystemId": new_id(rng),
        "generalInfo": general,
        "addressInfo": address,
        "contactInfo": {"phone": f"{rng.choice(AREA_CODES)}-555-01{rng.randint(0, 99):02d}",
                        "email": f"{first}.{last}.reg{index}".lower().replace("'", "") + f"@{rng.choice(PERSONAL_DOMAINS)}"},
        "preferredEmailCommunication": sorted(rng.sample(EMAIL_TOPICS, rng.randint(0, 3))),
        "metadata": {"createdDate": iso(created), "createdByUserId": admin_id,
                     "updatedDate": iso(created), "updatedByUserId": admin_id},
    }
    if index % 6 == 0:
        staging["minor"] = True
    return staging
