"""The FSI emulator speaks the production dialect real tenants accept, spoken here with plain requests
the way a public school-sync integration does: form posts to ``/Services/...``, underscored actions,
``index``, title-case roles, ``allownew`` as text, and the structured find-form keyword."""

from __future__ import annotations

import json

import pytest
import requests

from fsi_patron_kit.sandbox import FsiEmulator

PRODUCTION_PATH = "/Services/SSLIB_SER_PATRON_API.asmx/patron"


def find_form(*criteria: tuple[str, str], condition: str = "AND", method: str = "CONTAIN",
              kind: str = "STRING") -> dict[str, str]:
    """The keyword as the integration posts it: ``keyword[i][tokens][j][key|value]`` form fields."""
    fields: dict[str, str] = {}
    for i, (key, value) in enumerate(criteria):
        tokens = [("findform_key", key), ("findform_value", value), ("findform_condition", condition),
                  ("findform_method", method), ("findform_type", kind)]
        for j, (name, text) in enumerate(tokens):
            fields[f"keyword[{i}][tokens][{j}][key]"] = name
            fields[f"keyword[{i}][tokens][{j}][value]"] = text
    return fields


class Integration:
    """A client that speaks only the production dialect, as the public integration does."""

    def __init__(self, emulator: FsiEmulator) -> None:
        self.url = emulator.url + PRODUCTION_PATH
        self.session = requests.Session()
        code = self.post(action="get_code", apikey=emulator.credentials.apikey)["code"]
        answer = self.post(action="get_token", code=code, apisecret=emulator.credentials.apisecret)
        self.token = answer["token"]

    def post(self, **fields) -> dict:
        answer = self.session.post(self.url, data=fields, timeout=10)
        assert answer.status_code == 200
        return answer.json()

    def search_all(self, keyword: dict[str, str], page_count: int = 50) -> list[dict]:
        """Page on until an empty ``item`` list, as the integration does."""
        found, page = [], 1
        while True:
            answer = self.post(action="search_patron", token=self.token, pagenumber=page, pagecount=page_count,
                               **keyword)
            assert answer["result"] is True, answer
            if not answer["item"]:
                return found
            found += answer["item"]
            page += 1


@pytest.fixture
def emulator():
    running = FsiEmulator(patrons=600).start()
    yield running
    running.stop()


@pytest.fixture
def integration(emulator):
    return Integration(emulator)


def test_logs_in_with_underscored_actions_on_the_services_path(emulator, integration):
    assert integration.token
    assert emulator.counters.actions["get_code"] == 1 and emulator.counters.actions["get_token"] == 1


def test_paths_are_case_insensitive(emulator):
    for path in ("/services/sslib_ser_patron_api.asmx/patron", "/SERVICES/SSLIB_SER_PATRON_API.ASMX/PATRON"):
        answer = requests.post(emulator.url + path, data={"action": "getcode", "apikey": emulator.credentials.apikey},
                               timeout=10)
        assert answer.status_code == 200 and answer.json()["code"]
    assert requests.post(emulator.url + "/Services/other.asmx/patron", data={}, timeout=10).status_code == 404


def test_structured_keyword_searches_one_field(emulator, integration):
    wanted = [r["barcode"] for r in emulator.records() if "smith" in r["surname"].lower()]
    assert 0 < len(wanted) < 600
    found = integration.search_all(find_form(("surname", "SMITH")), page_count=7)
    assert [p["barcode"] for p in found] == wanted


def test_structured_keyword_all_searches_every_field(emulator, integration):
    def has(record: dict, text: str) -> bool:
        return any(text in str(value).lower() for value in record.values()) or \
            text in f"{record['firstname'].strip()} {record['surname'].strip()}".lower()

    wanted = [r["barcode"] for r in emulator.records() if has(r, "teacher")]
    teachers = [r for r in emulator.records() if r["role"] == "TEACHER"]
    assert len(wanted) >= len(teachers) > 0
    found = integration.search_all(find_form(("ALL", "Teacher")))
    assert [p["barcode"] for p in found] == wanted


def test_structured_criteria_combine_with_and(emulator, integration):
    wanted = [r["barcode"] for r in emulator.records() if r["role"] == "STUDENT" and "7" in r["classgrade"]]
    found = integration.search_all(find_form(("role", "student"), ("classgrade", "7")))
    assert [p["barcode"] for p in found] == wanted and wanted


def test_structured_criteria_combine_with_or(emulator, integration):
    wanted = [r["barcode"] for r in emulator.records() if r["role"] in ("TEACHER", "LIBRARIAN")]
    found = integration.search_all({**find_form(("role", "teacher")),
                                    **{k.replace("[0]", "[1]", 1): v
                                       for k, v in find_form(("role", "librarian"), condition="OR").items()}})
    assert [p["barcode"] for p in found] == wanted and wanted


def test_a_structured_keyword_is_never_ignored(emulator, integration):
    assert integration.search_all(find_form(("email", "no-such-address@nowhere"))) == []
    for keyword, problem in ((find_form(("email", "x"), method="EQUAL"), "findform_method"),
                             (find_form(("email", "x"), kind="NUMBER"), "findform_type"),
                             (find_form(("shoe_size", "x")), "findform_key")):
        answer = integration.post(action="search_patron", token=integration.token, **keyword)
        assert answer["result"] is False and problem in answer["msg"]


def test_json_posts_may_send_the_keyword_as_a_list(emulator, integration):
    wanted = [r["barcode"] for r in emulator.records() if "smith" in r["surname"].lower()]
    tokens = [{"key": "findform_key", "value": "surname"}, {"key": "findform_value", "value": "smith"},
              {"key": "findform_condition", "value": "AND"}, {"key": "findform_method", "value": "CONTAIN"},
              {"key": "findform_type", "value": "STRING"}]
    answer = requests.post(emulator.endpoint, timeout=10, json={
        "action": "searchpatron", "token": integration.token, "pagecount": 1000, "keyword": [{"tokens": tokens}]})
    assert [p["barcode"] for p in json.loads(answer.json()["d"])["item"]] == wanted  # a JSON post gets {"d": text}
    no_criteria = requests.post(emulator.endpoint, timeout=10, json={
        "action": "searchpatron", "token": integration.token, "pagecount": 1000, "keyword": []})
    assert len(json.loads(no_criteria.json()["d"])["item"]) == 600  # no criteria: every patron


def test_creates_and_updates_patrons_with_index_and_title_case_roles(emulator, integration):
    patron = {"barcode": "jane.citizen@westfield.school.edu.au", "username": "jane.citizen@westfield.school.edu.au",
              "externalid": "S123456", "firstname": "Jane", "surname": "Citizen",
              "email": "jane.citizen@westfield.school.edu.au", "classgrade": "8", "room": "Student",
              "role": "Student"}
    created = integration.post(action="set_patron", token=integration.token, keyfield="username", allownew=True,
                               index=1, **patron)
    assert created["result"] is True and created["msg"] == "Patron created." and created["itemindex"] == 1
    assert created["item"][0]["username"] == patron["username"] and created["item"][0]["role"] == "STUDENT"
    updated = integration.post(action="set_patron", token=integration.token, keyfield="username", allownew=True,
                               index=1, **{**patron, "classgrade": "9", "role": "Teacher"})
    assert updated["result"] is True and updated["msg"] == "Patron updated."
    fetched = integration.post(action="get_patron", token=integration.token, keyfield="email",
                               keyvalue=patron["email"].upper())
    assert fetched["result"] is True and len(fetched["item"]) == 1
    assert (fetched["item"][0]["classgrade"], fetched["item"][0]["role"]) == ("9", "TEACHER")
    assert dict(emulator.counters.writes) == {patron["barcode"]: 2}
    found = integration.search_all(find_form(("username", "jane.citizen")))
    assert [p["classgrade"] for p in found] == ["9"]


def test_an_unknown_role_is_refused_in_either_spelling(integration):
    answer = integration.post(action="set_patron", token=integration.token, keyfield="username", allownew=True,
                              index=1, username="x1", role="Janitor")
    assert answer["result"] is False and answer["msg"].startswith("Invalid role")


def test_class_grades_carry_a_trailing_bar_as_on_real_tenants(emulator):
    barred = [r["classgrade"] for r in emulator.records() if r["classgrade"].rstrip().endswith("|")]
    assert len(barred) == emulator.planted["classgrade_trailing_pipe"] == 10
    assert {grade.replace(" ", "") for grade in barred} <= {f"{year}|" for year in range(7, 13)}
    assert any(" |" in grade for grade in barred) and any(" " not in grade for grade in barred)
