"""The defects an independent security and fault review found, each pinned by a test.

Full matches for emails and UUIDs, no control characters in text or header-bound values, path
parameters that stay one segment, kit errors (never AttributeError or TypeError) for bad
arguments, ``dry_run`` that accepts only True/False, no secret in a traceback's locals, an
apikey error that keeps nothing of the key, reprs that survive a failed constructor, and one
compiled validator per FOLIO schema.
"""

from __future__ import annotations

import base64
import math
import threading
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from fsi_patron_kit import (
    APIError,
    AuthError,
    ConfigError,
    InputError,
    PatronKitError,
    connect,
    folio,
    fsi,
)
from fsi_patron_kit.folio import _validate, make_apikey, read_apikey

from .conftest import FAST_RETRY, make_client, make_edge_client, make_folio_client

USER = str(uuid.UUID(int=1, version=4))
ITEM = str(uuid.UUID(int=2, version=4))
PICKUP = str(uuid.UUID(int=3, version=4))
STAGING = {"generalInfo": {"firstName": "Ada", "lastName": "Byron"}, "contactInfo": {"email": "ada@example.org"}}
EXTERNAL = {
    "generalInfo": {"externalSystemId": "ext-1", "firstName": "Ada", "lastName": "Byron"},
    "addressInfo": {"city": "Metropolis"},
    "contactInfo": {"email": "ada@example.org"},
}
# What a value may end with to slip past a `re.match(...$)` check, or carry a header or a line.
SMUGGLED = ["\n", "\x00", "\r\n", "\r\nX-Injected: 1"]


def fsi_client(emulator, **options) -> fsi.Client:
    """A client of the emulator with ``options`` in place of any of its arguments."""
    arguments = {"url": emulator.url, "apikey": emulator.credentials.apikey,
                 "apisecret": emulator.credentials.apisecret, "retry": FAST_RETRY}
    return fsi.Client(**{**arguments, **options})


def folio_client_of(emulator, **options) -> folio.Client:
    arguments = {"url": emulator.gateway_url, "tenant": emulator.tenant, "username": emulator.credentials.username,
                 "password": emulator.credentials.password, "retry": FAST_RETRY}
    return folio.Client(**{**arguments, **options})


def with_email(body: dict, email: str) -> dict:
    return {**body, "contactInfo": {"email": email}}


@pytest.fixture
def quiet_fsi(emulator):
    yield
    assert emulator.counters.requests == 0


@pytest.fixture
def quiet_folio(folio_emulator):
    yield
    assert folio_emulator.counters.requests == 0


def refused(call: Callable[[], object], field: str | None = None) -> InputError:
    with pytest.raises(InputError) as caught:
        call()
    if field is not None:
        assert caught.value.field == field
    return caught.value


# -- full matches and control characters ---------------------------------------------------------
@pytest.mark.parametrize("tail", SMUGGLED, ids=repr)
def test_fsi_email_with_a_trailing_newline_or_nul_is_refused(client, quiet_fsi, tail):
    refused(lambda: client.create_patron(barcode="0000999", email="a@b.com" + tail), "email")
    refused(lambda: client.set_patron(keyfield="email", allow_new=False, email="a@b.com" + tail), "email")


@pytest.mark.parametrize("tail", SMUGGLED, ids=repr)
def test_fsi_text_fields_and_key_values_refuse_control_characters(client, quiet_fsi, tail):
    refused(lambda: client.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", room="R1" + tail),
            "room")
    refused(lambda: client.set_patron(keyfield="barcode", allow_new=False, barcode="0000001" + tail), "barcode")
    refused(lambda: client.get_patron(keyfield="barcode", value="0000001" + tail), "value")
    refused(lambda: client.search(keyword="smith" + tail), "keyword")


@pytest.mark.parametrize("tail", SMUGGLED, ids=repr)
def test_folio_uuid_with_a_trailing_newline_or_nul_is_refused(folio_client, quiet_folio, tail):
    refused(lambda: folio_client.account(USER + tail), "user_id")
    refused(lambda: folio_client.renew(USER, ITEM + tail), "item_id")
    refused(lambda: folio_client.update_staging_patron(USER + tail, STAGING), "external_system_id")
    refused(lambda: folio_client.place_item_hold(USER, ITEM, pickup_location_id=PICKUP + tail), "pickupLocationId")


@pytest.mark.parametrize("tail", SMUGGLED, ids=repr)
def test_folio_schema_patterns_and_formats_are_full_matches(folio_client, edge_client, quiet_folio, tail):
    refused(lambda: folio_client.create_staging_patron(with_email(STAGING, "ada@example.org" + tail)),
            "contactInfo.email")
    metadata = {"createdDate": "2026-01-01T00:00:00Z", "createdByUserId": USER + tail}
    refused(lambda: folio_client.create_staging_patron({**STAGING, "metadata": metadata}), "metadata.createdByUserId")
    refused(lambda: edge_client.create_external_patron(with_email(EXTERNAL, "ada@example.org" + tail)),
            "contactInfo.email")
    refused(lambda: edge_client.get_external_patron("ada@example.org" + tail), "email")


@pytest.mark.parametrize("tail", SMUGGLED, ids=repr)
def test_folio_body_text_refuses_control_characters(folio_client, quiet_folio, tail):
    body = {**STAGING, "generalInfo": {"firstName": "Ada" + tail, "lastName": "Byron"}}
    refused(lambda: folio_client.create_staging_patron(body), "generalInfo.firstName")
    refused(lambda: folio_client.place_item_hold(USER, ITEM, pickup_location_id=PICKUP, patron_comments="hi" + tail),
            "patronComments")


@pytest.mark.parametrize("tenant", ["diku\r\nX-Injected: 1", "diku\x00", "diku\n", "diku tenant", "dikü", "日本"])
def test_a_folio_tenant_that_cannot_be_a_header_value_is_an_input_error(folio_emulator, quiet_folio, tenant):
    """Not a TransportError after retries, nor a UnicodeEncodeError from deep inside http.client."""
    refused(lambda: folio_client_of(folio_emulator, tenant=tenant), "tenant")


@pytest.mark.parametrize("tail", SMUGGLED, ids=repr)
def test_folio_username_and_edge_caller_refuse_control_characters(folio_emulator, quiet_folio, tail):
    refused(lambda: folio_client_of(folio_emulator, username="patron_api" + tail), "username")
    refused(lambda: make_edge_client(folio_emulator, caller=folio_emulator.caller_id + tail), "caller")


@pytest.mark.parametrize("tail", ["\n", "\x00", "\r\n"], ids=repr)
def test_secrets_with_control_characters_are_refused(emulator, quiet_fsi, tail):
    """A key pasted with its line break would be refused by the server after a login attempt."""
    refused(lambda: fsi_client(emulator, apikey=emulator.credentials.apikey + tail), "apikey")


def test_a_secret_from_the_environment_with_a_line_break_is_refused(emulator, quiet_fsi, monkeypatch):
    monkeypatch.setenv("PATRON_KIT_WESTFIELD_VENDOR", "fsi")
    monkeypatch.setenv("PATRON_KIT_WESTFIELD_URL", emulator.url)
    monkeypatch.setenv("PATRON_KIT_WESTFIELD_APIKEY", emulator.credentials.apikey + "\n")
    monkeypatch.setenv("PATRON_KIT_WESTFIELD_APISECRET", emulator.credentials.apisecret)
    refused(lambda: fsi.Client.from_profile("westfield"), "PATRON_KIT_WESTFIELD_APIKEY")


# -- dot segments and escaping -------------------------------------------------------------------
@pytest.mark.parametrize("dots", [".", ".."])
def test_dot_segments_are_refused_in_folio_paths(folio_client, folio_emulator, quiet_folio, dots):
    refused(lambda: folio_client.registration_status(dots), "identifier")
    refused(lambda: make_edge_client(folio_emulator, caller=dots), "caller")


def test_a_path_parameter_stays_one_segment(folio_client, folio_emulator):
    with pytest.raises(APIError):
        folio_client.registration_status("../account/x?y#z")
    assert list(folio_client.history)[-1].url.endswith("/patron/registration-status/..%2Faccount%2Fx%3Fy%23z")


# -- kit errors for bad arguments, checked before anything is sent --------------------------------
FSI_CONSTRUCTOR_CASES = {
    "url not a string": ({"url": 1}, "url"),
    "url with a line break": ({"url": "http://127.0.0.1:1/\n"}, "url"),
    "url with a bad port": ({"url": "http://127.0.0.1:99999"}, "url"),
    "timeout as text": ({"timeout": "5"}, "timeout"),
    "timeout of one number in a tuple": ({"timeout": (5,)}, "timeout"),
    "timeout not a number": ({"timeout": (1, None)}, "timeout"),
    "timeout of zero": ({"timeout": (0, 5)}, "timeout"),
    "timeout NaN": ({"timeout": math.nan}, "timeout"),
    "retry as a number": ({"retry": 3}, "retry"),
    "verify as text": ({"verify": "false"}, "verify"),
    "verify None": ({"verify": None}, "verify"),
    "renew_margin as text": ({"renew_margin": "60"}, "renew_margin"),
    "renew_margin NaN": ({"renew_margin": math.nan}, "renew_margin"),
    "renew_margin infinite": ({"renew_margin": math.inf}, "renew_margin"),
    "pool_size as text": ({"pool_size": "4"}, "pool_size"),
    "pool_size zero": ({"pool_size": 0}, "pool_size"),
    "record_bodies as text": ({"record_bodies": "no"}, "record_bodies"),
    "allow_insecure_http as text": ({"allow_insecure_http": "false", "url": "http://library.example"},
                                    "allow_insecure_http"),
    "an unknown transport option": ({"timeuot": 5}, "timeuot"),
    "encoding unhashable": ({"encoding": ["json"]}, "encoding"),
    "apikey None": ({"apikey": None}, "apikey"),
}


@pytest.mark.parametrize("case", list(FSI_CONSTRUCTOR_CASES))
def test_fsi_constructor_arguments_are_checked(emulator, quiet_fsi, case):
    options, field = FSI_CONSTRUCTOR_CASES[case]
    error = refused(lambda: fsi_client(emulator, **options), field)
    assert isinstance(error, ConfigError) or field in ("encoding",)


FOLIO_CONSTRUCTOR_CASES = {
    "tenant None": ({"tenant": None}, "tenant"),
    "username a number": ({"username": 7}, "username"),
    "renew_margin negative": ({"renew_margin": -1}, "renew_margin"),
    "retry a dict": ({"retry": {"attempts": 2}}, "retry"),
}


@pytest.mark.parametrize("case", list(FOLIO_CONSTRUCTOR_CASES))
def test_folio_constructor_arguments_are_checked(folio_emulator, quiet_folio, case):
    options, field = FOLIO_CONSTRUCTOR_CASES[case]
    refused(lambda: folio_client_of(folio_emulator, **options), field)


def test_edge_constructor_arguments_are_checked(folio_emulator, quiet_folio):
    refused(lambda: make_edge_client(folio_emulator, caller=None), "caller")
    refused(lambda: make_edge_client(folio_emulator, apikey=None), "apikey")
    refused(lambda: make_edge_client(folio_emulator, timeout="5"), "timeout")


RETRY_CASES = [
    ({"attempts": 0}, "retry.attempts"),
    ({"attempts": "3"}, "retry.attempts"),
    ({"backoff": -1}, "retry.backoff"),
    ({"max_backoff": "5"}, "retry.max_backoff"),
    ({"max_retry_after": math.nan}, "retry.max_retry_after"),
    ({"statuses": [503]}, "retry.statuses"),
]


@pytest.mark.parametrize("options, field", RETRY_CASES)
def test_a_retry_policy_is_checked_when_made(options, field):
    """Not with a TypeError at the first retry of a later call."""
    from fsi_patron_kit import RetryPolicy

    refused(lambda: RetryPolicy(**options), field)


METHOD_CASES = {
    "set_patrons(None)": (lambda c: c.set_patrons(None, keyfield="barcode", allow_new=False), "records"),
    "set_patrons(5)": (lambda c: c.set_patrons(5, keyfield="barcode", allow_new=False), "records"),
    "set_patrons(workers='2')": (lambda c: c.set_patrons([{"barcode": "1"}], keyfield="barcode", allow_new=False,
                                                         workers="2"), "workers"),
    "search(progress='yes')": (lambda c: c.search(progress="yes"), "progress"),
    "search(page_size='9')": (lambda c: c.search(page_size="9"), "page_size"),
}


@pytest.mark.parametrize("case", list(METHOD_CASES))
def test_fsi_method_arguments_are_checked(client, quiet_fsi, case):
    call, field = METHOD_CASES[case]
    refused(lambda: call(client), field)


def test_update_external_patron_with_no_email_is_an_input_error(edge_client, quiet_folio):
    refused(lambda: edge_client.update_external_patron(None, EXTERNAL), "email")
    refused(lambda: edge_client.update_external_patron(5, EXTERNAL), "email")


@pytest.mark.parametrize("when", [0, "", False])
def test_a_falsy_date_is_refused_not_replaced_by_now(folio_client, quiet_folio, when):
    refused(lambda: folio_client.place_item_hold(USER, ITEM, pickup_location_id=PICKUP, request_date=when),
            "requestDate")
    refused(lambda: folio_client.cancel_hold(USER, ITEM, cancellation_reason_id=PICKUP, canceled_by_user_id=USER,
                                             canceled_date=when), "canceledDate")


@pytest.mark.parametrize("profile", [None, 1, [], ""], ids=repr)
def test_from_profile_refuses_a_profile_that_is_not_a_name(quiet_fsi, profile, tmp_path, monkeypatch):
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[profiles.westfield]\nvendor = "fsi"\nurl = "https://library.westfield.example"\n')
    monkeypatch.setenv("PATRON_KIT_CONFIG", str(profiles))
    refused(lambda: fsi.Client.from_profile(profile), "profile")
    refused(lambda: connect("fsi", profile=profile), "profile")


# -- dry_run accepts only True and False ----------------------------------------------------------
DRY_RUNS = [None, 0, 1, "yes", "False", []]


@pytest.mark.parametrize("flag", DRY_RUNS, ids=repr)
def test_fsi_dry_run_must_be_a_bool(client, quiet_fsi, flag):
    refused(lambda: client.set_patron(keyfield="barcode", allow_new=False, barcode="0000001", room="X",
                                      dry_run=flag), "dry_run")
    refused(lambda: client.create_patron(barcode="0000999", dry_run=flag), "dry_run")
    refused(lambda: client.set_patrons([{"barcode": "0000001", "room": "X"}], keyfield="barcode", allow_new=False,
                                       dry_run=flag), "dry_run")


@pytest.mark.parametrize("flag", DRY_RUNS, ids=repr)
def test_folio_dry_run_must_be_a_bool(folio_client, edge_client, quiet_folio, flag):
    refused(lambda: folio_client.create_staging_patron(STAGING, dry_run=flag), "dry_run")
    refused(lambda: folio_client.update_staging_patron(USER, STAGING, dry_run=flag), "dry_run")
    refused(lambda: folio_client.place_item_hold(USER, ITEM, pickup_location_id=PICKUP, dry_run=flag), "dry_run")
    refused(lambda: folio_client.place_instance_hold(USER, ITEM, pickup_location_id=PICKUP, dry_run=flag), "dry_run")
    refused(lambda: folio_client.cancel_hold(USER, ITEM, cancellation_reason_id=PICKUP, canceled_by_user_id=USER,
                                             dry_run=flag), "dry_run")
    refused(lambda: edge_client.create_external_patron(EXTERNAL, dry_run=flag), "dry_run")
    refused(lambda: edge_client.update_external_patron("ada@example.org", EXTERNAL, dry_run=flag), "dry_run")


# -- the same rules for OCLC Wise ----------------------------------------------------------------
@pytest.mark.parametrize("library", ["..", ".", "1234\x00", "1234\n", "1234\r\n"], ids=repr)
def test_wise_path_ids_refuse_dots_and_control_characters(wise_client, wise_emulator, library):
    refused(lambda: wise_client.lookup_cards(library_id=library), "library_id")
    refused(lambda: wise_client.blocks(patron_system_id="1000", library_id=library), "library_id")
    assert wise_emulator.counters.requests == 0


def test_wise_constructor_arguments_are_checked(wise_emulator):
    from .conftest import make_wise_client

    refused(lambda: make_wise_client(wise_emulator, application_name="patron-kit\r\nX-Injected: 1"),
            "application_name")
    refused(lambda: make_wise_client(wise_emulator, username="staff\x00"), "username")
    refused(lambda: make_wise_client(wise_emulator, api_id="日本"), "api_id")  # UnicodeEncodeError at the first call
    refused(lambda: make_wise_client(wise_emulator, payment_username=object(), payment_password="pay-secret"),
            "payment_username")
    refused(lambda: make_wise_client(wise_emulator, payment_username="payer", payment_password=b""),
            "payment_password")
    refused(lambda: make_wise_client(wise_emulator, server_timezone=1), "server_timezone")
    assert wise_emulator.counters.requests == 0


def test_a_failed_wise_constructor_shows_no_secret_and_its_repr_works(wise_emulator):
    from fsi_patron_kit import wise

    error = failure_of(lambda: wise.Client(url=1, application_name="kit", api_id="PK01", api_key=KEY.value,
                                           username="staff", password=PASSWORD.value))
    assert isinstance(error, ConfigError) and error.field == "url"
    assert "self = <" in rendered(error)
    assert_no_secret_in_frames(error, {KEY.value, PASSWORD.value})


# -- and for Polaris -------------------------------------------------------------------------------
@pytest.mark.parametrize("tail", SMUGGLED, ids=repr)
def test_polaris_text_refuses_control_characters(polaris_emulator, tail):
    from .conftest import make_polaris_client

    for name in ("domain", "username", "site_domain", "lang"):
        refused(lambda: make_polaris_client(polaris_emulator, **{name: "x" + tail}), name)  # noqa: B023 - called at once
    with make_polaris_client(polaris_emulator) as client:
        refused(lambda: client.patron_id_for_barcode("0000001" + tail), "barcode")
    assert polaris_emulator.counters.requests == 0


@pytest.mark.parametrize("part", ["..", ".", "a/b", "a?b"], ids=repr)
def test_polaris_route_parts_stay_one_plain_segment(polaris_emulator, part):
    from .conftest import make_polaris_client

    refused(lambda: make_polaris_client(polaris_emulator, site_domain=part), "site_domain")
    refused(lambda: make_polaris_client(polaris_emulator, lang=part), "lang")
    assert polaris_emulator.counters.requests == 0


def test_a_failed_polaris_constructor_shows_no_secret_and_its_repr_works(polaris_emulator):
    from fsi_patron_kit import polaris

    error = failure_of(lambda: polaris.Client(url=polaris_emulator.url, domain="", username="staff",
                                              password=PASSWORD.value))
    assert isinstance(error, InputError) and error.field == "domain"
    assert "self = <" in rendered(error)
    assert_no_secret_in_frames(error, {PASSWORD.value})


# -- secrets in traceback locals ------------------------------------------------------------------
def rendered(error: BaseException) -> str:
    """Everything a traceback with captured locals shows, chained exceptions included."""
    shown = traceback.TracebackException.from_exception(error, capture_locals=True)
    return "".join(shown.format())


def assert_no_secret_in_frames(error: BaseException, secrets: set[str]) -> None:
    text = rendered(error)
    assert "apikey" in text or "self" in text  # the locals really were rendered
    leaked = sum(1 for secret in secrets if secret and secret in text)
    assert leaked == 0, "a secret shows in the traceback's locals"  # which one is not printed


class OddTenant:
    """A server of our own that answers each (method, path) with a canned answer."""

    def __init__(self, answers: dict[tuple[str, str], tuple[int, list[tuple[str, str]], bytes]]):
        self.answers = answers
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status, headers, body = owner.answers.get((self.command, self.path.split("?")[0]),
                                                          (404, [], b"not found"))
                self.send_response(status)
                for name, value in [*headers, ("Content-Length", str(len(body)))]:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Masked:
    """Carries a plain secret into a call without showing it in the test's own frames."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Masked(***)"


def failure_of(call: Callable[[], object]) -> BaseException:
    """The kit error ``call`` raises, its traceback starting here (not in the test, whose own
    locals hold the secrets it looks for)."""
    try:
        call()
    except PatronKitError as error:
        return error
    raise AssertionError("no error raised")


def test_no_fsi_secret_in_traceback_locals_of_a_refused_login(emulator):
    wrong = "wrong-apisecret-4242"
    with make_client(emulator, apisecret=wrong) as client:
        error = failure_of(lambda: client.login())
    assert isinstance(error, AuthError)
    assert_no_secret_in_frames(error, {emulator.credentials.apikey, wrong})


@pytest.mark.parametrize("fault", ["500", "reset"])
def test_no_fsi_secret_in_traceback_locals_of_a_failed_renewal(emulator, fault):
    with make_client(emulator) as client:
        client.login()
        tokens = client._auth._credentials
        emulator.knobs.fail_next(fault, count=8)
        error = failure_of(lambda: client.renew())
    assert_no_secret_in_frames(error, {emulator.credentials.apikey, emulator.credentials.apisecret, tokens.token,
                                       tokens.renewtoken})


def test_no_fsi_token_in_traceback_locals_when_a_tenant_answers_oddly():
    """gettoken hands out a renew token but no token: the failure must not show what it did hand out."""
    path = "/services/SSLIB_SER_PATRON_API.asmx/patron"
    tenant = OddTenant({("POST", path): (200, [("Content-Type", "application/json")],
                                         b'{"code": "one-time-code-7777", "renewtoken": "renew-token-8888"}')})
    try:
        with fsi.Client(url=tenant.url, apikey="odd-apikey-1111", apisecret="odd-apisecret-2222",
                        retry=FAST_RETRY) as client:
            error = failure_of(lambda: client.login())
    finally:
        tenant.close()
    assert "without a token" in str(error)
    assert_no_secret_in_frames(error, {"odd-apikey-1111", "odd-apisecret-2222", "one-time-code-7777",
                                       "renew-token-8888"})


def test_no_folio_secret_in_traceback_locals_of_a_refused_login(folio_emulator):
    with make_folio_client(folio_emulator, password="wrong-password-123") as client:
        error = failure_of(lambda: client.login())
    assert isinstance(error, AuthError)
    assert_no_secret_in_frames(error, {"wrong-password-123"})


@pytest.mark.parametrize("fault", ["500", "reset"])
def test_no_folio_secret_in_traceback_locals_of_a_failed_refresh(folio_emulator, fault):
    with make_folio_client(folio_emulator) as client:
        client.login()
        tokens = client._auth._credentials
        folio_emulator.knobs.fail_next(fault, count=8)
        error = failure_of(lambda: client.refresh())
    assert_no_secret_in_frames(error, {folio_emulator.credentials.password, tokens.access, tokens.refresh})


def test_no_folio_refresh_cookie_in_traceback_locals_when_a_gateway_answers_oddly():
    """login-with-expiry sets the refresh cookie but not the access cookie."""
    gateway = OddTenant({("POST", "/authn/login-with-expiry"): (
        201, [("Content-Type", "application/json"), ("Set-Cookie", "folioRefreshToken=refresh-cookie-9999; Path=/")],
        b'{"accessTokenExpiration": "2030-01-01T00:00:00Z"}')})
    try:
        with folio.Client(url=gateway.url, tenant="diku", username="patron_api", password="odd-password-3333",
                          retry=FAST_RETRY) as client:
            error = failure_of(lambda: client.login())
    finally:
        gateway.close()
    assert isinstance(error, AuthError)
    assert_no_secret_in_frames(error, {"odd-password-3333", "refresh-cookie-9999"})


def test_no_edge_apikey_in_traceback_locals_of_a_refused_or_failed_call(folio_emulator):
    forged = make_apikey(salt="forged-salt-5555", tenant=folio_emulator.tenant, username="nobody").reveal()
    with make_edge_client(folio_emulator, apikey=forged) as client:
        error = failure_of(lambda: client.get_external_patron("ada@example.org"))
    assert isinstance(error, AuthError)
    assert_no_secret_in_frames(error, {forged, "forged-salt-5555"})
    with make_edge_client(folio_emulator) as client:
        folio_emulator.knobs.fail_next("reset", count=8)
        error = failure_of(lambda: client.external_patrons())
    assert_no_secret_in_frames(error, {folio_emulator.edge_apikey})


# Held masked, so that the traceback's own source lines do not show them either.
KEY, SECRET, PASSWORD = Masked("ctor-apikey-1212"), Masked("ctor-apisecret-3434"), Masked("ctor-password-5656")
CONSTRUCTORS = {
    "fsi": lambda f: fsi.Client(url=1, apikey=KEY.value, apisecret=SECRET.value),
    "folio": lambda f: folio.Client(url=f.gateway_url, tenant="a\r\nb", username="u", password=PASSWORD.value),
    "folio-edge": lambda f: folio.EdgeClient(url="ftp://x", apikey=f.edge_apikey, caller="c"),
}


@pytest.mark.parametrize("name", list(CONSTRUCTORS))
def test_a_failed_constructor_shows_no_secret_and_its_client_repr_works(folio_emulator, name):
    error = failure_of(lambda: CONSTRUCTORS[name](folio_emulator))
    assert isinstance(error, InputError)
    text = rendered(error)  # raised AttributeError from repr(self) before
    assert "self = <" in text
    assert_no_secret_in_frames(error, {KEY.value, SECRET.value, PASSWORD.value, folio_emulator.edge_apikey})


def test_a_secret_passed_to_connect_shows_in_no_traceback():
    error = failure_of(lambda: connect("fsi", apikey=KEY.value, apisecret=SECRET.value, url=1))
    assert isinstance(error, ConfigError) and error.field == "url"
    assert_no_secret_in_frames(error, {KEY.value, SECRET.value})
    # a secret name only a vendor's registration declares (Wise's payment account)
    error = failure_of(lambda: connect("wise", payment_username="payer", payment_password=PASSWORD.value, url=1))
    assert isinstance(error, ConfigError) and error.field == "url"
    assert_no_secret_in_frames(error, {PASSWORD.value})


# -- read_apikey ----------------------------------------------------------------------------------
@pytest.mark.parametrize("document", [b'{"s": "secret-salt-6666", "t": "diku"}',  # no user
                                      b'{"s": "secret-salt-6666", "t": "diku", "u": ',  # not JSON
                                      b'["secret-salt-6666"]'])
def test_read_apikey_keeps_nothing_of_the_key_in_its_error(document):
    key = base64.urlsafe_b64encode(document).decode()
    held = Masked(key)
    error = failure_of(lambda: read_apikey(held.value))
    assert isinstance(error, InputError) and error.field == "apikey"
    assert error.__context__ is None and error.__cause__ is None
    assert_no_secret_in_frames(error, {"secret-salt-6666", key})


# -- one compiled validator per schema ------------------------------------------------------------
def test_each_schema_is_compiled_once(folio_client, edge_client, monkeypatch):
    built: list[str] = []
    real = _validate.Draft4Validator

    def counting(schema, *args, **kwargs):
        built.append(schema.get("title"))
        return real(schema, *args, **kwargs)

    monkeypatch.setattr(_validate, "Draft4Validator", counting)
    for _ in range(5):
        folio_client.create_staging_patron(STAGING, dry_run=True)
        folio_client.place_item_hold(USER, ITEM, pickup_location_id=PICKUP, dry_run=True)
        edge_client.create_external_patron(EXTERNAL, dry_run=True)
    assert len(built) == len(set(built)), "a schema was compiled more than once"
