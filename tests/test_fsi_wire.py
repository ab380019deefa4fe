"""Reading FSI answers, each shape a tenant may send, from a real socket; and what FSI's auth
registers for masking. Messages and statuses here are the test's own, served by a canned server."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from werkzeug.wrappers import Response

from fsi_patron_kit import Secret
from fsi_patron_kit._http import Call, RetryPolicy, Transport
from fsi_patron_kit._redact import _MAX_REMEMBERED, isolated_secrets, redact_text, register_secret
from fsi_patron_kit.errors import (
    APIError,
    AuthError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from fsi_patron_kit.fsi._wire import (
    PATH,
    FsiAuth,
    answer_of,
    decode,
    describe,
    failure_of,
    parse_expire,
    unwrap,
)


def _json(value, status: int = 200, **headers) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json", headers=headers)


def _answer(canned, answer: Response):
    """The response the transport receives for ``answer``, one attempt, no auth."""
    canned.queue(answer)
    transport = Transport(canned.url, vendor="fsi", retry=RetryPolicy(attempts=1))
    return transport.send(Call(method="POST", path=PATH, action="getpatron", json={"action": "getpatron"}))


def _decoded(canned, answer: Response):
    return decode(_answer(canned, answer), action="getpatron")


# -- values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, expected", [
    ({"d": '{"result": true, "item": []}'}, {"result": True, "item": []}),
    ({"d": "[1, 2]"}, [1, 2]),
    ({"d": {"token": "t"}}, {"token": "t"}),
    ({"d": "0f3a9c"}, "0f3a9c"),
    ({"d": "{not json"}, "{not json"),
    ({"d": 5}, 5),
    ({"d": "x", "other": 1}, {"d": "x", "other": 1}),  # not the envelope: more than "d"
    ({"result": True}, {"result": True}),
])
def test_every_envelope_is_read_to_the_same_value(canned, body, expected):
    assert _decoded(canned, _json(body)) == expected


def test_an_answer_is_decoded_once_however_often_it_is_read(canned):
    response = _answer(canned, _json({"d": '{"result": true}'}))
    assert answer_of(response) is answer_of(response)


def test_unwrap_leaves_other_values_alone():
    assert unwrap([{"d": "1"}]) == [{"d": "1"}] and unwrap("x") == "x"


# -- failures with HTTP 200 --------------------------------------------------------------------------
@pytest.mark.parametrize("message, error", [
    ("Barcode already exists.", ConflictError),
    ("Multiple patrons match.", ConflictError),
    ("Patron not found.", NotFoundError),
    ("Session token not found.", NotFoundError),  # "not found" is read before "token"
    ("Invalidate session token.", AuthError),
    ("Invalid renew token.", AuthError),
    ("Invalid API key.", AuthError),
    ("Invalid API secret.", AuthError),
    ("Invalid or expired code.", AuthError),
    ("Barcode is required.", APIError),  # "code" only as a word of its own
    ("Something odd happened.", APIError),  # no pattern: the base class, not a TypeError
])
def test_a_failure_answer_is_the_exception_its_message_means(canned, message, error):
    with pytest.raises(APIError) as caught:
        _decoded(canned, _json({"d": json.dumps({"result": False, "msg": message})}))
    assert type(caught.value) is error
    assert (caught.value.message, caught.value.status, caught.value.vendor, caught.value.action) == (
        message, 200, "fsi", "getpatron")
    assert caught.value.method == "POST" and caught.value.url == canned.url + PATH


@pytest.mark.parametrize("answer, message", [
    ({"result": "false"}, "Request failed."),
    ({"result": "False", "msg": ""}, "Request failed."),
    ({"result": False, "msg": 7}, "7"),
])
def test_a_failure_without_a_readable_message_still_fails(canned, answer, message):
    with pytest.raises(APIError) as caught:
        _decoded(canned, _json(answer))
    assert type(caught.value) is APIError and caught.value.message == message


@pytest.mark.parametrize("answer", [{"result": True, "msg": "Patron updated."}, {"msg": "no result field"}, [1]])
def test_only_result_false_is_a_failure(answer):
    assert failure_of(answer) is None


def test_an_answer_that_is_not_json_with_http_200_is_an_api_error(canned):
    with pytest.raises(APIError) as caught:
        _decoded(canned, Response("<html>maintenance</html>", mimetype="text/html"))
    assert type(caught.value) is APIError
    assert (caught.value.message, caught.value.status) == ("answer is not JSON", 200)
    assert (caught.value.vendor, caught.value.action, caught.value.url) == ("fsi", "getpatron", canned.url + PATH)


# -- HTTP errors -------------------------------------------------------------------------------------
def test_an_aspnet_fault_keeps_its_message_and_exception_type(canned):
    fault = {"Message": "Object reference not set.", "StackTrace": "at X()",
             "ExceptionType": "System.NullReferenceException"}
    with pytest.raises(APIError) as caught:
        _decoded(canned, _json(fault, status=500))
    assert type(caught.value) is ServerError
    assert (caught.value.message, caught.value.code, caught.value.status) == (
        "Object reference not set.", "System.NullReferenceException", 500)


@pytest.mark.parametrize("status, error", [(400, APIError), (401, AuthError), (403, AuthError),
                                           (404, NotFoundError), (409, ConflictError), (422, APIError),
                                           (500, ServerError), (503, ServerError)])
def test_any_status_from_400_up_is_an_error_even_with_a_json_value(canned, status, error):
    with pytest.raises(APIError) as caught:
        _decoded(canned, _json({"d": "looks fine"}, status=status))
    assert type(caught.value) is error and caught.value.status == status
    assert (caught.value.vendor, caught.value.action, caught.value.method) == ("fsi", "getpatron", "POST")
    assert caught.value.url == canned.url + PATH


def test_a_status_below_400_is_an_answer(canned):
    assert _decoded(canned, _json({"d": "fine"}, status=299)) == "fine"


def test_an_error_without_json_says_what_the_body_or_the_status_says(canned):
    with pytest.raises(ServerError) as text:
        _decoded(canned, Response("x" * 300, status=502, mimetype="text/plain"))
    assert text.value.message == "x" * 200 and text.value.code is None
    with pytest.raises(ServerError) as empty:
        _decoded(canned, Response(b"", status=500))
    assert empty.value.message == "INTERNAL SERVER ERROR"


def test_a_429_carries_the_servers_retry_after(canned):
    with pytest.raises(RateLimitError) as caught:
        _decoded(canned, _json({"Message": "Slow down"}, status=429, **{"Retry-After": "7"}))
    assert (caught.value.retry_after, caught.value.message, caught.value.status) == (7.0, "Slow down", 429)


# -- history notes -----------------------------------------------------------------------------------
@pytest.mark.parametrize("answer, note", [
    (_json({"d": '{"result": true}'}), None),
    (_json({"d": '{"result": false, "msg": "Patron not found."}'}), "Patron not found."),
    (_json({"ExceptionType": "System.Exception", "Message": "m"}, status=500), "System.Exception"),
    (_json({"Message": "m"}, status=500), "INTERNAL SERVER ERROR"),
    (_json([1], status=500), "INTERNAL SERVER ERROR"),
    (Response("<html/>", mimetype="text/html"), None),
    (Response("<html/>", status=502, mimetype="text/html"), "BAD GATEWAY"),
])
def test_describe_notes_the_failure_of_an_answer(canned, answer, note):
    assert describe(_answer(canned, answer)) == note


# -- expiry ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    ("", None),
    (None, None),
    (1_000_000_000, 1000.0 + 1_000_000_000),  # up to 1e9: a lifetime in seconds
    (1_000_000_001, 1_000_000_001.0),  # beyond: epoch seconds
    (100_000_000_000, 100_000_000_000.0),  # up to 1e11: still seconds
    (100_000_000_001, 100_000_000.001),  # beyond: epoch milliseconds
    ("-5", 995.0),
    (12.5, 1012.5),
    ("/Date(-1000)/", -1.0),
    ("/Date(1795428000000+0100)/", 1795428000.0),
    ("2026-11-23T10:00:00+01:00", 1795424400.0),
    ("not a date", None),
    ("X1200", None),
])
def test_expire_values(value, expected):
    assert parse_expire(value, now=1000.0) == expected


@pytest.mark.usefixtures("away_from_utc")
def test_an_expire_without_offset_is_the_servers_local_time():
    # 10:00 in New York (EST, UTC-5) is 15:00 UTC
    assert parse_expire("2026-11-23T10:00:00", now=0.0) == datetime(2026, 11, 23, 15, tzinfo=timezone.utc).timestamp()


# -- what FSI's auth registers for masking (the value net alone) ---------------------------------------
def _json_encoding(payload: dict) -> dict:
    return {"json": payload}


def _send(transport, action: str, **fields):
    return transport.send(Call(method="POST", path=PATH, action=action, authenticated=False,
                               json={"action": action, **fields}))


@pytest.mark.parametrize("envelope", ["string", "object", "none"])
def test_the_code_and_the_tokens_a_server_hands_out_are_masked_by_value(emulator, envelope):
    emulator.envelope = envelope
    creds = emulator.credentials
    auth = FsiAuth(Secret(creds.apikey), Secret(creds.apisecret), encoding=_json_encoding)
    transport = Transport(emulator.url, vendor="fsi", auth=auth, record_bodies=True)
    with isolated_secrets(empty=True):
        got = _send(transport, "getcode", apikey=creds.apikey)
        code = unwrap(got.json())  # read off the wire by the test itself
        code = code["code"] if isinstance(code, dict) else code
        assert redact_text(f"echo {code}") == "echo ***"
        tokens = unwrap(_send(transport, "gettoken", code=code, apisecret=creds.apisecret).json())
        for value in (tokens["token"], tokens["renewtoken"]):
            assert redact_text(f"echo {value}") == "echo ***"
        recorded = transport.history.last(2)
        assert all(code not in (row.response_body or "") for row in recorded)


def test_only_login_answers_are_searched_for_secrets(emulator):
    creds = emulator.credentials
    auth = FsiAuth(Secret(creds.apikey), Secret(creds.apisecret), encoding=_json_encoding)
    transport = Transport(emulator.url, vendor="fsi")
    response = _send(transport, "getcode", apikey=creds.apikey)
    code = unwrap(response.json())
    assert list(auth.secrets_in(Call(method="POST", path=PATH, action="getcode"), response)) == [code]
    assert list(auth.secrets_in(Call(method="POST", path=PATH, action="searchpatron"), response)) == []
    listed = _send(transport, "gettoken", code=code, apisecret=creds.apisecret)
    tokens = unwrap(listed.json())
    assert list(auth.secrets_in(Call(method="POST", path=PATH, action="gettoken"), listed)) == [
        tokens["token"], tokens["renewtoken"]]


def test_renewed_tokens_are_searched_for_secrets_too(emulator):
    creds = emulator.credentials
    auth = FsiAuth(Secret(creds.apikey), Secret(creds.apisecret), encoding=_json_encoding)
    transport = Transport(emulator.url, vendor="fsi")
    code = unwrap(_send(transport, "getcode", apikey=creds.apikey).json())
    first = unwrap(_send(transport, "gettoken", code=code, apisecret=creds.apisecret).json())
    renewed = _send(transport, "renewtoken", token=first["token"], renewtoken=first["renewtoken"],
                    apisecret=creds.apisecret)
    tokens = unwrap(renewed.json())
    assert list(auth.secrets_in(Call(method="POST", path=PATH, action="renewtoken"), renewed)) == [
        tokens["token"], tokens["renewtoken"]]


def _record_handed_out(emulator) -> list[str]:
    """Every code and token the emulator hands out, in order, as the test's own record."""
    handed: list[str] = []
    for name in ("getcode", "gettoken", "renewtoken"):
        def recording(tenant, params, real=emulator.actions[name]):
            answer = real(tenant, params)
            handed.extend(str(value) for key, value in answer.items() if key != "expire")
            return answer
        emulator.actions[name] = recording
    return handed


def _auth_on(emulator, **options):
    creds = emulator.credentials
    auth = FsiAuth(Secret(creds.apikey), Secret(creds.apisecret), encoding=_json_encoding, **options)
    return auth, Transport(emulator.url, vendor="fsi", auth=auth)


def test_a_long_lived_process_forgets_old_codes_and_tokens_but_never_its_own_keys(emulator):
    """What is masked is bounded: the codes and tokens a server hands out are forgotten, oldest
    first, once enough newer secrets came (a process renewing for weeks must not grow without
    end); the client's own API key and secret never are."""
    handed = _record_handed_out(emulator)
    auth, transport = _auth_on(emulator)
    auth.login(transport)
    auth.renew(transport)
    assert len(handed) == 5  # the code, the first token pair, the renewed pair
    assert [redact_text(value) for value in handed] == ["***"] * 5
    for n in range(_MAX_REMEMBERED):
        register_secret(f"a-later-token-{n:06d}")
    assert [redact_text(value) for value in handed] == handed
    creds = emulator.credentials
    assert redact_text(f"{creds.apikey} {creds.apisecret}") == "*** ***"


def test_login_and_renewal_are_posts(emulator):
    """Document 000: every action, getcode, gettoken and renewtoken included, is a POST."""
    auth, transport = _auth_on(emulator)
    auth.login(transport)
    auth.renew(transport)
    assert [(row.action, row.method) for row in transport.history] == [
        ("getcode", "POST"), ("gettoken", "POST"), ("renewtoken", "POST")]


def test_the_sessions_own_clock_decides_when_its_token_is_renewed(emulator):
    ahead = [0.0]
    auth, transport = _auth_on(emulator, clock=lambda: time.time() + ahead[0])
    auth.ensure(transport)
    ahead[0] = emulator.knobs.token_lifetime  # a whole token life later, by the session's clock only
    auth.ensure(transport)
    assert (auth.logins, auth.renewals) == (1, 1)


def _login_fails_with_an_api_error(canned, *answers) -> APIError:
    """Log in against ``answers`` (one attempt each) and return the APIError it must end in."""
    canned.queue(*answers)
    auth = FsiAuth(Secret("key-0123456"), Secret("secret-0123456"), encoding=_json_encoding)
    transport = Transport(canned.url, vendor="fsi", auth=auth, retry=RetryPolicy(attempts=1))
    with pytest.raises(APIError) as caught:
        auth.login(transport)
    assert type(caught.value) is APIError
    return caught.value


def test_a_getcode_answer_without_a_code_is_an_api_error(canned):
    error = _login_fails_with_an_api_error(canned, _json({"d": ""}))
    assert (error.message, error.vendor, error.action) == ("getcode answered without a code", "fsi", "getcode")


def test_a_gettoken_answer_without_a_token_is_an_api_error(canned):
    error = _login_fails_with_an_api_error(canned, _json({"d": "c0de-1234"}),
                                           _json({"d": json.dumps({"renewtoken": "r-123456"})}))
    assert (error.message, error.vendor, error.action) == ("gettoken answered without a token", "fsi", "gettoken")
    sent = [json.loads(body) for _, _, _, body in canned.seen]
    assert sent == [{"action": "getcode", "apikey": "key-0123456"},
                    {"action": "gettoken", "code": "c0de-1234", "apisecret": "secret-0123456"}]


def test_a_session_without_a_renew_token_logs_in_again(canned):
    canned.queue(_json({"d": "c0de-1234"}), _json({"d": json.dumps({"token": "tok-1234567", "expire": "2000-01-01T00:00:00Z"})}),
                 _json({"d": "c0de-5678"}), _json({"d": json.dumps({"token": "tok-7654321"})}))
    auth = FsiAuth(Secret("key-0123456"), Secret("secret-0123456"), encoding=_json_encoding)
    transport = Transport(canned.url, vendor="fsi", auth=auth, retry=RetryPolicy(attempts=1))
    auth.login(transport)
    with pytest.raises(AuthError) as caught:
        auth.renew(transport)
    assert (caught.value.message, caught.value.vendor, caught.value.action) == (
        "this session has no renew token", "fsi", "renewtoken")
    assert auth.ensure(transport).token == "tok-7654321"  # expired, and no renew token: a new login
    assert [json.loads(body)["action"] for _, _, _, body in canned.seen] == [
        "getcode", "gettoken", "getcode", "gettoken"]


@pytest.mark.parametrize("json_body, data, expected", [
    ({"action": "searchpatron"}, None, {"json": {"action": "searchpatron", "token": "tok-1234567"}, "data": None}),
    # a form post stays a form post (the structured find-form keyword only exists as form fields)
    (None, {"action": "searchpatron"}, {"json": None, "data": {"action": "searchpatron", "token": "tok-1234567"}}),
    (None, None, {"json": {"token": "tok-1234567"}, "data": None}),
])
def test_the_token_rides_in_the_body_whatever_the_call_carried(json_body, data, expected):
    from fsi_patron_kit.fsi._wire import Tokens

    auth = FsiAuth(Secret("key-0123456"), Secret("secret-0123456"), encoding=_json_encoding)
    call = Call(method="POST", path=PATH, json=json_body, data=data)
    applied = auth.apply(call, Tokens(token="tok-1234567", renewtoken=None))
    assert {"json": applied.json, "data": applied.data} == expected
    unauthenticated = auth.apply(call, None)
    assert "token" not in (unauthenticated.data or {}) and (unauthenticated.json or {}).get("token") is None


def test_an_expire_given_as_a_lifetime_counts_from_the_sessions_clock(canned):
    canned.queue(_json({"d": "c0de-1234"}), _json({"d": json.dumps({"token": "tok-1234567", "expire": 1200})}))
    auth = FsiAuth(Secret("key-0123456"), Secret("secret-0123456"), encoding=_json_encoding,
                   clock=lambda: 1_700_000_000.0)
    auth.login(Transport(canned.url, vendor="fsi", auth=auth, retry=RetryPolicy(attempts=1)))
    assert auth.session.expires_at == datetime.fromtimestamp(1_700_001_200, timezone.utc)
