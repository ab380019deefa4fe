"""OCLC Wise as a bulk target: blocks set or removed, per patron and library.

Blocks belong to a patron *in a library*, so a record key is ``"{patronSystemId}@{libraryId}"``
(:func:`blocks_key` makes one). The fields are the seven block flags of the blocking DTO
(``general_block``, ``patron_card_block``...; True sets a block, False removes it) and its
``block_message`` and ``block_details``.

Wise cannot list blocks, so each record is read on its own (``GET .../property/blocking``, the
before-image). The write is one ``PUT .../property/blocking`` carrying the whole DTO: the
blocks just read with the planned ones changed (read, merge, write). It is sent once; after a
lost answer the runner reads the blocks back and decides.

Patron details (names, email, phone, address...) are refused by :meth:`WiseBlocksTarget.refusal`:
Wise changes them only through a re-subscription (``PUT /library/{id}/patron/{patronSystemId}``),
made with the patron's token, whose body must carry every mandatory subscription field, the
patron's PASSWORD among them (no read returns it), and which Wise allows only when the patron
has no active subscription in the library or one ending this month. A bulk change of existing
patrons can meet neither condition (a proxy login gives the token, not the password).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._http import Call
from ..errors import InputError, NotFoundError
from ..workflows.bulk import BulkTarget, Snapshot
from ..workflows.canonical import COLUMNS
from . import _validate as check
from .client import _blocking
from .models import BLOCK_FLAGS, Blocks

__all__ = ["TARGET", "WiseBlocksTarget", "blocks_key", "DETAILS_RULE"]

TEXTS = ("block_message", "block_details")
#: Why patron details are not a Wise bulk target (shown by ``plan.validate()``).
DETAILS_RULE = ("Wise writes patron details only by re-subscription (PUT /library/{id}/patron/{patronSystemId}), "
                "whose body must carry the patron's PASSWORD (no read returns it) and which Wise allows only with "
                "no active subscription in the library or one ending this month; a bulk change cannot make it "
                "(Wise bulk writes blocks only)")


def blocks_key(patron_system_id: str, library_id: str) -> str:
    """The record key of a patron's blocks in one library."""
    return f"{check.path_part('patron_system_id', patron_system_id)}@{check.path_part('library_id', library_id)}"


def _split(key: str) -> tuple[str, str]:
    patron_system_id, _, library_id = str(key).partition("@")
    return patron_system_id, library_id


class WiseBlocksTarget(BulkTarget):
    vendor = "wise"
    client_type = "fsi_patron_kit.wise.client:Client"
    canonical = None  # the rules are the blocking DTO's own (below)
    can_list = False
    #: field -> the Blocks attribute (and DTO property) it writes
    fields = {name: name for name in (*BLOCK_FLAGS, *TEXTS)}

    def refusal(self, field: str, value: Any) -> str | None:
        if field in COLUMNS:
            return DETAILS_RULE
        if field not in self.fields:
            return f"Wise bulk updates cannot write this column (they can: {', '.join(self.fields)})"
        if field in TEXTS:
            return None if value is None or isinstance(value, str) else "must be text (or None for none)"
        return None if isinstance(value, bool) else "must be True (set the block) or False (remove it)"

    def key_refusal(self, key: Any) -> str | None:
        rule = "must be '{patronSystemId}@{libraryId}' (see wise.bulk.blocks_key)"
        if not isinstance(key, str) or key.count("@") != 1:
            return rule
        try:
            blocks_key(*_split(key))
        except InputError:
            return rule
        return None

    def read_one(self, client: Any, key: str) -> Snapshot | None:
        patron_system_id, library_id = _split(key)
        try:
            blocks = client.blocks(patron_system_id=patron_system_id, library_id=library_id)
        except NotFoundError:
            return None
        return Snapshot({name: getattr(blocks, name) for name in self.fields}, raw=dict(blocks.raw))

    def _call(self, key: str, changes: Mapping[str, Any], current: Snapshot) -> Call:
        wanted = {name: "" if name in TEXTS and value is None else value for name, value in changes.items()}
        merged = Blocks(**{**{name: current.values.get(name) or (False if name in BLOCK_FLAGS else "")
                              for name in self.fields}, **wanted})
        # The PUT replaces the whole DTO; anything Wise sent beyond it goes back as it came.
        return Call(method="PUT", path=_blocking(*_split(key)), action="set-blocks",
                    json={**(current.raw or {}), **merged.to_wire()}, idempotent=False)

    def payload(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot | None) -> dict[str, Any]:
        if current is None:
            raise InputError("record_key", f"no Wise patron {key}")
        preview = client._transport.preview(self._call(key, changes, current))
        return {"method": preview.method, "url": preview.url, "body": preview.body}

    def write(self, client: Any, key: str, changes: Mapping[str, Any], current: Snapshot, *,
              restore: bool = False) -> dict[str, Any]:
        self.check(changes, restore=restore)
        blocks = Blocks.from_wire(client._send(self._call(key, changes, current)))
        return {"blocks": list(blocks.active)}


TARGET = WiseBlocksTarget()
