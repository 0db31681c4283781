"""The payment API and the wallet's pay and decline run in the event loop, not on the thread pool.

FastAPI runs a plain ``def`` route on its thread pool. A write there held SQLite's write lock while taking turns
at Python's GIL with the event loop after every statement, and every writer of every worker queued behind it:
at 1,000 residents (benchmarks/fleet_bench.py) the payment API's p99 was several times what it is in the loop.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.routing import APIRoute

from hq import api, sandbox


def _routes(router: APIRouter) -> list[APIRoute]:
    return [route for route in router.routes if isinstance(route, APIRoute)]


def test_every_payment_api_route_is_a_coroutine() -> None:
    routes = _routes(api.router)
    assert {route.path for route in routes} >= {"/api/v1/orders", "/api/v1/orders/{order_no}/cancel",
                                                 "/api/v1/orders/{order_no}/payment-code", "/api/v1/card-preferences"}
    assert [route.path for route in routes if not asyncio.iscoroutinefunction(route.endpoint)] == []


def test_the_wallets_pay_and_decline_are_coroutines() -> None:
    by_path = {route.path: route.endpoint for route in _routes(sandbox.router)}
    for path in ("/sandbox/checkout/{order_no}/pay", "/sandbox/checkout/{order_no}/decline"):
        assert asyncio.iscoroutinefunction(by_path[path]), path
