"""One small registry (timm / torch-fidelity style): register by name, look up by name.

Models, losses and datasets are each a :class:`Registry`; unknown names are answered with the
valid ones, so a typo on the command line teaches the user what exists. An entry owns its
settings: it declares the config keys it reads (``keys``) and checks them (``check``), which
``gankit.config.validate`` runs for the chosen entry.

Registries are read when a config is validated, so the modules that fill them must not import
torch: a builder imports its implementation (and torch) when it is called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Iterable, Iterator, Optional, TypeVar

from gankit.errors import GankitError, did_you_mean

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    obj: T
    help: str
    keys: tuple[str, ...] = ()  # the config keys the entry reads (besides the name's own key)
    check: Optional[Callable[..., None]] = None  # raises GankitError on settings it cannot use


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, help: str = "", *, keys: Iterable[str] = (),
                 check: Callable[..., None] | None = None) -> Callable[[T], T]:
        """Decorator: ``@REG.register("name", "one line", keys=("hidden",), check=fn)``."""
        def deco(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            doc = help or (getattr(obj, "__doc__", None) or "").strip().split("\n")[0]
            self._entries[name] = Entry(obj, doc, tuple(keys), check)
            return obj

        return deco

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def refuse_unknown(self, name: str, also: Iterable[str] = ()) -> None:
        """GankitError naming the valid choices (``also``: extra values the key accepts, e.g. auto)."""
        choices = [*also, *self._entries]
        if name not in choices:
            raise GankitError(
                f"unknown {self.kind} {name!r}{did_you_mean(name, choices)}; "
                f"choose one of: {', '.join(choices)}"
            )

    def entry(self, name: str) -> Entry[T]:
        self.refuse_unknown(name)
        return self._entries[name]

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def help(self, name: str) -> str:
        return self.entry(name).help

    def keys(self, name: str) -> tuple[str, ...]:
        return self.entry(name).keys

    def check(self, name: str, *args) -> None:
        """Run the entry's own check of its settings (arguments as its registry defines them)."""
        check = self.entry(name).check
        if check is not None:
            check(*args)

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)
