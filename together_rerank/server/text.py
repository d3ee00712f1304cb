"""Text analysis shared by the local engines: BM25 terms and usage token counts.

Terms (what BM25 and the hashed embedding match on) come from one deterministic
function, `terms`:

1. `normalize`: Unicode NFKC, case folding (`str.casefold`, a stronger
   lowercase: "Straße" -> "strasse"), then NFKC again, so that the same word
   typed differently matches: a precomposed "café" and "cafe" + U+0301,
   fullwidth "Tokyo" (U+FF34 U+FF4F ...) and "tokyo", "ﬁle" and "file". Case folding turns
   "İ" (capital I with dot) into "i" + U+0307, which has no composed form; that
   pair becomes a plain "i", so "İstanbul" matches "istanbul".
2. Words are maximal runs of Unicode letters and digits (`[^\\W_]+`), plus the
   combining diacritical marks U+0300-U+036F inside a word (left by NFKC where
   no composed letter exists), so punctuation, whitespace and underscores
   separate words: "retrieval-augmented" gives "retrieval" and "augmented".
3. Words in `STOPWORDS` (a small built-in English list) are dropped, so that
   "What is RAG?" does not match every document containing "is".
4. A tiny plural stemmer on alphabetic words, after Porter's step 1a:
   "-sses" -> "-ss", "-ies" -> "-y" (words longer than four letters), words
   ending in "ss", "us" or "is" are kept, and any other final "s" is dropped
   from words longer than three letters ("frameworks" -> "framework").

Usage tokens (`count_usage_tokens`) are a different, simpler count: every run of
word characters and every single punctuation character is one token, and
nothing is dropped. That is an approximation of a subword tokenizer's count, not
a reproduction of any hosted model's tokenizer.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Needed because a per-request corpus of a few documents gives IDF no way to
# learn that "is" is common; kept small so that short queries keep their meaning.
_STOPWORD_TEXT = (
    "a about after all also am an and any are as at be because been before being between "
    "both but by can could did do does doing down during each few for from further had "
    "has have having he her here hers him his how i if in into is it its itself just me "
    "more most my no nor not of off on once only or other our ours out over own same she "
    "should so some such than that the their theirs them then there these they this "
    "those through to too under until up very was we were what when where which while "
    "who whom why will with would you your yours"
)
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_TEXT.split())
"""Words that `terms` drops."""

_WORD = re.compile(r"[^\W_]+")
# Combining marks that NFKC leaves (no composed letter exists) stay inside their word.
# Rare, so texts without one take the plain, faster pattern.
_MARK = re.compile(r"[\u0300-\u036f]")
_WORD_WITH_MARKS = re.compile(r"[^\W_]+(?:[\u0300-\u036f]+[^\W_]*)*")
# One usage token is a run of word characters or a single visible non-word character.
_USAGE_TOKEN = re.compile(r"\w+|[^\w\s]")


def stem(word: str) -> str:
    """Strip an English plural ending from an already case-folded word."""
    if not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("ies"):
        return word[:-3] + "y" if len(word) > 4 else word
    if word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("s"):
        return word[:-1]
    return word


def normalize(text: str) -> str:
    """NFKC, case-fold, NFKC: the form in which two spellings of one word are equal."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return folded.replace("i\u0307", "i")


def words(text: str) -> list[str]:
    """Split normalized text into words, keeping stopwords and inflections."""
    folded = normalize(text)
    pattern = _WORD_WITH_MARKS if _MARK.search(folded) else _WORD
    return pattern.findall(folded)


@lru_cache(maxsize=1 << 16)
def _term(word: str) -> str | None:
    # Cached: word frequencies are Zipfian, so most lookups repeat.
    return None if word in STOPWORDS else stem(word)


def terms(text: str) -> list[str]:
    """Return the matching terms of a text: case-folded words minus stopwords, stemmed."""
    return [term for term in map(_term, words(text)) if term is not None]


def count_usage_tokens(text: str) -> int:
    """Count the tokens that a request's `usage` reports for this text."""
    return len(_USAGE_TOKEN.findall(text))
