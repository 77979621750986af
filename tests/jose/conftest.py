"""Fixtures for the gatepass.jose unit tests (no database, no server)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec


@pytest.fixture(scope="module")
def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())
