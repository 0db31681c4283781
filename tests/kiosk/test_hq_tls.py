"""TLS to HQ by configuration: a self-signed certificate made here, trusted through hq.ca_bundle, refused without."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from journey_rig import make_config

from hq.server import HqServer
from kiosk.config import ConfigError
from kiosk.hq_client import HqClient, HqUnreachable
from kiosk.signing import TerminalSigner


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, signed by its own key: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kiosk-hq test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "hq.pem", folder / "hq.key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_hq_with_a_ca_bundle(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with HqServer(require_signatures=True, ssl_certfile=str(cert), ssl_keyfile=str(key)) as hq:
        assert hq.base_url.startswith("https://127.0.0.1:")
        signer = TerminalSigner("T-TLS", hq.register_terminal("T-TLS"))
        trusted = HqClient(hq.base_url, 2.0, 5.0, signer=signer, ca_bundle=str(cert))
        assert trusted.identify("card", "04A1B2C3D4").house_id == "h_3_2_501"
        untrusted = HqClient(hq.base_url, 2.0, 5.0, signer=signer)  # the system's CAs do not know this one
        with pytest.raises(HqUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
            untrusted.health()
        trusted.close()
        untrusted.close()


def test_ca_bundle_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"hq\.ca_bundle .* is not an existing file"):
        make_config("https://hq.example", hq={"ca_bundle": str(tmp_path / "missing.pem")})
    (tmp_path / "ca.pem").write_text("x")
    assert make_config("https://hq.example", hq={"ca_bundle": str(tmp_path / "ca.pem")}).hq.ca_bundle
