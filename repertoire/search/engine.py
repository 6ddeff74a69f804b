"""The search engine port: what Répertoire needs from an engine, whatever it is.

An engine keeps an index of published actors, each given as an engine-neutral
document (``documents.index_document``: ``actor_to_dict`` output plus
``name_sort``, ``updated_ts`` and taxonomy ``labels``), and answers criteria
with ordered actor ids and disjunctive facet counts. An actor's partnerships
are part of its document: the engine also answers partnership criteria with
ordered partnership ids and their facets (re-indexing an actor re-indexes them). It follows the ordered
change log (``outbox``): the position it has applied is its own state,
recorded with its writes, so that a copied or rebuilt index knows where it
stands. The outbox, the facade and the CLI use this interface only; an engine
lives in its own subpackage (``search/whoosh/``) and is chosen by
``REPERTOIRE_SEARCH_ENGINE`` through ``make_engine``.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Callable, Hashable, Iterable, Protocol, runtime_checkable

FACETS = ("country", "department", "domain", "activity", "kind", "partnership", "network")
PARTNERSHIP_FACETS = ("kind", "status", "country", "department", "decade")
ENGINES = ("whoosh",)  # names REPERTOIRE_SEARCH_ENGINE accepts
PORT_VERSION = 4  # bump on any change below; each engine says the library version it is written against


@dataclass
class Alternative:
    """One of the values of the place or intervention criterion (« Mali, Sénégal » gives two).

    The engine matches ``text`` against its own lexicon: the whole value, else
    its words, else (unless ``exact``) the values that start like it; ``codes``
    are the départements (place) or countries (intervention) the value names.
    """

    text: str
    codes: list[str] = field(default_factory=list)
    exact: bool = False  # the codes are named exactly: no value is looked for by its start


@dataclass
class Criteria:
    """What to look for: the text criteria and the facet filters (already validated).

    ``places`` and ``interventions`` hold the values of ``place`` and
    ``intervention`` (an actor matches if it matches any of them); when left
    empty, the whole text is one value, without codes.
    """

    q: str = ""
    name: str = ""
    place: str = ""
    intervention: str = ""
    places: list[Alternative] = field(default_factory=list)
    interventions: list[Alternative] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    sort: str = "name"  # relevance | name | updated
    # The facets to count (``Hits.facets`` holds these only): a page that shows none, or a few, asks for
    # those; counting one costs up to a pass over the matched documents.
    facets: tuple[str, ...] = FACETS

    @property
    def has_text(self) -> bool:
        return any((self.q.strip(), self.name.strip(), self.place.strip(), self.intervention.strip()))

    def place_values(self) -> list[Alternative]:
        return self.places or ([Alternative(self.place)] if self.place.strip() else [])

    def intervention_values(self) -> list[Alternative]:
        return self.interventions or ([Alternative(self.intervention)] if self.intervention.strip() else [])


@dataclass
class Hits:
    """One page of ``actor_ids`` in order, the ``total`` matched, and ``facets``: facet -> value -> count.

    Counts are disjunctive: each facet is counted under the text and every other facet's filter.
    ``facets`` holds the facets the criteria asked for (``Criteria.facets``), and only those.
    """

    total: int
    actor_ids: list[int]
    facets: dict[str, dict[str, int]]


@dataclass
class PartnershipCriteria:
    """What to look for among partnerships (already validated); ``filters`` keys are ``PARTNERSHIP_FACETS``."""

    q: str = ""
    actor: str | None = None  # the holder's slug
    since: int | None = None  # the start year, at least
    until: int | None = None  # the start year, at most
    filters: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class PartnershipHits:
    """One page of ``partnership_ids`` in order (start year, then holder's name), the ``total`` and
    disjunctive ``facets`` (facet -> value -> count)."""

    total: int
    partnership_ids: list[int]
    facets: dict[str, dict[str, int]]


class IndexUnavailable(RuntimeError):
    """The index is missing or unreadable; it is being rebuilt from the database."""


class WriterBusy(RuntimeError):
    """Another process held the index's writer for longer than the time allowed."""


class DocumentSource(Protocol):
    """Engine-neutral documents of the published actors among some ids (the unpublished are skipped).

    Picklable: an engine may read its shares in other processes.
    """

    def documents(self, actor_ids: Iterable[int], progress: Callable[[int], None] | None = None
                  ) -> Iterable[dict]: ...

    @property
    def shareable(self) -> bool:
        """Whether other processes can read the same data (not an in-memory database)."""


class Changes(Protocol):
    """One write to an index, all or nothing: kept when its block ends, dropped if it raises."""

    position: tuple[int, int]
    """(last change-log id applied, first id whose "add" is safe), read once the writer is held."""

    def add(self, actor_ids: Iterable[int], source: DocumentSource,
            progress: Callable[[int], None] | None = None) -> None:
        """Index these actors, known to be absent from the index (in bulk when there are many)."""

    def upsert(self, documents: Iterable[dict]) -> None:
        """Replace or insert these documents."""

    def delete(self, actor_ids: Iterable[int]) -> None:
        """Remove these actors' documents (absent ones are ignored)."""

    def set_position(self, applied: int, adds_from: int) -> None:
        """Record the log position reached, committed with these changes."""


@runtime_checkable
class SearchEngine(Protocol):
    """An index of published actors, one per process, shared by its requests (thread-safe).

    An implementation declares ``PORT_VERSION`` (of this port) and ``WRITTEN_AGAINST``
    (the version of the library it uses, pinned in pyproject.toml; tests check both).
    """

    location: str
    """A directory this engine owns on this server (its index, or at least its locks)."""

    def open(self) -> None:
        """Make sure an index exists (an empty one if none)."""

    def close(self) -> None:
        """Release readers and caches; the next call opens again."""

    def exists(self) -> bool: ...

    def is_current(self) -> bool:
        """The index exists and was written with this version's analysis and schema."""

    def count(self) -> int:
        """Documents in the index."""

    def applied_position(self) -> tuple[int, int]:
        """(last change-log id applied, first id whose "add" is safe); ``IndexUnavailable`` if none."""

    def changes(self, timeout: float = 30.0) -> AbstractContextManager[Changes]:
        """The one writer of the live index (``WriterBusy`` after ``timeout`` s, ``IndexUnavailable``)."""

    def rebuild(self) -> AbstractContextManager[Changes]:
        """A new empty index built aside; it replaces the live one at once when the block ends."""

    def search(self, criteria: Criteria, offset: int, limit: int) -> Hits: ...

    def search_partnerships(self, criteria: PartnershipCriteria, offset: int, limit: int) -> PartnershipHits:
        """The partnerships (each document's ``partnerships``) of the indexed actors matching ``criteria``."""

    def partnerships_crossed(self, first: str, second: str) -> dict[tuple[str, str], int]:
        """The indexed actors' partnerships counted by two of their facets at once (``PARTNERSHIP_FACETS``):
        (value of ``first``, value of ``second``) -> partnerships holding both, for the pairs held at least once."""

    def suggest_places(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """Head-office towns and départements starting like ``prefix``: (name, live actors), most first."""

    def lexicon(self, kind: str) -> dict[str, int]:
        """What searches can match, for spelling suggestions: value -> live actors.

        ``kind`` is "place" (head-office towns and départements, as written),
        "intervention" (towns of intervention, as written) or "name" (the words
        of names and acronyms, lower case without accents).
        """

    def version(self) -> Hashable:
        """Changes whenever what searches see may have changed (for caches)."""

    def build(self) -> Hashable:
        """Changes when the index is replaced by one built anew (a reindex, a restore): what follows the change log
        may no longer follow it from what it kept."""

    def warm(self) -> None:
        """Make what the first search needs (a worker's start: seconds at 1,000,000 actors), so that no visitor
        waits for it; ``IndexUnavailable`` if there is no index."""

    def indexed(self) -> dict[int, list[int]]:
        """actor id -> the ``updated`` value (microseconds) of each of its documents (for checks)."""


def make_engine(name: str, location: str) -> SearchEngine:
    """The engine called ``name`` (``REPERTOIRE_SEARCH_ENGINE``), keeping its index in ``location``."""
    if name == "whoosh":
        from .whoosh import WhooshEngine
        return WhooshEngine(location)
    raise ValueError(f"moteur de recherche inconnu : {name!r} (connus : {', '.join(ENGINES)})")
