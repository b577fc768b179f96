"""Taught drawings beside taught hands: each example says which data set's model it teaches, and a
drawing keeps its strokes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        # Examples stored before this revision were hands.
        batch.add_column(sa.Column("dataset", sa.String(64), nullable=False, server_default="handshape"))
        batch.add_column(sa.Column("strokes", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("captures") as batch:
        batch.drop_column("strokes")
        batch.drop_column("dataset")
