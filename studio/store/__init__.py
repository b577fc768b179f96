"""Where the app keeps what its visitors make: projects, their runs, taught hands and choices."""

from .store import OWN, Limits, RunRow, Store, StoreError, Use, head_revision, migrate, revision_of

__all__ = ["OWN", "Limits", "RunRow", "Store", "StoreError", "Use", "head_revision", "migrate", "revision_of"]
