"""No mail makes the email parser raise anything but PayloadError, and what it returns is storable.

Property tests over channels/email_parsing.py, channels/email_quotes.py and to_inbound: arbitrary
bytes, real mails (tests/fixtures/email and, when present, ../shared/samples/email) mutated byte by
byte, and generated mails with random headers, encoded words, charsets, transfer encodings and
nested MIME. Every outcome must be a ParsedEmail whose text can go to PostgreSQL, Redis and SMTP
as it is (valid UTF-8, no NUL), or a PayloadError; to_inbound then gives a message or an Ignored.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import quopri
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.queue.inbound import decode, encode
from channels.base import Ignored, PayloadError
from channels.email.ingress import handoff_token
from channels.email.parsing import ParsedEmail, decode_bytes, decode_header, parse_email
from channels.email.quotes import extract_reply, html_to_text, normalise_whitespace
from channels.email.sending import reply_route, to_inbound
from core.messages import InboundMessage

SHOP = "hello@bakeshop.example.sg"
_TESTS = Path(__file__).resolve().parents[1]
_SAMPLES = _TESTS.parents[1] / "shared" / "samples" / "email"
_MAX_SEED_BYTES = 64_000  # larger samples (torture, endless nesting) are swept by scripts/


def _seeds() -> list[bytes]:
    """Real mails to mutate: the project's fixtures and the public samples beside the repo."""
    paths = sorted((_TESTS / "fixtures" / "email").glob("*.eml"))
    if _SAMPLES.is_dir():
        paths += sorted(_SAMPLES.rglob("*.eml"))
    return [data for path in paths if len(data := path.read_bytes()) <= _MAX_SEED_BYTES]


SEEDS = _seeds()
_FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _storable(value: object, where: str) -> None:
    """A string PostgreSQL TEXT, JSON for Redis and an SMTP header all accept."""
    if isinstance(value, str):
        assert "\x00" not in value, f"NUL in {where}: {value[:80]!r}"
        value.encode("utf-8")  # a lone surrogate raises here, and in asyncpg and redis-py
    elif isinstance(value, tuple):
        for n, item in enumerate(value):
            _storable(item, f"{where}[{n}]")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _storable(getattr(value, f.name), f"{where}.{f.name}")


def check_mail(raw: bytes) -> ParsedEmail | None:
    """The whole inbound path of one raw mail, short of the network."""
    try:
        parsed = parse_email(raw, own_addresses=[SHOP])
    except PayloadError:
        return None
    assert isinstance(parsed, ParsedEmail)
    assert parsed.sender or parsed.skip_reason
    _storable(parsed, "parsed")
    handoff_token(parsed)
    route = json.loads(reply_route(parsed))
    assert route["to"] == parsed.sender
    outcome = to_inbound(parsed, raw)
    if isinstance(outcome, InboundMessage):
        _storable(outcome, "inbound")
        assert decode(encode(outcome)) == outcome  # what the queue stores comes back the same
        assert outcome.text or outcome.attachments
    else:
        assert isinstance(outcome, Ignored)
    return parsed


# --- arbitrary bytes ---------------------------------------------------------------------------


@_FUZZ
@given(st.binary(max_size=2000))
@example(b"From: a@b.c\r\n\r\n\x00")
@example(b"From: a@b.c\r\nSubject: \x00\r\n\r\n")
def test_arbitrary_bytes(raw: bytes) -> None:
    check_mail(raw)


@_FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_after_a_plausible_header(body: bytes) -> None:
    check_mail(b"From: Ann <ann@example.com>\r\nTo: " + SHOP.encode() + b"\r\n" + body)


# --- real mails, mutated ----------------------------------------------------------------------

_mutation = st.tuples(
    st.sampled_from(["truncate", "delete", "insert", "replace", "duplicate", "lf", "header"]),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.0, max_value=1.0),
    st.binary(min_size=1, max_size=40),
)
_MUTATION_BYTES = [
    b"\x00", b"\xff\xfe", b"\r\n", b"\r\n\r\n", b"--", b"=?utf-8?b?", b"?=", b"=\r\n", b"\x1b$B",
    b"Content-Type: multipart/mixed; boundary=\"\"\r\n", b"Content-Transfer-Encoding: base64\r\n",
    b"charset=unicode-escape", b"\\u0000", b"\xed\xa0\x80", b"<>", b"@", b"\"", b";",
]  # fmt: skip


def _mutate(raw: bytes, mutations: list[tuple[str, float, float, bytes]]) -> bytes:
    for op, at, span, data in mutations:
        i = int(at * len(raw))
        j = min(len(raw), i + 1 + int(span * 200))
        if op == "truncate":
            raw = raw[:i]
        elif op == "delete":
            raw = raw[:i] + raw[j:]
        elif op == "insert":
            raw = raw[:i] + data + raw[i:]
        elif op == "replace":
            raw = raw[:i] + data + raw[i + len(data) :]
        elif op == "duplicate":
            raw = raw[:j] + raw[i:j] + raw[j:]
        elif op == "lf":
            raw = raw.replace(b"\r\n", b"\n") if span < 0.5 else raw.replace(b"\n", b"\r\n")
        else:  # a header line on top
            raw = b"X-Fuzz: " + data.replace(b"\n", b" ") + b"\r\n" + raw
    return raw


@_FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    mutations=st.lists(
        st.one_of(
            _mutation,
            st.tuples(
                st.just("insert"),
                st.floats(0.0, 1.0),
                st.just(0.0),
                st.sampled_from(_MUTATION_BYTES),
            ),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_real_mails_mutated(seed: bytes, mutations: list[tuple[str, float, float, bytes]]) -> None:
    check_mail(_mutate(seed, mutations))


def test_every_seed_mail_parses() -> None:
    assert len(SEEDS) >= 20
    for seed in SEEDS:
        check_mail(seed)


# --- generated mails ---------------------------------------------------------------------------

CHARSETS = [
    "utf-8", "UTF8", "us-ascii", "iso-8859-1", "windows-1252", "gb2312", "gbk", "gb18030", "big5",
    "shift_jis", "euc-kr", "koi8-r", "tis-620", "utf-16", "utf-16-le", "utf-32", "utf-7",
    "iso-2022-jp", "hz", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "rot13",
    "base64", "zlib", "x-unknown", "unknown-8bit", "", "\"utf-8\"", "bogus", "utf-8\x00",
]  # fmt: skip
HEADER_NAMES = [
    "From", "To", "Cc", "Delivered-To", "Subject", "Message-ID", "In-Reply-To", "References",
    "Date", "Reply-To", "Auto-Submitted", "Precedence", "List-Id", "List-Unsubscribe",
    "Return-Path", "X-Failed-Recipients", "X-Autoreply", "X-Auto-Response-Suppress",
    "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
]  # fmt: skip
TYPES = [
    "text/plain", "text/html", "text/enriched", "image/jpeg", "application/pdf",
    "application/pgp-signature", "message/rfc822", "message/global", "message/delivery-status",
    "message/feedback-report", "message/disposition-notification", "application/octet-stream",
    "video/mp4", "audio/ogg", "bogus", "text/", "/",
]  # fmt: skip
SUBTYPES = ["mixed", "alternative", "related", "report", "signed", "digest", "bogus"]
ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "bogus", ""]

_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from("\x00\r\n\t\u200b"),
    max_size=60,
)
_charset = st.sampled_from(CHARSETS)


@st.composite
def _encoded_word(draw: st.DrawFn) -> str:
    """An RFC 2047 word, well formed or not, in any charset label."""
    charset = draw(_charset)
    data = draw(st.binary(max_size=30) | _text.map(lambda t: t.encode("utf-8", "replace")))
    if draw(st.booleans()):
        payload = base64.b64encode(data).decode()
        if draw(st.booleans()):
            payload = payload[: draw(st.integers(0, len(payload)))]
        return f"=?{charset}?B?{payload}?="
    return f"=?{charset}?Q?{quopri.encodestring(data, header=True).decode('latin-1')}?="


_header_value = st.lists(
    _text | _encoded_word() | st.sampled_from(["<a@b.c>", "Ann <ann@example.com>", "<>", ",", ";"]),
    max_size=4,
).map(" ".join)


@st.composite
def _header(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(HEADER_NAMES) | st.text("abcXY-", min_size=1, max_size=8))
    value = draw(_header_value).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # raw 8-bit in the header, as many mailers send it
        value += draw(st.binary(max_size=20))
    return name.encode() + b": " + value


def _body(data: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        return base64.encodebytes(data)
    if encoding == "quoted-printable":
        return quopri.encodestring(data)
    return data


@st.composite
def _leaf(draw: st.DrawFn) -> bytes:
    ctype = draw(st.sampled_from(TYPES))
    charset = draw(_charset)
    encoding = draw(st.sampled_from(ENCODINGS))
    text = draw(_text)
    codec = charset if charset.lower().startswith(("utf", "gb", "big5", "iso-8859")) else "utf-8"
    try:
        data = text.encode(codec.strip('"'))
    except (LookupError, UnicodeError, ValueError):
        data = text.encode("utf-8", "replace")
    data += draw(st.binary(max_size=30))
    headers = [f"Content-Type: {ctype}; charset={charset}".encode()]
    if encoding:
        headers.append(f"Content-Transfer-Encoding: {encoding}".encode())
    if draw(st.booleans()):
        disposition = draw(st.sampled_from(["attachment", "inline", "bogus"]))
        name = draw(_text | _encoded_word())
        star = draw(st.booleans())
        filename = f"filename*=utf-8''{name}" if star else f'filename="{name}"'
        headers.append(f"Content-Disposition: {disposition}; {filename}".encode("utf-8", "replace"))
    if draw(st.booleans()):
        headers.append(draw(_header()))
    return b"\r\n".join(headers) + b"\r\n\r\n" + _body(data, encoding)


def _multipart(children: list[bytes], subtype: str, boundary: str, closed: bool) -> bytes:
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"'.encode()
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + child + b"\r\n" for child in children)
    end = b"--" + boundary.encode() + b"--\r\n" if closed else b""
    return head + b"\r\n\r\npreamble\r\n" + body + end


_part = st.recursive(
    _leaf(),
    lambda children: st.builds(
        _multipart,
        st.lists(children, max_size=4),
        st.sampled_from(SUBTYPES),
        st.sampled_from(["b1", "=_x", "", " ", "--", "a" * 80]) | st.text("abc-_=", max_size=10),
        st.booleans(),
    ),
    max_leaves=8,
)


@st.composite
def _mail(draw: st.DrawFn) -> bytes:
    headers = [
        b"From: " + draw(_header_value | st.just("Ann <ann@example.com>")).encode("utf-8"),
        *draw(st.lists(_header(), max_size=8)),
    ]
    draw(st.randoms()).shuffle(headers)
    raw = b"\r\n".join(headers) + b"\r\n" + draw(_part)
    return raw.replace(b"\r\n", b"\n") if draw(st.booleans()) else raw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mail())
def test_generated_mails(raw: bytes) -> None:
    check_mail(raw)


@_FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    depth=st.integers(1, 40),
    subtype=st.sampled_from(SUBTYPES),
)
def test_real_mails_nested_deeply(seed: bytes, depth: int, subtype: str) -> None:
    raw = seed
    for level in range(depth):
        raw = _multipart([raw], subtype, f"level{level}", closed=level % 3 != 0)
    check_mail(b"From: Ann <ann@example.com>\r\nMIME-Version: 1.0\r\n" + raw)


# --- the pieces on their own ------------------------------------------------------------------


@_FUZZ
@given(data=st.binary(max_size=300), charset=st.none() | _charset)
def test_decode_bytes_always_gives_text(data: bytes, charset: str | None) -> None:
    assert isinstance(decode_bytes(data, charset), str)


@_FUZZ
@given(value=_header_value | st.text(max_size=80), charset=st.none() | _charset)
def test_decode_header_always_gives_text(value: str, charset: str | None) -> None:
    assert isinstance(decode_header(value, charset), str)


_MARKUP = [
    "<p>", "</p>", "<br>", "<blockquote>", "</blockquote>", "<pre>", "</pre>", "<div>", "<td>",
    "<script>x</script>", "<!-- c -->", "<![CDATA[x]]>", "<![foo]>", "<![if x]>", "&nbsp;", "&#0;",
    "&#xD800;", "<", ">", "On Mon, Ann <a@b.c> wrote:", "> quoted", "-- ", "From: x", "Sent: y",
]  # fmt: skip
_markup = st.lists(st.sampled_from(_MARKUP) | _text, max_size=30).map("".join)


@_FUZZ
@given(_markup)
def test_quote_stripping_and_html_never_raise(text: str) -> None:
    for result in (html_to_text(text), extract_reply(text), normalise_whitespace(text)):
        assert isinstance(result, str)
        _storable(result, "text")
