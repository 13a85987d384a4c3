"""Plain value classes, without ``dataclasses``.

``@dataclass`` builds its methods from source text, and importing it pulls in ``inspect``
(with ``ast``, ``dis`` and ``tokenize``): ~15 ms of every run's start-up, for a handful of
value classes. A ``Record`` subclass lists its fields in ``_fields``, in ``__init__`` order
(and sets ``__slots__ = _fields``), writes its ``__init__`` with the same parameter names,
and gets what the decorator generated:

- ``repr()`` like ``Evidence(agent='claude', kind='trailer', ...)``, without the fields in
  ``_unshown`` (``field(repr=False)``);
- ``==`` by value between instances of the same class, over the fields not in
  ``_uncompared`` (``field(compare=False)``). A ``Record`` is unhashable (a mutable
  dataclass); a ``FrozenRecord`` hashes the compared values: it is frozen by convention,
  never assign to its fields;
- ``replace(**changes)``: a copy with some fields changed, made through ``__init__``
  (``dataclasses.replace``; also ``copy.replace`` on Python 3.13+).
"""

from __future__ import annotations

__all__ = ["FrozenRecord", "Record"]


class Record:
    __slots__ = ()
    _fields: tuple[str, ...] = ()  # every field, in __init__ order
    _uncompared: tuple[str, ...] = ()  # left out of == and hash
    _unshown: tuple[str, ...] = ()  # left out of repr()
    _compared: tuple[str, ...] = ()  # derived per subclass
    _shown: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls._compared = tuple(f for f in cls._fields if f not in cls._uncompared)
        cls._shown = tuple(f for f in cls._fields if f not in cls._unshown)

    def _key(self) -> tuple[object, ...]:
        return tuple([getattr(self, f) for f in self._compared])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        body = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._shown)
        return f"{self.__class__.__qualname__}({body})"

    def replace(self, **changes: object):  # -> the same class
        """A copy with ``changes`` applied (what ``dataclasses.replace`` did)."""
        values = {f: getattr(self, f) for f in self._fields}
        values.update(changes)
        return self.__class__(**values)

    __replace__ = replace  # copy.replace(), Python 3.13+


class FrozenRecord(Record):
    """A record never changed after ``__init__``, hence hashable by value."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(self._key())
