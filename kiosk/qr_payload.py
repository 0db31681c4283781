"""Every payload the scanner can hand the terminal, parsed strictly by one function.

- House QR on a door: `CPK:H:<code>`; bill QR: `CPK:B:<bill_no>` (uppercase letters and digits).
- A wallet's payment code, shown by the resident from their phone (barcode or QR of plain ASCII digits):
  - WeChat Pay: 18 digits beginning with 10, 11, 12, 13, 14 or 15. WeChat Pay's micropay `auth_code` rule,
    "用户付款码条形码规则：18位纯数字，以10、11、12、13、14、15开头"
    (https://pay.weixin.qq.com/wiki/doc/api/micropay.php?chapter=5_1); in English, "composed of 18 digits. Codes
    beginning with 10-14 are for users in mainland China ... Codes beginning with 15 are for users in Hong Kong";
    a code is valid for one minute and is spent once used
    (https://pay.weixin.qq.com/wiki/doc/api/wxpay/en/guide/pos/ImportantParameters.shtml).
  - Alipay: 16 to 24 digits beginning with 25 to 30. `alipay.trade.pay`'s `auth_code`: "支付授权码，25~30开头的长度为
    16~24位的数字，实际字符串长度以开发者获取的付款码长度为准" (https://opendocs.alipay.com/open/194/106039/,
    https://docs.open.alipay.com/api_1/alipay.trade.pay); a code is spent once used, even by a failed payment.

Anything else (another app's QR, a URL, a product barcode, a garbled scan) is a `Rejection` the screen can explain.
`parse` never raises, whatever it is given. A payment code is a bearer credential for a minute: `Payload`'s repr
and `masked` show only its last four digits, so it never reaches a log line whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

MAX_PAYLOAD = 256
# What a scanner may put around a payload: the line suffix (CR, LF, Tab) and stray spaces. Only ASCII: an
# ideographic space or other Unicode around a code means something garbled it.
_SURROUNDING = " \t\r\n"
_HOUSE = re.compile(r"CPK:H:([A-Z0-9]{6,16})")
_BILL = re.compile(r"CPK:B:([A-Z0-9]{6,24})")
# ASCII digits only: `str.isdigit` and `\d` also take fullwidth and Arabic-Indic digits, which no wallet sends.
_DIGITS = re.compile(r"[0-9]+")
_WECHAT_PAY = re.compile(r"1[0-5][0-9]{16}")
_ALIPAY = re.compile(r"(?:2[5-9]|30)[0-9]{14,22}")
_MASK_KEEP = 4


class PayloadKind(StrEnum):
    HOUSE = "house"
    BILL = "bill"
    PAYMENT_CODE = "payment_code"


class Wallet(StrEnum):
    WECHAT_PAY = "wechat_pay"
    ALIPAY = "alipay"


class Rejection(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_OURS = "not_ours"  # neither our CPK: codes nor digits: another app's QR, a URL
    MALFORMED = "malformed"  # starts like our code but is not one (garbled, lowercase, unknown type)
    BAD_PAYMENT_CODE = "bad_payment_code"  # only digits, but no wallet's payment code (wrong length or prefix)


def mask_code(code: str) -> str:
    """A code as it may appear in logs and history: its last four characters only (`****6780`)."""
    return "****" + code[-_MASK_KEEP:] if len(code) > _MASK_KEEP else "****"


@dataclass(frozen=True)
class Payload:
    kind: PayloadKind
    code: str = field(repr=False)
    wallet: Wallet | None = None

    @property
    def masked(self) -> str:
        """The code as it may be logged: whole for house and bill codes, the last four digits of a payment code."""
        return mask_code(self.code) if self.kind is PayloadKind.PAYMENT_CODE else self.code

    def __repr__(self) -> str:
        wallet = f", wallet={self.wallet.value}" if self.wallet else ""
        return f"Payload({self.kind.value}, {self.masked}{wallet})"

    def text(self) -> str:
        """The payload as a scanner reads it: `parse(payload.text()) == payload`."""
        if self.kind is PayloadKind.HOUSE:
            return f"CPK:H:{self.code}"
        if self.kind is PayloadKind.BILL:
            return f"CPK:B:{self.code}"
        return self.code


def wallet_of(code: str) -> Wallet | None:
    """The wallet whose published rule `code` (ASCII digits, nothing around them) follows, or None."""
    if _WECHAT_PAY.fullmatch(code):
        return Wallet.WECHAT_PAY
    if _ALIPAY.fullmatch(code):
        return Wallet.ALIPAY
    return None


def parse(raw: str) -> Payload | Rejection:
    """A recognised payload, or why it was rejected. Never raises."""
    if not isinstance(raw, str):
        return Rejection.MALFORMED
    if len(raw) > MAX_PAYLOAD * 4:  # bound the work before stripping a flood
        return Rejection.TOO_LONG
    text = raw.strip(_SURROUNDING)
    if not text:
        return Rejection.EMPTY
    if len(text) > MAX_PAYLOAD:
        return Rejection.TOO_LONG
    if text.startswith("CPK:"):
        if match := _HOUSE.fullmatch(text):
            return Payload(PayloadKind.HOUSE, match.group(1))
        if match := _BILL.fullmatch(text):
            return Payload(PayloadKind.BILL, match.group(1))
        return Rejection.MALFORMED
    if _DIGITS.fullmatch(text):
        wallet = wallet_of(text)
        return Rejection.BAD_PAYMENT_CODE if wallet is None else Payload(PayloadKind.PAYMENT_CODE, text, wallet)
    return Rejection.NOT_OURS
