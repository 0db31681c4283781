"""The terminal's client for HQ's billing API (docs/api.md). Blocking: call it off the GUI thread.

Every call has a connect and a read timeout. Failures are told apart the way payments need them told apart:
`HqUnreachable` means the request never reached HQ (safe to say "not possible now"); `HqNoAnswer` means it was
sent and no answer came, so its outcome is unknown and must be asked for, never repeated blindly.
"""

from __future__ import annotations

import secrets
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from kiosk.domain import (
    FoundHouse,
    HouseOverview,
    HouseRef,
    Order,
    OrderStatus,
    ProtocolError,
    parse_found_house,
    parse_order,
    parse_overview,
)
from kiosk.signing import TRUST_CODES, TrustStatus


class HqFailure(Exception):
    """Base of every failure talking to HQ."""


class HqUnreachable(HqFailure):
    """The request did not reach HQ (no route, refused, connect timeout)."""


class HqNoAnswer(HqFailure):
    """The request was sent but no answer came back: the outcome is unknown."""


class HqError(HqFailure):
    """HQ answered with an error; `code` is the stable code from docs/api.md."""

    def __init__(self, status: int, code: str, message: str = "", body: dict[str, Any] | None = None) -> None:
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.body = body or {}

    @property
    def retryable(self) -> bool:
        """Server trouble and rate limits may pass; other 4xx will not."""
        return self.status >= 500 or self.status == 429


def new_idempotency_key() -> str:
    """A client-generated, unguessable key for one order."""
    return secrets.token_urlsafe(24)


class HqClient:
    """Calls HQ's API with timeouts; one instance per terminal, safe from one worker thread at a time."""

    def __init__(
        self, base_url: str, connect_timeout_s: float = 3.0, read_timeout_s: float = 10.0, *,
        signer: requests.auth.AuthBase | None = None, ca_bundle: str = "", trust: TrustStatus | None = None,
    ) -> None:
        """``signer`` signs every request (kiosk/signing.py); ``ca_bundle`` is the CA file HQ's TLS certificate
        is verified against (default: the system's); ``trust`` hears of HQ's refusals of trust."""
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout_s, read_timeout_s)
        self._session = requests.Session()
        self._session.headers["Accept"] = "application/json"
        self._session.auth = signer
        # Given with each request: a Session's own `verify` loses to REQUESTS_CA_BUNDLE in the environment.
        self._verify: str | bool = ca_bundle or True
        self._trust = trust

    def close(self) -> None:
        self._session.close()

    def _request(self, method: str, path: str, *, timeout: tuple[float, float] | None = None, **kwargs: Any) -> Any:
        url = f"{self.base_url}{path}"
        try:
            response = self._session.request(
                method, url, timeout=timeout or self.timeout, verify=self._verify, **kwargs
            )
        except requests.ConnectTimeout as exc:
            raise HqUnreachable(str(exc)) from exc
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                raise HqUnreachable(str(exc)) from exc
            raise HqNoAnswer(str(exc)) from exc
        except requests.Timeout as exc:
            raise HqNoAnswer(str(exc)) from exc
        try:
            body = response.json()
        except ValueError as exc:
            if response.ok:
                raise ProtocolError(f"{method} {path}: answer is not JSON") from exc
            raise HqError(response.status_code, "http_error", response.text[:200]) from exc
        if not response.ok:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            code = str(error.get("code", "http_error"))
            if self._trust is not None and code in TRUST_CODES:
                self._trust.refused(code, str(error.get("message", "")), f"{method} {path}")
            raise HqError(
                response.status_code,
                code,
                str(error.get("message", "")),
                error if isinstance(error, dict) else None,
            )
        if self._trust is not None:
            self._trust.accepted()
        return body

    def health(self) -> bool:
        self._request("GET", "/api/v1/health")
        return True

    def identify(self, method: str, value: str) -> HouseRef:
        """Find a house by card, house_number, house_code or bill."""
        return self.find_house(method, value).house

    def find_house(self, method: str, value: str) -> FoundHouse:
        """`identify`, with the mode a card's holder last chose (for a card)."""
        return parse_found_house(
            self._request("POST", "/api/v1/identify", json={"method": method, "value": value})
        )

    def set_card_mode(self, card_id: str, mode: str) -> None:
        """Remember the mode ("standard" or "elderly") a card's holder chose; the card is in the body, never the URL."""
        self._request("PUT", "/api/v1/card-preferences", json={"card_id": card_id, "mode": mode})

    def overview(self, house_id: str) -> HouseOverview:
        return parse_overview(self._request("GET", f"/api/v1/houses/{house_id}/overview"))

    def create_order(
        self, *, idempotency_key: str, terminal_id: str, house_id: str, meter_id: str, amount_fen: int
    ) -> Order:
        body = {
            "terminal_id": terminal_id,
            "house_id": house_id,
            "meter_id": meter_id,
            "service": "electricity",
            "amount_fen": amount_fen,
        }
        headers = {"Idempotency-Key": idempotency_key}
        return parse_order(self._request("POST", "/api/v1/orders", json=body, headers=headers))

    def order(self, order_no: str, wait_s: float = 0, seen: OrderStatus | None = None) -> Order:
        """The order as HQ has it. With ``wait_s`` > 0 a long poll: HQ answers once the order's status is another
        than ``seen`` (the one last seen; default: its status when the request arrives) or after ``wait_s``
        seconds, so the read timeout is ``wait_s`` plus the configured one."""
        path = f"/api/v1/orders/{order_no}"
        if wait_s <= 0:
            return parse_order(self._request("GET", path))
        params = {"wait_s": f"{wait_s:g}"}
        if seen is not None:
            params["seen_status"] = seen.value
        connect_s, read_s = self.timeout
        return parse_order(self._request("GET", path, params=params, timeout=(connect_s, read_s + wait_s)))

    def order_by_key(self, idempotency_key: str) -> Order:
        return parse_order(self._request("GET", "/api/v1/orders", params={"idempotency_key": idempotency_key}))

    def pay_with_code(self, order_no: str, *, idempotency_key: str, payment_code: str) -> Order:
        """Submit a wallet's payment code for an order: paid, declined, or confirming on the payer's phone.

        Refusals are `HqError`s: `order_not_awaiting_payment` (409, with the order in `body["order"]`),
        `invalid_payment_code` (422). The code goes in the body only, never in a URL or a log line.
        """
        headers = {"Idempotency-Key": idempotency_key}
        body = {"payment_code": payment_code}
        return parse_order(
            self._request("POST", f"/api/v1/orders/{order_no}/payment-code", json=body, headers=headers)
        )

    def heartbeat(self, terminal_id: str, report: dict[str, Any]) -> dict[str, Any]:
        """Send one heartbeat (kiosk/heartbeat.py); HQ answers with its clock and the commands waiting."""
        answer = self._request("POST", f"/api/v1/terminals/{terminal_id}/heartbeat", json=report)
        if not isinstance(answer, dict) or not isinstance(answer.get("commands"), list):
            raise ProtocolError("heartbeat: answer has no list of commands")
        return answer

    def cancel_order(self, order_no: str) -> Order:
        """Cancel an unpaid order; a payment that raced the cancel comes back as the paid order."""
        try:
            return parse_order(self._request("POST", f"/api/v1/orders/{order_no}/cancel"))
        except HqError as exc:
            if exc.code == "order_already_paid" and isinstance(exc.body.get("order"), dict):
                return parse_order(exc.body["order"])
            raise


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection itself failed, so HQ cannot have seen the request."""
    if isinstance(exc, requests.exceptions.SSLError):
        return True  # the TLS handshake failed (certificate not trusted): no request was sent
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, NewConnectionError | ConnectionRefusedError):
            return True
        reason = getattr(cause, "reason", None)
        if isinstance(reason, NewConnectionError | ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
