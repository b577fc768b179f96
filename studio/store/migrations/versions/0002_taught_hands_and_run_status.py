"""Taught hands (their landmarks), each project's own model in use, and whether a run is still
running, so a run whose process died can be told apart from a finished one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        # Runs stored before this revision were finished ones.
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="done"))
        batch.add_column(sa.Column("owner", sa.String(64)))
        batch.add_column(sa.Column("heartbeat", sa.Float))
    op.create_table(
        "uses",
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("dataset", sa.String(64), primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE")),
        sa.Column("weights", sa.LargeBinary),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("stamp", sa.String(32), nullable=False),
    )
    op.create_table(
        "captures",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("features", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_captures_project_id", "captures", ["project_id"])


def downgrade() -> None:
    op.drop_table("captures")
    op.drop_table("uses")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("heartbeat")
        batch.drop_column("owner")
        batch.drop_column("status")
