"""The five login dialects: existing products' login APIs reproduced on the wire.

Each module is a thin adapter (parse -> one core call -> render) holding that dialect's exact
wire strings and nothing else; `docs/dialects/` (a page per dialect) is the contract.
`enabled_dialects` builds the surfaces switched on by `GATEPASS_DIALECTS`.
"""

from __future__ import annotations

from gatepass.http.context import Gate
from gatepass.http.dialects.base import DialectSurface
from gatepass.http.dialects.cloudio import CloudioDialect
from gatepass.http.dialects.datarhei import DatarheiDialect
from gatepass.http.dialects.osais import OsaisDialect
from gatepass.http.dialects.unduit import UnduitDialect
from gatepass.http.dialects.xpay import XpayDialect

DIALECTS: dict[str, type[DialectSurface]] = {
    "osais": OsaisDialect,
    "cloudio": CloudioDialect,
    "unduit": UnduitDialect,
    "datarhei": DatarheiDialect,
    "xpay": XpayDialect,
}


def enabled_dialects(gate: Gate) -> list[DialectSurface]:
    return [DIALECTS[name](gate) for name in DIALECTS if name in gate.settings.dialects]
