"""Small text helpers shared by the screens: houses, meters and money as residents read them."""

from __future__ import annotations

from kiosk.domain import HouseRef, Meter
from kiosk.i18n import _, current
from kiosk.messages import meter_use_text


def house_number_text(house: HouseRef) -> str:
    """E.g. "Building 3, unit 2, room 501" (in Chinese: 3号楼2单元501室)."""
    return _("Building {building}, unit {unit}, room {room}").format(
        building=house.building, unit=house.unit, room=house.room
    )


def house_text(house: HouseRef) -> str:
    """Community and the short house number residents write (阳光花园 3-2-501), for the header."""
    return f"{house.community}  {house.number}"


def meter_name(meter: Meter) -> str:
    return meter_use_text(meter.use, meter.number)


def meter_number_text(meter: Meter) -> str:
    return _("Meter no. {number}").format(number=meter.number)


def money(amount_fen: int) -> str:
    return current().money(amount_fen)
