"""The control API pulls and puts back the simulated serial lines and sends them noise."""

from collections.abc import Iterator

import pytest
import requests

from devices.base import DeviceState
from devices.simulators import SimulatedCardReader, SimulatedPrinter, SimulatedQrScanner
from kiosk.control_api import ControlApi
from kiosk.screens import IdleScreen

TIMEOUT = 5.0


@pytest.fixture
def api() -> Iterator[ControlApi]:
    reader, scanner, printer = SimulatedCardReader(), SimulatedQrScanner(), SimulatedPrinter()
    for device in (reader, scanner, printer):
        device.open()
    control = ControlApi(reader, scanner, printer, lambda: IdleScreen())
    control.start()
    yield control
    control.stop()
    for device in (reader, scanner, printer):
        device.close()


@pytest.mark.parametrize("prefix", ["card", "qr"])
def test_unplug_garbage_replug(api: ControlApi, prefix: str) -> None:
    device = api.card_reader if prefix == "card" else api.qr_scanner
    kind = device.kind
    assert requests.post(f"{api.url}/{prefix}/unplug", timeout=5).ok
    assert device.coordinator.wait_for(lambda: device.status.state is not DeviceState.ONLINE, TIMEOUT)
    states = requests.get(f"{api.url}/devices", timeout=5).json()
    assert states[kind]["state"] in ("offline", "no_device") and states[kind]["last_error"]
    assert requests.post(f"{api.url}/{prefix}/replug", timeout=5).ok
    assert device.coordinator.wait_for(lambda: device.status.state is DeviceState.ONLINE, TIMEOUT)
    assert requests.post(f"{api.url}/{prefix}/garbage", json={"hex": "02ff0003"}, timeout=5).ok
    assert requests.post(f"{api.url}/{prefix}/garbage", json={"count": 64}, timeout=5).ok
    assert requests.post(f"{api.url}/{prefix}/garbage", timeout=5).ok
    assert device.wait_idle(TIMEOUT)
    assert requests.get(f"{api.url}/devices", timeout=5).json()[kind]["state"] in ("online", "hardware_error")


def test_bad_garbage_is_refused_and_a_closed_line_is_a_conflict(api: ControlApi) -> None:
    for body in ({"hex": "zz"}, {"hex": ""}, {"hex": "00" * 1025}, {"count": 0}, {"count": 5000}, {"count": True}):
        answer = requests.post(f"{api.url}/card/garbage", json=body, timeout=5)
        assert answer.status_code == 400 and answer.json()["error"], body
    api.qr_scanner.close()
    assert requests.post(f"{api.url}/qr/unplug", timeout=5).status_code == 409
