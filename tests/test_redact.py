"""Redaction's two nets, each tested alone: by field name (no value registered) and by value
(under names no rule knows). Every test starts from the same registry (see conftest)."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from fsi_patron_kit import _redact
from fsi_patron_kit._redact import (
    RedactingFilter,
    add_secret_names,
    install_log_filter,
    is_secret_name,
    isolated_secrets,
    redact_body,
    redact_mapping,
    redact_text,
    redact_url,
    redact_value,
    register_secret,
)

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def no_values():
    """Only the name net: no secret value registered at all."""
    with isolated_secrets(empty=True):
        yield


# -- by name, with no value registered -------------------------------------------------------------
@pytest.mark.usefixtures("no_values")
class TestByName:
    @pytest.mark.parametrize("text, expected", [
        ("GET /x?apikey=abc123xyz&page=2", "GET /x?apikey=***&page=2"),
        ("APIKEY=abc123xyz", "APIKEY=***"),  # any case; the name as written stays
        ("token='abc123xyz'", "token='***'"),
        ('(token="abc123xyz")', '(token="***")'),
        ("renewtoken=abc123xyz;next", "renewtoken=***;next"),
        ("x-okapi-token=abc123xyz, then", "x-okapi-token=***, then"),
        ("token=abc123xyz\tthen", "token=***\tthen"),
        ("nosecret=visible", "nosecret=visible"),  # a longer word that merely ends in a secret name
        ("password: hunter2", "password: hunter2"),  # only name=value pairs are recognised in text
    ])
    def test_text_masks_name_value_pairs(self, text, expected):
        assert redact_text(text) == expected

    def test_empty_text_is_returned_as_is(self):
        assert redact_text("") == ""

    def test_mapping_masks_secret_keys_recursively(self):
        values = {"apikey": "k-123456", "nested": {"Token": "t-123456", "page": 2},
                  "list": [{"password": "p-123456"}, "plain"], "pair": ("a", {"cookie": "c=1"})}
        assert redact_mapping(values) == {"apikey": "***", "nested": {"Token": "***", "page": 2},
                                          "list": [{"password": "***"}, "plain"], "pair": ["a", {"cookie": "***"}]}
        assert redact_mapping(None) == {} and redact_mapping({}) == {}

    def test_names_are_read_without_case_or_surrounding_space(self):
        assert is_secret_name("  Authorization ") and is_secret_name("X-Okapi-Token")
        assert not is_secret_name("author")

    def test_a_json_object_inside_a_string_is_walked(self):
        assert redact_value('{"token": "abc123xyz", "n": "Zoë"}') == '{"token": "***", "n": "Zoë"}'

    def test_a_json_array_inside_a_string_is_walked(self):
        assert redact_value('[{"token": "abc123xyz"}, 1]') == '[{"token": "***"}, 1]'
        assert redact_mapping({"d": '[{"apisecret": "s-123456"}]'}) == {"d": '[{"apisecret": "***"}]'}

    def test_text_that_only_looks_like_json_is_treated_as_text(self):
        assert redact_value("{token=abc123xyz") == "{token=***"
        assert redact_value(42) == 42 and redact_value(None) is None

    def test_url_masks_secret_parameters_only(self):
        url = "https://h.example/p?apikey=abc123xyz&email=a%40b.org&blank=&token=t-123456"
        assert redact_url(url) == "https://h.example/p?apikey=***&email=a%40b.org&blank=&token=***"
        assert redact_url("https://h.example/p") == "https://h.example/p"

    def test_url_password_is_masked_even_when_it_contains_an_at_sign(self):
        assert redact_url("https://svc:p@ss-word@fsi.example:8443/x") == "https://svc:***@fsi.example:8443/x"
        assert redact_url("https://svc:pw-1234@fsi.example/x?a=1") == "https://svc:***@fsi.example/x?a=1"

    def test_url_with_a_user_but_no_password_keeps_its_host_part(self):
        assert redact_url("https://reader@fsi.example/x") == "https://reader@fsi.example/x"

    def test_json_body_is_masked_by_name(self):
        body = b'{"action": "gettoken", "code": "c-1", "apisecret": "s-123456"}'
        assert json.loads(redact_body(body, "application/json")) == {"action": "gettoken", "code": "c-1",
                                                                      "apisecret": "***"}

    def test_json_body_is_recognised_without_a_json_content_type(self):
        assert redact_body('[{"token": "abc123xyz"}]', "text/plain") == '[{"token": "***"}]'

    def test_json_content_type_with_a_body_that_is_not_json_falls_back_to_text(self):
        assert redact_body("token=abc123xyz", "application/json") == "token=***"
        assert redact_body("[not json", "text/plain") == "[not json"

    def test_form_body_is_masked_by_name_and_keeps_blank_fields(self):
        body = "action=gettoken&apisecret=shh&code=&note=a b"
        assert redact_body(body, FORM) == "action=gettoken&apisecret=***&code=&note=a+b"

    def test_json_body_keeps_its_text_readable_and_may_start_with_space(self):
        body = ' {"token": "abc123xyz", "name": "Zoë"}'
        assert redact_body(body, "application/json") == '{"token": "***", "name": "Zoë"}'
        assert redact_body(body.encode(), "application/json; charset=utf-8") == '{"token": "***", "name": "Zoë"}'

    def test_no_body_stays_none_and_bytes_are_decoded(self):
        assert redact_body(None) is None
        assert redact_body(b"plain \xff text") == "plain \ufffd text"

    def test_added_names_are_masked_like_the_built_in_ones(self, monkeypatch):
        monkeypatch.setattr(_redact, "SECRET_NAMES", _redact.SECRET_NAMES)  # restored after the test
        monkeypatch.setattr(_redact, "_NAMED_VALUE", _redact._NAMED_VALUE)
        assert redact_text("wise_pin=1234") == "wise_pin=1234"
        add_secret_names([" Wise_PIN "])
        assert is_secret_name("wise_pin")
        assert redact_text("wise_pin=1234&page=2") == "wise_pin=***&page=2"
        assert redact_mapping({"WISE_PIN": "1234"}) == {"WISE_PIN": "***"}
        before = _redact.SECRET_NAMES
        add_secret_names(["token"])  # already known: nothing changes
        assert _redact.SECRET_NAMES is before


# -- by value, under names that no rule knows --------------------------------------------------------
class TestByValue:
    def test_a_registered_value_is_masked_wherever_it_appears(self):
        secret = "zq-value-9876"
        shown = f"echo {secret}!"
        assert redact_text(shown) == shown  # not masked before it is registered
        register_secret(secret)
        assert redact_text(shown) == "echo ***!"
        assert redact_mapping({"note": f"a {secret} b"}) == {"note": "a *** b"}
        assert redact_url(f"https://h.example/p?q={secret}") == "https://h.example/p?q=***"
        assert redact_body(f"note={secret}", FORM) == "note=***"
        assert redact_body(f'{{"note": "{secret}"}}', "application/json") == '{"note": "***"}'

    def test_values_shorter_than_four_characters_are_not_masked(self):
        register_secret("abc")
        register_secret("wxyz")
        register_secret(None)
        register_secret("")
        assert redact_text("abc wxyz") == "abc ***"

    @pytest.mark.parametrize("first, second", [("zzzz-token", "aaaa-zzzz-token"), ("aaaa-zzzz-token", "zzzz-token"),
                                               ("tok-1234", "tok-1234-extended")])
    def test_a_longer_secret_containing_a_shorter_one_is_masked_whole(self, first, second):
        register_secret(first)
        register_secret(second)
        longer, shorter = sorted((first, second), key=len, reverse=True)
        assert redact_text(f"x {longer} y {shorter} z") == "x *** y *** z"

    def test_a_new_registry_starts_empty_and_remembers_what_it_is_given(self):
        registry = _redact._SecretRegistry()
        assert registry.scrub("x abcd-1234 y") == "x abcd-1234 y"
        registry.add("abcd-1234")
        registry.add("pinned-5678", pin=True)
        assert registry.scrub("x abcd-1234 y pinned-5678") == "x *** y ***"

    def test_pinned_values_outlive_the_bound_on_server_tokens(self):
        register_secret("pinned-key-1234", pin=True)
        tokens = [f"server-token-{n:05d}" for n in range(_redact._MAX_REMEMBERED)]
        for token in tokens:
            register_secret(token)
        assert redact_text(tokens[0]) == "***"  # exactly at the bound: all remembered
        register_secret(tokens[0])  # seen again: now the most recent
        register_secret("server-token-extra")
        assert redact_text(tokens[0]) == "***"
        assert redact_text(tokens[1]) == tokens[1]  # the oldest was let go
        assert redact_text(tokens[2]) == "***"
        assert redact_text("server-token-extra pinned-key-1234") == "*** ***"

    def test_isolated_secrets_forgets_what_the_block_registered(self):
        register_secret("kept-outside-1234")
        with isolated_secrets():
            register_secret("inside-only-1234")
            assert redact_text("inside-only-1234 kept-outside-1234") == "*** ***"
        assert redact_text("inside-only-1234 kept-outside-1234") == "inside-only-1234 ***"
        with isolated_secrets(empty=True):
            assert redact_text("kept-outside-1234") == "kept-outside-1234"
        assert redact_text("kept-outside-1234") == "***"


# -- logs ---------------------------------------------------------------------------------------------
def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("x", logging.DEBUG, "f", 1, message, args, None)


def test_log_filter_rewrites_a_record_holding_a_secret():
    register_secret("log-secret-1234")
    record = _record("value %s and apikey=%s", "log-secret-1234", "named-1")
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "value *** and apikey=***"
    assert record.args is None


def test_log_filter_leaves_a_clean_record_untouched():
    args = ("nothing secret",)
    record = _record("value %s", *args)
    assert RedactingFilter().filter(record) is True  # never drops a record
    assert record.msg == "value %s" and record.args == args


def test_log_filter_is_installed_once_per_logger():
    name = f"fsi_patron_kit.tests.{uuid.uuid4()}"  # a logger no earlier run has touched
    install_log_filter(name)
    install_log_filter(name)
    assert [f for f in logging.getLogger(name).filters if isinstance(f, RedactingFilter)] == [_redact._filter]


def test_installed_filter_masks_what_the_logger_writes(caplog):
    name = f"fsi_patron_kit.tests.{uuid.uuid4()}"
    install_log_filter(name)
    register_secret("written-secret-1234")
    with caplog.at_level(logging.DEBUG, logger=name):
        logging.getLogger(name).debug("sent %s", "written-secret-1234")
    assert [r.getMessage() for r in caplog.records] == ["sent ***"]
