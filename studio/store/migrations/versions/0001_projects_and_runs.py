"""Projects, the sessions working in them, and their training runs.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("access_key", sa.String(64), nullable=False, unique=True),
        sa.Column("creator", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
        sa.Column("runs_started", sa.Integer, nullable=False, server_default="0"),
        sa.Column("chosen", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_index("ix_projects_creator_created", "projects", ["creator", "created_at"])
    op.create_table(
        "sessions",
        sa.Column("session", sa.String(128), primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
    )
    op.create_index("ix_sessions_project_id", "sessions", ["project_id"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("preset", sa.String(64), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("points", sa.Text, nullable=False),
        sa.Column("report", sa.Text),
        sa.Column("accuracy", sa.Float),
        sa.Column("epochs", sa.Float, nullable=False, server_default="0"),
        sa.Column("seconds", sa.Float, nullable=False, server_default="0"),
        sa.Column("device", sa.String(64), nullable=False, server_default=""),
        sa.Column("stopped", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("weights", sa.LargeBinary),
        sa.Column("nbytes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("project_id", "number", name="uq_runs_project_number"),
    )
    op.create_index("ix_runs_project_id", "runs", ["project_id"])


def downgrade() -> None:
    op.drop_table("runs")
    op.drop_table("sessions")
    op.drop_table("projects")
