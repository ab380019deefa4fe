"""No Wise API key, WISE_KEY, password or token shows anywhere: reprs, DEBUG logs, exceptions, history."""

from __future__ import annotations

import logging
import time

import pytest

from fsi_patron_kit import APIError, AuthError, TransportError
from fsi_patron_kit.sandbox.wise import state
from fsi_patron_kit.wise import Applicant

from .conftest import make_wise_client
from .test_wise_client import NEW, applicant_from, record


@pytest.fixture
def issued(monkeypatch):
    """Every token the emulator issues, recorded as it is minted."""
    tokens: list[str] = []
    real = state.Store.issue

    def recording(self, *args, **kwargs):
        token = real(self, *args, **kwargs)
        tokens.append(token)
        return token

    monkeypatch.setattr(state.Store, "issue", recording)
    return tokens


def test_no_secret_in_reprs_logs_exceptions_or_history(wise_emulator, issued, caplog):
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    lapsed = record(wise_emulator, "lapsed")
    member = wise_emulator.showcase["member"]
    with make_wise_client(wise_emulator, record_bodies=True) as client:
        shown += [repr(client), repr(client._auth), repr(client._auth.staff), repr(client.login())]
        login = client.authenticate_patron(username=member["username"], password=member["password"])
        shown += [repr(login), str(login.raw), repr(client.patron_information(
            patron_system_id=member["patron_system_id"], library_id="I018", login=login))]
        person = applicant_from(lapsed, home_branch="3041", zip_code="9761 AB", city="Eelde")
        done = client.register(library_id="I304", applicant=person, subscription_id=320)  # logins, PUT, payment
        shown += [repr(person), repr(done), done._repr_html_(), repr(Applicant(**NEW))]
        shown.append(repr(client.subscribe(library_id="I018", applicant=Applicant(**NEW), subscription_id=45,
                                           dry_run=True)))
        wise_emulator.expire_tokens()
        client.lookup_cards(library_id="I018", search=member["card_number"])  # 401, login again
        for failing in (lambda: client.authenticate_patron(username=member["username"], password="wrong-pass-9"),
                        lambda: client.subscribe(library_id="I018", subscription_id=45, applicant=Applicant(
                            **{**NEW, "username": member["username"]}))):
            with pytest.raises(APIError) as caught:
                failing()
            shown += [str(caught.value), repr(caught.value)]
        wise_emulator.knobs.fail_next("reset")
        with pytest.raises(TransportError) as dropped:
            client.subscribe(library_id="I018", applicant=Applicant(**NEW), subscription_id=45)
        shown += [str(dropped.value), repr(client.session)]
        shown.append(client.history.to_frame(bodies=True).to_csv())
        shown += [f"{row.request_body} {row.response_body}" for row in client.history]
    with make_wise_client(wise_emulator, password="wrong-staff-password") as refused, \
            pytest.raises(AuthError) as denied:
        refused.login()
    shown += [str(denied.value), repr(denied.value), refused.history.to_frame(bodies=True).to_csv()]
    shown += [r.getMessage() for r in caplog.records]
    app = wise_emulator.application
    today_key = app.expected_key(int(time.time() // 86400)).partition(":")[2]
    secrets = {app.api_key, today_key, wise_emulator.staff.password, wise_emulator.payment.password,
               member["password"], lapsed["password"], NEW["password"], "wrong-pass-9", "wrong-staff-password",
               *issued}
    assert len(issued) >= 5  # staff logins, patron logins, the payment login really issued tokens
    assert any('"password": "***"' in text for text in shown)  # login bodies were recorded, masked
    assert any('"token": "***"' in text for text in shown)  # and the answers that carry tokens
    for text in shown:
        for secret in secrets:
            assert secret not in text
