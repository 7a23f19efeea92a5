"""Slot copies equal ``copy.copy``'s, for every slot of the domain and odd classes."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.slots import AnySlot, Slot, TextSlot

from bot.dialogue import slot_copies

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def installed() -> Iterator[None]:
    slot_copies.install()
    yield
    slot_copies.uninstall()


def _state(slot: object) -> dict:
    return dict(vars(slot))


def test_every_slot_of_the_domain_copies_as_copy_copy_did() -> None:
    domain = Domain.load(ROOT / "domain.yml")
    for slot in domain.slots:
        slot.value = ["a", {"b": 1}]
    stock = [copy.copy(slot) for slot in domain.slots]
    slot_copies.install()
    try:
        ours = [copy.copy(slot) for slot in domain.slots]
    finally:
        slot_copies.uninstall()
    assert len(ours) == len(domain.slots) > 10
    for original, ours_copy, stock_copy in zip(domain.slots, ours, stock, strict=True):
        assert type(ours_copy) is type(stock_copy) is type(original)
        assert ours_copy is not original
        assert _state(ours_copy) == _state(stock_copy)
        assert ours_copy.value is original.value  # shallow, like copy.copy
        ours_copy.value = "changed"
        assert original.value == ["a", {"b": 1}]


class _Pickled(TextSlot):
    def __getstate__(self) -> dict:
        return {**self.__dict__, "restored": True}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


class _Slotted(AnySlot):
    __slots__ = ("extra",)


def test_slot_classes_with_their_own_hooks_copy_their_own_way(installed: None) -> None:
    pickled = _Pickled("a", mappings=[])
    assert copy.copy(pickled).__dict__.get("restored") is True
    slotted = _Slotted("b", mappings=[])
    slotted.extra = 5
    copied = copy.copy(slotted)
    assert copied.extra == 5 and copied.name == "b"
    assert slot_copies._is_plain(TextSlot) and not slot_copies._is_plain(_Slotted)


def test_uninstall_restores_the_generic_protocol(installed: None) -> None:
    slot_copies.uninstall()
    assert "__copy__" not in vars(Slot)
