"""Qdrant filters on the payload fields the index keeps keyword indexes for."""

from __future__ import annotations

from qdrant_client import models as qm

from core.index_points import IndexQuery


def match_filter(key: str, value: str) -> qm.Filter:
    """Filter: payload key equals value."""
    return qm.Filter(must=[qm.FieldCondition(key=key, match=qm.MatchValue(value=value))])


def query_filter(query: IndexQuery) -> qm.Filter | None:
    """Filter on chunk kind and document, or None for everything."""
    conditions: list[qm.Condition] = []
    if query.kinds:
        kinds = [k.value for k in query.kinds]
        conditions.append(qm.FieldCondition(key="kind", match=qm.MatchAny(any=kinds)))
    if query.document is not None:
        conditions.append(
            qm.FieldCondition(key="document", match=qm.MatchValue(value=query.document))
        )
    return qm.Filter(must=conditions) if conditions else None
