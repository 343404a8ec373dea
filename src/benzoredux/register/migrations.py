"""The register's schema versions, as the SQL that takes a register from one to the next.

A migration is never edited once released: a register written by an older benzoredux is
opened by applying the missing steps in order, in one transaction, after a backup copy of the
file has been made. The version is kept in SQLite's ``user_version``; every step applied is
also logged in the table ``schema_migrations`` with the time it ran.

* **Version 1**: one append-only table per record kind, keyed by the kind's key and the
  revision.
* **Version 2**: a stop letter may be forced on purpose (``letters.forced`` and
  ``letters.force_reason``; letters recorded under version 1 were not forced), and the
  database itself refuses to change or delete an entry (triggers), so the audit trail cannot
  be rewritten from outside the library either.

>>> from benzoredux.register.migrations import CURRENT_VERSION, MIGRATIONS
>>> sorted(MIGRATIONS)
[1, 2]
>>> CURRENT_VERSION
2
"""

from __future__ import annotations

__all__ = ["APPLICATION_ID", "CURRENT_VERSION", "MIGRATIONS", "TABLES"]

APPLICATION_ID = 0x425A5244
"""SQLite ``application_id`` of a benzoredux register (``BZRD``), so that ``file`` and the
library can tell a register from any other SQLite database."""

TABLES = (
    "programme",
    "selections",
    "selection_rows",
    "screening",
    "letters",
    "phone_calls",
    "consults",
    "tasks",
    "evaluations",
)

_V1 = """
CREATE TABLE schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
);
CREATE TABLE programme (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL CHECK (recorded_by <> ''),
    remark TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT '',
    practice_id TEXT NOT NULL DEFAULT '',
    gps TEXT NOT NULL DEFAULT 'null',
    pharmacists TEXT NOT NULL DEFAULT 'null',
    reference_date TEXT NOT NULL CHECK (date(reference_date) IS reference_date),
    criteria TEXT NOT NULL DEFAULT 'null',
    options TEXT NOT NULL DEFAULT 'null',
    UNIQUE (revision)
);
CREATE TABLE selections (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL CHECK (recorded_by <> ''),
    remark TEXT NOT NULL DEFAULT '',
    snapshot_id INTEGER NOT NULL,
    reference_date TEXT NOT NULL CHECK (date(reference_date) IS reference_date),
    source TEXT NOT NULL DEFAULT '',
    rows INTEGER NOT NULL,
    columns TEXT NOT NULL DEFAULT 'null',
    UNIQUE (snapshot_id, revision)
);
CREATE TABLE selection_rows (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL CHECK (recorded_by <> ''),
    remark TEXT NOT NULL DEFAULT '',
    snapshot_id INTEGER NOT NULL,
    patient_id TEXT NOT NULL DEFAULT '',
    gp_id TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL DEFAULT 'null',
    UNIQUE (snapshot_id, patient_id, revision)
);
CREATE TABLE screening (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL CHECK (recorded_by <> ''),
    remark TEXT NOT NULL DEFAULT '',
    patient_id TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    excluded INTEGER NOT NULL CHECK (excluded IN (0, 1)),
    reasons TEXT NOT NULL DEFAULT 'null',
    overrides_proposal INTEGER NOT NULL CHECK (overrides_proposal IN (0, 1)),
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (patient_id, source, revision)
);
CREATE TABLE letters (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL CHECK (recorded_by <> ''),
    remark TEXT NOT NULL DEFAULT '',
    patient_id TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    batch INTEGER NOT NULL,
    letter_date TEXT NOT NULL CHECK (date(letter_date) IS letter_date),
    sent_date TEXT CHECK (sent_date IS NULL OR date(sent_date) IS sent_date),
    gp_ids TEXT NOT NULL DEFAULT 'null',
    pharmacist_ids TEXT NOT NULL DEFAULT 'null',
    template TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    UNIQUE (patient_id, kind, batch, revision)
);
CREATE TABLE phone_calls (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL CHECK (recorded_by <> ''),
    remark TEXT NOT NULL DEFAULT '',
    patient_id TEXT NOT NULL DEFAULT '',
    called_on TEXT NOT NULL CHECK (date(called_on) IS called_on),
    outcome TEXT NOT NULL DEFAULT '',
    invitation_batch INTEGER,
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (patient_id, called_on, revision)
);
CREATE TABLE consults (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL CHECK (recorded_by <> ''),
    remark TEXT NOT NULL DEFAULT '',
    patient_id TEXT NOT NULL DEFAULT '',
    date TEXT NOT NULL CHECK (date(date) IS date),
    held_by TEXT NOT NULL DEFAULT '',
    attended INTEGER NOT NULL CHECK (attended IN (0, 1)),
    by_phone INTEGER NOT NULL CHECK (by_phone IN (0, 1)),
    outcome TEXT NOT NULL DEFAULT '',
    plan TEXT NOT NULL DEFAULT '',
    scores TEXT NOT NULL DEFAULT 'null',
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (patient_id, date, revision)
);
CREATE TABLE tasks (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL CHECK (recorded_by <> ''),
    remark TEXT NOT NULL DEFAULT '',
    task_id TEXT NOT NULL DEFAULT '',
    step TEXT NOT NULL DEFAULT '',
    what TEXT NOT NULL DEFAULT '',
    who TEXT NOT NULL DEFAULT '',
    month INTEGER,
    due TEXT CHECK (due IS NULL OR date(due) IS due),
    status TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (task_id, revision)
);
CREATE TABLE evaluations (
    entry_id INTEGER PRIMARY KEY AUTOINCREMENT,
    revision INTEGER NOT NULL CHECK (revision >= 1),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL CHECK (recorded_by <> ''),
    remark TEXT NOT NULL DEFAULT '',
    run_id TEXT NOT NULL DEFAULT '',
    run_date TEXT NOT NULL CHECK (date(run_date) IS run_date),
    kind TEXT NOT NULL DEFAULT '',
    parameters TEXT NOT NULL DEFAULT 'null',
    results TEXT NOT NULL DEFAULT 'null',
    UNIQUE (run_id, revision)
);
"""

_APPEND_ONLY = """
CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table}
BEGIN
    SELECT RAISE(ABORT, 'the register is append-only: record a correction instead');
END;
CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table}
BEGIN
    SELECT RAISE(ABORT, 'the register is append-only: record a correction instead');
END;
"""

_V2 = """
ALTER TABLE letters ADD COLUMN forced INTEGER NOT NULL DEFAULT 0 CHECK (forced IN (0, 1));
ALTER TABLE letters ADD COLUMN force_reason TEXT NOT NULL DEFAULT '';
CREATE INDEX letters_by_patient ON letters (patient_id, kind);
""" + "".join(_APPEND_ONLY.format(table=table) for table in TABLES)

MIGRATIONS: dict[int, str] = {1: _V1, 2: _V2}
"""The SQL that brings a register from version ``n - 1`` to version ``n``."""

CURRENT_VERSION = max(MIGRATIONS)
"""The schema version this benzoredux writes."""
