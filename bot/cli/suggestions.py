"""`bot kb suggestions`: list staff answers suggested as knowledge; approve, edit or reject them."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from typing import Annotated

import typer

from bot.cli.support import STOP_BOT_FOR_KB, run_command, settings_or_exit
from bot.services import Services
from core.suggestion_store import Decision, Outcome, PostgresSuggestions, Suggestion

suggestions_app = typer.Typer(
    help="Staff answers suggested as knowledge: list, approve, edit, reject.",
    invoke_without_command=True,
)
IDS = Annotated[list[int], typer.Argument(help="Suggestion ids, as listed.")]


@suggestions_app.callback()
def suggestions(ctx: typer.Context) -> None:
    """List pending suggestions (id, times asked, masked question and answer)."""
    if ctx.invoked_subcommand is not None:
        return

    settings = settings_or_exit()

    async def main() -> list[Suggestion]:
        async with Services(settings, load_model=False) as services:
            return await PostgresSuggestions(services.storage.pool).pending()

    pending = run_command(main)
    if not pending:
        typer.echo("No pending suggestions.")
        return
    for suggestion in pending:
        typer.echo(describe(suggestion))
        typer.echo("")
    typer.echo("Approve with: bot kb suggestions approve ID ...")
    typer.echo('Edit and approve with: bot kb suggestions edit ID "the better answer"')


@suggestions_app.command("approve")
def approve(ids: IDS) -> None:
    """Approve suggestions: they are added to the learned FAQ and indexed at once."""
    _decide([Decision(i, "approve") for i in ids], publish=True)


@suggestions_app.command("edit")
def edit(
    suggestion_id: Annotated[int, typer.Argument(help="The suggestion's id.")],
    answer: Annotated[str, typer.Argument(help="The better answer (approved with it).")],
) -> None:
    """Replace a suggestion's answer and approve it."""
    if not answer.strip():
        typer.echo("The answer is empty.", err=True)
        raise typer.Exit(2)
    _decide([Decision(suggestion_id, "approve", answer.strip())], publish=True)


@suggestions_app.command("reject")
def reject(ids: IDS) -> None:
    """Reject suggestions: they are never added."""
    _decide([Decision(i, "reject") for i in ids], publish=False)


def _decide(decisions: Sequence[Decision], publish: bool) -> None:
    """Apply decisions as the person at the terminal; publish the learned FAQ after approvals."""

    settings = settings_or_exit()
    by = f"cli:{getpass.getuser()}"

    async def main() -> tuple[list[Outcome], int | None]:
        # With approvals the model and index open first: a running bot holding the index
        # stops the command before anything changes.
        async with Services(settings, load_model=publish) as services:
            outcomes = await PostgresSuggestions(services.storage.pool).decide(decisions, by)
            if not any(o.changed for o in outcomes) or not publish:
                return outcomes, None
            typer.echo("Indexing the learned FAQ and calibrating ...", err=True)
            return outcomes, await services.learned.publish()

    outcomes, entries = run_command(main, in_use=STOP_BOT_FOR_KB)
    for outcome in outcomes:
        typer.echo(describe_outcome(outcome))
    if entries is not None:
        typer.echo(f"{settings.learned_faq}: {entries} learned entries, indexed.")
    if not all(o.changed for o in outcomes):
        raise typer.Exit(1)


def describe(suggestion: Suggestion) -> str:
    """A pending suggestion in a few lines."""
    times = "once" if suggestion.times == 1 else f"{suggestion.times} times"
    lines = [f"#{suggestion.id} (asked {times})", f"  Q: {suggestion.question}"]
    lines += [f"     also: {alternative}" for alternative in suggestion.alternatives]
    answer = suggestion.answer.replace("\n", "\n     ")
    lines.append(f"  A: {answer}")
    return "\n".join(lines)


def describe_outcome(outcome: Outcome) -> str:
    """One line per decision."""
    verbs = {"approve": "approved", "edit": "approved with the new answer", "reject": "rejected"}
    if outcome.changed:
        return f"#{outcome.suggestion_id} {verbs[outcome.action]}: {outcome.question}"
    return f"#{outcome.suggestion_id} not {verbs[outcome.action]}: {outcome.note}"
