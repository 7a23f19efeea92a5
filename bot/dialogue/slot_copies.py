"""Copying a slot without ``copy.copy``'s generic protocol.

Every ``DialogueStateTracker`` Rasa builds copies each of the domain's slots with
``copy.copy``; a turn builds dozens of trackers (one per past state for the
policies, temporary ones while a form validates), so slot copies took about 4% of
a worker's CPU under the serving bench (py-spy). For a slot class without its
own copy or pickle hooks, ``copy.copy`` makes a new instance and updates its
``__dict__`` with the original's, through ``__reduce_ex__`` and
``copy._reconstruct``; ``Slot.__copy__`` here does exactly that directly. A slot
class that defines ``__slots__`` or any copy or pickle hook is copied by
``copy.copy``'s own way, as before.
"""

from __future__ import annotations

import copy
from typing import Any

from rasa.shared.core.slots import Slot

_HOOKS = ("__getstate__", "__setstate__", "__reduce__", "__reduce_ex__")
_PLAIN: dict[type, bool] = {}


def _is_plain(cls: type) -> bool:
    plain = _PLAIN.get(cls)
    if plain is None:
        own = [vars(klass) for klass in cls.__mro__ if klass is not object]
        plain = _PLAIN[cls] = not any(
            hook in names for names in own for hook in _HOOKS
        ) and not any(names.get("__slots__") for names in own)  # ABC's () is none
    return plain


def _copy_slot(slot: Slot) -> Any:
    cls = type(slot)
    if not _is_plain(cls):
        return copy._reconstruct(slot, None, *slot.__reduce_ex__(4))  # type: ignore[attr-defined]
    new = cls.__new__(cls)
    new.__dict__.update(slot.__dict__)
    return new


def install() -> None:
    Slot.__copy__ = _copy_slot  # type: ignore[attr-defined]


def uninstall() -> None:
    if "__copy__" in vars(Slot):
        del Slot.__copy__  # type: ignore[attr-defined]
