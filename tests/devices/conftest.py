"""Receipts shared by the device tests (fixtures only: test modules do not import conftest)."""

from __future__ import annotations

import pytest

from devices.base import Receipt, ReceiptLine

RECEIPT_URL = "http://127.0.0.1:8800/r/EO7KQ2M4X9ZP3R8T"


def zh_receipt() -> Receipt:
    """A recharge receipt as the kiosk prints it in Chinese; the golden files are made from it."""
    return Receipt(
        title="电费充值凭证",
        lines=(
            ReceiptLine("小区", "阳光花园"),
            ReceiptLine("房屋", "3栋2单元501"),
            ReceiptLine("电表", "照明 3205010001"),
            ReceiptLine("充值金额", "¥100.00"),
            ReceiptLine("充值后余额", "¥142.10"),
            ReceiptLine("支付方式", "微信支付"),
            ReceiptLine("订单号", "EO7KQ2M4X9ZP3R8T"),
            ReceiptLine("时间", "2026-11-22 11:00:00"),
            ReceiptLine("终端", "T-0001 阳光花园3栋大堂"),
        ),
        qr_data=RECEIPT_URL,
        qr_caption="扫码查看电子凭证",
        footer=("请妥善保管本凭证", "客服电话 400-800-1234"),
    )


@pytest.fixture
def receipt() -> Receipt:
    return zh_receipt()


@pytest.fixture
def receipt_url() -> str:
    return RECEIPT_URL
