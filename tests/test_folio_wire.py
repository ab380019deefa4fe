"""Reading FOLIO answers: the three error shapes, every code of document 003's table, and what a
login or refresh answer hands out. Answers are served over a real socket by a canned server."""

from __future__ import annotations

import base64
import json

import pytest
from werkzeug.wrappers import Response

from fsi_patron_kit import Secret
from fsi_patron_kit._http import Call, RetryPolicy, Transport
from fsi_patron_kit._redact import isolated_secrets, redact_text
from fsi_patron_kit.errors import (
    APIError,
    AuthError,
    ConflictError,
    InputError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from fsi_patron_kit.folio._wire import (
    FolioAuth,
    decode,
    describe,
    error_of,
    make_apikey,
    read_apikey,
)

from .conftest import FAST_RETRY, make_folio_client

# Document 003's error table: code -> message.
DOCUMENT_003 = {
    "MULTIPLE_USER_WITH_EMAIL": "Multiple users found with the same email",
    "USER_ACCOUNT_INACTIVE": "User account is not active",
    "USER_ALREADY_EXIST": "User already exists",
    "USER_NOT_FOUND": "User does not exist",
    "EMAIL_ALREADY_EXIST": "User already exist with email provided in payload",
    "INVALID_PATRON_GROUP": "User does not belong to the required patron group",
    "PATRON_GROUP_NOT_APPLICABLE": "Required Patron group not applicable for user",
}


def _json(value, status: int = 200, **headers) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json", headers=headers)


def _answer(canned, answer: Response, *, method: str = "GET", params=None):
    canned.queue(answer)
    transport = Transport(canned.url, vendor="folio", retry=RetryPolicy(attempts=1))
    return transport.send(Call(method=method, path="/patron/account/u1", action="account", params=params))


def _raised(canned, answer: Response, **options) -> APIError:
    response = _answer(canned, answer, **options)
    with pytest.raises(APIError) as caught:
        decode(response, action="account")
    return caught.value


# -- answers -------------------------------------------------------------------------------------------
def test_a_json_answer_is_its_value_and_an_empty_one_is_none(canned):
    assert decode(_answer(canned, _json({"totalRecords": 0})), action="account") == {"totalRecords": 0}
    assert decode(_answer(canned, Response(b"", status=204)), action="account") is None


def test_an_ok_answer_that_is_not_json_is_an_api_error_without_the_parsers_exception(canned):
    error = _raised(canned, Response("<html>proxy</html>", mimetype="text/html"))
    assert type(error) is APIError
    assert (error.message, error.status, error.vendor, error.action) == ("answer is not JSON", 200, "folio", "account")
    assert error.__suppress_context__ and error.__cause__ is None


# -- the three error shapes ------------------------------------------------------------------------------
@pytest.mark.parametrize("code, message", sorted(DOCUMENT_003.items()))
def test_a_code_in_error_message_reads_as_document_003_says(canned, code, message):
    error = _raised(canned, _json({"code": 422, "errorMessage": code}, status=422))
    assert (error.code, error.message, error.status) == (code, message, 422)
    assert type(error) is (NotFoundError if code == "USER_NOT_FOUND" else ConflictError)
    assert (error.vendor, error.action, error.method) == ("folio", "account", "GET")


def test_the_upstream_variant_keeps_its_code_and_text(canned):
    error = _raised(canned, _json({"code": "STAGING_USER_NOT_FOUND", "errorMessage": "Staging user does not exist"},
                                  status=404))
    assert type(error) is NotFoundError
    assert (error.code, error.message) == ("STAGING_USER_NOT_FOUND", "Staging user does not exist")


def test_a_numeric_code_beside_a_text_message_is_no_code(canned):
    error = _raised(canned, _json({"code": 422, "errorMessage": "Email is not valid"}, status=422))
    assert type(error) is APIError and (error.code, error.message) == (None, "Email is not valid")


def test_an_unknown_code_in_error_message_is_kept_as_its_own_message(canned):
    error = _raised(canned, _json({"errorMessage": "SOMETHING_NEW"}, status=400))
    assert type(error) is APIError and (error.code, error.message) == ("SOMETHING_NEW", "SOMETHING_NEW")


@pytest.mark.parametrize("text", ["A", "Lowercase_code", "USER NOT FOUND"])
def test_text_that_is_not_a_code_stays_a_message(canned, text):
    error = _raised(canned, _json({"errorMessage": text}, status=400))
    assert (error.code, error.message) == (None, text)


def test_rmb_errors_give_the_first_errors_code_and_message(canned):
    body = {"errors": [{"message": "Item is already checked out", "code": "ITEM_CHECKED_OUT", "type": "1",
                        "parameters": []}, {"message": "second", "code": "OTHER"}], "total_records": 2}
    error = _raised(canned, _json(body, status=422))
    assert type(error) is APIError
    assert (error.code, error.message) == ("ITEM_CHECKED_OUT", "Item is already checked out")


def test_rmb_error_with_a_known_code_and_no_message_takes_the_documents_message(canned):
    error = _raised(canned, _json({"errors": [{"code": "USER_NOT_FOUND"}]}, status=404))
    assert type(error) is NotFoundError and error.message == "User does not exist"
    bare = _raised(canned, _json({"errors": [{"type": "1"}]}, status=400))
    assert (bare.code, bare.message) == (None, "")


def test_an_empty_error_list_falls_back_to_the_body(canned):
    error = _raised(canned, _json({"errors": []}, status=400))
    assert (error.code, error.message) == (None, '{"errors": []}')


def test_plain_text_errors_keep_their_text(canned):
    error = _raised(canned, Response("  account not found \n", status=404, mimetype="text/plain"))
    assert type(error) is NotFoundError and (error.code, error.message) == (None, "account not found")
    assert _raised(canned, Response(b"", status=500)).message == "INTERNAL SERVER ERROR"


def test_a_long_json_error_is_cut_to_500_characters(canned):
    error = _raised(canned, _json({"detail": "x" * 600}, status=400))
    assert error.message == ('{"detail": "' + "x" * 600)[:500]


@pytest.mark.parametrize("status, error", [(401, AuthError), (403, AuthError), (409, ConflictError),
                                           (500, ServerError), (502, ServerError)])
def test_a_status_without_a_code_is_read_by_its_meaning(canned, status, error):
    assert type(_raised(canned, Response("nope", status=status, mimetype="text/plain"))) is error


def test_a_429_carries_retry_after_and_others_do_not(canned):
    limited = _raised(canned, Response("Too many requests", status=429, headers={"Retry-After": "4"}))
    assert type(limited) is RateLimitError and limited.retry_after == 4.0


def test_an_error_names_the_method_and_a_redacted_url(canned):
    error = _raised(canned, Response("nope", status=400), method="PUT", params={"apikey": "edge-key-123456", "q": "1"})
    assert error.method == "PUT"
    assert error.url == canned.url + "/patron/account/u1?apikey=***&q=1"


@pytest.mark.parametrize("answer, note", [
    (_json({"totalRecords": 0}), None),
    (_json({"errorMessage": "USER_NOT_FOUND"}, status=404), "USER_NOT_FOUND"),
    (Response("y" * 200, status=400), "y" * 120),
])
def test_describe_notes_the_code_or_the_start_of_the_message(canned, answer, note):
    assert describe(_answer(canned, answer)) == note


def test_error_of_reads_a_body_that_is_neither_shape(canned):
    assert error_of(_answer(canned, _json(["a list"], status=400))) == (None, '["a list"]')


# -- the edge apikey ---------------------------------------------------------------------------------------
def test_an_apikey_is_compact_json_in_url_safe_base64():
    key = make_apikey(salt="s4lt", tenant="diku", username="edge_patron").reveal()
    assert key == base64.urlsafe_b64encode(b'{"s":"s4lt","t":"diku","u":"edge_patron"}').decode()


@pytest.mark.parametrize("username", ["e", "ed", "edg", "edge"])  # every length of padding
def test_an_apikey_says_its_tenant_and_user_with_or_without_padding(username):
    key = base64.urlsafe_b64encode(json.dumps({"s": "salt", "t": "diku", "u": username}).encode()).decode()
    for form in (key, key.rstrip("="), Secret(key)):
        info = read_apikey(form)
        assert (info.tenant, info.username) == ("diku", username)


def test_an_apikey_that_is_no_text_is_a_config_error():
    with pytest.raises(InputError) as caught:
        read_apikey(None)
    assert caught.value.field == "apikey"


@pytest.mark.parametrize("key", ["not base64 at all!", "eyJ0IjogMX0", "W10"])  # {"t": 1} lacks "u"; [] is no object
def test_a_key_that_is_not_an_apikey_is_an_input_error(key):
    with pytest.raises(InputError) as caught:
        read_apikey(key)
    assert (caught.value.field, caught.value.rule) == (
        "apikey", 'must be URL-safe base64 of {"s": salt, "t": tenant, "u": username}')


# -- the gateway login -------------------------------------------------------------------------------------
def test_a_refused_login_is_an_auth_error_whatever_its_status(folio_emulator):
    with make_folio_client(folio_emulator, password="wrong-password") as client, pytest.raises(APIError) as caught:
        client.login()
    assert type(caught.value) is AuthError and caught.value.action == "login-with-expiry"
    refused = caught.value
    assert (refused.vendor, refused.method, refused.status) == ("folio", "POST", 422)
    assert refused.url == folio_emulator.gateway_url + "/authn/login-with-expiry"
    assert refused.message and refused.message != "None"


def test_a_refused_login_keeps_folios_code_and_message(canned):
    canned.queue(_json({"errors": [{"message": "Password does not match", "code": "password.incorrect"}]},
                       status=422))
    auth = FolioAuth("diku", "someone", Secret("pw-0123456"))
    transport = Transport(canned.url, vendor="folio", auth=auth, retry=RetryPolicy(attempts=1))
    with pytest.raises(AuthError) as caught:
        auth.login(transport)
    refused = caught.value
    assert (refused.code, refused.message, refused.status) == ("password.incorrect", "Password does not match", 422)
    assert (refused.vendor, refused.method, refused.action) == ("folio", "POST", "login-with-expiry")
    assert refused.url == canned.url + "/authn/login-with-expiry"


@pytest.mark.parametrize("fault, error", [("500", ServerError), ("429", RateLimitError)])
def test_a_login_that_meets_a_server_failure_keeps_its_type(folio_emulator, fault, error):
    folio_emulator.knobs.fail_next(fault, 10)
    with make_folio_client(folio_emulator, retry=RetryPolicy(attempts=1)) as client, \
            pytest.raises(APIError) as caught:
        client.login()
    assert type(caught.value) is error and caught.value.action == "login-with-expiry"


def test_login_and_refresh_tokens_are_masked_by_value(folio_emulator):
    creds = folio_emulator.credentials
    auth = FolioAuth(folio_emulator.tenant, creds.username, Secret(creds.password))
    transport = Transport(folio_emulator.gateway_url, vendor="folio", auth=auth, retry=FAST_RETRY)
    with isolated_secrets(empty=True):
        response = transport.send(Call(method="POST", path="/authn/login-with-expiry", action="login-with-expiry",
                                       authenticated=False, headers={"X-Okapi-Tenant": folio_emulator.tenant},
                                       json={"username": creds.username, "password": creds.password}))
        handed_out = [h.split(";")[0].split("=", 1)[1] for h in response.raw.headers.getlist("Set-Cookie")]
        assert len(handed_out) == 2
        for value in handed_out:
            assert redact_text(f"echo {value}") == "echo ***"
        other = Call(method="GET", path="/x", action="account")
        assert list(auth.secrets_in(other, response)) == []
