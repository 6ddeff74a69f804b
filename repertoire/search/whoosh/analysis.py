"""Analysis: the French and folding analyzers, one pass per value (Whoosh's chains as reference)."""
from __future__ import annotations

import re

from whoosh.analysis import (CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter, Token,
                             Tokenizer)
from whoosh.lang import stemmer_for_language, stopwords_for_language
from whoosh.support.charset import accent_map

_WORD = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)  # RegexTokenizer's default pattern


class _WordAnalyzer(Tokenizer):
    """Words of ``_WORD``, lower-cased, then turned into terms by ``_term``, in one pass.

    What a composed Whoosh chain does, without a generator per filter:
    indexing spends most of its time here. ``positions`` gives a bulk build
    each term's positions directly (see ``bulk``).
    """

    stops: frozenset = frozenset()

    def __init__(self):
        self.cache: dict[str, str] = {}  # lower-case word -> term
        self.raw: dict[str, bytes | bool] = {}  # word as written -> term in UTF-8, False if a stop word

    def __eq__(self, other):
        return type(other) is type(self)

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.__init__()

    def _convert(self, word: str) -> str:
        raise NotImplementedError

    def _term(self, word: str) -> str:
        term = self.cache.get(word)
        if term is None:
            term = self._convert(word)
            if len(self.cache) < 500_000:
                self.cache[word] = term
        return term

    def positions(self, value: str) -> dict[bytes, list[int]]:
        """term (UTF-8) -> positions of the words kept, as ``__call__(value, positions=True)`` numbers them."""
        found: dict[bytes, list[int]] = {}
        known = self.raw
        pos = None
        for index, word in enumerate(_WORD.findall(value)):
            term = known.get(word)
            if term is None:
                term = self._raw_term(word)
            if term is False:  # a stop word
                continue
            pos = index if pos is None else pos + 1
            places = found.get(term)
            if places is None:
                found[term] = [pos]
            else:
                places.append(pos)
        return found

    def _raw_term(self, word: str):
        """The term of a word as written (False for a stop word), remembered."""
        lowered = word.lower()
        term = False if lowered in self.stops else self._term(lowered).encode("utf-8")
        if len(self.raw) < 500_000:
            self.raw[word] = term
        return term

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        matches = _WORD.finditer(value) if tokenize else [re.match(r"(?s).*", value)]
        pos = None  # as StopFilter(renumber=True): the first kept word keeps its place, then +1 each
        for index, match in enumerate(matches, start_pos):
            word = match.group(0).lower()
            stopped = word in self.stops
            if stopped and removestops:
                continue
            if not stopped:
                pos = index if pos is None else pos + 1
            token.text = word if stopped else self._term(word)
            token.stopped = stopped
            token.boost = 1.0
            if keeporiginal:
                token.original = match.group(0)
            if positions:
                token.pos = index if stopped else pos
            if chars:
                token.startchar, token.endchar = start_char + match.start(), start_char + match.end()
            yield token


class FrenchAnalyzer(_WordAnalyzer):
    """Lower case, stop words, then accent folding, then French stemming.

    The same steps in the same order as ``RegexTokenizer | LowercaseFilter |
    StopFilter | CharsetFilter | StemFilter`` (WHOOSH-NOTES: stop words before
    folding before stemming).
    """

    def __init__(self):
        super().__init__()
        self.stops = frozenset(stopwords_for_language("fr"))
        self.stem = stemmer_for_language("fr")

    def _convert(self, word: str) -> str:
        return self.stem(accent_fold(word))


class FoldingAnalyzer(_WordAnalyzer):
    """Words in lower case without accents, no stemming (names, places):
    ``RegexTokenizer | LowercaseFilter | CharsetFilter(accent_map)``."""

    def _convert(self, word: str) -> str:
        return accent_fold(word)


def accent_fold(word: str) -> str:
    return word.translate(accent_map) if not word.isascii() else word


def french_analyzer():
    return FrenchAnalyzer()


def reference_french_analyzer():
    """Whoosh's composed chain that ``FrenchAnalyzer`` must match term for term (tests check it)."""
    return (RegexTokenizer() | LowercaseFilter()
            | StopFilter(stoplist=stopwords_for_language("fr"), minsize=1)
            | CharsetFilter(accent_map) | StemFilter(lang="fr"))


def folding_analyzer():
    return FoldingAnalyzer()


def reference_folding_analyzer():
    """Whoosh's composed chain that ``FoldingAnalyzer`` must match term for term (tests check it)."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)
