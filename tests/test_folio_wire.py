"""Reading FOLIO answers: the three error shapes, every code of document 003's table, and what a
login or refresh answer hands out. Answers are served over a real socket by a canned server."""

from __future__ import annotations

import base64
import json
import time

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
    EdgeAuth,
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


# -- the gateway session: refresh, legacy login, answers without what they should hold ---------------
def _login_answer(body: str = '{"accessTokenExpiration": "2000-01-01T00:00:00Z"}', **cookies) -> Response:
    """A 201 login or refresh answer setting ``cookies`` (the expiry in the past: due at once)."""
    answer = Response(body, status=201, mimetype="application/json")
    for name, value in cookies.items():
        answer.set_cookie(name, value, path="/")
    return answer


def _canned_auth(canned) -> tuple[FolioAuth, Transport]:
    auth = FolioAuth("diku", "someone", Secret("pw-0123456"))
    return auth, Transport(canned.url, vendor="folio", auth=auth, retry=FAST_RETRY)


def _refused_renewal(canned, *answers: Response) -> tuple[tuple[str, str, str], FolioAuth, Transport]:
    """Log in with the first answer, renew with what follows: the refusal's message, vendor and action."""
    canned.queue(*answers)
    auth, transport = _canned_auth(canned)
    auth.login(transport)
    with pytest.raises(AuthError) as caught:
        auth.renew(transport)
    return (caught.value.message, caught.value.vendor, caught.value.action), auth, transport


def test_a_session_without_a_refresh_token_logs_in_again(canned):
    refusal, auth, transport = _refused_renewal(canned, _login_answer(folioAccessToken="access-000001"),
                                                _login_answer(folioAccessToken="access-000002"))
    assert refusal == ("no refresh token; log in again", "folio", "refresh")
    assert auth.ensure(transport).access == "access-000002"  # expired, and no refresh token: a new login
    assert [path for _, path, _, _ in canned.seen] == ["/authn/login-with-expiry"] * 2


def test_a_refresh_that_sets_no_new_refresh_token_keeps_the_one_it_had(canned):
    canned.queue(_login_answer(folioAccessToken="access-000001", folioRefreshToken="refresh-000001"),
                 _login_answer(folioAccessToken="access-000002"),
                 _login_answer(folioAccessToken="access-000003", folioRefreshToken="refresh-000003"))
    auth, transport = _canned_auth(canned)
    auth.login(transport)
    auth.renew(transport)
    auth.renew(transport)
    refreshes = [(path, headers.get("Cookie")) for _, path, headers, _ in canned.seen[1:]]
    assert refreshes == [("/authn/refresh", "folioRefreshToken=refresh-000001")] * 2
    assert auth.session.refreshes == 2


def test_a_refresh_answer_without_an_access_cookie_is_an_auth_error(canned):
    refusal, _, _ = _refused_renewal(
        canned, _login_answer(folioAccessToken="access-000001", folioRefreshToken="refresh-000001"),
        _login_answer(folioRefreshToken="refresh-000002"))
    assert refusal == ("refresh answered without a folioAccessToken cookie", "folio", "refresh")


@pytest.mark.parametrize("body", ["", "{}", "[]"], ids=["empty", "no expiry", "not an object"])
def test_a_login_answer_without_an_expiry_keeps_the_session_until_it_is_refused(canned, body):
    canned.queue(_login_answer(body, folioAccessToken="access-000001", folioRefreshToken="refresh-000001"))
    auth, transport = _canned_auth(canned)
    auth.login(transport)
    assert (auth.session.mode, auth.session.expires_at, auth.ensure(transport).access) == (
        "cookie", None, "access-000001")


def test_a_login_answer_that_is_not_json_is_an_api_error_of_the_login(canned):
    canned.queue(_login_answer("<html>welcome</html>", folioAccessToken="access-000001"))
    auth, transport = _canned_auth(canned)
    with pytest.raises(APIError) as caught:
        auth.login(transport)
    assert (caught.value.vendor, caught.value.action) == ("folio", "login-with-expiry")


def test_a_legacy_login_that_meets_a_503_is_tried_again(canned):
    """Logging in reads and writes no patron data: the legacy login may be repeated like the new one."""
    canned.queue(Response("no such endpoint", status=404), Response("busy", status=503),
                 Response('{"okapiToken": "legacy-000001"}', status=201, mimetype="application/json",
                          headers={"x-okapi-token": "legacy-000001"}))
    auth, transport = _canned_auth(canned)
    auth.login(transport)
    assert (auth.mode, auth.ensure(transport).access) == ("legacy", "legacy-000001")
    assert [path for _, path, _, _ in canned.seen] == ["/authn/login-with-expiry", "/authn/login", "/authn/login"]


@pytest.mark.parametrize("legacy, header, not_sent", [(False, "Cookie", "X-Okapi-Token"),
                                                      (True, "X-Okapi-Token", "Cookie")],
                         ids=["cookie mode", "legacy mode"])
def test_the_access_token_rides_as_its_login_handed_it_out(folio_emulator, legacy, header, not_sent):
    """login-with-expiry's token goes back as the folioAccessToken cookie; an older gateway's
    legacy token in the X-Okapi-Token header, the only place such a gateway reads it."""
    folio_emulator.legacy_login_only = legacy
    with make_folio_client(folio_emulator) as client:
        client.account(folio_emulator.users()[2]["id"])
    sent = {name.lower(): value for name, value in client.history.last()[0].request_headers.items()}
    assert header.lower() in sent and not_sent.lower() not in sent  # header names ignore case
    assert sent["x-okapi-tenant"] == folio_emulator.tenant


def test_an_edge_auth_shows_no_key():
    key = make_apikey(salt="salt-0123456", tenant="diku", username="edge-user")
    assert repr(EdgeAuth(key)) == "<EdgeAuth apikey=***>"


def _legacy_answer(**headers) -> Response:
    return Response('{"okapiToken": "legacy-000001"}', status=201, mimetype="application/json", headers=headers)


def test_a_legacy_token_and_refreshed_cookies_are_masked_by_value(canned):
    canned.queue(Response(status=404), _legacy_answer(**{"x-okapi-token": "legacy-000001"}))
    auth, transport = _canned_auth(canned)
    with isolated_secrets(empty=True):
        auth.login(transport)
        assert redact_text("echo legacy-000001") == "echo ***"
    canned.queue(_login_answer(folioAccessToken="access-000001", folioRefreshToken="refresh-000001"),
                 _login_answer(folioAccessToken="access-000002", folioRefreshToken="refresh-000002"))
    auth, transport = _canned_auth(canned)
    with isolated_secrets(empty=True):
        auth.login(transport)
        auth.renew(transport)
        assert redact_text("echo access-000002 refresh-000002") == "echo *** ***"


def test_a_legacy_login_without_its_token_header_is_an_auth_error(canned):
    canned.queue(Response(status=404), _legacy_answer())
    auth, transport = _canned_auth(canned)
    with pytest.raises(AuthError) as caught:
        auth.login(transport)
    assert (caught.value.message, caught.value.vendor, caught.value.action) == (
        "login answered without an x-okapi-token header", "folio", "login")


def test_a_refused_legacy_login_is_an_auth_error_of_the_legacy_login(canned):
    canned.queue(Response(status=404), Response("Invalid credentials", status=400, mimetype="text/plain"))
    auth, transport = _canned_auth(canned)
    with pytest.raises(AuthError) as caught:
        auth.login(transport)
    assert (caught.value.message, caught.value.status, caught.value.action) == ("Invalid credentials", 400, "login")


def test_login_and_refresh_are_posts_sent_by_the_sessions_own_clock(folio_emulator):
    creds = folio_emulator.credentials
    ahead = [0.0]
    auth = FolioAuth(folio_emulator.tenant, creds.username, Secret(creds.password),
                     clock=lambda: time.time() + ahead[0])
    transport = Transport(folio_emulator.gateway_url, vendor="folio", auth=auth, retry=FAST_RETRY)
    auth.ensure(transport)
    ahead[0] = folio_emulator.knobs.token_lifetime  # a whole token life later, by the session's clock only
    auth.ensure(transport)
    assert [(row.action, row.method) for row in transport.history] == [("login-with-expiry", "POST"),
                                                                        ("refresh", "POST")]


def test_a_notebook_shows_the_session_as_a_card_without_its_tokens(folio_emulator):
    with make_folio_client(folio_emulator) as client:
        client.login()
        page = client.session._repr_html_()
    assert "<strong>FOLIO session</strong>" in page
    assert "<th>mode</th><td>cookie</td>" in page and "<th>logins</th><td>1</td>" in page
    assert "<th>refreshes</th><td>0</td>" in page and "Token" not in page
