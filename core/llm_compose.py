"""Optional LLM composer on any OpenAI-compatible endpoint, falling back to the offline one."""

from __future__ import annotations

import structlog
from openai import AsyncOpenAI, OpenAIError
from openai.types.chat import ChatCompletionMessageParam

from core.compose import ComposeRequest, Composition, OfflineComposer, not_known
from core.language import Language

# The detected language is named outright: "the customer's language" alone let models answer a
# Malay question in English when the knowledge was English.
_REPLY_IN = {
    Language.EN: "English (Singlish from the customer is English too)",
    Language.ZH: "Simplified Chinese",
    Language.MS: "Malay",
    Language.TA: "Tamil",
}

log = structlog.get_logger(__name__)
NO_ANSWER = "NO_ANSWER"


class LlmComposer:
    """Writes replies with a chat model, strictly from the retrieved knowledge."""

    def __init__(
        self,
        client: AsyncOpenAI,
        model: str,
        business_name: str,
        fallback: OfflineComposer,
        max_chunks: int = 4,
    ) -> None:
        self._client = client
        self._model = model
        self._business = business_name
        self._fallback = fallback
        self._max_chunks = max_chunks

    async def compose(self, request: ComposeRequest) -> Composition:
        """Ask the model; on low confidence, timeout or error use the offline composer."""
        offline = self._fallback.compose_now(request)
        if offline.escalate:
            # Nothing relevant was retrieved: the model would have nothing to ground on.
            return offline
        try:
            response = await self._client.chat.completions.create(
                model=self._model, messages=self.build_messages(request), temperature=0.1
            )
        except (OpenAIError, TimeoutError) as error:
            log.warning("llm_failed_using_offline", error=type(error).__name__)
            return offline
        text = (response.choices[0].message.content or "").strip() if response.choices else ""
        if not text:
            return offline
        if NO_ANSWER in text:
            return not_known(request.language)
        entries = request.ranking.entries[: self._max_chunks]
        return Composition(text=text, source_entry_ids=tuple(e.entry_id for e in entries))

    def build_messages(self, request: ComposeRequest) -> list[ChatCompletionMessageParam]:
        """The prompt: rules, numbered knowledge, what we know of the customer, recent turns."""
        knowledge = "\n\n".join(
            f"[{n}] {e.best.title}\n{e.best.answer}"
            for n, e in enumerate(request.ranking.entries[: self._max_chunks], start=1)
        )
        about = ""
        if request.profile is not None:
            name = request.profile.display_name or "unknown"
            about = f"\nCustomer name: {name}."
            if request.profile.earlier_summaries:
                about += " Earlier conversations: " + " | ".join(request.profile.earlier_summaries)
        system = (
            f"You are the customer-support assistant of {self._business}, a Singapore business. "
            "Answer ONLY from the knowledge below. Never invent prices, times, dates or policies. "
            f"If the knowledge does not answer the question, reply exactly {NO_ANSWER}. "
            f"Reply briefly in {_REPLY_IN[request.language]}, suitable for a chat message."
            f"{about}\n\nKnowledge:\n{knowledge}"
        )
        messages: list[ChatCompletionMessageParam] = [{"role": "system", "content": system}]
        for turn in request.history:
            if turn.role == "customer":
                messages.append({"role": "user", "content": turn.text})
            else:
                messages.append({"role": "assistant", "content": turn.text})
        messages.append({"role": "user", "content": request.question})
        return messages
