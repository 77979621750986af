"""Rendering for the console: Jinja2 templates shipped in the package, the static files they
use, the console's own security headers, and the dashboard chart geometry.

Templates autoescape everything and fail on an undefined name. Static files are read once,
served from memory under a content-hash query (so a cached old copy is never used after an
upgrade), and no page loads anything from elsewhere: the CSP allows only this origin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.responses import HTMLResponse, Response

from gatepass import views
from gatepass.core.dashboard import DashboardFigures
from gatepass.core.text import clip, clip_words

# Jinja2 is imported when the first page is rendered (`Renderer.env`): most server processes
# only ever answer the API, and Jinja2 with its compiled templates is several MB each
# (docs/performance.md, "Memory per worker").
if TYPE_CHECKING:
    import jinja2

CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONSOLE_CSP,
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
}
_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    media_type: str
    version: str


def _load_static() -> dict[str, StaticFile]:
    files: dict[str, StaticFile] = {}
    folder = resources.files("gatepass.http.console").joinpath("static")
    for entry in folder.iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if entry.is_file() and suffix in _TYPES:
            body = entry.read_bytes()
            version = hashlib.sha256(body).hexdigest()[:12]
            files[entry.name] = StaticFile(body, _TYPES[suffix], version)
    return files


def when(epoch: float | None) -> str:
    if epoch is None:
        return "—"
    moment = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def detail(value: Any) -> str:
    """An audit detail value for reading: lists as words, nothing as a dash."""
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return " ".join(str(item) for item in value) or "—"
    return str(value)


def iso(epoch: float | None) -> str:
    """A time on a page: the views' ISO 8601 form, or nothing."""
    return views.iso(epoch) or ""


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    ok_y: float
    ok_height: float
    fail_y: float
    fail_height: float
    label: str


CHART_WIDTH = 600
CHART_HEIGHT = 120


def chart_bars(figures: DashboardFigures) -> list[Bar]:
    """One stacked bar per minute (successes below, failures on top), scaled to the peak."""
    count = max(1, len(figures.minutes))
    step = CHART_WIDTH / count
    peak = max(1, figures.peak)
    bars = []
    for index, minute in enumerate(figures.minutes):
        ok_height = CHART_HEIGHT * minute.successes / peak
        fail_height = CHART_HEIGHT * minute.failures / peak
        start = dt.datetime.fromtimestamp(minute.start, tz=dt.UTC).strftime("%H:%M")
        bars.append(
            Bar(
                x=round(index * step + 1, 2),
                ok_y=round(CHART_HEIGHT - ok_height, 2),
                ok_height=round(ok_height, 2),
                fail_y=round(CHART_HEIGHT - ok_height - fail_height, 2),
                fail_height=round(fail_height, 2),
                label=f"{start} UTC: {minute.successes} logins, {minute.failures} failed",
            )
        )
    return bars


def environment(*packages: str) -> jinja2.Environment:
    """The pages' Jinja2 environment: templates of `packages` (the first wins), autoescaped,
    failing on an undefined name."""
    import jinja2

    loaders: list[jinja2.BaseLoader] = [
        jinja2.PackageLoader(package, "templates") for package in packages
    ]
    return jinja2.Environment(
        loader=loaders[0] if len(loaders) == 1 else jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Renderer:
    def __init__(self) -> None:
        self.static = _load_static()

    @cached_property
    def env(self) -> jinja2.Environment:
        env = environment("gatepass.http.console")
        env.filters["when"] = when
        env.filters["iso"] = iso
        env.filters["detail"] = detail
        env.filters["clip"] = clip
        env.filters["clip_words"] = clip_words
        env.globals["static"] = self.static_url
        env.globals["chart_width"] = CHART_WIDTH
        env.globals["chart_height"] = CHART_HEIGHT
        return env

    def static_url(self, name: str) -> str:
        return f"/console/static/{name}?v={self.static[name].version}"

    def page(
        self,
        template: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> Response:
        body = self.env.get_template(template).render(**context)
        return HTMLResponse(body, status, headers={**PAGE_HEADERS, **(headers or {})})
