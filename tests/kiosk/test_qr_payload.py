"""QR payloads are parsed strictly; nothing a scanner sends can crash the parser."""

from hypothesis import given
from hypothesis import strategies as st

from kiosk.qr_payload import Payload, PayloadKind, Rejection, parse


def test_house_and_bill_codes() -> None:
    assert parse("CPK:H:H3U2R501X7") == Payload(PayloadKind.HOUSE, "H3U2R501X7")
    assert parse("  CPK:B:B202611000123\r\n") == Payload(PayloadKind.BILL, "B202611000123")


def test_rejections() -> None:
    assert parse("") is Rejection.EMPTY
    assert parse("   ") is Rejection.EMPTY
    assert parse("https://weixin.qq.com/x") is Rejection.NOT_OURS
    assert parse("CPK:H:lowercase") is Rejection.MALFORMED
    assert parse("CPK:H:H3U2R501X7;DROP") is Rejection.MALFORMED
    assert parse("CPK:X:ABCDEFG") is Rejection.MALFORMED
    assert parse("CPK:" + "A" * 300) is Rejection.TOO_LONG


@given(st.text(max_size=400))
def test_any_text_gives_a_payload_or_a_rejection(raw: str) -> None:
    result = parse(raw)
    assert isinstance(result, Payload | Rejection)
    if isinstance(result, Payload):
        assert (result.code.isalnum() and result.code.isupper()) or result.code.isdigit()


@given(st.binary(max_size=300))
def test_garbled_bytes_decoded_leniently_never_crash(raw: bytes) -> None:
    assert isinstance(parse(raw.decode("utf-8", errors="replace")), Payload | Rejection)
