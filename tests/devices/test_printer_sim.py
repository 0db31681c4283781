"""The TCP printer simulator on the wire: raw sockets, no adapter in between."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.base import Receipt
from devices.escpos_receipt import ReceiptLayout, receipt_bytes
from devices.escpos_status import ErrorKind, Paper, query
from devices.printer_sim import PrinterSimulator, complete_commands

TIMEOUT = 5.0


@pytest.fixture
def simulator() -> Iterator[PrinterSimulator]:
    with PrinterSimulator() as sim:
        yield sim


def connect(sim: PrinterSimulator) -> socket.socket:
    sock = socket.create_connection((sim.host, sim.port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def ask(sock: socket.socket, n: int) -> int:
    sock.sendall(query(n))
    answer = sock.recv(1)
    assert len(answer) == 1
    return answer[0]


def test_status_answers_follow_the_state(simulator: PrinterSimulator) -> None:
    with connect(simulator) as sock:
        assert [ask(sock, n) for n in (1, 2, 3, 4)] == [0x12, 0x12, 0x12, 0x12]
        simulator.set_paper(Paper.LOW)
        assert [ask(sock, n) for n in (1, 2, 4)] == [0x12, 0x12, 0x1E]  # low paper: still online
        simulator.set_paper(Paper.OUT)
        assert [ask(sock, n) for n in (1, 2, 4)] == [0x1A, 0x32, 0x7E]
        simulator.set_paper(Paper.OK)
        simulator.set_cover_open(True)
        assert [ask(sock, n) for n in (1, 2, 4)] == [0x1A, 0x16, 0x12]
        simulator.set_cover_open(False)
        simulator.set_error(ErrorKind.CUTTER)
        assert [ask(sock, n) for n in (1, 2, 3)] == [0x1A, 0x52, 0x1A]
        simulator.set_error(ErrorKind.NONE)
        sock.sendall(b"\x10\x04\x07")  # an n printers ignore: no answer
        assert ask(sock, 1) == 0x12
    assert simulator.status_byte(9) is None


def test_a_receipt_split_anywhere_reads_the_same(simulator: PrinterSimulator, receipt: Receipt) -> None:
    data = receipt_bytes(receipt)
    with connect(simulator) as sock:
        for i in range(0, len(data), 7):  # splits inside commands, GB18030 characters and the QR payload
            sock.sendall(data[i : i + 7])
        assert ask(sock, 4) == 0x12  # answered in stream order: the receipt is in
    (printed,) = simulator.wait_for_receipts(1, TIMEOUT)
    assert printed.data == data and printed.fault is None
    assert printed.parsed.text_lines[0] == receipt.title
    assert receipt.title in printed.text
    assert printed.first_byte_at <= printed.last_byte_at


def test_status_queries_in_the_middle_of_a_receipt_are_not_printed(simulator: PrinterSimulator) -> None:
    data = receipt_bytes(Receipt("电费", ()))
    with connect(simulator) as sock:
        sock.sendall(data[:10])
        assert ask(sock, 1) == 0x12
        sock.sendall(data[10:])
        assert ask(sock, 1) == 0x12
    assert simulator.wait_for_receipts(1, TIMEOUT)[0].data == data


def test_paper_out_mid_receipt_spoils_it_and_keeps_the_printed_part(simulator: PrinterSimulator) -> None:
    data = receipt_bytes(Receipt("电费充值凭证", ()))
    simulator.fail_after(12, "paper_out")
    with connect(simulator) as sock:
        sock.sendall(data)
        assert ask(sock, 4) == 0x7E
    (spoiled,) = simulator.wait_for_spoiled(1, TIMEOUT)
    assert spoiled.fault == "paper_out" and spoiled.data == data[:12]
    assert simulator.receipts == []
    assert simulator.paper is Paper.OUT


def test_drop_closes_the_connection_and_new_ones_work(simulator: PrinterSimulator) -> None:
    sock = connect(simulator)
    sock.sendall(b"\x1b@half a receipt")
    assert ask(sock, 1) == 0x12
    simulator.drop_connection()
    assert sock.recv(1) == b""  # closed from the printer's side
    sock.close()
    (spoiled,) = simulator.wait_for_spoiled(1, TIMEOUT)
    assert spoiled.fault == "drop" and spoiled.data == b"\x1b@half a receipt"
    with connect(simulator) as again:
        assert ask(again, 1) == 0x12


def test_offline_refuses_connections_until_restored(simulator: PrinterSimulator) -> None:
    port = simulator.port
    simulator.set_offline(True)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((simulator.host, port), timeout=TIMEOUT)
    simulator.set_offline(False)
    assert simulator.port == port
    with connect(simulator) as sock:
        assert ask(sock, 1) == 0x12


def test_fault_offline_mid_receipt(simulator: PrinterSimulator) -> None:
    with connect(simulator) as sock:
        simulator.fail_after(5, "offline")
        sock.sendall(b"\x1b@" + b"x" * 100 + b"\n")
        assert sock.recv(1) == b""
    assert simulator.offline
    assert simulator.wait_for_spoiled(1, TIMEOUT)[0].fault == "offline"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((simulator.host, simulator.port), timeout=TIMEOUT)


def test_many_clients_at_once(simulator: PrinterSimulator) -> None:
    receipts = [receipt_bytes(Receipt(f"收据 {i}", ())) for i in range(8)]

    def send(data: bytes) -> None:
        with connect(simulator) as sock:
            sock.sendall(data)
            assert ask(sock, 1) == 0x12

    threads = [threading.Thread(target=send, args=(data,)) for data in receipts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert sorted(r.data for r in simulator.wait_for_receipts(8, TIMEOUT)) == sorted(receipts)
    assert simulator.connections_accepted == 8


def test_garbage_never_stops_the_printer(simulator: PrinterSimulator) -> None:
    with connect(simulator) as sock:
        sock.sendall(bytes(range(256)) * 4 + b"\x1d(k\xff\xff")  # ends inside a huge length-prefixed command
    with connect(simulator) as sock:
        assert ask(sock, 1) == 0x12


def test_close_is_clean_and_idempotent(receipt: Receipt) -> None:
    before = set(threading.enumerate())
    sim = PrinterSimulator().start()
    sock = connect(sim)
    sock.sendall(receipt_bytes(receipt, ReceiptLayout(columns=32)))
    assert ask(sock, 1) == 0x12
    sim.close()
    sim.close()
    assert sock.recv(1) == b""
    sock.close()
    assert set(threading.enumerate()) <= before
    assert len(sim.receipts) == 1  # what it printed stays readable
    sim.start()  # and it can be started again, on the same port
    with connect(sim) as again:
        assert ask(again, 1) == 0x12
    sim.close()


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400) | st.builds(lambda r: receipt_bytes(Receipt(r, ())), st.text(max_size=40)),
       cut=st.integers(0, 400))
def test_a_stream_split_anywhere_splits_into_the_same_commands(data: bytes, cut: int) -> None:
    """What arrives in two pieces is cut into the commands it would have been cut into in one."""
    end = b"\x1dV\x00"
    _whole, used_whole = complete_commands(data + end)
    first, used_first = complete_commands(data[:cut])
    second, used_second = complete_commands(data[:cut][used_first:] + data[cut:] + end)
    assert used_first + used_second == used_whole
    assert b"".join(c.raw for c in first + second) == (data + end)[:used_whole]
