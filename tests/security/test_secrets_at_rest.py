"""A copy of the database yields no usable credential: signing keys are sealed under the master
key, client secrets and API keys are keyed digests, passwords argon2id hashes."""

from __future__ import annotations

import sqlite3

import pytest
from cryptography.hazmat.primitives import serialization

from gatepass.core.keys import MasterKey, MasterKeyError, load_signing_key
from tests.conftest import PASSWORD
from tests.system.server import gatepass, gatepass_env


async def test_the_database_holds_no_plaintext_secret(runtime, settings):
    created = await runtime.admin.add_client("svc", actor="test")
    api_key = await runtime.admin.add_api_key("alice", actor="test")
    await runtime.storage.audit.flush()
    dump = "\n".join(sqlite3.connect(settings.home / "gatepass.db").iterdump())
    for secret in (
        created.client_secret,
        api_key.api_key,
        PASSWORD,
        created.client_secret.removeprefix("gp_cs_"),
        api_key.api_key.removeprefix("gp_ak_"),
    ):
        assert secret not in dump
    private = runtime.keys.ring.active.signer.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    raw = (settings.home / "gatepass.db").read_bytes()
    assert private not in raw
    assert b"PRIVATE KEY" not in raw
    assert "$argon2id$" in dump  # passwords are hashes


async def test_sealed_keys_do_not_open_with_another_master_key(runtime):
    record = (await runtime.keys.records())[0]
    with pytest.raises(MasterKeyError, match="cannot be decrypted"):
        load_signing_key(record, MasterKey.generate())


def test_a_copied_database_without_its_master_key_refuses_to_start(tmp_path):
    env = gatepass_env(tmp_path / "var")
    assert gatepass("init", env=env).returncode == 0
    stolen = tmp_path / "stolen"
    stolen.mkdir()
    (stolen / "gatepass.db").write_bytes((tmp_path / "var" / "gatepass.db").read_bytes())
    no_key = gatepass("serve", "--port", "1", env=gatepass_env(stolen))
    assert no_key.returncode == 1
    assert no_key.stderr.startswith("error: no master key")
    wrong = gatepass(
        "serve",
        "--port",
        "1",
        env=gatepass_env(stolen, GATEPASS_MASTER_KEY=MasterKey.generate().to_text()),
    )
    assert wrong.returncode == 1
    assert "the master key does not match this database" in wrong.stderr
    assert "Traceback" not in no_key.stderr + wrong.stderr
