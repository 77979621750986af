"""Settings: one frozen object built from `GATEPASS_*` variables and an optional TOML file.

The settings are handed explicitly to whatever needs them (the app factory, the CLI); nothing
reads a module-level global. Every problem found while loading is reported as one line in a
`ConfigError`, never as a traceback.

Over 500 lines because it is the one settings model: every setting with its default, its
validation and its one-line error lives here, so that `config show`, the docs test of every
setting and the loader read one table.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializationInfo,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from gatepass.config_layers import ENV_PREFIX, Layer, from_env, from_mapping
from gatepass.core.keys import MasterKey, MasterKeyError
from gatepass.core.scopes import is_scope_token
from gatepass.core.text import clip
from gatepass.dialect_settings import DIALECT_NAMES, DialectSettings
from gatepass.durations import Duration
from gatepass.durations import format_duration as format_duration  # re-exported
from gatepass.durations import parse_duration as parse_duration  # re-exported

ALL_DIALECTS = DIALECT_NAMES

logger = logging.getLogger("gatepass.config")

_PROBLEM_SEPARATOR = "\n"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ConfigError(Exception):
    """Configuration is invalid; `problems` holds one human-readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        # A problem is one line, whatever text it quotes back (a value, a key of the file).
        self.problems = [_CONTROL.sub(_escaped, problem) for problem in problems]
        super().__init__("; ".join(self.problems))


def _escaped(found: re.Match[str]) -> str:
    return f"\\x{ord(found.group()):02x}"


# The scheme of each database gatepass can use: SQLAlchemy's name for the database, then the
# asyncio driver gatepass ships. Any other spelling is refused with the one to write instead.
DATABASE_SCHEMES = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_DATABASE_ALIASES = {"postgres": "postgresql", "pgsql": "postgresql", "sqlite3": "sqlite"}
DATABASE_URL_FORMS = (
    "sqlite+aiosqlite:///PATH/gatepass.db or postgresql+asyncpg://USER:PASSWORD@HOST:5432/DATABASE"
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")


def safe_url(url: str) -> str:
    """A database or Redis URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        userinfo, host = rest.rsplit("@", 1)
        if ":" in userinfo:
            rest = f"{userinfo.split(':', 1)[0]}:***@{host}"
    if "password=" in rest:
        head, _, query = rest.partition("?")
        parts = [
            f"{key}=***" if key.lower() == "password" else f"{key}{eq}{value}"
            for key, eq, value in (part.partition("=") for part in query.split("&"))
        ]
        rest = head + "?" + "&".join(parts)
    return scheme + sep + rest


def check_database_url(url: str) -> str:
    """The URL if gatepass can open it; else a ValueError saying what to write instead."""
    scheme, sep, rest = url.partition("://")
    if not sep or not _SCHEME.match(scheme):
        raise ValueError(f"not a database URL: use {DATABASE_URL_FORMS}")
    backend = scheme.lower().partition("+")[0]
    backend = _DATABASE_ALIASES.get(backend, backend)
    wanted = DATABASE_SCHEMES.get(backend)
    if wanted is None:
        raise ValueError(
            f"unsupported database {scheme}://: gatepass supports "
            f"{' and '.join(s + '://' for s in DATABASE_SCHEMES.values())} "
            f"(use {DATABASE_URL_FORMS})"
        )
    if scheme != wanted:
        raise ValueError(
            f"{scheme}:// does not select the driver gatepass uses: "
            f"use {safe_url(wanted + '://' + rest)}"
        )
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"not a database URL: use {DATABASE_URL_FORMS}") from None
    return url


def _parse_dialects(value: object) -> frozenset[str]:
    if isinstance(value, str):
        names = [part.strip().lower() for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        names = [str(part).strip().lower() for part in value]
    else:
        raise ValueError("expected a comma-separated list of dialects or 'all'")
    if names == ["all"]:
        return frozenset(ALL_DIALECTS)
    if names == ["none"]:
        return frozenset()
    unknown = sorted(set(names) - set(ALL_DIALECTS))
    if unknown:
        choices = ", ".join(ALL_DIALECTS)
        raise ValueError(f"unknown dialect(s) {', '.join(unknown)}; choose from {choices} or 'all'")
    return frozenset(names)


def _parse_list(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple):
        return tuple(str(part) for part in value)
    raise ValueError("expected a comma-separated list")


def _control_character(value: object) -> str | None:
    """The first ASCII control character in a setting's text (a list's items included)."""
    texts = value if isinstance(value, list | tuple) else [value]
    for text in texts:
        if isinstance(text, str) and (found := _CONTROL.search(text)):
            return f"U+{ord(found.group()):04X}"
    return None


# Asymmetric algorithms only: `none` and HMAC can never verify another party's tokens safely
# (an HMAC "key" here would be the provider's public key, which anyone can read).
EXTERNAL_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)


def _parse_scopes(value: object) -> tuple[str, ...]:
    scopes = _parse_list(value.replace(",", " ").split() if isinstance(value, str) else value)
    bad = [scope for scope in scopes if not is_scope_token(scope)]
    if bad:
        raise ValueError(f"invalid scope name(s) {', '.join(bad)}: use RFC 6749 scope tokens")
    return scopes


Dialects = Annotated[frozenset[str], NoDecode, BeforeValidator(_parse_dialects)]
StrList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_parse_list)]
ScopeList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_parse_scopes)]
SigningAlg = Literal["ES256", "EdDSA", "HS256"]


class IssuerConfig(BaseModel):
    """A trusted external OIDC provider, from the config file (`[[issuers]]`) or the CLI."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str
    audiences: tuple[str, ...] = Field(min_length=1)
    name: str | None = None
    jwks_uri: str | None = None
    algorithms: tuple[str, ...] = ("RS256",)
    leeway: Duration = 60
    match: Literal["sub", "email"] = "sub"
    allowed_subjects: tuple[str, ...] = ()
    auto_provision: bool = False
    provision_org: str | None = None
    provision_roles: tuple[str, ...] = ()
    client_id: str | None = None

    @field_validator("issuer", "jwks_uri")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        refused = sorted(set(value) - set(EXTERNAL_ALGORITHMS))
        if refused or not value:
            raise ValueError(
                f"unsupported algorithm(s) {clip(', '.join(refused)) or '(none)'}: use "
                f"{', '.join(EXTERNAL_ALGORITHMS)}"
            )
        return value

    @property
    def display_name(self) -> str:
        return self.name or issuer_domain(self.issuer)


def issuer_domain(issuer: str) -> str:
    """The host of an issuer URL (an Auth0 "domain")."""
    return issuer.split("://", 1)[-1].split("/", 1)[0]


class Settings(BaseSettings):
    """Every setting of a gatepass deployment; see docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, validate_default=True
    )

    # Where things live
    home: Path = Path("./var")
    database_url: str | None = None
    master_key: str | None = Field(default=None, repr=False)
    database_schema: str | None = None
    database_pool_size: int = Field(default=10, ge=1, le=1000)

    # Shared state for several processes (issue 7)
    redis_url: str | None = Field(default=None, repr=False)
    redis_key_prefix: str = Field(default="gatepass", pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")

    # Tokens
    issuer: str = "http://127.0.0.1:8080"
    audience: str = "gatepass"
    # Scopes granted only when a request names them (issue 22): never by default, never to a
    # dialect, never in a token for a registered API (resource).
    privileged_scopes: ScopeList = ("gatepass:admin",)
    signing_alg: SigningAlg = "ES256"
    hs256_secret: str | None = Field(default=None, repr=False)
    access_token_ttl: Duration = 900
    refresh_token_ttl: Duration = 14 * 86400
    session_max_lifetime: Duration = 30 * 86400
    refresh_reuse_grace: Duration = 0
    clock_leeway: Duration = 30
    key_reload_interval: Duration = 5
    principal_cache_ttl: Duration = 2

    # Passwords (argon2id, RFC 9106 / OWASP profile by default)
    argon2_time_cost: int = Field(default=2, ge=1, le=20)
    argon2_memory_cost: int = Field(default=19456, ge=8, le=4 * 1024 * 1024)
    argon2_parallelism: int = Field(default=1, ge=1, le=64)
    hash_workers: int = Field(default=0, ge=0, le=256)
    hash_queue: int = Field(default=0, ge=0, le=10_000)
    # Workers hand argon2's working memory back after each hash (glibc tunables, huge pages):
    # ~19 MiB less RSS per hashing thread, ~10 % fewer logins per second (docs/decisions.md).
    return_hash_memory: bool = False

    # Login throttling
    login_failures_per_account: int = Field(default=20, ge=1)
    login_failures_per_address: int = Field(default=10, ge=1)
    login_failure_window: Duration = 120
    login_ban: Duration = 300
    login_ban_max: Duration = 86400
    known_address_days: int = Field(default=30, ge=0, le=3650)

    # Second factors and password policy (issue 18; docs/mfa.md)
    require_mfa: bool = False  # every user needs a second factor
    require_mfa_for_admins: bool = False  # users holding gatepass:admin need one
    totp_issuer: str = Field(default="gatepass", min_length=1, max_length=64)
    password_min_length: int = Field(default=8, ge=8, le=1024)  # 15 without a second factor
    password_blocklist: bool = True
    breached_password_check: bool = False  # Have I Been Pwned's range API, by k-anonymity
    breached_password_api: str = "https://api.pwnedpasswords.com/range/"
    breached_password_timeout: Duration = 2
    breached_password_fail_closed: bool = False

    # HTTP
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Bounded connections (issue 22): request line + headers, the time to send them, and the
    # connections one worker serves at once (more are answered 503).
    max_header_bytes: int = Field(default=64 * 1024, ge=4096, le=16 * 1024 * 1024)
    header_timeout: Duration = 20
    max_connections: int = Field(default=1000, ge=1, le=1_000_000)
    trusted_proxies: StrList = ()
    dialects: Dialects = frozenset()

    # Each dialect's own block (`[dialects.<name>]`, see gatepass.dialect_settings) is not a
    # field: `dialects` above stays the set switched on, and `_build` validates the blocks and
    # attaches them (`dialect_settings`); `model_dump` shows both in the file's shape.
    _dialect_settings: DialectSettings = PrivateAttr(default_factory=DialectSettings)

    # External identity providers
    issuers: tuple[IssuerConfig, ...] = ()
    external_jwks_ttl: Duration = 600
    external_jwks_min_refresh: Duration = 10
    external_http_timeout: Duration = 3

    # Admin console
    console_enabled: bool = True
    console_session_ttl: Duration = 3600

    # Mail and self-service accounts (issue 18): see docs/account.md
    smtp_url: str | None = Field(default=None, repr=False)  # smtp://USER:PASS@HOST:587, smtps://
    smtp_from: str | None = None  # e.g. "gatepass <no-reply@example.com>"
    smtp_starttls: Literal["required", "opportunistic", "off"] = "required"
    smtp_timeout: Duration = 10
    mail_templates_dir: Path | None = None
    password_reset_ttl: Duration = 1800
    invitation_ttl: Duration = 7 * 86400
    email_verification_ttl: Duration = 86400
    mail_requests_per_account: int = Field(default=3, ge=1)
    mail_requests_per_address: int = Field(default=10, ge=1)
    mail_request_window: Duration = 900

    # Operations (issue 11)
    log_format: Literal["json", "logfmt", "plain"] = "json"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_requests: bool = True
    metrics_enabled: bool = True
    metrics_token: str | None = Field(default=None, repr=False)
    metrics_dir: Path | None = None
    purge_interval: Duration = 300
    purge_batch: int = Field(default=1000, ge=1, le=100_000)
    purge_max_rows: int = Field(default=100_000, ge=1)
    audit_retention: Duration = 0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Only the values given: `load_settings` reads the file and the variables itself, so
        # that each problem names its variable (pydantic-settings would also read os.environ
        # during validation, and report a bad complex value without saying which variable).
        return (init_settings,)

    @field_validator("*", mode="before")
    @classmethod
    def _one_line_text(cls, value: object) -> object:
        # A newline or NUL in a path, URL, name or secret is always a mistake, and one that
        # would surface far from its cause (a NUL in a path fails when the file is opened).
        if (character := _control_character(value)) is not None:
            raise ValueError(f"contains a control character ({character}): remove it")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        return check_database_url(value) if value else None

    @field_validator("master_key")
    @classmethod
    def _master_key_format(cls, value: str | None) -> str | None:
        if value:
            try:
                MasterKey.from_text(value)
            except MasterKeyError as exc:
                raise ValueError(f"{exc}: use the key `gatepass init` wrote") from None
        return value or None

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an address or network: use e.g. 10.0.0.0/8,127.0.0.1"
                ) from None
        return value

    @field_validator("issuer")
    @classmethod
    def _issuer_is_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http(s) URL such as https://auth.example.com")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        problems: list[str] = []
        caches = {"principal_cache_ttl", "external_jwks_ttl"}  # 0 switches a cache off
        for name, value in self:
            if name.endswith("_ttl") and name not in caches and value <= 0:
                problems.append(f"{name} must be positive")
        if self.header_timeout <= 0:
            problems.append("header_timeout must be positive")
        if self.refresh_token_ttl > self.session_max_lifetime:
            problems.append("refresh_token_ttl cannot exceed session_max_lifetime")
        if self.access_token_ttl > self.session_max_lifetime:
            problems.append("access_token_ttl cannot exceed session_max_lifetime")
        if self.login_ban > self.login_ban_max:
            problems.append("login_ban cannot exceed login_ban_max")
        if self.signing_alg == "HS256":
            if not self.hs256_secret:
                problems.append("signing_alg HS256 needs hs256_secret (at least 32 bytes)")
            elif len(self.hs256_secret.encode()) < 32:
                problems.append("hs256_secret is too short: HS256 needs at least 32 bytes")
        if self.metrics_token is not None and len(self.metrics_token) < 16:
            problems.append("metrics_token is too short: use at least 16 characters")
        if self.purge_max_rows < self.purge_batch:
            problems.append("purge_max_rows cannot be smaller than purge_batch")
        problems.extend(_scale_problems(self))
        if problems:
            # One line per problem: `_describe` splits them again.
            raise ValueError(_PROBLEM_SEPARATOR.join(problems))
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.home / 'gatepass.db').resolve()}"

    @property
    def master_key_file(self) -> Path:
        return self.home / "master.key"

    @property
    def dialect_settings(self) -> DialectSettings:
        """Each dialect's block (`[dialects.<name>]`), whether or not it is switched on."""
        return self._dialect_settings

    @field_serializer("dialects")
    def _dialects_as_in_the_file(
        self, enabled: frozenset[str], info: SerializationInfo
    ) -> dict[str, Any]:
        # The shape of the file: `[dialects] enabled = [...]` and one table per dialect.
        blocks = self._dialect_settings.model_dump(mode=info.mode)
        return {"enabled": sorted(enabled), **blocks}

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some settings changed and validated again (tests and the CLI use it);
        `changes` are named as in the config file (the deprecated flat names included)."""
        return _build(from_mapping(self.model_dump()).over(from_mapping(changes)))


def _scale_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.database_schema is not None:
        if not settings.database_url or not settings.database_url.startswith("postgresql"):
            problems.append("database_schema needs a PostgreSQL database_url")
        elif not re.match(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", settings.database_schema):
            problems.append("database_schema must be a plain identifier (letters, digits, _)")
    problems.extend(_mail_problems(settings))
    if settings.redis_url is not None and not re.match(
        r"^(redis|rediss|unix)://", settings.redis_url
    ):
        problems.append("redis_url must start with redis://, rediss:// or unix://")
    return problems


def _mail_problems(settings: Settings) -> list[str]:
    if settings.smtp_url is None:
        return []
    # Imported here: the SMTP client is loaded only by deployments that send mail.
    from gatepass.adapters.mail import SmtpSettingsError, smtp_target

    try:
        smtp_target(settings.smtp_url, settings.smtp_from, settings.smtp_starttls)
    except SmtpSettingsError as exc:
        return [str(exc)]
    if settings.mail_templates_dir is not None and not settings.mail_templates_dir.is_dir():
        return [f"mail_templates_dir {settings.mail_templates_dir} is not a directory"]
    return []


def _build(layer: Layer) -> Settings:
    """Validate the settings and the dialect blocks; every problem of both, one line each."""
    if layer.problems:  # unknown names: nothing else is worth reporting until they are fixed
        raise ConfigError(layer.problems)
    problems: list[str] = []
    try:
        # Settings sources read the process environment; we pass values explicitly instead so
        # that `load` is a pure function of its arguments.
        settings = Settings.model_validate(layer.values)
    except ValidationError as exc:
        problems.extend(_describe(exc, layer))
    try:
        blocks = DialectSettings.model_validate(layer.blocks)
    except ValidationError as exc:
        problems.extend(_describe(exc, layer, within=("dialects",)))
    if problems:
        raise ConfigError(problems)
    settings._dialect_settings = blocks
    return settings


def _describe(exc: ValidationError, layer: Layer, within: tuple[str, ...] = ()) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = (*within, *(str(part) for part in error["loc"]))
        field = ".".join(loc) or "settings"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            problems.append(f"unknown setting '{field}'")
        elif len(loc) == len(within):  # a problem of the settings as a whole (several fields)
            problems.extend(message.split(_PROBLEM_SEPARATOR))
        elif len(loc) == len(within) + 1 and within:  # of one dialect's block: name each field
            problems.extend(_block_problem(field, line, layer) for line in message.split("\n"))
        else:
            problems.append(f"{layer.written.get(field, field)}: {message}")
    return problems


def _block_problem(block: str, line: str, layer: Layer) -> str:
    """`token_ttl must be positive` -> `dialects.xpay.token_ttl must be positive`, or by the
    deprecated name the operator used (`xpay_token_ttl must be positive`)."""
    name, _, rest = line.partition(" ")
    setting = f"{block}.{name}"
    return f"{layer.aliases.get(setting, setting)} {rest}"


def load_settings(
    config_file: Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Build settings from a TOML file (if any) overlaid with `GATEPASS_*` variables."""
    env = dict(os.environ if env is None else env)
    layer = Layer()
    path = config_file or (Path(env["GATEPASS_CONFIG"]) if env.get("GATEPASS_CONFIG") else None)
    if path is not None:
        try:
            layer = from_mapping(tomllib.loads(path.read_text()))
        except FileNotFoundError:
            layer.problems.append(f"config file {path} does not exist")
        except tomllib.TOMLDecodeError as exc:
            layer.problems.append(f"config file {path} is not valid TOML: {exc}")
    layer = layer.over(from_env(env, set(Settings.model_fields)))
    settings = _build(layer)
    for line in layer.deprecations:  # once per start, on stderr until logging is configured
        logger.warning(line)
    return settings


def value_sources(config_file: Path | None, env: Mapping[str, str]) -> dict[str, str]:
    """Where each setting that is not a default came from, `file` or `env`, by its name in
    the file (`access_token_ttl`, `dialects`, `dialects.datarhei.failure_delay`)."""
    layer = Layer()
    path = config_file or (Path(env["GATEPASS_CONFIG"]) if env.get("GATEPASS_CONFIG") else None)
    if path is not None:
        with contextlib.suppress(OSError, tomllib.TOMLDecodeError):  # reported already
            layer = from_mapping(tomllib.loads(path.read_text()))
    sources = dict.fromkeys(layer.written, "file")
    sources.update(dict.fromkeys(from_env(env, set(Settings.model_fields)).written, "env"))
    return sources
