"""Long fuzzing run of the QR payload parser with atheris (coverage-guided; not part of `make test`).

    pip install atheris
    python fuzz/fuzz_qr_payload.py -max_total_time=600 -max_len=2048 fuzz/corpus/qr_payload

The corpus holds one payload of each kind, so mutations start next to the accepted ones.

The properties are those of tests/kiosk/test_qr_payload.py: any text gives a payload or a rejection and never
raises; an accepted payload is exactly what was scanned (without the scanner's suffix) and round-trips; a
payment code is ASCII digits that follow its wallet's published rule, and its repr never shows it whole.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from kiosk.qr_payload import MAX_PAYLOAD, Payload, PayloadKind, Rejection, Wallet, parse, wallet_of


def check(raw: str) -> None:
    result = parse(raw)
    if isinstance(result, Rejection):
        return
    assert isinstance(result, Payload), repr(result)
    assert result.text() == raw.strip(" \t\r\n"), (raw, result)
    assert parse(result.text()) == result
    assert len(result.text()) <= MAX_PAYLOAD
    if result.kind is PayloadKind.PAYMENT_CODE:
        code = result.code
        assert code.isascii() and code.isdigit()
        assert result.wallet is wallet_of(code) is not None
        if result.wallet is Wallet.WECHAT_PAY:
            assert len(code) == 18 and 10 <= int(code[:2]) <= 15
        else:
            assert 16 <= len(code) <= 24 and 25 <= int(code[:2]) <= 30
        assert code not in repr(result)
    else:
        assert result.code.isascii() and result.code.isalnum()
        assert result.code == result.code.upper()


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    check(fdp.ConsumeUnicodeNoSurrogates(len(data)))
    check(data.decode("latin-1"))  # what a serial scanner's bytes may become


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
