"""Pure pieces: redaction, frames, expiry parsing, models and their displays (each test starts
from the same secret registry: see conftest)."""

from __future__ import annotations

import pandas as pd
import pytest

from fsi_patron_kit._frames import BOOL, DATETIME, INT, Column, FrameSpec
from fsi_patron_kit._redact import (
    redact_body,
    redact_mapping,
    redact_text,
    redact_url,
    register_secret,
)
from fsi_patron_kit.errors import APIError, InputError
from fsi_patron_kit.fsi import Patron
from fsi_patron_kit.fsi._wire import parse_expire, unwrap


def test_redact_url_masks_secret_parameters_and_passwords():
    url = redact_url("https://u:pw@edge.example/patron?apikey=abc123&email=a%40b.org&token=t1")
    assert "abc123" not in url and "pw" not in url and "t1" not in url
    assert "email=a%40b.org" in url and "apikey=***" in url


def test_redact_text_masks_registered_values_and_named_pairs():
    register_secret("s3cr3t-value-xyz")
    assert redact_text("boom s3cr3t-value-xyz boom") == "boom *** boom"
    assert redact_text("GET /x?renewtoken=zz9&page=2") == "GET /x?renewtoken=***&page=2"


def test_redact_mapping_and_bodies_by_name_recursively():
    assert redact_mapping({"Authorization": "PAS a:b:c", "Accept": "json"}) == {"Authorization": "***", "Accept": "json"}
    body = redact_body(b'{"d": "{\\"token\\": \\"tok-1\\", \\"n\\": 1}"}', "application/json")
    assert "tok-1" not in body and '\\"n\\": 1' in body
    assert redact_body("action=gettoken&apisecret=shh&code=1", "application/x-www-form-urlencoded") == "action=gettoken&apisecret=***&code=1"


def test_frame_spec_declares_order_and_dtypes():
    spec = FrameSpec((Column("id", wire="ID"), Column("n", INT), Column("ok", BOOL), Column("at", DATETIME)))
    frame = spec.build([{"ID": 123, "n": 2, "ok": True, "at": "2026-01-02T03:04:05Z", "extra": 1}, {"ID": "0042"}])
    assert list(frame.columns) == ["id", "n", "ok", "at"]
    assert frame["id"].tolist() == ["123", "0042"]
    assert [str(t) for t in frame.dtypes] == ["string", "Int64", "boolean", "datetime64[us, UTC]"]
    assert frame["n"].tolist()[0] == 2 and frame["n"].isna().tolist() == [False, True]
    assert frame["ok"].tolist()[0] is True
    assert frame["at"].tolist()[0] == pd.Timestamp("2026-01-02T03:04:05Z") and pd.isna(frame["at"].iloc[1])
    empty = spec.empty()
    assert empty.empty and [str(t) for t in empty.dtypes] == ["string", "Int64", "boolean", "datetime64[us, UTC]"]


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"d": '{"token": "t"}'}, {"token": "t"}),
        ({"d": {"token": "t"}}, {"token": "t"}),
        ({"d": "abc"}, "abc"),
        ({"token": "t"}, {"token": "t"}),
        ({"d": '{"result": false, "msg": "x"}'}, {"result": False, "msg": "x"}),
    ],
)
def test_every_envelope_unwraps_to_the_same_value(body, expected):
    assert unwrap(body) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-11-23T10:00:00Z", 1795428000.0),
        ("/Date(1795428000000)/", 1795428000.0),
        (1795428000, 1795428000.0),
        (1795428000000, 1795428000.0),
        ("1200", 1000.0 + 1200),
        (None, None),
        ("not a date", None),
    ],
)
def test_expire_formats(value, expected):
    assert parse_expire(value, now=1000.0) == expected


def test_patron_repr_hides_personal_data_and_html_escapes(monkeypatch):
    from fsi_patron_kit import options

    patron = Patron.from_wire({"barcode": "0001", "firstname": "<b>Ann</b>", "surname": "Lee", "email": "ann@x.org",
                               "username": "alee", "role": "STUDENT"})
    text = repr(patron)
    assert "0001" in text and "Ann" not in text and "ann@x.org" not in text and "alee" not in text
    assert "Ann" not in patron._repr_html_() and "ann@x.org" not in patron._repr_html_()
    monkeypatch.setattr(options, "show_personal_data", True)  # asked for: shown, and escaped
    html = patron._repr_html_()
    assert "&lt;b&gt;Ann&lt;/b&gt;" in html and "<b>Ann" not in html
    assert patron.full_name == "<b>Ann</b> Lee"


def test_errors_read_well():
    error = APIError("Patron not found.", status=200, code=None, vendor="fsi", action="getpatron")
    assert str(error) == "[fsi getpatron] Patron not found. (HTTP 200)"
    assert str(InputError("email", "must be valid", index=3)) == "record 3: email: must be valid"


def test_frames_survive_pandas_string_inference():
    frame = FrameSpec((Column("barcode"),)).build([{"barcode": "007"}])
    assert pd.api.types.is_string_dtype(frame["barcode"]) and frame["barcode"][0] == "007"


def test_api_error_masks_a_secret_the_server_echoed():
    register_secret("echoed-secret-4711")
    error = APIError("Invalid API secret 'echoed-secret-4711'.", vendor="fsi")
    assert "echoed-secret-4711" not in f"{error} {error!r} {error.args} {error.message}"


def test_call_repr_masks_credentials():
    from fsi_patron_kit._http import Call

    call = Call(method="POST", path="/p", json={"token": "tok-abc-123", "room": "R1"},
                params={"apikey": "key-abc-123"}, headers={"Cookie": "folioAccessToken=cookie-abc-123"})
    text = repr(call)
    assert "R1" in text and "tok-abc-123" not in text and "key-abc-123" not in text and "cookie-abc-123" not in text


def test_redacted_url_keeps_the_port():
    assert redact_url("https://svc:pw-1234@fsi.example:8443/x") == "https://svc:***@fsi.example:8443/x"


def test_a_clients_own_secret_is_never_forgotten():
    from fsi_patron_kit import Secret

    Secret("pinned-password-1234")
    for n in range(3000):
        register_secret(f"short-lived-token-{n:05d}")
    assert redact_text("x pinned-password-1234 y") == "x *** y"
    assert redact_text("short-lived-token-00000") == "short-lived-token-00000"  # the oldest token was let go
