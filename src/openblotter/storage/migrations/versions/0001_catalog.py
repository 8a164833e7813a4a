"""The catalog: datasets, releases, audit log, publisher tokens.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("family", sa.String(60), nullable=True),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("schema", sa.JSON, nullable=False),
        sa.Column("mapping", sa.String(200), nullable=True),
        sa.Column("dropped_source_fields", sa.JSON, nullable=False),
        sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("current_release_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", sa.String(120), sa.ForeignKey("datasets.id"), nullable=False),
        sa.Column("label", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("period_start", sa.Date, nullable=True),
        sa.Column("period_end", sa.Date, nullable=True),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("file_key", sa.Text, nullable=False),
        sa.Column("file_size", sa.BigInteger, nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("source_checksum", sa.String(64), nullable=False),
        sa.Column("schema", sa.JSON, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("changelog", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.Text, nullable=True),
    )
    op.create_index(
        "uq_release_label_live",
        "releases",
        ["dataset_id", "label"],
        unique=True,
        sqlite_where=sa.text("status != 'withdrawn'"),
        postgresql_where=sa.text("status != 'withdrawn'"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("dataset_id", sa.String(120), nullable=True),
        sa.Column("label", sa.String(20), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("tokens")
    op.drop_table("audit_log")
    op.drop_index("uq_release_label_live", table_name="releases")
    op.drop_table("releases")
    op.drop_table("datasets")
