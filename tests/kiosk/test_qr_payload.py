"""QR payloads are parsed strictly; nothing a scanner sends can crash the parser, and nothing near a code passes."""

from hypothesis import example, given
from hypothesis import strategies as st

from kiosk.qr_payload import MAX_PAYLOAD, Payload, PayloadKind, Rejection, Wallet, mask_code, parse

DIGITS = "0123456789"


def digits(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=min_size, max_size=max_size)


# Every payload the terminal accepts, built from the rules (not from the parser's regular expressions).
house_codes = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6, max_size=16)
bill_codes = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6, max_size=24)
wechat_codes = st.builds(lambda p, rest: f"1{p}{rest}", st.sampled_from("012345"), digits(16, 16))
alipay_codes = st.builds(
    lambda p, rest: f"{p}{rest}", st.sampled_from(["25", "26", "27", "28", "29", "30"]), digits(14, 22)
)
accepted = st.one_of(
    house_codes.map(lambda c: Payload(PayloadKind.HOUSE, c)),
    bill_codes.map(lambda c: Payload(PayloadKind.BILL, c)),
    wechat_codes.map(lambda c: Payload(PayloadKind.PAYMENT_CODE, c, Wallet.WECHAT_PAY)),
    alipay_codes.map(lambda c: Payload(PayloadKind.PAYMENT_CODE, c, Wallet.ALIPAY)),
)


def test_house_and_bill_codes() -> None:
    assert parse("CPK:H:H3U2R501X7") == Payload(PayloadKind.HOUSE, "H3U2R501X7")
    assert parse("  CPK:B:B202611000123\r\n") == Payload(PayloadKind.BILL, "B202611000123")


def test_wallet_payment_codes_by_their_published_rules() -> None:
    assert parse("134567890123456781") == Payload(PayloadKind.PAYMENT_CODE, "134567890123456781", Wallet.WECHAT_PAY)
    assert parse("150211238899912330\r\n").wallet is Wallet.WECHAT_PAY  # type: ignore[union-attr]  # Hong Kong
    assert parse("2876344382566439").wallet is Wallet.ALIPAY  # type: ignore[union-attr]  # 16 digits
    assert parse("30" + "1" * 22).wallet is Wallet.ALIPAY  # type: ignore[union-attr]  # 24 digits
    assert parse("289431869362714645") == Payload(PayloadKind.PAYMENT_CODE, "289431869362714645", Wallet.ALIPAY)


def test_near_misses_are_rejected() -> None:
    bad = Rejection.BAD_PAYMENT_CODE
    assert parse("13456789012345678") is bad  # WeChat Pay, 17 digits
    assert parse("1345678901234567812") is bad  # 19 digits, not Alipay's prefix either
    assert parse("164567890123456781") is bad  # prefix 16: nobody's
    assert parse("094567890123456781") is bad
    assert parse("245678901234567890") is bad  # prefix 24
    assert parse("315678901234567890") is bad  # prefix 31
    assert parse("286543210987654") is bad  # Alipay, 15 digits
    assert parse("2865432109876543210987654") is bad  # 25 digits
    assert parse("6212345678901234567") is bad  # UnionPay: not taken here
    assert parse("6901234567892") is bad  # a product's EAN-13
    assert parse("１３４５６７８９０１２３４５６７８１") is Rejection.NOT_OURS  # fullwidth digits
    assert parse("١٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨١") is Rejection.NOT_OURS  # Arabic-Indic digits
    assert parse("134567890 123456781") is Rejection.NOT_OURS
    assert parse("+134567890123456781") is Rejection.NOT_OURS
    assert parse("134567890123456781\x00") is Rejection.NOT_OURS
    assert parse("\u3000134567890123456781") is Rejection.NOT_OURS  # an ideographic space is not a scanner's


def test_rejections() -> None:
    assert parse("") is Rejection.EMPTY
    assert parse("   ") is Rejection.EMPTY
    assert parse("\r\n") is Rejection.EMPTY
    assert parse("https://weixin.qq.com/x") is Rejection.NOT_OURS
    assert parse("CPK:H:lowercase") is Rejection.MALFORMED
    assert parse("CPK:H:H3U2R501X7;DROP") is Rejection.MALFORMED
    assert parse("CPK:X:ABCDEFG") is Rejection.MALFORMED
    assert parse("CPK:" + "A" * 300) is Rejection.TOO_LONG
    assert parse("1" * (MAX_PAYLOAD + 1)) is Rejection.TOO_LONG
    assert parse("x" * 10_000_000) is Rejection.TOO_LONG
    assert parse(None) is Rejection.MALFORMED  # type: ignore[arg-type]


def test_a_payment_code_never_shows_whole() -> None:
    payload = parse("134567890123456781")
    assert isinstance(payload, Payload)
    assert payload.masked == "****6781" == mask_code(payload.code)
    assert "134567890123456781" not in repr(payload) and "6781" in repr(payload)
    assert "134567890123456781" not in f"{payload!r} {payload}"
    assert parse("CPK:H:H3U2R501X7").masked == "H3U2R501X7"  # type: ignore[union-attr]
    assert mask_code("12") == "****"


@given(st.text(max_size=400))
@example("1" * 18)
@example("CPK:H:")
def test_any_text_gives_a_payload_or_a_rejection(raw: str) -> None:
    result = parse(raw)
    assert isinstance(result, Payload | Rejection)
    if isinstance(result, Payload):
        assert result.code.isascii() and result.code.isalnum()
        assert result.code in raw and parse(result.text()) == result


@given(st.binary(max_size=300))
def test_garbled_bytes_decoded_leniently_never_crash(raw: bytes) -> None:
    assert isinstance(parse(raw.decode("utf-8", errors="replace")), Payload | Rejection)
    assert isinstance(parse(raw.decode("latin-1")), Payload | Rejection)


@given(accepted, st.sampled_from(["", "\r", "\n", "\r\n", "\t", " "]))
def test_every_accepted_payload_round_trips(payload: Payload, suffix: str) -> None:
    assert parse(payload.text()) == payload
    assert parse(payload.text() + suffix) == payload  # the scanner's line suffix


@given(accepted, st.data())
def test_one_character_off_is_never_another_accepted_payload_by_accident(payload: Payload, data: st.DataObject) -> None:
    """Change, drop or add one character: the result is a rejection, or a payload the change really spells."""
    text = payload.text()
    at = data.draw(st.integers(0, len(text) - 1))
    how = data.draw(st.sampled_from(["change", "drop", "add"]))
    char = data.draw(st.characters(codec="utf-8"))
    if how == "change":
        mutated = text[:at] + char + text[at + 1:]
    elif how == "drop":
        mutated = text[:at] + text[at + 1:]
    else:
        mutated = text[:at] + char + text[at:]
    result = parse(mutated)
    if isinstance(result, Payload):
        assert result.text() == mutated.strip(" \t\r\n")  # it is exactly what was scanned, nothing more or less
        assert parse(result.text()) == result


@given(st.one_of(
    digits(1, 15), digits(25, 40),  # too short or too long for any wallet
    st.builds(lambda p, r: f"1{p}{r}", st.sampled_from("6789"), digits(16, 16)),  # WeChat length, wrong prefix
    st.builds(lambda r: f"1{r}", digits(0, 16) | digits(18, 30)).filter(lambda c: len(c) != 18),
    st.builds(lambda p, r: f"{p}{r}", st.sampled_from(["20", "21", "22", "23", "24", "31", "39"]), digits(14, 22)),
))
def test_digit_strings_off_the_rules_are_bad_payment_codes(code: str) -> None:
    assert parse(code) is Rejection.BAD_PAYMENT_CODE, code


@given(accepted, st.sampled_from(["a", "A", "-", ":", "０", "\u200b", "\x00", "é"]))
def test_a_foreign_character_inside_is_rejected(payload: Payload, char: str) -> None:
    text = payload.text()
    middle = len(text) // 2
    result = parse(text[:middle] + char + text[middle:])
    if char == "A" and payload.kind is not PayloadKind.PAYMENT_CODE:
        return  # an uppercase letter inside a house or bill code may spell another valid code
    assert isinstance(result, Rejection), (text, char)
