"""A purged release frees its label, like a withdrawn one (a corrected file can reuse it).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_LIVE = "status NOT IN ('withdrawn', 'purged')"


def upgrade() -> None:
    op.drop_index("uq_release_label_live", table_name="releases")
    op.create_index(
        "uq_release_label_live",
        "releases",
        ["dataset_id", "label"],
        unique=True,
        sqlite_where=sa.text(_LIVE),
        postgresql_where=sa.text(_LIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_release_label_live", table_name="releases")
    op.create_index(
        "uq_release_label_live",
        "releases",
        ["dataset_id", "label"],
        unique=True,
        sqlite_where=sa.text("status != 'withdrawn'"),
        postgresql_where=sa.text("status != 'withdrawn'"),
    )
