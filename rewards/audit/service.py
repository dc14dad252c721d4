"""Use case: the audit log of every change an operator or a merchant made."""

from __future__ import annotations

from rewards.audit import repository as audit_db

#: Write one entry (who, what, before and after) in the caller's transaction.
record = audit_db.record

#: The tenant's entries, newest first, before an entry id.
entries = audit_db.list_entries
