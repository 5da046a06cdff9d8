"""BM25 sparse vectors: tokenising, stable ids, TF saturation."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from core.sparse import (
    DEFAULT_AVGDL,
    K1,
    SparseVec,
    document_vector,
    query_vector,
    tf_weight,
    token_id,
    tokenize,
)


def test_stemming_merges_singular_and_plural() -> None:
    assert tokenize("delivery") == tokenize("deliveries") == tokenize("Deliveries!")
    assert query_vector("delivery") == query_vector("deliveries")


def test_stopwords_are_dropped() -> None:
    assert tokenize("What are the opening hours of the shop?") == ["what", "open", "hour", "shop"]
    # Pronouns stay: they tell "call me Shane" from "I'm changing your name".
    assert "me" in tokenize("call me Shane") and "your" in tokenize("change your name")
    assert tokenize("the of and to") == []
    assert query_vector("is it the") == SparseVec((), ())


def test_token_id_is_a_stable_31_bit_number() -> None:
    assert token_id("deliveri") == 708246644
    assert token_id("营业") == 1917571325
    assert all(0 <= token_id(t) < 2**31 for t in ["", "a", "paynow", "营业", "வணக்கம்"])


def test_token_ids_agree_across_processes() -> None:
    code = "from core.sparse import query_vector; print(query_vector('refund policy').indices)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    ).stdout
    assert out.strip() == str(query_vector("refund policy").indices)


def test_chinese_is_split_into_character_bigrams() -> None:
    assert tokenize("营业时间") == ["营业", "业时", "时间"]
    assert tokenize("店") == ["店"]
    assert tokenize("iPhone手机 delivery") == ["手机", "iphon", "deliveri"]


def test_full_width_and_case_are_normalised() -> None:
    full_width_paynow = "\uff30\uff21\uff39\uff2e\uff2f\uff37"
    assert tokenize(full_width_paynow) == tokenize("PayNow") == ["paynow"]


def test_tamil_words_stay_whole() -> None:
    assert tokenize("வணக்கம் நண்பா") == ["வணக்கம்", "நண்பா"]


def test_tf_saturation_is_monotone_and_bounded() -> None:
    weights = [tf_weight(tf, 40) for tf in range(1, 50)]
    assert all(a < b for a, b in itertools.pairwise(weights))
    assert weights[-1] < K1 + 1
    assert tf_weight(1, int(DEFAULT_AVGDL)) == pytest.approx(1.0)


def test_longer_documents_weigh_a_term_less() -> None:
    assert tf_weight(2, 10) > tf_weight(2, 40) > tf_weight(2, 200)


def test_document_vector_weights_repeated_terms_higher() -> None:
    vector = document_vector("refund refund refund policy")
    weights = dict(zip(vector.indices, vector.values, strict=True))
    assert weights[token_id("refund")] > weights[token_id("polici")] > 0
    assert list(vector.indices) == sorted(vector.indices)


def test_avgdl_is_configurable() -> None:
    short = document_vector("refund policy", avgdl=2.0)
    assert short.values[0] == pytest.approx(tf_weight(1, 2, avgdl=2.0))
    assert short.values[0] == pytest.approx(1.0)


def test_query_vector_has_unit_weights_for_distinct_terms() -> None:
    vector = query_vector("refund refund policy")
    assert vector.values == (1.0, 1.0)
    assert set(vector.indices) == {token_id("refund"), token_id("polici")}


def test_sparse_vec_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError):
        SparseVec((1, 2), (1.0,))
