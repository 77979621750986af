"""The memory storage implements every storage port: the Protocols' methods are enumerated, so
a method added to a port later fails here until the memory storage (and SQL) has it too."""

from __future__ import annotations

import inspect
from typing import Protocol

import pytest

from gatepass.adapters.memory_storage import MemoryStorage
from gatepass.adapters.sql.audit import SqlAuditLog
from gatepass.adapters.sql.storage import SqlStorage
from gatepass.core import ports
from gatepass.core.ports import AuditLog, Storage


def _port_methods(port: type) -> dict[str, inspect.Signature]:
    """Every method a Protocol and the Protocols it extends declare."""
    methods = {}
    for base in reversed(port.__mro__):
        if base is Protocol or not getattr(base, "_is_protocol", False):
            continue
        for name, value in vars(base).items():
            if inspect.iscoroutinefunction(value) and not name.startswith("_"):
                methods[name] = inspect.signature(value)
    return methods


STORAGE_METHODS = _port_methods(Storage)
AUDIT_METHODS = _port_methods(AuditLog)


def test_the_ports_are_found() -> None:
    stores = [
        value
        for value in vars(ports).values()
        if isinstance(value, type) and value.__name__.endswith("Store")
    ]
    assert {"add_user", "rotate_session", "consume_authorization_code", "use_totp_step"} <= set(
        STORAGE_METHODS
    )
    for store in stores:  # every *Store Protocol is part of Storage
        assert store in Storage.__mro__, store
        assert set(_port_methods(store)) <= set(STORAGE_METHODS)
    assert len(STORAGE_METHODS) >= 80  # as of issue 18


@pytest.mark.parametrize("name", sorted(STORAGE_METHODS))
@pytest.mark.parametrize("implementation", [MemoryStorage, SqlStorage])
def test_every_storage_method_is_implemented(implementation: type, name: str) -> None:
    method = getattr(implementation, name, None)
    assert method is not None, f"{implementation.__name__} has no {name}: implement it"
    assert inspect.iscoroutinefunction(inspect.unwrap(method)), name
    wanted = list(STORAGE_METHODS[name].parameters)
    assert list(inspect.signature(method).parameters) == wanted, name


@pytest.mark.parametrize("name", sorted(AUDIT_METHODS))
def test_every_audit_method_is_implemented(name: str) -> None:
    for log in (type(MemoryStorage().audit), SqlAuditLog):
        method = getattr(log, name)
        assert list(inspect.signature(method).parameters) == list(AUDIT_METHODS[name].parameters), (
            log,
            name,
        )


def storage_port() -> Storage:
    """A static check as well: mypy refuses this if MemoryStorage does not match the port."""
    return MemoryStorage()
