"""Default English stopword and protected-word lists for the EDA transforms.

Stopwords are never replaced by synonyms nor used as the source of an insertion (their
thesaurus entries are mostly noise: "a" -> "angstrom"). Protected words are never deleted,
swapped, replaced or used for insertion; by default these are negations, so that a label
such as sentiment survives augmentation.
"""

from __future__ import annotations

__all__ = ["ENGLISH_STOPWORDS", "DEFAULT_PROTECTED"]

#: Negations and negated contractions (lower case); the default ``protected`` list.
DEFAULT_PROTECTED: frozenset[str] = frozenset(
    """
    not no never nor neither none nobody nothing nowhere cannot without
    don't doesn't didn't isn't aren't wasn't weren't won't wouldn't can't couldn't
    shouldn't haven't hasn't hadn't mustn't needn't shan't mightn't ain't
    don’t doesn’t didn’t isn’t aren’t wasn’t weren’t won’t wouldn’t can’t couldn’t
    shouldn’t haven’t hasn’t hadn’t mustn’t needn’t shan’t mightn’t ain’t
    """.split()
)

#: Function words (lower case), close to the list used by the EDA reference code.
ENGLISH_STOPWORDS: frozenset[str] = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such only own same so than too very s t can will just should
    now d ll m o re ve y ma i'm you're he's she's it's we're they're i've you've we've
    they've i'd you'd he'd she'd we'd they'd i'll you'll he'll she'll we'll they'll that's
    there's what's let's would could shall may might must also yet
    """.split()
)
