"""BM25 sparse vectors: term-frequency weights for Qdrant sparse vectors with the IDF modifier."""

from __future__ import annotations

import re
import threading
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass

import Stemmer

K1 = 1.2
B = 0.75
DEFAULT_AVGDL = 40.0
"""Average document length in tokens; FAQ-sized chunks are a few dozen words."""

_WORD_RE = re.compile(r"(?:[^\W_]|[\u0300-\u036f\u0900-\u0dff])+")
"""Runs of letters and digits; the Indic blocks keep Tamil vowel signs inside their word."""

_CJK_RE = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]+"
)
"""Han, kana and Hangul: scripts written without spaces between words."""

# Lucene's classic English stop set. A longer list dropped words that tell questions apart
# ("call me Shane" vs "I'm changing your name"): measured in bench/QUALITY.md.
_STOPWORD_TEXT = """
    a an and are as at be but by for if in into is it no not of on or such that the their then
    there these they this to was will with
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_TEXT.split())
"""Function words that carry no meaning for matching."""

_local = threading.local()


@dataclass(frozen=True, slots=True)
class SparseVec:
    """A sparse vector: token ids in ascending order and their weights."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.indices) != len(self.values):
            raise ValueError("SparseVec needs as many values as indices")


def _stemmer() -> Stemmer.Stemmer:
    """The calling thread's English Snowball stemmer (stemmer objects are not thread-safe)."""
    stemmer: Stemmer.Stemmer | None = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = Stemmer.Stemmer("english")
        _local.stemmer = stemmer
    return stemmer


def _cjk_grams(run: str) -> list[str]:
    """Character bigrams of a CJK run (the run itself when it is one character)."""
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def tokenize(text: str) -> list[str]:
    """Split text into index terms: casefolded, stopwords dropped, stemmed; CJK as bigrams."""
    normalized = unicodedata.normalize("NFKC", text).casefold()
    words: list[str] = []
    terms: list[str] = []
    for word in _WORD_RE.findall(normalized):
        position = 0
        for match in _CJK_RE.finditer(word):
            words.append(word[position : match.start()])
            terms.extend(_cjk_grams(match.group()))
            position = match.end()
        words.append(word[position:])
    kept = [word for word in words if word and word not in STOPWORDS]
    terms.extend(_stemmer().stemWords(kept))
    return terms


def token_id(term: str) -> int:
    """Stable 31-bit id of a term (CRC-32 of its UTF-8 bytes), the same in every process."""
    return zlib.crc32(term.encode("utf-8")) & 0x7FFFFFFF


def tf_weight(
    tf: int, doclen: int, *, avgdl: float = DEFAULT_AVGDL, k1: float = K1, b: float = B
) -> float:
    """BM25 term-frequency saturation: tf*(k1+1)/(tf+k1*(1-b+b*doclen/avgdl))."""
    return tf * (k1 + 1) / (tf + k1 * (1 - b + b * doclen / avgdl))


def _term_counts(text: str) -> tuple[Counter[int], int]:
    """Term frequencies by token id, and the number of terms in the text."""
    terms = tokenize(text)
    return Counter(token_id(term) for term in terms), len(terms)


def document_vector(
    text: str, *, avgdl: float = DEFAULT_AVGDL, k1: float = K1, b: float = B
) -> SparseVec:
    """Sparse vector of a document to index: BM25-saturated term frequencies (Qdrant adds IDF)."""
    counts, doclen = _term_counts(text)
    ids = sorted(counts)
    return SparseVec(
        indices=tuple(ids),
        values=tuple(tf_weight(counts[i], doclen, avgdl=avgdl, k1=k1, b=b) for i in ids),
    )


def query_vector(text: str) -> SparseVec:
    """Sparse vector of a query: weight 1 for every distinct term."""
    counts, _ = _term_counts(text)
    ids = sorted(counts)
    return SparseVec(indices=tuple(ids), values=(1.0,) * len(ids))
