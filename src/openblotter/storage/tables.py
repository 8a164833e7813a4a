"""The catalog's tables (SQLAlchemy Core): what the migrations in storage/migrations make.

An empty catalog is created from them directly (``Catalog.migrate``); a test checks that
the migrations make the same database.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

datasets = Table(
    "datasets",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("title", Text, nullable=False),
    Column("family", String(60), nullable=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("schema", JSON, nullable=False),
    Column("mapping", String(200), nullable=True),
    Column("dropped_source_fields", JSON, nullable=False),
    Column("synthetic", Boolean, nullable=False, server_default=text("false")),
    Column("current_release_id", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

releases = Table(
    "releases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dataset_id", String(120), ForeignKey("datasets.id"), nullable=False),
    Column("label", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("period_start", Date, nullable=True),
    Column("period_end", Date, nullable=True),
    Column("row_count", BigInteger, nullable=False),
    Column("file_key", Text, nullable=False),
    Column("file_size", BigInteger, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("source_name", Text, nullable=False),
    Column("source_checksum", String(64), nullable=False),
    Column("schema", JSON, nullable=False),
    Column("report", JSON, nullable=False),
    Column("changelog", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("withdrawn_at", DateTime(timezone=True), nullable=True),
    Column("withdrawn_reason", Text, nullable=True),
    Index(
        "uq_release_label_live",
        "dataset_id",
        "label",
        unique=True,
        sqlite_where=text("status NOT IN ('withdrawn', 'purged')"),
        postgresql_where=text("status NOT IN ('withdrawn', 'purged')"),
    ),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("dataset_id", String(120), nullable=True),
    Column("label", String(20), nullable=True),
    Column("detail", JSON, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
