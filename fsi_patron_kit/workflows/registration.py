"""Register one person in any of the four systems, behind one shape.

Each function does the same three things in the same order, through the vendor's own flow:

1. **validate** the person against the vendor's rules, every problem at once (an
   :class:`~fsi_patron_kit.errors.InputError` whose ``problems`` lists them), nothing sent;
2. **look for duplicates** the vendor's way: FSI by email and username, Wise's duplicate check by
   EMAIL and EID, FOLIO's registration status by email, Polaris's own duplicate prompt. A
   duplicate found means nothing is created unless the caller passes ``allow_duplicate=True``;
3. **register** through the vendor's flow (FSI ``setpatron`` with ``allownew``, Wise's
   ``register()``, FOLIO staging and the edge, Polaris's update conversation).

The answer is a :class:`Registration`: the outcome, what was created where (vendor ids), the
duplicates found (ids only) and a transcript of every step. A duplicate or a Polaris prompt no
rule answers is an outcome, not an exception, so an intake can call these per row and count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pandas as pd

from .._display import card
from .._frames import Column, FrameSpec
from .._http import Preview
from ..errors import ConflictError, InputError, NotFoundError

__all__ = ["Registration", "Step", "Problems", "fsi", "wise", "folio", "polaris", "fsi_problems",
           "folio_problems", "external_body", "FSI_REQUIRED", "CREATED", "UPDATED", "DUPLICATE", "DECLINED", "NEEDS_PERSON", "PREVIEW"]

CREATED, UPDATED, DUPLICATE, DECLINED, NEEDS_PERSON, PREVIEW = (
    "created", "updated", "duplicate", "declined", "needs a person", "preview")
#: The fields the kit asks for a new FSI patron besides the keyfield (FSI itself requires only the key).
FSI_REQUIRED = ("first_name", "surname")


class Problems(InputError):
    """Every rule a person breaks; ``field``/``rule`` are the first, ``problems`` all of them."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(*problems[0])
        self.problems = tuple(problems)
        self.args = ("; ".join(f"{field}: {rule}" for field, rule in problems),)

    def __str__(self) -> str:
        return str(self.args[0])


@attrs.frozen(kw_only=True)
class Step:
    step: str
    request: str
    outcome: str


STEP_FRAME = FrameSpec((Column("step"), Column("request"), Column("outcome")))
DUPLICATE_FRAME = FrameSpec((Column("id"), Column("matched_on")))


@attrs.frozen(kw_only=True)
class Registration:
    """What registering one person did: ``outcome``, the ``ids`` created, ``duplicates`` and ``transcript``.

    ``outcome`` is ``"created"``, ``"updated"`` (Polaris: the registration saved),
    ``"duplicate"`` (found first; nothing created),
    ``"declined"`` (Polaris's conversation ended unsaved), ``"needs a person"`` (Polaris asked
    what no rule answers; ``prompt`` holds the question) or ``"preview"`` (``dry_run``; ``detail``
    is the write that would be sent). ``detail`` keeps the vendor's own answer.
    """

    vendor: str
    outcome: str
    ids: Mapping[str, str] = attrs.field(factory=dict)
    duplicates: pd.DataFrame = attrs.field(factory=DUPLICATE_FRAME.empty, repr=False, eq=False)
    transcript: tuple[Step, ...] = ()
    detail: Any = attrs.field(default=None, repr=False, eq=False)
    prompt: Any = attrs.field(default=None, repr=False, eq=False)

    @property
    def saved(self) -> bool:
        """True when the vendor wrote the person (created, or Polaris's registration saved)."""
        return self.outcome in (CREATED, UPDATED)

    def transcript_frame(self) -> pd.DataFrame:
        return STEP_FRAME.build([attrs.asdict(step) for step in self.transcript])

    def _repr_html_(self) -> str:
        rows = [("outcome", self.outcome), *self.ids.items(), ("duplicates found", len(self.duplicates))]
        steps = "\n".join(f"{s.step}: {s.request} -> {s.outcome}" for s in self.transcript)
        return card(f"{self.vendor} registration", rows, details={"transcript": steps})


class _Transcript:
    def __init__(self) -> None:
        self.steps: list[Step] = []

    def note(self, step: str, request: str, outcome: str) -> None:
        self.steps.append(Step(step=step, request=request, outcome=outcome))


def _duplicates(rows: list[tuple[str, str]]) -> pd.DataFrame:
    unique = list(dict.fromkeys(rows))
    return DUPLICATE_FRAME.build([{"id": i, "matched_on": m} for i, m in unique])


def _raise_all(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise Problems(problems)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InputError(name, "must be True or False")
    return value


# -- FSI ---------------------------------------------------------------------------------------------
def fsi_problems(person: Mapping[str, Any], *, keyfield: str = "username") -> list[tuple[str, str]]:
    """FSI's field rules (known fields, role enum, email form, text), the keyfield and the kit's
    required names, each problem once. Nothing is sent."""
    from ..fsi.models import WIRE_NAMES, check_fields, check_keyfield

    if not isinstance(person, Mapping):
        raise InputError("person", "must be a mapping of FSI field name to value")
    problems: list[tuple[str, str]] = []
    try:
        check_keyfield(keyfield)
    except InputError as refused:
        return [(refused.field, refused.rule)]
    key = next((name for name, wire in WIRE_NAMES.items() if wire == keyfield), None)
    required = (*FSI_REQUIRED, *([key] if key else []))
    for name in dict.fromkeys(required):
        value = person.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append((name, "is required" + (f" (the keyfield, {keyfield})" if name == key else "")))
    for name, value in person.items():
        if value is None or (isinstance(value, str) and not value.strip() and name in required):
            continue
        try:
            check_fields({name: value})
        except InputError as refused:
            problems.append((refused.field, refused.rule))
    return problems


def fsi(client: Any, person: Mapping[str, Any], *, keyfield: str = "username", allow_duplicate: bool = False,
        dry_run: bool = False) -> Registration:
    """A new FSI patron: rules, then ``getpatron`` by email and username, then ``setpatron`` with ``allownew``."""
    _flag("allow_duplicate", allow_duplicate)
    _flag("dry_run", dry_run)
    _raise_all(fsi_problems(person, keyfield=keyfield))
    fields = {name: value for name, value in person.items() if value is not None}
    log = _Transcript()
    found: list[tuple[str, str]] = []
    for by in ("email", "username"):
        if fields.get(by):
            matches = client.find_patrons(keyfield=by, value=fields[by])
            found += [(str(barcode), by) for barcode in matches["barcode"]]
            log.note("duplicates", f"getpatron keyfield={by}", f"{len(matches)} found")
    duplicates = _duplicates(found)
    if len(duplicates) and not allow_duplicate:
        return Registration(vendor="fsi", outcome=DUPLICATE, duplicates=duplicates, transcript=tuple(log.steps))
    result = client.create_patron(keyfield=keyfield, dry_run=dry_run, **fields)
    if dry_run:
        log.note("create", "setpatron allownew=true", "not sent (dry run)")
        return Registration(vendor="fsi", outcome=PREVIEW, duplicates=duplicates, transcript=tuple(log.steps),
                            detail=result)
    barcode = result.patron.barcode if result.patron is not None else None
    log.note("create", "setpatron allownew=true", f"{result.status}: {result.message}")
    return Registration(vendor="fsi", outcome=CREATED, ids={"barcode": str(barcode)}, duplicates=duplicates,
                        transcript=tuple(log.steps), detail=result)


# -- OCLC Wise ---------------------------------------------------------------------------------------
def wise(client: Any, applicant: Any, *, library_id: str, subscription_id: int | None = None, pay: bool = True,
         allow_duplicate: bool = False, dry_run: bool = False) -> Registration:
    """A Wise subscription: the document's rules, the duplicate check by EMAIL and EID, then ``register()``
    (the library's required fields, the offers, subscribe, and payment when the basket asks for it)."""
    from ..wise import _validate

    _flag("allow_duplicate", allow_duplicate)
    _flag("dry_run", dry_run)
    _validate.applicant(applicant, today=client.server_today())
    log = _Transcript()
    found: list[tuple[str, str]] = []
    searches = [("EMAIL", applicant.email_address)]
    if applicant.identification_number:
        searches.append(("EID", applicant.identification_number))
    for kind, value in searches:
        matches = client.duplicate_check(search_value=value, search_type=kind)
        found += [(str(i), kind) for i in matches["patron_system_id"]]
        log.note("duplicates", f"POST /patronmanagement/duplicate ({kind})",
                 f"{matches['patron_system_id'].nunique()} found")
    duplicates = _duplicates(found)
    if len(duplicates) and not allow_duplicate:
        return Registration(vendor="wise", outcome=DUPLICATE, duplicates=duplicates, transcript=tuple(log.steps))
    done = client.register(library_id=library_id, applicant=applicant, subscription_id=subscription_id, pay=pay,
                           dry_run=dry_run)
    if isinstance(done, Preview):
        log.note("subscribe", f"{done.method} {done.url}", "not sent (dry run)")
        return Registration(vendor="wise", outcome=PREVIEW, duplicates=duplicates, transcript=tuple(log.steps),
                            detail=done)
    for step in done.transcript:
        log.note(step.step, step.request, step.outcome)
    ids = {"patron_system_id": done.patron_system_id, "subscription_id": str(done.subscription_id)}
    if done.payment_id:
        ids["payment_id"] = done.payment_id
    return Registration(vendor="wise", outcome=CREATED, ids=ids, duplicates=duplicates, transcript=tuple(log.steps),
                        detail=done)


# -- FOLIO -------------------------------------------------------------------------------------------
def _folio_body(person: Any) -> dict[str, Any]:
    body = person.to_wire() if hasattr(person, "to_wire") else person
    if not isinstance(body, Mapping):
        raise InputError("person", "must be a folio.StagingUser or a staging-user JSON object (dict)")
    return dict(body)


def external_body(staging: Mapping[str, Any], external_system_id: str) -> dict[str, Any]:
    """The edge's external-patron body made from a staging-user body and its externalSystemId."""
    general = {k: v for k, v in (staging.get("generalInfo") or {}).items()}
    body = {"generalInfo": {**general, "externalSystemId": external_system_id},
            "addressInfo": dict(staging.get("addressInfo") or {}), "contactInfo": dict(staging.get("contactInfo") or {})}
    if staging.get("preferredEmailCommunication") is not None:
        body["preferredEmailCommunication"] = list(staging["preferredEmailCommunication"])
    return body


def folio_problems(person: Any, *, edge: bool = False) -> list[tuple[str, str]]:
    """Every rule of the staging-user schema (and, with ``edge``, the external-patron schema) the
    person breaks, by dotted field path. Nothing is sent."""
    from ..folio import _schemas
    from ..folio._validate import problems

    body = _folio_body(person)
    found: list[tuple[str, str]] = []
    checks = [(_schemas.STAGING_USER, body)]
    if edge:
        checks.append((_schemas.EXTERNAL_PATRON, external_body(body, "to be assigned")))
    for schema, checked in checks:
        found += problems(schema, checked)
    return list(dict.fromkeys(found))


def folio(client: Any, person: Any, *, edge: Any = None, allow_duplicate: bool = False,
          dry_run: bool = False) -> Registration:
    """A FOLIO self-registration: the schemas, the registration status by email, ``POST /patron``
    (a staging user); with an ``edge`` client, then the external ("LC") patron through the edge
    and the registration status again, which now finds the new user."""
    _flag("allow_duplicate", allow_duplicate)
    _flag("dry_run", dry_run)
    _raise_all(folio_problems(person, edge=edge is not None))
    body = _folio_body(person)
    email = body["contactInfo"]["email"]
    log = _Transcript()
    duplicates = _duplicates([(i, "email") for i in _registered(client, email, log)])
    if len(duplicates) and not allow_duplicate:
        return Registration(vendor="folio", outcome=DUPLICATE, duplicates=duplicates, transcript=tuple(log.steps))
    staged = client.create_staging_patron(body, dry_run=dry_run)
    if dry_run:
        log.note("stage", "POST /patron", "not sent (dry run)")
        return Registration(vendor="folio", outcome=PREVIEW, duplicates=duplicates, transcript=tuple(log.steps),
                            detail=staged)
    log.note("stage", "POST /patron", f"staging user {staged.id}, {staged.status}")
    ids = {"staging_user_id": str(staged.id), "external_system_id": str(staged.external_system_id)}
    detail: dict[str, Any] = {"staging_user": staged}
    if edge is not None:
        external = edge.create_external_patron(external_body(body, str(staged.external_system_id)))
        log.note("external patron", "POST /patron/account (edge)", "created in the Remote Non-circulating group")
        detail["external_patron"] = external
        users = _registered(client, email, log)
        if users:
            ids["user_id"] = users[0]
    return Registration(vendor="folio", outcome=CREATED, ids=ids, duplicates=duplicates, transcript=tuple(log.steps),
                        detail=detail)


def _registered(client: Any, email: str, log: _Transcript) -> list[str]:
    """The ids of the users FOLIO's registration status finds for ``email`` (several: ConflictError)."""
    request = "GET /patron/registration-status/{email}"
    try:
        user = client.registration_status(email)
    except NotFoundError:
        log.note("registration status", request, "no user with this email")
        return []
    except ConflictError as several:
        log.note("registration status", request, f"several users ({several.code or several.message})")
        return ["(several)"]
    log.note("registration status", request, f"user {user.id}")
    return [str(user.id)]


# -- Polaris -----------------------------------------------------------------------------------------
def polaris(client: Any, patron_id: int, changes: Mapping[str, Any], *, answers: Mapping[Any, Any] | None = None,
            allow_duplicate: bool = False, dry_run: bool = False) -> Registration:
    """A Polaris registration update through its conversation; Polaris checks duplicates itself.

    The duplicate prompt is answered No (nothing saved) unless ``allow_duplicate``; ``answers``
    gives rules for the other steps (as ``polaris.Policy`` reads them; no defaults are laid under
    them). A prompt no rule answers gives the outcome ``"needs a person"`` with the question in
    ``prompt``, and nothing saved.
    """
    from ..polaris import PAPIProcedureStep, PAPIPromptResult, Policy, PromptRequired
    from ..polaris._validate import changes_for, check_patron_id

    _flag("allow_duplicate", allow_duplicate)
    _flag("dry_run", dry_run)
    check_patron_id(patron_id)
    changes_for(changes)  # every problem at once (InvalidRegistration), before anything is sent
    rules = dict(answers or {})
    rules[PAPIProcedureStep.DuplicatePatrons] = PAPIPromptResult.Yes if allow_duplicate else PAPIPromptResult.No
    log = _Transcript()
    try:
        conversation = client.update_registration(patron_id, changes, answers=Policy(rules, defaults=False), dry_run=dry_run)
    except PromptRequired as asked:
        _note_rounds(asked.conversation, log)
        return Registration(vendor="polaris", outcome=NEEDS_PERSON, duplicates=_polaris_duplicates(asked.conversation),
                            transcript=tuple(log.steps), detail=asked.conversation, prompt=asked.prompt)
    if isinstance(conversation, Preview):
        log.note("update", f"PUT .../patrons/{patron_id}", "not sent (dry run)")
        return Registration(vendor="polaris", outcome=PREVIEW, transcript=tuple(log.steps), detail=conversation)
    _note_rounds(conversation, log)
    duplicates = _polaris_duplicates(conversation)
    if conversation.saved:
        return Registration(vendor="polaris", outcome=UPDATED, ids={"patron_id": str(patron_id)},
                            duplicates=duplicates, transcript=tuple(log.steps), detail=conversation)
    outcome = DUPLICATE if len(duplicates) else DECLINED
    return Registration(vendor="polaris", outcome=outcome, duplicates=duplicates, transcript=tuple(log.steps),
                        detail=conversation)


def _note_rounds(conversation: Any, log: _Transcript) -> None:
    for row in conversation.to_frame().to_dict("records"):
        sent = f"PUT .../patrons/{conversation.patron_id} step {row['sent_step']}"
        if row["sent_answer"] is not None and not pd.isna(row["sent_answer"]):
            sent += f", answer {row['sent_answer']}"
        said = f"PAPIReturnCode {row['return_code']}: {row['message'] or ''}".strip(" :")
        if row["step"] is not None and not pd.isna(row["step"]) and row["step"] != "None (0)":
            said = f"{row['step']}, {said}"
        if row["answer"] is not None and not pd.isna(row["answer"]):
            said += f" -> answered {row['answer']}"
        log.note(f"round {row['round']}", sent, said)


def _polaris_duplicates(conversation: Any) -> pd.DataFrame:
    rows: list[tuple[str, str]] = []
    for this_round in conversation.rounds:
        if this_round.prompt is not None and this_round.result.duplicate_patrons:
            rows += [(str(i), "Polaris duplicate prompt") for i in this_round.prompt.duplicates["PatronID"]]
    return _duplicates(rows)
