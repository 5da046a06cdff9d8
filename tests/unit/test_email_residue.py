"""Undecoded parts (base64, quoted-printable, raw bytes) are never taken as the customer's words."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from channels.email.parsing import parse_email
from channels.email.residue import readable

RESIDUE = Path(__file__).resolve().parents[1] / "fixtures" / "email" / "residue"


def noise(size: int) -> bytes:
    """Bytes that look like a compressed file, the same at every run."""
    out, block = b"", b"pandan"
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return out[:size]


def test_a_lost_boundary_with_an_unwrapped_image_leaves_no_words() -> None:
    parsed = parse_email((RESIDUE / "spam-broken-boundary.eml").read_bytes())
    assert (parsed.skip_reason, parsed.text, parsed.full_text) == (None, "", "")
    assert parsed.subject == "You have been selected"  # what the empty-body flow falls back on


def test_the_customers_words_before_a_lost_photo_part_stay() -> None:
    parsed = parse_email((RESIDUE / "words-then-lost-photo.eml").read_bytes())
    assert parsed.full_text == (
        "Hi, can you make a cake like the one in the photo for 12 April? About 20 people.\n\n"
        "Thanks, Siti"
    )


def test_the_customers_words_before_raw_file_bytes_stay() -> None:
    parsed = parse_email((RESIDUE / "words-then-raw-bytes.eml").read_bytes())
    assert parsed.full_text == "Please refund order 1042, the receipt is attached."


def test_quoted_printable_never_decoded_is_no_text() -> None:
    parsed = parse_email((RESIDUE / "quoted-printable-residue.eml").read_bytes())
    assert (parsed.text, parsed.subject) == ("", "星期天")


@pytest.mark.parametrize("width", [76, 64, 40])
def test_wrapped_base64_is_removed_at_any_line_width(width: int) -> None:
    encoded = base64.b64encode(noise(1200)).decode()
    lines = [encoded[i : i + width] for i in range(0, len(encoded), width)]
    text = "Hello, see the file.\n\n--0000abcd1234\nContent-Type: image/png\n\n" + "\n".join(lines)
    assert readable(text).strip() == "Hello, see the file."


@pytest.mark.parametrize("charset", ["utf-8", "iso-8859-1", "windows-1252", "koi8-r", None])
def test_binary_read_as_text_in_any_charset_is_no_text(charset: str | None) -> None:
    ctype = f"text/plain; charset={charset}" if charset else "text/plain"
    raw = (
        "From: Someone <someone@mail.example>\r\nTo: shop@pandan.example\r\nSubject: photo\r\n"
        f"Message-ID: <b-1@mail.example>\r\nMIME-Version: 1.0\r\nContent-Type: {ctype}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + noise(4000)
    assert parse_email(raw).text == ""


def test_text_mislabelled_utf16_is_no_text() -> None:
    assert readable("Do you deliver on Sunday?".encode("utf-16-le").decode("utf-8")) == ""


@pytest.mark.parametrize(
    "text",
    [
        # Digests and codes a customer pastes: one case, or too short to be a file.
        "Payment reference:\n9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
        "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbf2b6e6bc2a7a2\n"
        "fd61a03af4f77d870fc21e05e7e80678095c92d808cfb3b5c279ee04c74aca13",
        "Voucher: Q2FrZUxvdmVyczIwMjQ=\nThanks!",
        "Order list:\nDonaudampfschifffahrt\nKaffeeundKuchen\nSchwarzwaelderKirschtorte",
        # Quoted-printable here and there is still English.
        "Hello, do you open on Sunday=3F I want to come at 3pm.=20",
        "Hi\x00, one stray control character from a copy-paste.",
        "Line one\n\nこんにちは\ue63e\ue63e ケーキを予約したいです",  # carrier emoji in private use
    ],
    ids=["hex-digests", "short-base64-code", "long-words", "light-qp", "stray-control", "emoji"],
)
def test_what_people_write_is_kept(text: str) -> None:
    assert readable(text) == text


def test_nothing_but_residue_is_empty() -> None:
    encoded = base64.encodebytes(noise(600)).decode()
    assert readable(f"--Apple-Mail=_4F2A\nContent-Transfer-Encoding: base64\n\n{encoded}") == ""


@pytest.mark.parametrize(
    "content_type",
    ['multipart/alternative; boundary="never-used-0001"', "text/html; charset=utf-8"],
)
def test_html_before_a_lost_part_is_rendered_and_the_part_dropped(content_type: str) -> None:
    encoded = base64.encodebytes(noise(900)).decode()
    raw = (
        "From: Aisyah <aisyah@mail.example>\r\nTo: shop@pandan.example\r\nSubject: cake\r\n"
        f"Message-ID: <h-1@mail.example>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
        "\r\n--Apple-Mail=_5C1D\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        "<html><body><style><!--\np {color: red}\n--></style>"
        "<p>Hi, do you have durian cake?</p></body></html>\r\n"
        "--Apple-Mail=_5C1D\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        f"{encoded}--Apple-Mail=_5C1D--\r\n"
    ).encode()
    assert parse_email(raw).text == "Hi, do you have durian cake?"
