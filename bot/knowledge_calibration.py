"""The knowledge base's calibration: made when the knowledge changes, kept in PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import structlog

from core.calibration import Calibration, ProbeRetrieval, calibrate_index, fingerprint
from core.compose import Thresholds
from core.knowledge import Chunk
from core.store import KnowledgeCatalog
from knowledge_base.loaders import DocumentError, load_document

log = structlog.get_logger(__name__)


async def ensure_calibration(
    pool: asyncpg.Pool,
    catalog: KnowledgeCatalog,
    retrieval: ProbeRetrieval,
    model: str,
    *,
    force: bool = False,
) -> Calibration:
    """The stored calibration of the current knowledge, or a new one made and stored now."""
    rows = [r for r in await catalog.list_documents() if r.state == "ready"]
    made_from = fingerprint(model, [(r.path, r.content_hash) for r in rows])
    stored = None if force else await load_calibration(pool, made_from)
    if stored is not None:
        return stored
    chunks = await asyncio.to_thread(_chunks, [r.path for r in rows])
    calibration = await calibrate_index(retrieval, chunks)
    await save_calibration(pool, made_from, calibration)
    log.info(
        "knowledge_calibrated",
        answer=calibration.answer,
        by_language=calibration.by_language,
        in_scope_probes=calibration.in_scope,
    )
    return calibration


def _chunks(paths: list[str]) -> list[Chunk]:
    """The chunks of the knowledge files that can still be read (the rest are left out)."""
    chunks: list[Chunk] = []
    for path in paths:
        try:
            chunks.extend(load_document(Path(path)).chunks)
        except (DocumentError, OSError) as error:
            log.warning("calibration_file_skipped", path=path, error=str(error))
    return chunks


async def load_calibration(pool: asyncpg.Pool, made_from: str) -> Calibration | None:
    """The stored calibration when it was made from this fingerprint, else None."""
    row = await pool.fetchrow(
        "SELECT calibration FROM knowledge_calibration WHERE id = 1 AND fingerprint = $1",
        made_from,
    )
    if row is None:
        return None
    data = json.loads(row["calibration"])
    return Calibration.from_json(data) if isinstance(data, dict) else None


async def save_calibration(pool: asyncpg.Pool, made_from: str, calibration: Calibration) -> None:
    """Store a calibration, replacing the one before."""
    await pool.execute(
        "INSERT INTO knowledge_calibration (id, fingerprint, calibration) VALUES (1, $1, $2)"
        " ON CONFLICT (id) DO UPDATE SET fingerprint = EXCLUDED.fingerprint,"
        " calibration = EXCLUDED.calibration, created_at = now()",
        made_from,
        json.dumps(calibration.to_json()),
    )


def describe_thresholds(thresholds: Thresholds) -> str:
    """The thresholds in use, one line per language."""
    lines = [
        f'In use: answer from {thresholds.answer:.3f}, "Did you mean" from '
        f"{thresholds.choice:.3f}, lead over the runner-up {thresholds.margin:.3f}."
    ]
    for code, (answer, choice) in sorted(thresholds.by_language.items()):
        lines.append(f"  questions in {code}: answer from {answer:.3f}, choices from {choice:.3f}")
    return "\n".join(lines)
