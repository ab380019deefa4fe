"""The sandbox's lost-answer faults: the request is processed, then its answer is lost."""

from __future__ import annotations

import pytest

from fsi_patron_kit.errors import ServerError, TransportError


@pytest.mark.parametrize(("kind", "raised"), [("reset-after", TransportError), ("502-after", ServerError)])
def test_a_lost_answer_fault_applies_the_write_and_loses_the_answer(emulator, client, kind, raised):
    client.login()
    emulator.knobs.fail_next(kind)
    with pytest.raises(raised):
        client.set_patron(keyfield="barcode", allow_new=False, barcode="0000005", room="LOST-ANSWER")
    assert next(r for r in emulator.records() if r["barcode"] == "0000005")["room"] == "LOST-ANSWER"
    assert emulator.counters.writes["0000005"] == 1
    assert emulator.counters.faults[kind] == 1


def test_a_fault_before_processing_writes_nothing(emulator, client):
    client.login()
    emulator.knobs.fail_next("reset")
    with pytest.raises(TransportError):
        client.set_patron(keyfield="barcode", allow_new=False, barcode="0000005", room="NEVER")
    assert next(r for r in emulator.records() if r["barcode"] == "0000005")["room"] != "NEVER"
    assert emulator.counters.writes["0000005"] == 0


def test_the_new_rates_draw_their_kinds_and_clear_resets_them(emulator):
    knobs = emulator.knobs
    knobs.unavailable_rate = knobs.reset_after_rate = knobs.bad_gateway_after_rate = 1 / 3
    drawn = {knobs.draw() for _ in range(200)}
    assert drawn == {"503", "reset-after", "502-after"}
    knobs.clear()
    assert {knobs.draw() for _ in range(50)} == {None}
