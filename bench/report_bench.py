"""Time the whole weekly owner report on a busy shop's data (issue 15: under 10 s on 2 cores).

    .venv/bin/python bench/report_bench.py                  # 10,000 conversations, default model
    .venv/bin/python bench/report_bench.py --model all-MiniLM-L6-v2

A fresh embedded PostgreSQL gets 10,000 conversations over 14 days (1-3 answered questions
each, 12 % handed over, a quarter rated) of which 2,000, in the last 7 days, are questions the
bot declined or answered with "Did you mean" (bench/report_data.py: 16 needs a shop's
knowledge base lacks, asked in many ways, with places, cakes, days and order numbers filled in),
and 30 pending suggestions. Then the report is built as the weekly job builds it, with the
model already loaded (the bot process has it): both weeks' figures, the unanswered questions
read and masked, embedded and grouped, the chart drawn, the MIME mail written. The first run
includes importing scikit-learn and matplotlib, as a process's first report does; `--runs`
more follow. Prints one line per run and the stages of the first.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
from report_data import Rows, fill, write

from bot.embedded.servers import EmbeddedServices
from bot.handoffs import MailIdentity
from bot.process_tuning import prefer_passive_openmp_threads
from bot.report.build import Report
from bot.report.chart import draw_chart
from bot.report.figures import load_figures
from bot.report.mail import compose_mail
from bot.report.period import week_before
from bot.report.store import pending_suggestions
from bot.report.unanswered import QuestionEmbedder, group_questions, unanswered_questions
from core.embedding import BUNDLED_MODEL, BUNDLED_MODELS, load_embedder
from core.migrate import apply_migrations

ZONE = ZoneInfo("Asia/Singapore")


async def one_report(pool: asyncpg.Pool, embedder: QuestionEmbedder) -> dict[str, float]:
    """Build, draw and write one report; seconds per stage."""
    stages: dict[str, float] = {}
    cpu = time.process_time()
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = now - clock
        clock = now

    period = week_before(datetime.now(UTC), ZONE)
    current, previous = await asyncio.gather(
        load_figures(pool, period), load_figures(pool, period.previous())
    )
    suggestions = await pending_suggestions(pool)
    lap("figures (both weeks) and suggestions")
    questions = await unanswered_questions(pool, period)
    lap(f"{len(questions)} unanswered questions ({len(set(questions))} distinct) read, masked")
    groups = await group_questions(questions, embedder)
    lap(f"embedded and grouped ({len(groups)} groups)")
    report = Report("Bench Bakery", current, previous, tuple(groups), tuple(suggestions))
    chart = await asyncio.to_thread(draw_chart, current.days)
    lap("chart")
    mail = compose_mail(
        report, MailIdentity("shop@bench.test", "Bench"), "o@bench.test", "t", chart
    )
    size = len(mail.as_bytes())
    lap(f"MIME ({size // 1024} KiB)")
    stages["total"] = sum(stages.values())
    # This process's CPU (all its threads): what the report costs whatever else the machine runs.
    stages["cpu"] = time.process_time() - cpu
    return stages


async def main(model: str, conversations: int, unanswered: int, runs: int) -> None:
    """Fill a fresh PostgreSQL, then time the report `runs` + 1 times."""
    with tempfile.TemporaryDirectory() as folder:
        embedded = EmbeddedServices(Path(folder), postgres=True, valkey=False)
        await asyncio.to_thread(embedded.start)
        try:
            pool = await asyncpg.create_pool(embedded.database_url, min_size=2, max_size=4)
            await apply_migrations(pool)
            # The report covers the week before today: fill up to the start of today.
            rows = Rows(random.Random(15))
            fill(rows, week_before(datetime.now(UTC), ZONE).end, conversations, unanswered)
            await write(pool, rows)
            print(f"{len(rows.conversations)} conversations, {len(rows.messages)} messages")
            embedder = await asyncio.to_thread(load_embedder, model)
            try:
                totals = []
                for run in range(runs + 1):
                    stages = await one_report(pool, embedder)
                    totals.append(stages["total"])
                    if run == 0:
                        for name, seconds in list(stages.items())[:-2]:
                            print(f"  {name}: {seconds:.2f} s")
                    print(f"run {run + 1}: {stages['total']:.2f} s, CPU {stages['cpu']:.2f} s")
                print(f"{model}: first {totals[0]:.2f} s, median {statistics.median(totals):.2f} s")
            finally:
                embedder.close()
            await pool.close()
        finally:
            await asyncio.to_thread(embedded.stop)


if __name__ == "__main__":
    prefer_passive_openmp_threads()  # as bot serve and bot worker run the model
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=BUNDLED_MODELS, default=BUNDLED_MODEL)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--unanswered", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.model, args.conversations, args.unanswered, args.runs))
