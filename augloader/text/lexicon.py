"""Per-word facts the EDA operations need, computed once per distinct token and cached."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .stopwords import DEFAULT_PROTECTED, ENGLISH_STOPWORDS
from .thesaurus import POS_CODES, Thesaurus, ThesaurusSource, penn_to_pos, resolve_thesaurus

__all__ = ["Lexicon", "PosTagger", "PUNCT", "PROTECTED", "STOP", "CONTENT"]

#: Token kinds returned by :meth:`Lexicon.kind`.
PUNCT, PROTECTED, STOP, CONTENT = 0, 1, 2, 3

#: Tags a list of tokens with WordNet POS codes (``"n"``, ``"v"``, ``"a"``, ``"r"``), Penn
#: Treebank tags, or ``None``; one tag per token.
PosTagger = Callable[[Sequence[str]], Sequence["str | None"]]


def _lower_set(words: Iterable[str] | None, default: frozenset[str], what: str) -> frozenset[str]:
    if words is None:
        return default
    if isinstance(words, str):
        raise TypeError(f"{what} must be an iterable of words, not a single str")
    out = []
    for w in words:
        if not isinstance(w, str):
            hint = ' (quote words such as "no" in YAML, which reads them as booleans)' if isinstance(w, bool) else ""
            raise TypeError(f"{what} must contain str, got {w!r}{hint}")
        out.append(w.lower())
    return frozenset(out)


class Lexicon:
    """Classifies tokens (punctuation / protected / stopword / content) and finds synonyms.

    Args:
        thesaurus: Any source accepted by :func:`~augloader.text.thesaurus.resolve_thesaurus`.
        stopwords: Words never replaced nor used for insertion (default: English list).
        protected: Words never deleted, swapped, replaced or used for insertion (default:
            negations such as "not", "no", "never").
        pos_tagger: Optional tagger; when given, synonyms are restricted to the word's POS.
    """

    def __init__(
        self,
        thesaurus: ThesaurusSource = None,
        stopwords: Iterable[str] | None = None,
        protected: Iterable[str] | None = None,
        pos_tagger: PosTagger | None = None,
    ) -> None:
        self._thesaurus_source = thesaurus
        self._thesaurus: Thesaurus | None = None if thesaurus is None else resolve_thesaurus(thesaurus)
        self.stopwords = _lower_set(stopwords, ENGLISH_STOPWORDS, "stopwords")
        self.protected = _lower_set(protected, DEFAULT_PROTECTED, "protected")
        if pos_tagger is not None and not callable(pos_tagger):
            raise TypeError(f"pos_tagger must be callable, got {type(pos_tagger).__name__}")
        self.pos_tagger = pos_tagger
        self._kinds: dict[str, int] = {}
        self._syn: dict[tuple[str, str | None], tuple[str, ...]] = {}
        self._syn_tok: dict[str, tuple[str, ...]] = {}

    @property
    def thesaurus(self) -> Thesaurus:
        """The synonym source; the default (MyThes) is resolved on first use, its data loaded lazily."""
        if self._thesaurus is None:
            self._thesaurus = resolve_thesaurus(self._thesaurus_source)
        return self._thesaurus

    def kind(self, token: str) -> int:
        """Return :data:`PUNCT`, :data:`PROTECTED`, :data:`STOP` or :data:`CONTENT` for ``token``."""
        k = self._kinds.get(token)
        if k is None:
            if not (token[:1].isalnum() or token[:1] == "_"):
                k = PUNCT
            else:
                low = token.lower()
                k = PROTECTED if low in self.protected else STOP if low in self.stopwords else CONTENT
            self._kinds[token] = k
        return k

    def kinds(self, tokens: Sequence[str]) -> list[int]:
        """Return :meth:`kind` for every token."""
        get, kind = self._kinds.get, self.kind
        return [k if (k := get(t)) is not None else kind(t) for t in tokens]

    def tags(self, tokens: Sequence[str]) -> list[str | None] | None:
        """Return one WordNet POS code (or ``None``) per token, or ``None`` without a tagger."""
        if self.pos_tagger is None:
            return None
        tags = list(self.pos_tagger(tokens))
        if len(tags) != len(tokens):
            raise ValueError(f"pos_tagger returned {len(tags)} tags for {len(tokens)} tokens")
        return [t if t is None or t in POS_CODES else penn_to_pos(t) for t in tags]

    def synonyms(self, token: str, pos: str | None = None) -> tuple[str, ...]:
        """Return the cached synonyms of ``token`` (case-insensitive), for ``pos`` when given.

        Synonyms containing a protected word are dropped, so replacement and insertion can
        never add a negation.
        """
        if pos is None:
            syns = self._syn_tok.get(token)
            if syns is not None:
                return syns
        key = (token.lower(), pos)
        syns = self._syn.get(key)
        if syns is None:
            prot = self.protected  # a synonym must not smuggle in a negation ("non" -> "not")
            syns = tuple(
                w for w in self.thesaurus.synonyms(key[0], pos) if not any(p in prot for p in w.lower().split())
            )
            self._syn[key] = syns
        if pos is None:
            self._syn_tok[token] = syns
        return syns

    def candidates(self, tokens: Sequence[str], kinds: Sequence[int], tags: Sequence[str | None] | None) -> list[int]:
        """Indices of content words that have at least one synonym (for replacement/insertion)."""
        syn = self.synonyms
        if tags is not None:
            return [i for i, k in enumerate(kinds) if k == CONTENT and syn(tokens[i], tags[i])]
        get = self._syn_tok.get
        out = []
        for i, k in enumerate(kinds):
            if k == CONTENT:
                t = tokens[i]
                s = get(t)
                if s is None:
                    s = syn(t)
                if s:
                    out.append(i)
        return out

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state["_kinds"], state["_syn"], state["_syn_tok"] = {}, {}, {}
        return state


def match_case(source: str, word: str) -> str:
    """Give ``word`` the capitalisation pattern of ``source`` (UPPER, Title or as is)."""
    if len(source) > 1 and source.isupper():
        return word.upper()
    if source[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
