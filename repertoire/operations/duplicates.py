"""The one duplicate detector (at entry and on the duplicates page), dismissals and merges."""
from __future__ import annotations

from collections import Counter, defaultdict
from functools import lru_cache
from flask import current_app, has_app_context
from flask_babel import gettext as _, lazy_gettext as _l
import re

import phonenumbers
from rapidfuzz import fuzz
from sqlalchemy import case, delete, event, func, or_, select, text, update
from sqlalchemy.orm import Session, lazyload

from ..actor_fields import LIST_FIELDS, MERGEABLE
from ..database import placeholder, insert_rows, rows_in
from ..models import (Actor, ChangeRequest, DuplicateDismissal, DuplicateKey, DuplicatePair, DuplicatePending,
                      Membership, User, utcnow)
from ..search.outbox import LOG_LOCK
from ..text import fold_words
from ..validation import ActorInput, Vocabulary

from . import OperationError
from .partnerships import repoint_links
from .actors import (actor_input, actor_snapshot, check_version, lock_actors, record_revision, set_status,
                     update_actor)
from .audit import record_action


# -- the detector -----------------------------------------------------------
# One rule, ``reasons``, decides whether two actors look alike. Which actors are compared with which is the
# blocking (``block_keys``, ``candidates``): a later search-index-backed blocking changes only those two.

_FILLER = {"association", "asso", "assoc", "de", "du", "des", "la", "le", "les", "l", "d", "et", "en", "a", "au",
           "aux", "pour", "sur", "the", "of", "and"}
_SAINT = {"st": "saint", "ste": "sainte", "sts": "saints"}
# Hosts many actors share: a page there names one actor only by its path; a town hall's site names none.
SHARED_HOSTS = {"facebook.com", "fb.com", "m.facebook.com", "instagram.com", "twitter.com", "x.com", "linkedin.com",
                "youtube.com", "helloasso.com", "haloasso.com", "leetchi.com", "gofundme.com", "kisskissbankbank.com",
                "ulule.com", "wixsite.com", "over-blog.com", "blogspot.com", "wordpress.com", "sites.google.com",
                "jimdo.com", "e-monsite.com", "net1901.org", "assoce.fr", "linktr.ee"}
_TOWN_HALL = re.compile(r"(^|[.-])(mairie|ville|commune|agglo|metropole|cc|communaute)[.-]|\.gouv\.fr$")
REASONS = {"name": _l("nom identique ou proche dans la même commune"), "email": _l("même adresse électronique"),
           "website": _l("même site web"), "phone": _l("même téléphone"), "town": _l("même commune")}
MAX_BLOCK = 200  # a contact block this large (a shared webmail or portal address) says nothing
WORD_BLOCK = 50  # nor a word or initials this common in one commune: the name's other words still meet
# Name blocks (words, initials) shared with another actor must single it out: a block shared with n others weighs
# 1/n, and a pair's name blocks must weigh together at least NAME_WEIGHT (a contact shared is always enough).
# This keeps the comparisons per actor bounded however many look-alike names a large town holds (weighted
# meta-blocking): « Solidarité Paris (12) » is not compared with each of 40 numbered namesakes through their one
# common initials block, while two spellings of one name share several rare blocks.
NAME_WEIGHT = 1 / 20
NAME_SCORE = 88  # rapidfuzz token score from which two names are the same name mistyped
WORD_SCORE = 80  # ... and from which two words are one word mistyped


# A bracketed word with a letter is another name (an acronym); a bracketed number, as in « Comité (2) », stays.
_BRACKETED = re.compile(r"\(([^)]*[^\W\d_][^)]*)\)")


def _words(name: str) -> list[str]:
    """Folded words, Saint spelt out and a mistyped « association » read as one."""
    return [_SAINT.get(w, "association" if len(w) >= 9 and fuzz.ratio(w, "association") >= 85 else w)
            for w in fold_words(name).split()]


@lru_cache(maxsize=65536)  # pure, and met again for each pair an actor is in
def name_key(name: str) -> str:
    """The words that tell two names apart: accents, case, filler words and a bracketed acronym removed."""
    name = _BRACKETED.sub(" ", name)
    words = _words(name)
    return " ".join(w for w in words if w not in _FILLER) or " ".join(words)


def _aliases(record) -> list[tuple[str, list[str]]]:
    """The names ``record`` goes by: (key, all words), for its name, a bracketed acronym and its acronym field."""
    return _aliases_of(record.name or "", getattr(record, "acronym", "") or "")


@lru_cache(maxsize=65536)  # pure, and met again for each pair an actor is in (callers only read the result)
def _aliases_of(name: str, acronym: str) -> list[tuple[str, list[str]]]:
    found = [(name_key(name), _words(_BRACKETED.sub(" ", name)))]
    for other in _BRACKETED.findall(name) + [acronym]:
        if fold_words(other):
            found.append((name_key(other), _words(other)))
    return [(key, words) for key, words in found if key]


def _is_acronym_of(acronym: str, words: list[str]) -> bool:
    """Whether ``acronym`` is made of the initials of ``words``, filler words being optional."""
    if len(acronym) < 3 or " " in acronym or len(words) < 2 or len(acronym) > len(words) \
            or acronym[0] != words[0][0] and words[0] not in _FILLER:
        return False  # cheap necessary conditions first: most pairs of names fail here

    def walk(i: int, j: int) -> bool:
        if j == len(words):
            return i == len(acronym)
        word = words[j]
        if i < len(acronym) and word[0] == acronym[i] and walk(i + 1, j + 1):
            return True
        return word in _FILLER and walk(i, j + 1)
    return walk(0, 0)


def _same_words(a: str, b: str) -> bool:
    """Same words in any order, each word at most mistyped."""
    if a == b:
        return True
    if fuzz.token_sort_ratio(a, b) < NAME_SCORE:
        return False
    wa, wb = a.split(), b.split()
    if len(wa) != len(wb):
        return "".join(sorted(wa)) == "".join(sorted(wb)) or a.replace(" ", "") == b.replace(" ", "")

    def close(w, words):
        return any(w == v or (min(len(w), len(v)) >= 4 and fuzz.ratio(w, v) >= WORD_SCORE) for v in words)
    return all(close(w, wb) for w in wa) and all(close(w, wa) for w in wb)


def similar_names(a, b) -> bool:
    """Whether records ``a`` and ``b`` go by one name: typos, word order, filler words, acronym or full name."""
    for key_a, words_a in _aliases(a):
        for key_b, words_b in _aliases(b):
            if _same_words(key_a, key_b) or _is_acronym_of(key_a, words_b) or _is_acronym_of(key_b, words_a):
                return True
    return False


def host_of(url: str) -> str:
    host = url.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0].lower().rstrip(".")
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    return host[4:] if host.startswith("www.") else host


def normal_url(url: str) -> str:
    """``url`` without scheme, www., case of the host, query, fragment or trailing slash."""
    url = url.strip()
    rest = url.split("://", 1)[-1]
    path = rest.split("/", 1)[1] if "/" in rest else ""
    path = path.split("#", 1)[0].split("?", 1)[0].strip("/")
    return f"{host_of(url)}/{path}".rstrip("/")


@lru_cache(maxsize=65536)  # pure, and met again for each pair an actor is in
def site_key(url: str) -> str:
    """What a website says about whose it is: empty for a town hall's site or a shared host's home page."""
    if not url or not url.strip():
        return ""
    host = host_of(url)
    if _TOWN_HALL.search(host):
        return ""
    key = normal_url(url)
    shared = any(host == h or host.endswith("." + h) for h in SHARED_HOSTS)
    if shared:
        key = key.lower()  # paths on these platforms ignore case
        if "/" not in key:
            return ""
    return key


@lru_cache(maxsize=65536)  # pure, and met again for each pair an actor is in
def phone_key(phone: str) -> str:
    if not phone or not phone.strip():
        return ""
    try:
        number = phonenumbers.parse(phone, "FR")
    except phonenumbers.NumberParseException:
        return "".join(ch for ch in phone if ch.isdigit())
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=65536)  # pure, and met again for each pair an actor is in
def town_key(town: str) -> str:
    return " ".join(w for w in _words(town or "") if w != "cedex")


def _same_town(a, b) -> bool:
    ta, tb = town_key(a.town), town_key(b.town)
    return bool(ta) and (ta == tb or fuzz.ratio(ta, tb) >= 90)


def reasons(a, b) -> list[str]:
    """Why ``a`` and ``b`` (actors or entries) look like one actor, in words; empty when they do not."""
    return [str(REASONS[r]) for r in reason_codes(a, b)]


def reason_codes(a, b) -> list[str]:
    """Why ``a`` and ``b`` (actors or entries) look like one actor; empty when they do not.

    A close name counts in the same commune only (one generic name lives in many towns); the same e-mail,
    website (not a shared host's or a town hall's) or phone counts anywhere.
    """
    found = []
    same_town = a.department == b.department and _same_town(a, b)
    if same_town and similar_names(a, b):
        found.append("name")
    if a.email and b.email and a.email.strip().lower() == b.email.strip().lower():
        found.append("email")
    site = site_key(a.website or "")
    if site and site == site_key(b.website or ""):
        found.append("website")
    phone = phone_key(getattr(a, "phone", "") or "")
    if phone and phone == phone_key(getattr(b, "phone", "") or ""):
        found.append("phone")
    if found and same_town and "name" not in found:
        found.append("town")
    return found


def score(a, b) -> int:
    """How alike two names are (0-100), to order pairs."""
    return int(fuzz.token_sort_ratio(name_key(a.name), name_key(b.name)))


ACTIVE = ("published", "pending")
PAIRS_LOCK = 0x52455044  # PostgreSQL advisory lock key serialising the refreshes of stored pairs
CHUNK = 500


def _initials(words: list[str]) -> set[str]:
    """The acronyms a name's words may give: the initials, filler words taken or left (a few variants)."""
    found = {""}
    for word in words:
        found = {f + word[0] for f in found} | (found if word in _FILLER else set())
        if len(found) > 16:
            break
    return {f for f in found if len(f) >= 3}


def block_keys(record) -> set[str]:
    """The blocks ``record`` falls in: two actors are compared only if they share one.

    A close name counts in the same commune only, so a name's blocks are its words (``w|``) and its initials or
    acronym (``i|``) there; contacts (``c|``) count anywhere.
    """
    keys = set()
    town = town_key(record.town or "")
    if town:
        place = f"{record.department}|{town}"
        for key, words in _aliases(record):
            keys.update(f"w|{place}|{w}" for w in key.split())
            keys.update(f"i|{place}|{i}" for i in _initials(words))
            if " " not in key and len(key) >= 3:
                keys.add(f"i|{place}|{key}")
    if record.email:
        keys.add(f"c|e|{record.email.strip().lower()}")
    if site_key(record.website or ""):
        keys.add(f"c|s|{site_key(record.website)}")
    if phone_key(getattr(record, "phone", "") or ""):
        keys.add(f"c|p|{phone_key(record.phone)}")
    return {key[:300] for key in keys}


def _word_count(keys) -> int:
    return sum(key.startswith("w|") for key in keys)


def _worth_comparing(shared, keys_a, keys_b) -> bool:
    """Whether the blocks two actors share are enough for the rule to be asked: a contact, the initials, or half of
    the words of the shorter name (one mistyped word in two still meets the other)."""
    if any(not key.startswith("w|") for key in shared):
        return True
    return 2 * len(shared) >= min(_word_count(keys_a), _word_count(keys_b))


def _name_word_count(record) -> int:
    """How many name-word blocks (``w|``) ``block_keys`` gives ``record``, without computing the others."""
    town = town_key(record.town or "")
    if not town:
        return 0
    place = f"{record.department}|{town}"
    return len({f"w|{place}|{w}"[:300] for key, _words in _aliases(record) for w in key.split()})


def _block_limit(key: str) -> int:
    return MAX_BLOCK if key.startswith("c|") else WORD_BLOCK


def _name_weights(ks, holders, me=None) -> dict[int, float]:
    """What the name blocks of ``ks`` shared with each other actor weigh together: a block held by n others weighs
    1/n (``me``, the holder of ``ks`` if stored, not counted); a word that is also the whole name (an acronym) is
    one block, not two."""
    best: dict[int, dict[str, float]] = defaultdict(dict)
    for key in ks:
        ids = holders.get(key)
        if not ids or key.startswith("c|"):
            continue
        others = len(ids) - (me is not None and me in ids)
        if others:
            weight, place_and_name = 1 / others, key[2:]
            for i in ids:
                if weight > best[i].get(place_and_name, 0.0):
                    best[i][place_and_name] = weight
    return {i: sum(weights.values()) for i, weights in best.items()}


def _singled_out(shared, weight: float) -> bool:
    """Whether two actors sharing ``shared`` blocks, whose name blocks weigh ``weight``, are worth comparing."""
    return weight >= NAME_WEIGHT - 1e-9 or any(key.startswith("c|") for key in shared)


def _block_sizes(connection, keys: list[str]) -> dict[str, int]:
    """How many actors hold each of ``keys``, counted no further than its limit + 1: a block of a large town's
    common word (tens of thousands of holders at 1,000,000 actors) is not walked to the end to learn it is large."""
    mark, table, sizes = placeholder(connection), DuplicateKey.__table__.name, {}
    for start in range(0, len(keys), 250):  # SQLite joins at most 500 SELECTs in one compound
        part = keys[start:start + 250]
        query = " UNION ALL ".join(
            f"SELECT {n} AS n, (SELECT count(*) FROM (SELECT 1 FROM {table} WHERE key = {mark} "
            f"LIMIT {_block_limit(key) + 1}) AS holders) AS c" for n, key in enumerate(part))
        for n, count in connection.exec_driver_sql(query, tuple(part)).all():
            sizes[part[n]] = count
    return sizes


def _holders(session, keys) -> dict[str, list[int]]:
    """The actors holding each of ``keys`` (blocks larger than their limit left out: they say nothing)."""
    found: dict[str, list[int]] = defaultdict(list)
    session.flush()  # as session.execute would: the blocks written in this transaction count
    connection, table = session.connection(), DuplicateKey.__table__.name
    # the blocks' sizes first, over the index: a large block's holders are never fetched
    small = [key for key, count in _block_sizes(connection, sorted(keys)).items() if count <= _block_limit(key)]
    for key, actor_id in rows_in(connection, f"SELECT key, actor_id FROM {table} WHERE key", small, CHUNK):
        found[key].append(actor_id)
    return found


def _shared_blocks(keys: dict[int, set[str]], holders: dict[str, list[int]], refreshed: set[int]
                   ) -> dict[tuple[int, int], set[str]]:
    """For each actor of ``keys``, the others holding one of its blocks and singled out by them (``_singled_out``),
    with the blocks they share (a pair of two ``refreshed`` actors once, from its smaller id)."""
    shared: dict[tuple[int, int], set[str]] = {}
    for i, ks in keys.items():
        mine: dict[int, set[str]] = defaultdict(set)
        for key in ks:
            for j in holders.get(key, ()):
                if j != i and (j not in refreshed or i < j):
                    mine[j].add(key)
        weights = _name_weights(ks, holders, i)
        for j, blocks in mine.items():
            if _singled_out(blocks, weights.get(j, 0.0)):
                shared[(min(i, j), max(i, j))] = blocks
    return shared


def candidates(session, record, statuses, exclude_id: int | None = None):
    """The actors sharing enough blocks with ``record``, through the stored blocks (no actor loaded to find them)."""
    keys = block_keys(record)
    holders = _holders(session, keys)
    shared: dict[int, set[str]] = defaultdict(set)
    for key, ids in holders.items():
        for i in ids:
            if i != exclude_id:
                shared[i].add(key)
    weights = _name_weights(keys, holders, exclude_id)
    shared = {i: blocks for i, blocks in shared.items() if _singled_out(blocks, weights.get(i, 0.0))}
    if not shared:
        return []
    found = []
    for actor in session.scalars(select(Actor).where(Actor.id.in_(shared), Actor.status.in_(statuses),
                                                     Actor.merged_into_id.is_(None)).order_by(Actor.id)):
        if _worth_comparing(shared[actor.id], keys, block_keys(actor)):
            found.append(actor)
    return found


def find_duplicates(session, data: ActorInput, exclude_id: int | None = None) -> list[tuple[Actor, list[str]]]:
    """Published actors that are likely the same as ``data`` (an entry being made), with the reasons why."""
    found = []
    for actor in candidates(session, data, ("published",), exclude_id):
        why = reasons(data, actor)
        if why:
            found.append((actor, why))
    return found


def likely_duplicates(session, records) -> list[list[tuple[int, list[str]]]]:
    """For each record (an entry not written yet, e.g. a row to import), the published actors it likely
    duplicates, as (id, reason codes): ``candidates`` then ``reason_codes``, for all the records at once
    (a few queries for a whole file, only light rows loaded)."""
    keys = [block_keys(r) for r in records]
    holders = _holders(session, set().union(*keys)) if keys else {}
    # _worth_comparing needs, of the blocks a record shares with another, only how many are name words and
    # whether any is not: counted in bulk (a whole file may meet hundreds of thousands of holders)
    shared_by: list[tuple[Counter, set[int]]] = []
    for ks in keys:
        words, others_blocks, contacts = Counter(), set(), set()
        for key in ks:
            ids = holders.get(key)
            if ids:
                if key.startswith("c|"):
                    contacts.update(ids)
                elif key.startswith("w|"):
                    words.update(ids)
                else:
                    others_blocks.update(ids)
        close = contacts | {i for i, w in _name_weights(ks, holders).items() if w >= NAME_WEIGHT - 1e-9}
        shared_by.append((Counter({i: n for i, n in words.items() if i in close}), (others_blocks | contacts) & close))
    others = {i: r for i, r in _records(session, {i for w, o in shared_by for i in (*w, *o)}).items()
              if r.status == "published" and r.merged_into_id is None}
    their_words: dict[int, int] = {}
    found = []
    for record, ks, (words_shared, others_shared) in zip(records, keys, shared_by):
        mine, words = [], _word_count(ks)
        for i in sorted(set(words_shared) | others_shared):
            other = others.get(i)
            if other is None:
                continue
            worth = i in others_shared or 2 * words_shared[i] >= words
            if not worth:  # the other's word count, all _worth_comparing needs of its blocks, only when it matters
                if i not in their_words:
                    their_words[i] = _name_word_count(other)
                worth = 2 * words_shared[i] >= their_words[i]
            if worth:
                why = reason_codes(record, other)
                if why:
                    mine.append((i, why))
        found.append(mine)
    return found


def dismissed_pairs(session) -> set[tuple[int, int]]:
    return {tuple(row) for row in session.execute(select(DuplicateDismissal.actor_a_id, DuplicateDismissal.actor_b_id))}


# -- the stored pairs ---------------------------------------------------------
# Every write of an actor (entry, edit, import, merge, archive) marks it; when the transaction commits its blocks
# and pairs are computed again, in bulk. The duplicates page and the dashboard read the stored pairs.
# A big write (more than INLINE_LIMIT actors: a large import, a bulk action) stores only their blocks (the cheap
# part) and lists them in ``duplicate_pending`` in its own transaction; ``drain_pending`` finds their pairs after
# its commit, a chunk per transaction (``repertoire duplicates refresh``, the import command and page).

INLINE_LIMIT = 500  # default of the DUPLICATES_INLINE_LIMIT setting


def _inline_limit() -> int:
    if has_app_context():
        return int(current_app.config.get("DUPLICATES_INLINE_LIMIT", INLINE_LIMIT))
    return INLINE_LIMIT


def mark_for_duplicates(session, actor_ids, new: bool = False):
    """Have these actors' blocks and pairs computed again when the current transaction commits."""
    changes = session.info.setdefault("duplicate_changes", {})
    for i in actor_ids:
        if i is not None:
            changes[i] = changes.get(i, True) and new


@event.listens_for(Session, "after_flush")
def _collect_changes(session, flush_context):
    new = [obj.id for obj in session.new if isinstance(obj, Actor)]
    dirty = [obj.id for obj in list(session.dirty) + list(session.deleted)
             if isinstance(obj, Actor) and session.is_modified(obj, include_collections=False)]
    mark_for_duplicates(session, new, new=True)
    mark_for_duplicates(session, dirty)


@event.listens_for(Session, "before_commit")
def _store_pairs(session):
    if session.dirty or session.new or session.deleted:
        session.flush()
    changes = session.info.pop("duplicate_changes", None)
    if changes:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            # Held until the commit: two writes at once each see the other's blocks, and store a pair once.
            # The change log's lock first, as its own hook takes it: every commit takes both in one order,
            # so two commits never wait on each other crosswise (a deadlock).
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOG_LOCK})
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PAIRS_LOCK})
        big = len(changes) > _inline_limit()
        refresh_pairs(session, [i for i, new in changes.items() if not new], [i for i, new in changes.items() if new],
                      pairs=not big)
        if big:  # its blocks are stored, its pairs found after the commit, a chunk at a time (drain_pending)
            insert_rows(connection, DuplicatePending.__table__, ("actor_id",), [(i,) for i in sorted(changes)])
        session.info.pop("duplicate_changes", None)  # the flush of the pairs marks nothing that matters


@event.listens_for(Session, "after_rollback")
def _forget_changes(session):
    session.info.pop("duplicate_changes", None)


_RECORD = (Actor.id, Actor.name, Actor.acronym, Actor.town, Actor.department, Actor.email, Actor.website,
           Actor.phone, Actor.status, Actor.merged_into_id)


def _records(session, ids) -> dict[int, object]:
    session.flush()  # as session.execute would
    columns = ", ".join(column.expression.name for column in _RECORD)
    return {row.id: row for row in rows_in(session.connection(), f"SELECT {columns} FROM {Actor.__table__.name} "
                                           "WHERE id", sorted(ids), CHUNK)}


def _pair_score(a, b, why: list[str]) -> int:
    return 100 * len(why) + score(a, b)


def refresh_pairs(session, changed_ids, new_ids=(), pairs: bool = True):
    """Compute again the blocks and likely pairs of these actors (``new_ids``: just inserted, nothing stored yet).

    With ``pairs`` False (a big write), only their blocks: their old pairs are deleted, and ``compare_pairs``
    finds their new ones later (``drain_pending``), against every block already stored.
    """
    changed_ids, new_ids = set(changed_ids), set(new_ids) - set(changed_ids)
    everyone = changed_ids | new_ids
    if not everyone:
        return
    connection = session.connection()
    old = sorted(changed_ids)
    for start in range(0, len(old), CHUNK):
        chunk = old[start:start + CHUNK]
        session.execute(delete(DuplicateKey).where(DuplicateKey.actor_id.in_(chunk)))
        session.execute(delete(DuplicatePair).where(or_(DuplicatePair.actor_a_id.in_(chunk),
                                                        DuplicatePair.actor_b_id.in_(chunk))))
    records = _active_records(session, everyone)
    keys = {i: block_keys(r) for i, r in records.items()}
    insert_rows(connection, DuplicateKey.__table__, ("actor_id", "key"),
                [(i, key) for i, ks in keys.items() for key in ks])
    if pairs:
        _find_pairs(session, records, keys)


def compare_pairs(session, actor_ids):
    """Find again the likely pairs of these actors through the stored blocks (theirs included, kept current by
    every write): their old pairs are deleted first, so that comparing an actor twice gives the same pairs."""
    ids = sorted(set(actor_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        session.execute(delete(DuplicatePair).where(or_(DuplicatePair.actor_a_id.in_(chunk),
                                                        DuplicatePair.actor_b_id.in_(chunk))))
    records = _active_records(session, ids)
    _find_pairs(session, records, {i: block_keys(r) for i, r in records.items()}, skip_pending=True)


def _active_records(session, ids) -> dict[int, object]:
    return {i: r for i, r in _records(session, ids).items() if r.status in ACTIVE and r.merged_into_id is None}


def _pending_among(session, ids) -> set[int]:
    ids, found = sorted(ids), set()
    for start in range(0, len(ids), CHUNK):
        found.update(session.scalars(select(DuplicatePending.actor_id)
                                     .where(DuplicatePending.actor_id.in_(ids[start:start + CHUNK]))))
    return found


def _find_pairs(session, records: dict[int, object], keys: dict[int, set[str]], skip_pending: bool = False):
    """Store the likely pairs of ``records`` (with their blocks ``keys``), none of which has a pair stored.

    With ``skip_pending``, not their pairs with other actors still pending: those are found when they are drained
    (each pair is compared once, not again by every chunk)."""
    dismissed = dismissed_pairs(session)
    rows, now, mine, their = [], utcnow(), sorted(keys), {}
    for start in range(0, len(mine), CHUNK * 4):  # a slice at a time: memory stays flat on a large import
        part = {i: keys[i] for i in mine[start:start + CHUNK * 4]}
        holders = _holders(session, {key for ks in part.values() for key in ks})
        shared = _shared_blocks(part, holders, set(keys))
        others = _records(session, {j for pair in shared for j in pair} - set(records))
        others = {j: r for j, r in others.items() if r.status in ACTIVE and r.merged_into_id is None}
        if skip_pending:
            later = _pending_among(session, others)
            others = {j: r for j, r in others.items() if j not in later}
        for (a_id, b_id), blocks in sorted(shared.items()):
            a, b = records.get(a_id) or others.get(a_id), records.get(b_id) or others.get(b_id)
            if (a_id, b_id) in dismissed or a is None or b is None:
                continue
            if all(key.startswith("w|") for key in blocks):  # _worth_comparing, with only the counts it needs
                words = []
                for i, record in ((a_id, a), (b_id, b)):
                    if i in keys:
                        words.append(_word_count(keys[i]))
                    else:  # another actor: its word count, not all its blocks
                        if i not in their:
                            their[i] = _name_word_count(record)
                        words.append(their[i])
                if 2 * len(blocks) < min(words):
                    continue
            why = reason_codes(a, b)
            if why:
                rows.append((a_id, b_id, ",".join(why), _pair_score(a, b, why), now))
    insert_rows(session.connection(), DuplicatePair.__table__,
                ("actor_a_id", "actor_b_id", "reasons", "score", "created_at"), rows)


DRAIN_CHUNK = 100  # actors compared per drain transaction: SQLite's write lock is held ~0.1 s, 1.5 s on a loaded
# machine (1,000: 5-7 s, enough for a coordinator's edit to wait on it); the same CPU per actor (bench/RESULTS.md)


def drain_pending(session, limit: int = DRAIN_CHUNK) -> int:
    """Find the pairs of up to ``limit`` actors a big write left pending (its commit stored their blocks), oldest
    first, and take them off the list; return how many actors were compared (0: none left).

    The caller commits after each call: a process stopped half-way leaves the rest pending, and an actor
    compared twice gives the same pairs (its old ones are deleted first). Every block being stored, the pairs
    found do not depend on the chunks. An actor listed several times is compared once; one merged or archived
    since is only rid of its pairs; a dismissed pair is not stored.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # One drain or pair refresh at a time (as in _store_pairs): two drains never take the same rows.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PAIRS_LOCK})
    else:
        # SQLite: the database's write lock before the list is read, for the same reason.
        session.execute(update(DuplicatePending).where(DuplicatePending.id < 0)
                        .values(actor_id=DuplicatePending.actor_id).execution_options(synchronize_session=False))
    actor_ids = sorted(set(session.scalars(select(DuplicatePending.actor_id).order_by(DuplicatePending.id)
                                           .limit(max(1, limit)))))
    if not actor_ids:
        return 0
    rows = []  # every row of these actors read now; one listed again after this read stays for the next drain
    for start in range(0, len(actor_ids), CHUNK):
        rows += session.scalars(select(DuplicatePending.id)
                                .where(DuplicatePending.actor_id.in_(actor_ids[start:start + CHUNK]))).all()
    compare_pairs(session, actor_ids)
    for start in range(0, len(rows), CHUNK):
        session.execute(delete(DuplicatePending).where(DuplicatePending.id.in_(rows[start:start + CHUNK])))
    session.info.pop("duplicate_changes", None)
    return len(actor_ids)


COUNT_CAP = 1000  # default of the BACK_OFFICE_COUNT_CAP setting: the pages count pairs, pending actors… so far


def count_cap() -> int:
    """How far the back-office pages count pairs, actors still to compare, and (the dashboard) actors to check
    (beyond: « plus de 1 000 »)."""
    if has_app_context():
        return int(current_app.config.get("BACK_OFFICE_COUNT_CAP", COUNT_CAP))
    return COUNT_CAP


def _count(session, query, cap: int | None) -> int:
    """The rows of ``query``, counted no further than ``cap`` + 1 (all of them if ``cap`` is None): a page
    reads as many rows as it says, not the whole table (1,000,000 pairs, 500,000 actors pending)."""
    if cap is not None:
        query = query.limit(cap + 1)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def pending_count(session, within=None, cap: int | None = None) -> int:
    """How many actors wait to be compared (listed by a big write, not drained yet); with ``cap``, counted no
    further than ``cap`` + 1 (a number over ``cap`` means « more than ``cap`` »)."""
    query = select(DuplicatePending.actor_id).distinct()  # walks the (actor_id) index: stops at the cap
    if within is not None:
        query = query.where(_holds(within, DuplicatePending.actor_id))
    return _count(session, query, cap)


def rebuild_pairs(session, progress=None) -> int:
    """Compute every actor's blocks and pairs again (for existing databases); return the number of pairs."""
    last = session.scalar(select(func.max(DuplicatePending.id)))
    if last is not None:  # all compared below; a row listed by a write committed from now on stays
        session.execute(delete(DuplicatePending).where(DuplicatePending.id <= last))
    session.execute(delete(DuplicatePair))
    session.execute(delete(DuplicateKey))
    ids = list(session.scalars(select(Actor.id).where(Actor.status.in_(ACTIVE), Actor.merged_into_id.is_(None))
                               .order_by(Actor.id)))
    step = 5000
    for start in range(0, len(ids), step):
        refresh_pairs(session, (), ids[start:start + step])
        if progress:
            progress(len(ids[start:start + step]))
    session.info.pop("duplicate_changes", None)
    return session.scalar(select(func.count()).select_from(DuplicatePair))


def _holds(within, column):
    """``column`` is one of the ids ``within`` (a select of actor ids) selects, as a correlated EXISTS: its key
    probed once per row read. (An ``IN (SELECT …)`` builds the whole list first: a 251,439-actor scope read for
    every count and page, whatever was needed of it.)"""
    return within.where(within.selected_columns[0] == column).exists()


def _within(query, within, by_score: bool = False):
    """Only the pairs of two actors of ``within`` (a select of actor ids), if given.

    By default the scope's own actors are walked (its select joined as the first table), each one's pairs read
    through the (a, b) index, b probed in the scope: a count capped at 1,000 stops after the pairs of its first
    few thousand actors, and a scope of a few actors reads only their pairs. ``by_score``: the pairs are walked
    in score order (the score index), both ids probed, so that a page stops after a page of pairs (a scope
    holding many pairs; bench/RESULTS.md, turn 4 and session 6)."""
    if within is None:
        return query
    if by_score:
        return query.where(_holds(within, DuplicatePair.actor_a_id), _holds(within, DuplicatePair.actor_b_id))
    scope = within.subquery()
    return query.select_from(scope).join(DuplicatePair, DuplicatePair.actor_a_id == scope.c[0]) \
        .where(_holds(within, DuplicatePair.actor_b_id))


def duplicate_count(session, within=None, cap: int | None = None) -> int:
    """How many likely pairs wait for a coordinator; with ``cap``, counted no further than ``cap`` + 1 (a
    number over ``cap`` means « more than ``cap`` »: a page never walks every pair of the directory or of a
    large scope to count them)."""
    return _count(session, _within(select(DuplicatePair.id), within), cap)


def duplicate_pairs(session, page: int = 1, per_page: int = 50, within=None,
                    total: int | None = None, cap: int | None = None,
                    one_more: bool = False) -> list[tuple[Actor, Actor, list[str]]]:
    """One page of the stored likely pairs, strongest first (dismissed pairs are never stored); ``total``:
    how many pairs ``within`` holds, if known, counted up to ``cap`` (it chooses the way to the page, not the
    page). A scope holding more than ``cap`` pairs finds a page of them fastest in score order (the score index
    walked, each pair's two ids checked against the scope), a scope holding fewer through its own actors' pairs.
    ``one_more``: the first pair of the next page too, if any (whether there is a next page)."""
    by_score = within is not None and total is not None and cap is not None and total > cap
    rows = session.execute(_within(select(DuplicatePair.actor_a_id, DuplicatePair.actor_b_id,
                                          DuplicatePair.reasons), within, by_score)
                           .order_by(DuplicatePair.score.desc(), DuplicatePair.id)
                           .limit(per_page + one_more).offset((max(page, 1) - 1) * per_page)).all()
    actors = {a.id: a for a in session.scalars(select(Actor).options(lazyload("*")).where(
        Actor.id.in_({i for row in rows for i in row[:2]})))} if rows else {}  # the page shows their own columns
    return [(actors[a], actors[b], [str(REASONS[r]) for r in why.split(",") if r in REASONS])
            for a, b, why in rows]


def dismiss_pair(session, a: Actor, b: Actor, user: User | None):
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # As a refresh or a drain does (same order): one computing the pair now cannot store it back after this.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOG_LOCK})
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PAIRS_LOCK})
    low, high = sorted((a.id, b.id))
    if (low, high) not in dismissed_pairs(session):
        session.add(DuplicateDismissal(actor_a_id=low, actor_b_id=high, user_id=user.id if user else None))
        record_action(session, user, "duplicate.dismiss", ("pair", low, f"{a.name} / {b.name}"),
                      None, {"actors": [low, high]}, _networks_of(session, a, b))
    session.execute(delete(DuplicatePair).where(DuplicatePair.actor_a_id == low, DuplicatePair.actor_b_id == high))


def merge_actors(session, keep: Actor, drop: Actor, choices: dict[str, str], user: User | None,
                 versions: tuple[int | None, int | None] | None = None) -> Actor:
    """Merge ``drop`` into ``keep``: for each field take "keep", "drop" or (lists) "both".

    ``drop`` is archived and remembers where it went, so its URL redirects and its
    history stays readable. Both actors are locked first, so an edit of either
    happens wholly before the merge (which then takes its values) or after it
    (and is sent to ``keep``). With ``versions`` (of keep, of drop, when the
    choices were shown), a change since then raises ``EditConflict``; a version
    left out (None) is not checked: a merge writes choices, not values, so it
    takes whatever is current.
    """
    if keep.id == drop.id:
        raise OperationError(_("Choisissez deux fiches différentes."))
    lock_actors(session, keep, drop)
    if drop.merged_into_id or keep.merged_into_id:
        raise OperationError(_("Cette fiche a déjà été fusionnée."))
    for actor, version in zip((keep, drop), versions or ()):
        if version is not None:
            check_version(session, actor, version)
    vocab = Vocabulary(session)
    mine, theirs = actor_input(keep).as_dict(), actor_input(drop).as_dict()
    before = {"kept": actor_snapshot(keep), "merged": {**actor_snapshot(drop), "id": drop.id}}
    networks = _networks_of(session, keep, drop)
    values = {}
    for field in MERGEABLE:
        choice = choices.get(field, "keep")
        if choice == "both" and field in LIST_FIELDS:
            both = mine[field] + theirs[field]  # items may be dicts (partnerships): no set
            values[field] = [item for i, item in enumerate(both) if item not in both[:i]]
        else:
            values[field] = theirs[field] if choice == "drop" else mine[field]
    for field, name in (("domains", "domain"), ("activities", "activity")):
        order = list(vocab.terms[name])
        values[field] = sorted(values[field], key=order.index)
    merged = {keep.slug, drop.slug}  # neither may be a partner or a network of the merged entry
    values["networks"] = [n for n in values["networks"] if n["network"] not in merged]
    values["partnerships"] = [
        {**p, "partners": [{**q, "actor": None} if q["actor"] in merged else q for q in p["partners"]]}
        for p in values["partnerships"]]
    update_actor(session, keep, ActorInput(**values), vocab, user, action="merge")
    _claims_for_kept(session, keep, drop)
    if drop.status == "published":
        set_status(session, keep, "published", user, "publish")
    drop.merged_into_id = keep.id
    repoint_links(session, drop, keep)
    if not set_status(session, drop, "archived", user, "merged-away"):
        drop.updated_at = utcnow()
        record_revision(session, drop, user, "merged-away")
    for request in session.scalars(select(ChangeRequest).where(ChangeRequest.actor_id == drop.id,
                                                               ChangeRequest.status == "open")):
        request.status = "withdrawn"
        request.reason = _("Fiche fusionnée avec « %(name)s ».", name=keep.name)
    session.flush()
    record_action(session, user, "actor.merge", keep, before, {"kept": actor_snapshot(keep), "choices": choices},
                  networks)
    return keep


def _networks_of(session, *actors: Actor) -> list[int]:
    return list(dict.fromkeys(session.scalars(select(Membership.network_id)
                                              .where(Membership.actor_id.in_([a.id for a in actors])))))


def _claims_for_kept(session, keep: Actor, drop: Actor):
    """A merge never hands ``keep`` over: who had ``drop`` (its owner, its open claims) may only ask for it.

    Each of them gets an open claim on ``keep`` for a coordinator to decide, unless they manage it already
    or have asked already (both actors are locked: two merges at once open one claim).
    """
    wanting = ([drop.owner_id] if drop.owner_id else []) + list(session.scalars(
        select(ChangeRequest.user_id).where(ChangeRequest.actor_id == drop.id, ChangeRequest.kind == "claim",
                                            ChangeRequest.status == "open").order_by(ChangeRequest.id)))
    asked = set(session.scalars(select(ChangeRequest.user_id).where(
        ChangeRequest.actor_id == keep.id, ChangeRequest.kind == "claim", ChangeRequest.status == "open")))
    for user_id in dict.fromkeys(wanting):
        if user_id != keep.owner_id and user_id not in asked:
            session.add(ChangeRequest(kind="claim", actor_id=keep.id, user_id=user_id, message=_(
                "Demande ouverte par la fusion de « %(name)s » dans cette fiche : ce compte gérait ou "
                "demandait à gérer la fiche fusionnée.", name=drop.name)))


def merged_into(session, actor: Actor | None) -> Actor | None:
    """For an actor merged away, the published actor that stands for it now; else None."""
    if actor is None or not actor.merged_into_id:
        return None
    final = final_actor(session, actor)
    return final if final.is_published else None


def final_actor(session, actor: Actor) -> Actor:
    """Follow merges to the actor that now stands for ``actor``."""
    seen = set()
    while actor.merged_into_id and actor.id not in seen:
        seen.add(actor.id)
        actor = session.get(Actor, actor.merged_into_id)
    return actor
