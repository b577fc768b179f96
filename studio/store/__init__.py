"""Where the app keeps what its visitors make: projects, their runs, taught hands and choices; classes."""

from .classes import ClassError, ClassRow, ClassRun, Member, UnknownCode
from .store import HANDS, OWN, Limits, RunRow, Store, StoreError, Use, head_revision, migrate, revision_of

__all__ = ["ClassError", "ClassRow", "ClassRun", "HANDS", "Member", "OWN", "Limits", "RunRow", "Store", "StoreError",
           "UnknownCode", "Use", "head_revision", "migrate", "revision_of"]
