"""Structured logs: one event per line on stderr, as JSON (default), logfmt or plain text.

Every line carries the time, level, logger and message, the request id of the request being
served (when there is one) and the event's own fields (`extra={"fields": {...}}`). Nothing
that logs here is handed a secret: requests are logged by route template and status, audit
events by ids and outcomes (see `observers.py`).
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import math
import time
from typing import Any

import orjson

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

LOG_FORMATS = ("json", "logfmt", "plain")


# The formatted second of the last line: lines within one second share it.
_second: list[Any] = [None, ""]


def timestamp(created: float) -> str:
    """`created` as `datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")`
    gives it (same rounding to the microsecond, then truncation), without building a datetime
    for every line: the date and time of day are formatted once per second (a fifth of an audit
    line's cost otherwise)."""
    fraction, whole = math.modf(created)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        whole += 1
        micros -= 1_000_000
    elif micros < 0:  # before 1970: modf's parts are negative
        whole -= 1
        micros += 1_000_000
    second = int(whole)
    cached = _second
    if cached[0] != second:
        cached[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        cached[0] = second
    return f"{cached[1]}.{micros // 1000:03d}+00:00"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ts": timestamp(record.created),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
        "pid": record.process,
    }
    request_id = request_id_var.get()
    if request_id != "-":
        data["request_id"] = request_id
    extra = getattr(record, "fields", None)
    if isinstance(extra, dict):
        for key, value in extra.items():
            if value is not None:
                data[key] = value
    if record.exc_info:
        data["exc"] = logging.Formatter().formatException(record.exc_info)
    return data


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return orjson.dumps(_fields(record), default=str).decode()


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_logfmt_value(value)}" for key, value in _fields(record).items())


def _logfmt_value(value: object) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    if text and not any(c in text for c in ' ="\\\n\r\t'):
        return text
    return orjson.dumps(text).decode()  # a JSON string: quoted, with escapes


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = _fields(record)
        head = f"{data.pop('ts')} {data.pop('level').upper()} {data.pop('logger')}: "
        head += str(data.pop("msg"))
        rest = " ".join(f"{key}={_logfmt_value(value)}" for key, value in data.items())
        return f"{head} {rest}" if rest else head


_FORMATTERS = {"json": JsonFormatter, "logfmt": LogfmtFormatter, "plain": PlainFormatter}


def logging_config(log_format: str, level: str, requests: bool = True) -> dict[str, Any]:
    """A `logging.config.dictConfig` document (uvicorn applies it in every worker)."""
    formatter = _FORMATTERS[log_format]
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "gatepass",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"gatepass": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {
            "gatepass": {"level": level.upper()},
            # One line per request (INFO); off when `log_requests` is false.
            "gatepass.access": {"level": level.upper() if requests else "WARNING"},
            "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
            # One line per request comes from gatepass.access, with the request id.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure_logging(log_format: str, level: str, requests: bool = True) -> None:
    logging.config.dictConfig(logging_config(log_format, level, requests))
    # No line shows threads or the calling source line: don't gather them for every record
    # (the logging HOWTO's "Optimization" switches; the process id is still recorded).
    logging.logThreads = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # the HOWTO's documented switch for caller information
