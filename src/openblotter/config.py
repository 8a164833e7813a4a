"""Settings: one typed object, the only reader of the environment.

Values come from (highest first): arguments given in code, environment
variables prefixed ``OPENBLOTTER_``, a TOML config file (``OPENBLOTTER_CONFIG``
or ``./openblotter.toml``, written by ``openblotter init``), then the defaults
below. Outside demo mode the portal refuses to publish with the development
salt; serving hashes nothing and needs no secret. The agency and its city are
not set by default: only the demo takes Norman's.
"""

from __future__ import annotations

import ipaddress
import os
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from openblotter.domain.errors import ConfigurationError

#: The salt every fresh checkout shares. Only the demo may run with it.
DEVELOPMENT_SALT = "openblotter-development-salt-not-for-production"
#: Counts from 1 to 9 are hidden in aggregates-only datasets unless the portal sets a threshold.
DEFAULT_AGGREGATES_THRESHOLD = 10

DEFAULT_PURPOSE = (
    "We publish these datasets so that residents can see what their police department does, "
    "measure it against the community it serves, and hold it to account. Each dataset is "
    "updated every quarter and every earlier release stays available."
)


#: The demo's identity: a Norman-sized synthetic city. Only demo mode uses it, for what is unset.
DEMO_IDENTITY: dict[str, Any] = {
    "agency": "Norman Police Department (demo)",
    "city_name": "Norman",
    "state": "Oklahoma",
    "city_latitude": 35.2226,
    "city_longitude": -97.4395,
    "city_timezone": "America/Chicago",
}
#: Settings the veil of darkness needs (sunset at the city).
LOCATION_SETTINGS = ("city_latitude", "city_longitude", "city_timezone")


def _config_file() -> Path | None:
    named = os.environ.get("OPENBLOTTER_CONFIG")
    if named:
        return Path(named)
    local = Path("openblotter.toml")
    return local if local.exists() else None


class Settings(BaseSettings):
    """Everything the portal can be configured with; documented in docs/operations.md."""

    model_config = SettingsConfigDict(env_prefix="OPENBLOTTER_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"), description="Where the catalog and release files live."
    )
    catalog_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the catalog; default: SQLite file in the data directory. "
        "PostgreSQL works by changing it (postgresql+psycopg://...).",
    )
    portal_name: str = Field(
        default="OpenBlotter", description="Shown in the header of every page."
    )
    agency: str | None = Field(
        default=None,
        description="The publishing agency, shown on every page (`openblotter init` sets it; "
        "the demo: Norman's).",
    )
    statement_of_purpose: str = Field(
        default=DEFAULT_PURPOSE, description="Why the department publishes."
    )
    salt: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SALT),
        description="Secret mixed into hashed IDs so that they cannot be recovered by guessing.",
    )
    demo: bool = Field(
        default=False, description="Demo mode: synthetic data, development salt allowed."
    )
    host: str = Field(default="127.0.0.1", description="Address the server listens on.")
    port: int = Field(default=8000, description="Port the server listens on.")
    publish_free_text: list[str] = Field(
        default_factory=list,
        description="Free-text fields (dataset.field or field) allowed in releases, masked for PII.",
    )
    small_number_threshold: int = Field(
        default=20, description="Rates from fewer events than this are marked unreliable."
    )
    suppression_threshold: int = Field(
        default=0,
        ge=0,
        description="Analysis cells below this count are suppressed (0: off); datasets "
        "published only as aggregates use it too, or 10 when it is 0.",
    )
    aggregates_only_datasets: list[str] = Field(
        default_factory=list,
        description="Datasets whose rows are not public: only counts (facets, aggregates, "
        "analyses) are served, with small cells and the cells that would reveal them hidden.",
    )
    aggregates_dimensions: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Per dataset published only as counts, the columns its tables may group and "
        "filter by (default: every coded column with 2 to 60 values, and quarter); IDs, exact "
        "dates, free text and privacy-treated columns are never dimensions.",
    )
    aggregates_protection_interval: int = Field(
        default=0,
        ge=0,
        description="In datasets published only as counts, the narrowest range a reader may "
        "work out for a hidden count from everything published (0: the threshold minus 1).",
    )
    reference_group: str = Field(
        default="all",
        description="Reference group of rate ratios: 'all' (the whole population) or a group.",
    )
    demographics_dataset: str = Field(
        default="community_demographics",
        description="The dataset of residents by group that benchmarks divide by.",
    )
    race_mapping_file: Path | None = Field(
        default=None,
        description="JSON file mapping the department's race codes to census categories "
        "(default: the built-in mapping, shown beside every benchmark).",
    )
    city_name: str | None = Field(
        default=None, description="The city the portal serves (sunset times, page headers)."
    )
    state: str | None = Field(default=None, description="The city's state (shown with its name).")
    city_latitude: float | None = Field(
        default=None, ge=-90, le=90, description="The city's latitude (veil of darkness)."
    )
    city_longitude: float | None = Field(
        default=None, ge=-180, le=180, description="The city's longitude (veil of darkness)."
    )
    city_timezone: str | None = Field(
        default=None, description="The city's IANA time zone, e.g. America/Chicago."
    )
    contact_email: str | None = Field(
        default=None, description="Where readers write about the data (shown in the footer)."
    )
    license: str | None = Field(
        default=None,
        description="The licence of the published data, e.g. CC-BY-4.0 (shown in the footer).",
    )
    query_memory_limit: str = Field(
        default="auto",
        description="DuckDB memory per web process ('auto': a quarter of the machine's or "
        "container's memory, 256MB to 8GB; or a size such as 2GB); larger sorts spill to "
        "query_temp_directory.",
    )
    query_threads: int = Field(
        default=0, description="DuckDB threads per web process (0: one per core)."
    )
    query_cache_cells: int = Field(
        default=2_000_000,
        ge=0,
        description="Cells of small query results kept per web process to answer repeated "
        "identical requests (0: no result cache; the benchmarks' uncached figures use 0).",
    )
    query_cache_mb: int = Field(
        default=32,
        ge=0,
        description="Megabytes the result cache may hold per web process, estimated from each "
        "result's rows; the cache keeps within both this and query_cache_cells (0: no cache).",
    )
    query_serving_copies: bool = Field(
        default=True,
        description="Keep a DuckDB copy of each queried release file in .serving in the data "
        "directory, built in the background, and answer queries from it (pages and counts "
        "several times faster than from Parquet); off: every query reads the Parquet.",
    )
    query_temp_directory: Path | None = Field(
        default=None,
        description="Where DuckDB spills sorts and joins that do not fit in memory "
        "(default: .duckdb-tmp in the data directory; a local disk, not a network share).",
    )
    query_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        description="Longest a query may run (and wait for a turn), and a request's work in "
        "Python (an analysis); it is then stopped and answered 504. A download's time limit "
        "applies to each batch it reads.",
    )
    query_concurrency: int = Field(
        default=0,
        ge=0,
        description="Queries that run at once per web process (0: twice the DuckDB threads); "
        "the others wait their turn within the time limit.",
    )
    export_concurrency: int = Field(
        default=4,
        ge=1,
        description="Downloads (CSV, NDJSON, Parquet, XLSX of query results) streamed at once "
        "per web process; one more waits for a turn (up to query_timeout_seconds), then is "
        "answered 503 with Retry-After.",
    )
    upload_max_bytes: int = Field(
        default=512 * 1024 * 1024, description="Largest file a publish accepts."
    )
    export_memory_limit: str = Field(
        default="64MB",
        description="DuckDB memory for downloads (CSV, JSON lines, Parquet, XLSX), apart from "
        "queries: a sorted export of any size spills to query_temp_directory instead of growing "
        "('' streams downloads from the query connection).",
    )
    export_threads: int = Field(
        default=1, ge=0, description="DuckDB threads for downloads (0: one per core)."
    )
    publish_chunked_min_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=0,
        description="A CSV of at least this many bytes for a custom dataset is published chunk "
        "by chunk in bounded memory (services/publish_stream.py); smaller files are read whole.",
    )
    xlsx_max_uncompressed_bytes: int = Field(
        default=2 * 1024**3,
        gt=0,
        description="Most bytes the parts of an uploaded XLSX workbook may unpack to "
        "(counted while inflating, not as the file claims); a zip bomb is refused.",
    )
    xlsx_max_cells: int = Field(
        default=50_000_000,
        gt=0,
        description="Most cells (rows x columns of the used range) an uploaded XLSX sheet may "
        "span; checked before the sheet is read. Rows and columns are also held to Excel's "
        "own limits (1,048,576 and 16,384) and a cell to 32,767 characters.",
    )
    ckan_sql_enabled: bool = Field(
        default=True,
        description="Answer CKAN's datastore_search_sql (one SELECT over one resource, parsed "
        "and checked against an allow-list). False: the action is unknown, as on a CKAN "
        "without it.",
    )
    # --- serving on the public internet (web/limits.py, web/security.py, web/connections.py) ---
    public_base_url: str | None = Field(
        default=None,
        description="The portal's public address (https://data.example.gov); absolute links "
        "(next pages, JSON-LD) start with it. Unset: links are relative, never built from the "
        "request's Host header.",
    )
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Host names the portal answers to (example.gov, *.example.gov); other "
        "Host headers get a 400. ['*']: any.",
    )
    behind_tls: bool = Field(
        default=False,
        description="The portal is only reached over HTTPS: send Strict-Transport-Security.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks of reverse proxies (10.0.0.0/8); only connections "
        "from them may name the client in X-Forwarded-For or Forwarded.",
    )
    rate_limit_enabled: bool = Field(
        default=True,
        description="Limit requests per client address (429 with Retry-After). Turn off when a "
        "reverse proxy limits for the portal, and for benchmarks.",
    )
    rate_limit_per_minute: int = Field(
        default=300, ge=1, description="Requests a client may make per minute, sustained."
    )
    rate_limit_burst: int = Field(
        default=100, ge=1, description="Requests a client may make at once before the rate applies."
    )
    max_url_bytes: int = Field(
        default=32_768, ge=1024, description="Longest request path and query string (414 above)."
    )
    server_request_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a client has to send a whole request (headers and body) once it "
        "starts; slower connections are answered 408 and closed (slowloris).",
    )
    server_write_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds a client may stop reading a response before it is disconnected.",
    )
    server_keep_alive_timeout: int = Field(
        default=5, ge=1, description="Seconds an idle keep-alive connection stays open."
    )
    server_preload_analysis: bool = Field(
        default=True,
        description="Import the statistics libraries (SciPy, statsmodels) before serving: "
        "about 105 MB more per web process, and no first analysis that holds every other "
        "request up for seconds while they load.",
    )
    server_max_head_bytes: int = Field(
        default=65_536, ge=8192, description="Largest request line and headers (431 above)."
    )
    server_max_connections: int = Field(
        default=1000,
        ge=1,
        description="Open connections per web process; over it new connections are closed and "
        "requests answered 503.",
    )
    server_max_connections_per_client: int = Field(
        default=64,
        ge=0,
        description="Open connections per client address (0: no cap; set 0 behind a reverse "
        "proxy, where every connection comes from the proxy).",
    )

    @field_validator("public_base_url")
    @classmethod
    def _absolute_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("https://", "http://")) or "?" in value or "#" in value:
            raise ValueError(f"public_base_url '{value}' is not like https://data.example.gov")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: '{entry}' is not an IP address or network (10.0.0.0/8)"
                ) from None
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @model_validator(mode="after")
    def _demo_identity(self) -> Settings:
        """The demo shows Norman's identity wherever the settings leave it unset."""
        if self.demo:
            for name, value in DEMO_IDENTITY.items():
                if getattr(self, name) is None:
                    setattr(self, name, value)
        return self

    @property
    def place_name(self) -> str | None:
        """ "Providence, Rhode Island": the city with its state, or None when unset."""
        if not self.city_name:
            return None
        if self.state and self.state not in self.city_name:
            return f"{self.city_name}, {self.state}"
        return self.city_name

    @property
    def missing_location(self) -> list[str]:
        """The location settings (coordinates, time zone) not set; empty when all are."""
        return [name for name in LOCATION_SETTINGS if getattr(self, name) is None]

    @cached_property
    def resolved_catalog_url(self) -> str:
        if self.catalog_url:
            return self.catalog_url
        return f"sqlite:///{(self.data_dir / 'catalog.sqlite').resolve()}"

    @property
    def uses_development_salt(self) -> bool:
        return self.salt.get_secret_value() == DEVELOPMENT_SALT

    def require_safe(self) -> None:
        """Refuse unsafe settings outside demo mode (the shared development salt)."""
        if not self.demo and self.uses_development_salt:
            raise ConfigurationError(
                "OPENBLOTTER_SALT is not set: hashed officer and subject IDs would use the public "
                "development salt and could be recovered by guessing. Set OPENBLOTTER_SALT to a long "
                "random secret (for example: python -c 'import secrets; print(secrets.token_hex(32))') "
                "and keep it the same for every release of this portal.",
                detail={"setting": "OPENBLOTTER_SALT"},
            )

    def aggregates_only(self, dataset_id: str) -> bool:
        """Whether a dataset is published only as counts (its rows are not public)."""
        return dataset_id in self.aggregates_only_datasets

    @property
    def aggregates_threshold(self) -> int:
        """Counts below this are hidden in datasets published only as aggregates."""
        return self.suppression_threshold or DEFAULT_AGGREGATES_THRESHOLD

    @property
    def aggregates_interval(self) -> int:
        """The narrowest range a reader may derive for a hidden count in a counts-only dataset."""
        return self.aggregates_protection_interval or self.aggregates_threshold - 1

    def free_text_allowed(self, dataset_id: str, field: str) -> bool:
        return field in self.publish_free_text or f"{dataset_id}.{field}" in self.publish_free_text


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and config file, with explicit overrides on top."""
    return Settings(**overrides)
