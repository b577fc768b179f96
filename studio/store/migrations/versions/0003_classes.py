"""Classes: a teacher's class with its join code, the projects in it under their students' names;
and of each run when it got its model, whether its student shared it with the class and whether
the teacher took it off the class's board.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("finished_at", sa.Float))
        batch.add_column(sa.Column("shared", sa.Boolean, nullable=False, server_default="0"))
        batch.add_column(sa.Column("hidden", sa.Boolean, nullable=False, server_default="0"))
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("join_code", sa.String(16), nullable=False, unique=True),
        sa.Column("teacher_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("creator", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("joins_until", sa.Float, nullable=False),
        sa.Column("challenge", sa.Text),
    )
    op.create_index("ix_classes_creator_created", "classes", ["creator", "created_at"])
    op.create_table(
        "members",
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("name_key", sa.String(40), nullable=False),
        sa.Column("joined_at", sa.Float, nullable=False),
        sa.UniqueConstraint("class_id", "name_key", name="uq_members_class_name"),
    )
    op.create_index("ix_members_class_id", "members", ["class_id"])


def downgrade() -> None:
    op.drop_table("members")
    op.drop_table("classes")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("hidden")
        batch.drop_column("shared")
        batch.drop_column("finished_at")
