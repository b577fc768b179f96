"""The store's tables as the code reads and writes them today (SQLAlchemy Core).

One schema for SQLite and PostgreSQL. Alembic's migrations (`migrations/versions/`) make a store of
any older revision into this one; a test checks that the head migration makes exactly these tables.
Times are Unix seconds. Every row of a project goes with it (`ON DELETE CASCADE`).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

projects = sa.Table(
    "projects", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("access_key", sa.String(64), nullable=False, unique=True),   # whoever holds the key, has the project
    sa.Column("creator", sa.String(32), nullable=False),       # a hash of the address that made it (rate limit)
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("seen_at", sa.Float, nullable=False),
    sa.Column("runs_started", sa.Integer, nullable=False, server_default="0"),
    sa.Column("chosen", sa.Text, nullable=False, server_default="{}"),   # JSON: data set -> model name
    sa.Index("ix_projects_creator_created", "creator", "created_at"),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("session", sa.String(128), primary_key=True),     # Gradio's session hash
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("seen_at", sa.Float, nullable=False),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("preset", sa.String(64), nullable=False),
    sa.Column("config", sa.Text, nullable=False),               # JSON: the TrainConfig
    sa.Column("points", sa.Text, nullable=False),               # JSON: the curve
    sa.Column("report", sa.Text),                                # JSON: the test report (None: none)
    sa.Column("accuracy", sa.Float),
    sa.Column("epochs", sa.Float, nullable=False, server_default="0"),     # epochs trained (2.4: stopped in the third)
    sa.Column("seconds", sa.Float, nullable=False, server_default="0"),
    sa.Column("device", sa.String(64), nullable=False, server_default=""),
    sa.Column("stopped", sa.Boolean, nullable=False, server_default="0"),
    sa.Column("weights", sa.LargeBinary),                        # the safetensors file (None until it has one)
    sa.Column("nbytes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Float, nullable=False),
    # running -> done | stopped | interrupted (its process died or its page went away mid-run)
    sa.Column("status", sa.String(16), nullable=False, server_default="done"),
    sa.Column("owner", sa.String(64)),                           # the process running it
    sa.Column("heartbeat", sa.Float),                            # when that process last said it was alive
    sa.Column("finished_at", sa.Float),                          # when it got its model (None: not yet, or never)
    sa.Column("shared", sa.Boolean, nullable=False, server_default="0"),   # its student shared it with the class
    sa.Column("hidden", sa.Boolean, nullable=False, server_default="0"),   # the teacher took it off the board
    sa.UniqueConstraint("project_id", "number", name="uq_runs_project_number"),
)

uses = sa.Table(
    "uses", metadata,
    # The project's own model of a data set in use (the Model menu's "run ..." entry): a run, or a
    # model taught on the project's hands (its weights here).
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("dataset", sa.String(64), primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE")),
    sa.Column("weights", sa.LargeBinary),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("stamp", sa.String(32), nullable=False),           # new at every write: processes' caches key on it
)

captures = sa.Table(
    "captures", metadata,
    # One example a project taught: a hand sign's landmarks row (never the photo), or a drawing's
    # 28x28 row and its strokes.
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("label", sa.String(64), nullable=False),
    # The row: a hand's (63,) float32, little-endian; a drawing's 28x28 uint8.
    sa.Column("features", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("dataset", sa.String(64), nullable=False, server_default="handshape"),   # what it teaches
    sa.Column("strokes", sa.Text),                               # drawings: their strokes (JSON), to take along
)

classes = sa.Table(
    "classes", metadata,
    # A teacher's class: students join with its code; the teacher's link holds a secret kept here
    # only as its hash (whoever holds the secret, teaches the class).
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("join_code", sa.String(16), nullable=False, unique=True),
    sa.Column("teacher_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("creator", sa.String(32), nullable=False),       # a hash of the address that made it (rate limit)
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("joins_until", sa.Float, nullable=False),        # the code is taken until then (closing: now)
    sa.Column("challenge", sa.Text),                            # JSON: data set and limits (None: none set)
    sa.Index("ix_classes_creator_created", "creator", "created_at"),
)

members = sa.Table(
    "members", metadata,
    # A project in a class (one class at most), under the name its student gave.
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("name_key", sa.String(40), nullable=False),      # the name as compared: two students, two names
    sa.Column("joined_at", sa.Float, nullable=False),
    sa.UniqueConstraint("class_id", "name_key", name="uq_members_class_name"),
)
