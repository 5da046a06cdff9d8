FROM python:3.11-slim
WORKDIR /app
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY channels ./channels
COPY core ./core
COPY knowledge_base ./knowledge_base
COPY migrations ./migrations
# Pass --build-arg TORCH_INDEX_URL=<PyTorch's CPU wheel index> to avoid the CUDA build.
ARG TORCH_INDEX_URL=""
RUN pip install --no-cache-dir ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} torch==2.13.0 \
    && pip install --no-cache-dir -e .
# Not root: the bot needs nothing but its data folder.
RUN useradd --system --uid 10001 --home-dir /app bot \
    && mkdir -p /data /app/models && chown bot /data /app/models
USER bot
# The model exported at build time, outside the data volume, so no container exports it again.
ENV DATA_DIR=/data MODEL_CACHE_DIR=/app/models
RUN bot prepare
EXPOSE 8080
CMD ["bot", "serve"]
