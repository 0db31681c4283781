"""How many statements each call of a resident's payment sends to the database, on SQLite and on PostgreSQL.

HQ's event loop waits through every one of them (hq.api), so on PostgreSQL each is a round trip no other request
is served during. The counts are exact: a new query in one of these calls, or a lazy load creeping back, should be
a decision, made here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fleet_helpers import SignedClient, register_terminal
from hq_helpers import ORDER_BODY, FakeClock, new_key
from sqlalchemy import event

from hq.context import hq_context
from hq.secret_box import SecretBox, load_master_key
from hq.seed import DEMO_CARDS


class StatementLog:
    """The statements and commits an app's engine sends, BEGINs left out (SQLite's are statements of ours,
    PostgreSQL's are sent by the driver unseen), and so are the reads of the terminal table: the signature check's
    credential cache reads a terminal once and looks for changes at most once a second, not once a call."""

    def __init__(self, client: TestClient) -> None:
        self.statements: list[str] = []
        self.commits = 0
        engine = hq_context(client.app).sessions.kw["bind"]  # type: ignore[arg-type]
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN") and "FROM terminal " not in statement:
            self.statements.append(statement)

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def during(self, call: Any) -> tuple[Any, int, int]:
        """The answer of ``call()``, with the statements and commits it took."""
        before, commits = len(self.statements), self.commits
        answer = call()
        return answer, len(self.statements) - before, self.commits - commits


@pytest.fixture
def terminal(client: TestClient, clock: FakeClock) -> SignedClient:
    return SignedClient(client, ORDER_BODY["terminal_id"], register_terminal(client, ORDER_BODY["terminal_id"]), clock)


def test_a_resident_journey_takes_few_statements(client: TestClient, terminal: SignedClient) -> None:
    log = StatementLog(client)
    card = DEMO_CARDS[0][0]

    identified, *counts = log.during(lambda: terminal.request("POST", "/api/v1/identify",
                                                               {"method": "card", "value": card}))
    assert identified.status_code == 200, identified.text
    assert counts == [2, 0]  # the house with its community; the card's preferred mode

    house = identified.json()["house_id"]
    overview, *counts = log.during(lambda: terminal.request("GET", f"/api/v1/houses/{house}/overview"))
    assert overview.status_code == 200, overview.text
    assert counts == [3, 0]  # the house with community, meters and accounts; usage; recent recharges

    body = {**ORDER_BODY, "house_id": house, "meter_id": overview.json()["meters"][0]["meter_id"]}
    created, *counts = log.during(lambda: terminal.request("POST", "/api/v1/orders", body,
                                                            headers={"Idempotency-Key": new_key()}))
    assert created.status_code == 201, created.text
    assert counts == [4, 1]  # key not seen, the meter; the order and the key's record, one commit
    order_no = created.json()["order_no"]

    # The owner check of the status poll reads nothing: this process created the order.
    status, *counts = log.during(lambda: terminal.request("GET", f"/api/v1/orders/{order_no}"))
    assert status.json()["status"] == "awaiting_payment"
    assert counts == [1, 0]

    paid, *counts = log.during(lambda: client.post(f"/sandbox/checkout/{order_no}/pay",
                                                   headers={"Accept": "application/json"}))
    assert paid.json()["status"] == "paid"
    assert counts == [3, 1]  # close the order, credit the meter, note the balance (RETURNING the order): no reads

    again, *counts = log.during(lambda: client.post(f"/sandbox/checkout/{order_no}/pay",
                                                    headers={"Accept": "application/json"}))
    assert again.json()["new_balance_fen"] == paid.json()["new_balance_fen"]  # paid once
    assert counts == [3, 0]  # the close that finds it closed (rolled back); no confirmation due; the order


def test_an_order_of_another_process_is_read_once_for_its_owner(make_client: Any, db_url: str,
                                                                clock: FakeClock, tmp_path: Path) -> None:
    """A status poll reaching another worker than the create did reads the order's terminal, then remembers it."""
    box = SecretBox(load_master_key(tmp_path / "hq.key", create=True))
    creator, poller = make_client(db_url, secret_box=box), make_client(db_url, secret_box=box)
    secret = register_terminal(creator, ORDER_BODY["terminal_id"])
    order_no = SignedClient(creator, ORDER_BODY["terminal_id"], secret, clock).request(
        "POST", "/api/v1/orders", ORDER_BODY, headers={"Idempotency-Key": new_key()}).json()["order_no"]
    terminal = SignedClient(poller, ORDER_BODY["terminal_id"], secret, clock)
    log = StatementLog(poller)
    for expected in (2, 1):
        answer, *counts = log.during(lambda: terminal.request("GET", f"/api/v1/orders/{order_no}"))
        assert answer.status_code == 200, answer.text
        assert counts == [expected, 0]
