"""Schemathesis over HQ's own OpenAPI document: whatever it sends, within the schema or just outside it, HQ never
answers with a server error. Bounded (a few examples an operation and mode) so it stays a quick test.

The operations are driven with Hypothesis directly rather than through schemathesis' pytest plugin, whose
fixture support does not work with pytest 9.

The order status's long poll (``wait_s`` up to 25 s) costs no time here: the order numbers schemathesis makes up
name no order, so HQ answers 404 before any wait (a long poll waits only on an open order; tests/hq/
test_hq_long_poll.py covers it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from fleet_helpers import SignedClient, register_terminal
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

MAX_EXAMPLES = 10


@pytest.mark.parametrize("require_signatures", [False, True], ids=["unsigned-allowed", "signatures-required"])
def test_no_server_error(
    require_signatures: bool, make_client: Callable[..., TestClient], sqlite_url: str
) -> None:
    client = make_client(sqlite_url, require_signatures=require_signatures)
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _check(operation, mode)


def _check(operation: Any, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(checks=[not_a_server_error])

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing invalid can be sent (e.g. GET /api/v1/health)


def test_signed_heartbeats_never_cause_a_server_error(
    make_client: Callable[..., TestClient], sqlite_url: str, clock: Any
) -> None:
    """The heartbeat's body is only read once the signature is good: sign what schemathesis generates."""
    client = make_client(sqlite_url, require_signatures=True)
    terminal = SignedClient(client, "T-0001", register_terminal(client, "T-0001"), clock)
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operation = schema["/api/v1/terminals/{terminal_id}/heartbeat"]["POST"]
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            body = case.body if isinstance(case.body, dict | list | str | int | float | bytes) else None
            answer = terminal.request("POST", "/api/v1/terminals/T-0001/heartbeat", body)
            assert answer.status_code < 500, answer.text

        run()
