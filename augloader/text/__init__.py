"""Text augmentation: EDA (Wei and Zou, 2019) and back translation, fully offline.

Transforms take a ``str`` or a ``list[str]`` batch. Synonyms come from the Debian
``mythes-en-us`` thesaurus (or ``wordnet-base``, a dict, or a callable); back translation
runs Apertium (``apertium`` + ``apertium-eng-spa``) with an on-disk cache.
"""

from .apertium import ApertiumTranslator
from .backtranslation import BackTranslation
from .base import TextTransform
from .cache import TranslationCache, cache_key
from .collate import TextAugmentCollate
from .config import build_text_transforms, load_text_config
from .corpus import fortune_sentences, load_fortunes
from .eda import EDA
from .lexicon import Lexicon
from .marian import MarianTranslator
from .mythes import MyThesThesaurus
from .stopwords import DEFAULT_PROTECTED, ENGLISH_STOPWORDS
from .thesaurus import CallableThesaurus, DictThesaurus, Thesaurus, resolve_thesaurus
from .tokens import detokenize, tokenize
from .translator import BackendUnavailableError, Translator
from .word_ops import RandomDeletion, RandomInsertion, RandomSwap, SynonymReplacement
from .wordnet import WordNetThesaurus

__all__ = [
    "ApertiumTranslator",
    "BackTranslation",
    "BackendUnavailableError",
    "CallableThesaurus",
    "DEFAULT_PROTECTED",
    "DictThesaurus",
    "EDA",
    "ENGLISH_STOPWORDS",
    "Lexicon",
    "MarianTranslator",
    "MyThesThesaurus",
    "RandomDeletion",
    "RandomInsertion",
    "RandomSwap",
    "SynonymReplacement",
    "TextAugmentCollate",
    "TextTransform",
    "Thesaurus",
    "TranslationCache",
    "Translator",
    "WordNetThesaurus",
    "build_text_transforms",
    "cache_key",
    "detokenize",
    "fortune_sentences",
    "load_fortunes",
    "load_text_config",
    "resolve_thesaurus",
    "tokenize",
]
