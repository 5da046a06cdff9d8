from bot.owner_commands import Command, decisions_for, parse_commands
from core.suggestion_store import Decision


def test_reads_approve_edit_reject_on_several_lines() -> None:
    parsed = parse_commands(
        "Hi bot,\n\napprove 1 3\nedit 2: We have 40 lots at B2, $2.50 per hour.\nreject 4\n\nThanks"
    )
    assert parsed.commands == [
        Command("approve", (1, 3)),
        Command("edit", (2,), answer="We have 40 lots at B2, $2.50 per hour."),
        Command("reject", (4,)),
    ]
    assert parsed.errors == []


def test_tolerates_case_commas_and_ranges_and_bullets() -> None:
    parsed = parse_commands("APPROVE 1, 2 and 5\n- Reject: 3-4\n* approve #6.")
    assert parsed.commands == [
        Command("approve", (1, 2, 5)),
        Command("reject", (3, 4)),
        Command("approve", (6,)),
    ]


def test_approve_all() -> None:
    assert parse_commands("approve all").commands == [Command("approve", everything=True)]


def test_edit_takes_following_lines_up_to_a_blank_line_or_command() -> None:
    parsed = parse_commands(
        "edit 2:\nWe deliver islandwide.\nFree above $80.\nreject 1\nedit 3. Yes.\n\nRegards,\nBoss"
    )
    assert parsed.commands == [
        Command("edit", (2,), answer="We deliver islandwide.\nFree above $80."),
        Command("reject", (1,)),
        Command("edit", (3,), answer="Yes."),
    ]


def test_quoted_report_lines_are_ignored() -> None:
    parsed = parse_commands("approve 2\n> 1. Do you have parking?\n> approve 1 3 to approve")
    assert parsed.commands == [Command("approve", (2,))]


def test_commands_without_numbers_are_errors() -> None:
    parsed = parse_commands("approve\nedit 2\nreject the second one")
    assert parsed.commands == []
    assert len(parsed.errors) == 3
    assert "which numbers" in parsed.errors[0]
    assert "edit NUMBER: the better answer" in parsed.errors[1]


def test_ordinary_lines_are_not_commands() -> None:
    parsed = parse_commands("Thanks for the report!\nI approved of the new layout.\nEditing later.")
    assert parsed.commands == []
    assert parsed.errors == []


def test_numbers_map_to_the_reports_suggestions_and_out_of_range_is_reported() -> None:
    commands = [
        Command("approve", (1, 3)),
        Command("edit", (2,), answer="Better."),
        Command("reject", (4,)),
    ]
    decisions, errors = decisions_for(commands, [11, 12, 13])
    assert decisions == [
        Decision(11, "approve"),
        Decision(13, "approve"),
        Decision(12, "approve", "Better."),
    ]
    assert errors == ["reject 4: there is no 4 in the report (1-3)"]


def test_all_means_every_suggestion_in_the_report() -> None:
    decisions, errors = decisions_for([Command("approve", everything=True)], [7, 9])
    assert decisions == [Decision(7, "approve"), Decision(9, "approve")]
    assert errors == []
