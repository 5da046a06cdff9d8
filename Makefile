# One entry point for people, hooks and CI.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run chat serve test lint typecheck unit sweep bench footprint load eval screenshots clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: its CPU build is what sentence-transformers gets, not a CUDA download.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# The bundled MiniLM exported to ONNX once (about 10 s); without it the first start does it.
	-$(BIN)/bot prepare
	touch $@

# On the sample knowledge base, with BUSINESS_NAME and BUSINESS_HOURS unset (with or without a
# .env), the bot presents the sample business itself: bot/sample_business.py.
run: install  ## Chat with the bot in the terminal, on the embedded default.
	@$(BIN)/bot chat

chat: run

serve: install  ## Run the server: web chat (/try) and the channels in .env (Telegram, WhatsApp).
	@$(BIN)/bot serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit -q

test: lint typecheck  ## Lint, type-check, run every test, then sweep the public samples.
	$(BIN)/pytest
	$(BIN)/python scripts/sweep_samples.py
	$(BIN)/python scripts/sweep_emails.py

sweep: install  ## Every public sample payload and email through the parsers (needs ../shared).
	$(BIN)/python scripts/sweep_samples.py
	$(BIN)/python scripts/sweep_emails.py

screenshots: install  ## Refresh docs/webchat.png from the browser test (needs chromium).
	UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/integration/test_webchat_browser.py -q -k screenshot

eval: install  ## Answer quality: languages, two-part questions, public FAQ sets (needs ../shared/eval).
	$(BIN)/python bench/language_eval.py
	$(BIN)/python bench/two_part_eval.py
	$(BIN)/python bench/language_cost.py
	$(BIN)/python bench/business_calibration.py
	$(BIN)/python bench/eval_quality.py

bench: install  ## Speed figures for bench/RESULTS.md, and the bot against the peer pipeline.
	$(BIN)/python bench/speed.py
	$(BIN)/python bench/report_bench.py
	$(BIN)/python bench/footprint.py
	# The peer LangChain pipeline (../shared/peer) in its own venv, back to back with the bot.
	$(BIN)/python bench/peer_compare.py

footprint: install  ## Memory and start-up time of bot serve and bot chat (needs dovecot-imapd).
	$(BIN)/python bench/footprint.py

load: install  ## Load figures (worker processes, knowledge size, conversations) and bench/load.png.
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
