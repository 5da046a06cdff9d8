"""`bot privacy`: staff export or erase one customer's data (PDPA access and erasure requests)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.support import run_command, settings_or_exit
from bot.services import Services
from channels.registry import plugs
from core.data_rights import Identity, Person

privacy_app = typer.Typer(
    help="Customers' personal data: export or erase one customer's.", no_args_is_help=True
)
ERASED_ORDER = (
    "contacts",
    "channel_identities",
    "conversations",
    "messages",
    "handoffs",
    "consent_records",
)
CONTACT_HELP = (
    "Who: a phone number (+65 9123 4567), an email address, a Telegram user id, "
    "or channel:id exactly as stored (whatsapp:+6591234567)."
)


def identities_for(contact: str) -> list[Identity]:
    """Every stored identity a contact string may mean, most specific first."""
    value = contact.strip()
    channel, sep, rest = value.partition(":")
    known = {plug.name.value: plug for plug in plugs()} | {"cli": None}
    if sep and channel.lower() in known and rest:
        plug = known[channel.lower()]
        # As stored, or as the channel stores what was given after the prefix (whatsapp:+65...).
        ids = plug.contact_ids(rest) if plug is not None else []
        return [Identity(channel.lower(), ids[0] if ids else rest)]
    return [Identity(plug.name.value, i) for plug in plugs() for i in plug.contact_ids(value)]


async def _one_person(services: Services, contact: str) -> Person:
    """The single customer a contact string names; stops with a clear line otherwise."""
    identities = identities_for(contact)
    if not identities:
        typer.echo(f"Cannot read {contact!r} as a customer. {CONTACT_HELP}", err=True)
        raise typer.Exit(2)
    people = await services.data_rights().find_people(identities)
    if not people:
        typer.echo(f"No customer found for {contact!r}.", err=True)
        raise typer.Exit(1)
    if len(people) > 1:
        typer.echo(f"{contact!r} matches {len(people)} customers; name one exactly:", err=True)
        for person in people:
            typer.echo("  " + ", ".join(f"{i.channel}:{i.external_id}" for i in person.identities))
        raise typer.Exit(2)
    return people[0]


@privacy_app.command("export")
def export(
    contact: Annotated[str, typer.Option("--contact", help=CONTACT_HELP)],
    out: Annotated[
        Path | None, typer.Option("--out", help="JSON file to write (default: in the folder).")
    ] = None,
) -> None:
    """Write everything held about one customer to a JSON file."""

    settings = settings_or_exit()

    async def main() -> Path:
        async with Services(settings, load_model=False) as services:
            person = await _one_person(services, contact)
            data = await services.data_rights().export(person, requested_by="staff")
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = out or Path(f"personal-data-{person.contact_id}-{stamp}.json")
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
        return path

    path = run_command(main)
    typer.echo(f"Wrote {path}. It holds personal data: send it to the customer, then delete it.")


@privacy_app.command("erase")
def erase(
    contact: Annotated[str, typer.Option("--contact", help=CONTACT_HELP)],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase one customer's conversations, memory and details everywhere."""

    settings = settings_or_exit()

    async def main() -> dict[str, int] | None:
        async with Services(settings, load_model=False) as services:
            person = await _one_person(services, contact)
            who = ", ".join(f"{i.channel}:{i.external_id}" for i in person.identities)
            if not yes and not typer.confirm(f"Erase everything about {who}?"):
                raise typer.Exit(1)
            return await services.data_rights().erase(person.contact_id, requested_by="staff")

    counts = run_command(main)
    if counts is None:
        typer.echo("Nothing erased: the customer was erased meanwhile.")
        return
    order = {name: n for n, name in enumerate(ERASED_ORDER)}
    names = sorted(counts, key=lambda name: order.get(name, len(order)))
    summary = ", ".join(f"{name.replace('_', ' ')}: {counts[name]}" for name in names)
    typer.echo(f"Erased {summary}.")
    typer.echo("Summary vectors go when the bot next runs its minute job (or at its next start).")
