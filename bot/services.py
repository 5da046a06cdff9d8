"""Builds the real collaborators from settings: storage, model, index, core. Only bot/ wires."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from types import TracebackType

import asyncpg
import structlog
from redis.asyncio import BlockingConnectionPool, Redis

from bot.config import Settings
from bot.embedded.servers import EmbeddedServices
from bot.knowledge_calibration import ensure_calibration
from bot.learned_knowledge import LearnedKnowledge
from bot.owner_replies import OwnerReplies
from bot.queue.dead_letters import DeadLetterCopies
from bot.thresholds import default_thresholds
from channels.email.mailbox import mail_sender
from channels.registry import plugs
from channels.webchat.store import WebChatCopies
from core.calibration import Calibration
from core.compose import Composer, OfflineComposer, Thresholds
from core.consent import PrivacyNotice
from core.conversation import ConversationCore
from core.data_rights import DataRights
from core.edge_index import EdgeIndex
from core.embedding import LocalEmbedder, load_embedder, vectors_name
from core.escalation import EscalationPolicy, HandoffNotices
from core.greetings import Greetings
from core.language import LanguageDetector
from core.lazy_embedding import LazyEmbedder
from core.memory import RedisMemory
from core.migrate import apply_migrations
from core.personal_data_store import PostgresPersonalData
from core.rating_store import PostgresRatings
from core.retrieval import Retriever
from core.store import PostgresStore
from core.suggestion_store import PostgresSuggestions
from core.suggestions import ConfidentAnswer, SuggestedKnowledge
from core.summaries import VectorSummaries
from core.vector_index import VectorIndex
from knowledge_base.ingest import Ingestor

log = structlog.get_logger(__name__)

REDIS_MAX_CONNECTIONS = 64
"""Connections one process opens to Redis at most: webhooks and every worker task share them."""
REDIS_WAIT_SECONDS = 5.0
"""How long a command waits for a free connection before it fails (then a webhook answers 503)."""


def redis_client(
    url: str,
    max_connections: int = REDIS_MAX_CONNECTIONS,
    wait_seconds: float = REDIS_WAIT_SECONDS,
) -> Redis:
    """A client whose commands wait for a free connection instead of failing when all are busy.

    redis-py's default pool raises "Too many connections" at once when it is full, so a burst
    of webhooks got 503s; the blocking pool queues them for up to wait_seconds instead.
    """
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=wait_seconds
    )
    return Redis.from_pool(pool)  # the client owns the pool and closes it with itself


@dataclass
class Storage:
    """Connections to PostgreSQL and Redis (the vector index is the answering side's)."""

    pool: asyncpg.Pool
    redis: Redis
    store: PostgresStore


class Services:
    """Everything the bot runs on, started in order and stopped in reverse."""

    def __init__(self, settings: Settings, load_model: bool = True) -> None:
        """load_model: open the model, the vector index and the conversation core (to answer).

        Without it (webhooks only, most CLI commands) only PostgreSQL and Redis are opened,
        and `embedder` loads the model only if something embeds (the weekly report).
        """
        self.settings = settings
        self._load_model = load_model
        self._stack = AsyncExitStack()
        self.storage: Storage
        self.embedder: LocalEmbedder
        self.index: VectorIndex
        self.retriever: Retriever
        self.core: ConversationCore
        self.ingestor: Ingestor
        self.summaries: VectorSummaries
        self.rights: DataRights
        self.learned: LearnedKnowledge
        self._offline: OfflineComposer

    async def __aenter__(self) -> Services:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        """Start embedded services where no URL is set, connect, migrate, load the model."""
        s = self.settings
        self.storage = await self._open_storage()
        if not self._load_model:
            name = vectors_name(s.embedding_model, s.embedding_int8)
            self.embedder = LazyEmbedder(name, self.load_embedder)
            self._stack.callback(self.embedder.close)
            return
        self.embedder = await asyncio.to_thread(self.load_embedder)
        self._stack.callback(self.embedder.close)
        self.index = self._open_index(s.qdrant_collection)
        self._stack.push_async_callback(self.index.close)
        # Creates the collection, or embeds the knowledge again when the model changed.
        self.ingestor = Ingestor(self.storage.store, self.index, self.embedder)
        await self.ingestor.open()
        retention = timedelta(days=s.retention_days)
        # Recent turns must not outlive the retention period; they expire on their own.
        ttl = min(s.memory_ttl_seconds, int(retention.total_seconds()))
        memory = RedisMemory(self.storage.redis, window=s.memory_turns, ttl_seconds=ttl)
        summary_index = self._open_index(f"{s.qdrant_collection}_summaries")
        self._stack.push_async_callback(summary_index.close)
        self.summaries = VectorSummaries(summary_index, self.embedder)
        await self.summaries.open()
        self.rights = self.data_rights(memory, self.summaries)
        # An erasure interrupted last time (its memory or vectors not yet removed) ends now.
        await self.rights.finish_pending()
        detector = await self._open_retrieval()
        self.core = self._conversation_core(memory, detector)
        if await self.storage.store.list_documents():
            await self.calibrate()

    def load_embedder(self) -> LocalEmbedder:
        """The configured embedding model, loaded now (blocking: call it in a thread)."""
        s = self.settings
        return load_embedder(s.embedding_model, quantize=s.embedding_int8, cache_dir=s.models_dir)

    async def _open_storage(self) -> Storage:
        """Start embedded PostgreSQL and Valkey where no URL is set; connect and migrate."""
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        database_url = s.database_url.get_secret_value() if s.database_url else None
        redis_url = s.redis_url.get_secret_value() if s.redis_url else None
        if database_url is None or redis_url is None:
            embedded = EmbeddedServices(
                s.data_dir, postgres=database_url is None, valkey=redis_url is None
            )
            await asyncio.to_thread(embedded.start)
            self._stack.push_async_callback(asyncio.to_thread, embedded.stop)
            database_url = database_url or embedded.database_url
            redis_url = redis_url or embedded.redis_url
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
        self._stack.push_async_callback(pool.close)
        applied = await apply_migrations(pool)
        if applied:
            log.info("migrations_applied", names=applied)
        redis = redis_client(redis_url)
        self._stack.push_async_callback(redis.aclose)
        return Storage(pool=pool, redis=redis, store=PostgresStore(pool))

    async def _open_retrieval(self) -> LanguageDetector:
        """The language detector and the retriever over the knowledge index."""
        detector = await asyncio.to_thread(LanguageDetector)
        self.retriever = Retriever(self.embedder, self.index, detector=detector)
        self._stack.push_async_callback(self.retriever.close)
        return detector

    def _conversation_core(
        self, memory: RedisMemory, detector: LanguageDetector
    ) -> ConversationCore:
        """The conversation core, and the learned-knowledge loop its staff answers feed."""
        s = self.settings
        pool = self.storage.pool
        suggestions = PostgresSuggestions(pool)
        known = ConfidentAnswer(self.retriever, lambda: self.thresholds)
        # The shop's own address and WhatsApp number stay readable in suggested answers.
        public = [c for plug in plugs() for c in plug.own_contacts(s)]
        self.learned = LearnedKnowledge(suggestions, s.learned_faq, self.ingestor, self.calibrate)
        return ConversationCore(
            self.storage.store,
            memory,
            self.retriever,
            self._composer(),
            Greetings(s.business_name),
            self.summaries,
            policy=EscalationPolicy.from_keywords(s.escalation_keywords.split(",")),
            notices=HandoffNotices(s.calendar),
            detector=detector,
            privacy=PrivacyNotice(
                s.privacy_url or "", required=s.require_consent, custom_text=s.privacy_notice_text
            ),
            rights=self.rights,
            staff_answers=SuggestedKnowledge(
                suggestions, self.embedder, known, public_contacts=public
            ),
            owner_replies=OwnerReplies(suggestions, self.learned, s.staff_senders, mail_sender(s)),
            ratings=PostgresRatings(pool, timedelta(minutes=s.rating_comment_minutes)),
        )

    @property
    def answers(self) -> bool:
        """Whether this process answers: model, vector index and conversation core open."""
        return self._load_model

    @property
    def thresholds(self) -> Thresholds:
        """The thresholds the offline composer uses now."""
        return self._offline.thresholds

    async def calibrate(self, force: bool = False) -> Calibration:
        """Calibrate the thresholds for the knowledge base (again only when it changed).

        Explicit ANSWER_THRESHOLD or CHOICE_THRESHOLD settings win over the calibration.
        """
        s = self.settings
        calibration = await ensure_calibration(
            self.storage.pool,
            self.storage.store,
            self.retriever,
            self.embedder.name,
            force=force,
        )
        if s.answer_threshold is None and s.choice_threshold is None:
            self._offline.thresholds = calibration.apply(self._base_thresholds())
        return calibration

    def _base_thresholds(self) -> Thresholds:
        """The model's validated thresholds with the settings' answer margin and overrides."""
        s = self.settings
        answer, choice = s.thresholds
        base = default_thresholds(s.embedding_model, s.embedding_int8)
        # A stricter or looser English threshold moves the other languages' along with it.
        shift = answer - base.answer
        by_language = {k: (a + shift, c + shift) for k, (a, c) in base.by_language.items()}
        return replace(
            base, answer=answer, choice=choice, margin=s.answer_margin, by_language=by_language
        )

    def data_rights(
        self, memory: RedisMemory | None = None, summaries: VectorSummaries | None = None
    ) -> DataRights:
        """Erasure, export and retention over this process's connections.

        Without summaries (a CLI command that does not open the vector store) erasures stay
        pending until a process holding the vectors finishes them.
        """
        s, storage = self.settings, self.storage
        memory = memory or RedisMemory(storage.redis)
        return DataRights(
            PostgresPersonalData(storage.pool),
            [memory, DeadLetterCopies(storage.redis), WebChatCopies(storage.redis)],
            summaries,
            timedelta(days=s.retention_days),
            zone=s.zone,
        )

    def _open_index(self, collection: str) -> VectorIndex:
        """A Qdrant server when QDRANT_URL is set, else the embedded engine in the data folder."""
        s = self.settings
        if s.qdrant_url or s.embedded_vector_engine == "local":
            # qdrant-client is imported only here: the embedded default never needs it.
            from core.qdrant_index import QdrantClientIndex
        if s.qdrant_url:
            key = s.qdrant_api_key.get_secret_value() if s.qdrant_api_key else None
            return QdrantClientIndex(
                url=s.qdrant_url, path=None, collection=collection, api_key=key
            )
        if s.embedded_vector_engine == "local":
            # Local mode locks its folder, so each collection gets a folder of its own.
            path = Path(s.data_dir) / "qdrant-local" / collection
            return QdrantClientIndex(url=None, path=str(path), collection=collection)
        return EdgeIndex(str(Path(s.data_dir) / "qdrant-edge"), collection)

    def _composer(self) -> Composer:
        """The offline composer, or the LLM one in front of it when a key is configured."""
        s = self.settings
        offline = self._offline = OfflineComposer(self._base_thresholds())
        if not s.llm_enabled or s.openai_api_key is None:
            return offline
        from openai import AsyncOpenAI  # about 50 MiB: only when an LLM is configured

        from core.llm_compose import LlmComposer

        client = AsyncOpenAI(
            api_key=s.openai_api_key.get_secret_value(),
            base_url=s.openai_base_url,
            timeout=s.llm_timeout_seconds,
            max_retries=1,
        )
        self._stack.push_async_callback(client.close)
        return LlmComposer(client, s.openai_model, s.business_name, offline)
