"""The store's tables as the code reads and writes them today (SQLAlchemy Core).

One schema for SQLite and PostgreSQL. Alembic's migrations (`migrations/versions/`) make a store of
any older revision into this one; a test checks that the head migration makes exactly these tables.
Times are Unix seconds. A project is found by the SHA-256 of its key, so the store never holds a
key itself. Every row of a project goes with it (`ON DELETE CASCADE`).
"""

from __future__ import annotations

from sqlalchemy import (Boolean, Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text,
                        UniqueConstraint)

metadata = MetaData()

projects = Table(
    "projects", metadata,
    Column("id", Integer, primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("creator", String(32), nullable=False),       # a hash of the address that made it (rate limit)
    Column("created_at", Float, nullable=False),
    Column("seen_at", Float, nullable=False),
    Column("runs_started", Integer, nullable=False, server_default="0"),
    Column("chosen", Text, nullable=False, server_default="{}"),   # JSON: data set -> model name
    Index("ix_projects_creator_created", "creator", "created_at"),
)

sessions = Table(
    "sessions", metadata,
    Column("session", String(128), primary_key=True),     # Gradio's session hash
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("seen_at", Float, nullable=False),
)

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("dataset", String(64), nullable=False),
    Column("preset", String(64), nullable=False),
    Column("config", Text, nullable=False),               # JSON: the TrainConfig
    Column("points", Text, nullable=False),               # JSON: the curve
    Column("report", Text),                                # JSON: the test report (None: none)
    Column("accuracy", Float),
    Column("seconds", Float, nullable=False, server_default="0"),
    Column("device", String(64), nullable=False, server_default=""),
    Column("stopped", Boolean, nullable=False, server_default="0"),
    Column("weights", LargeBinary),                        # the safetensors file (None until it has one)
    Column("nbytes", Integer, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
    # running -> done | stopped | interrupted (its process died or its page went away mid-run)
    Column("status", String(16), nullable=False, server_default="done"),
    Column("owner", String(64)),                           # the process running it
    Column("heartbeat", Float),                            # when that process last said it was alive
    UniqueConstraint("project_id", "number", name="uq_runs_project_number"),
)

uses = Table(
    "uses", metadata,
    # The project's own model of a data set in use (the Model menu's "run ..." entry): a run, or a
    # model taught on the project's hands (its weights here).
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("dataset", String(64), primary_key=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE")),
    Column("weights", LargeBinary),
    Column("title", String(200), nullable=False),
    Column("stamp", String(32), nullable=False),           # new at every write: processes' caches key on it
)

captures = Table(
    "captures", metadata,
    # One example of a hand sign a project taught: the hand's landmarks row, never the photo.
    Column("id", Integer, primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("label", String(64), nullable=False),
    Column("features", LargeBinary, nullable=False),      # (63,) float32, little-endian
    Column("created_at", Float, nullable=False),
)
