"""Reading the --contact of `bot privacy` as the identities the bot stores."""

from __future__ import annotations

import pytest

from bot.cli.privacy import identities_for
from core.data_rights import Identity


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        (
            "+65 9123 4567",
            [Identity("whatsapp", "whatsapp:+6591234567"), Identity("whatsapp", "+6591234567")],
        ),
        (
            "91234567",
            [
                Identity("whatsapp", "whatsapp:+6591234567"),
                Identity("whatsapp", "+6591234567"),
                Identity("telegram", "91234567"),
            ],
        ),
        ("123456789012", [Identity("telegram", "123456789012")]),
        ("whatsapp:+6591234567", [Identity("whatsapp", "whatsapp:+6591234567")]),
        ("telegram:42", [Identity("telegram", "42")]),
        ("cli:Ah Seng", [Identity("cli", "Ah Seng")]),
        (
            "Mei.Ling@Example.sg",
            [Identity("email", "Mei.Ling@Example.sg"), Identity("email", "mei.ling@example.sg")],
        ),
        ("nobody", []),
    ],
)
def test_contact_strings(contact: str, expected: list[Identity]) -> None:
    assert identities_for(contact) == expected
