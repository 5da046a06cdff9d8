import pytest

from core.knowledge_masking import mask_personal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My NRIC is S1234567D", "My NRIC is [NRIC]"),
        ("fin g1234567x pls", "fin [NRIC] pls"),
        ("IC *****567D, as stored", "IC [NRIC], as stored"),
        ("Call me at 9123 4567", "Call me at [phone]"),
        ("call 91234567 after 6", "call [phone] after 6"),
        ("Our line is +65 6123 4567.", "Our line is [phone]."),
        ("office 6123-4567", "office [phone]"),
        ("UK: +44 20 7946 0958", "UK: [phone]"),
        ("whatsapp +6591234567", "whatsapp [phone]"),
        ("mail wei.ming+shop@gmail.com now", "mail [email] now"),
        ("Order PL-10234 is late", "Order [order no.] is late"),
        ("see #4821", "see [order no.]"),
        ("my order 55123 hasn't come", "my order [order no.] hasn't come"),
        ("booking ref: AB12CD for 2 pax", "booking ref: [order no.] for 2 pax"),
        ("invoice no. 2024-00123", "invoice no. [order no.]"),
        ("INV2024001 unpaid", "[order no.] unpaid"),
        ("tracking number 1234567890123", "tracking number [order no.]"),
        ("ref 88123456789", "ref [order no.]"),
        ("id 1234567890", "id [number]"),
        ("card 4111 1111 1111 1111 declined", "card [card no.] declined"),
        ("card 4111-1111-1111-1111", "card [card no.]"),
    ],
)
def test_masks_identifiers(text: str, expected: str) -> None:
    assert mask_personal(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "A box costs $32.00, or S$1,280 for 40.",
        "SGD120 for delivery, 15% off, 2.5% GST difference",
        "We open 8:00 am to 10:30 pm, Mon-Fri 9am-6pm.",
        "Collection on 12/03/2024 or 2024-12-03, by 3 Dec.",
        "order 100 boxes please",
        "We are at 1 Raffles Place #02-15, Singapore 048616.",
        "Parking is at B2, lots 1 to 120, about 3 minutes' walk.",
        "The M1 plan, 4G, COVID-19 rules, A4 paper, the 1st and 2nd floors.",
        "Thanks, that helps",
        "Hi there, how much for 3 boxes?",
        "Hello team,\nDo you deliver to Jurong?",
        "I'm Looking for gift boxes. I am not sure. I'm Singaporean.",
        "Thanks!\nSee you soon",
        "Can I pay by PayNow or NETS?",
    ],
)
def test_leaves_ordinary_text(text: str) -> None:
    assert mask_personal(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi Sarah,\nWe have parking.", "Hi [name],\nWe have parking."),
        ("Dear Mr Lim, we open at 9am.", "Dear Mr [name], we open at 9am."),
        ("Good morning Ahmad!", "Good morning [name]!"),
        ("I am John Tan and I need 50 boxes", "I am [name] and I need 50 boxes"),
        ("Hello, I'm Priya from Acme Pte Ltd.", "Hello, I'm [name] from Acme Pte Ltd."),
        ("my name is wei ming, do you deliver?", "my name is [name], do you deliver?"),
        ("My name is Siti Nurhaliza and I", "My name is [name] and I"),
        ("call me at 9123 4567, or call me Jo", "call me at [phone], or call me [name]"),
        ("my name is not important", "my name is not important"),
        ("Yes we do.\nRegards,\nWei Ming", "Yes we do.\nRegards,\n[name]"),
        (
            "Yes we do.\n\nBest regards,\nKumar\nManager",
            "Yes we do.\n\nBest regards,\n[name]\nManager",
        ),
        ("Yes.\nCheers,\nSarah (Owner)", "Yes.\nCheers,\n[name]"),
        ("Sure, we can. Thanks, Ahmad", "Sure, we can. Thanks, [name]"),
    ],
)
def test_masks_introduced_names(text: str, expected: str) -> None:
    assert mask_personal(text) == expected


def test_masks_known_names_and_their_words() -> None:
    text = "Amy Tan asked; tell amy the boxes are ready. Mr Tan can collect."
    assert mask_personal(text, ["Amy Tan"]) == (
        "[name] asked; tell [name] the boxes are ready. Mr [name] can collect."
    )


def test_known_names_skip_common_words_and_titles() -> None:
    assert mask_personal("Happy to help, Tan will call.", ["Happy Tan", ""]) == (
        "Happy to help, [name] will call."
    )
    assert mask_personal("Ask the Dr; Ang said ok.", ["Dr Ang"]) == "Ask the Dr; [name] said ok."


def test_is_idempotent() -> None:
    text = "Hi Sarah, I'm Wei Ming, S1234567D, 9123 4567, a@b.co, order 55123"
    once = mask_personal(text, ["Wei Ming"])
    assert mask_personal(once, ["Wei Ming"]) == once
    assert once == "Hi [name], I'm [name], [NRIC], [phone], [email], order [order no.]"


def test_nric_shaped_code_with_a_wrong_check_letter_is_still_masked() -> None:
    assert mask_personal("S1234567A") == "[order no.]"


def test_keeps_the_business_own_contacts() -> None:
    text = (
        "WhatsApp us at +65 8123 4567 or email Hello@Shop.example, not 9123 4567 or "
        "amy@gmail.com; our line 6123-4567 too."
    )
    keep = ["whatsapp:+6581234567", "hello@shop.example", "61234567", "not a number"]
    assert mask_personal(text, keep=keep) == (
        "WhatsApp us at +65 8123 4567 or email Hello@Shop.example, not [phone] or "
        "[email]; our line 6123-4567 too."
    )
    assert mask_personal("+6581234567 Amy", ["Amy"], keep) == "+6581234567 [name]"
