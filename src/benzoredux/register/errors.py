"""Errors of the programme register. Messages name the register, kind and key, never more."""

from __future__ import annotations

from collections.abc import Sequence

from benzoredux.errors import BenzoreduxError

__all__ = [
    "LetterRefusedError",
    "RegisterConflictError",
    "RegisterDamagedError",
    "RegisterError",
    "RegisterVersionError",
]


class RegisterError(BenzoreduxError):
    """The register cannot do what was asked (bad value, unknown kind, not a register, ...)."""


class RegisterVersionError(RegisterError):
    """The register was written by a newer benzoredux, or its schema is unknown."""


class RegisterDamagedError(RegisterError):
    """The register file is damaged (SQLite's integrity check fails): it is not written to.

    A damaged register cannot be trusted to refuse a second stop letter, so no step records in
    it. The way out is the last export (``benzoredux register export``), imported into a new
    register with ``benzoredux register import``.
    """


class RegisterConflictError(RegisterError):
    """Two entries claim the same revision of the same key: a write outside a transaction."""


class LetterRefusedError(RegisterError):
    """A stop letter was refused: the patient already had one in this programme.

    ``patient_ids`` lists who; pass ``force={patient_id: reason}`` to send a second letter on
    purpose (the forcing and its reason are recorded).
    """

    def __init__(self, patient_ids: Sequence[str]) -> None:
        self.patient_ids = tuple(patient_ids)
        shown = ", ".join(map(repr, self.patient_ids[:10]))
        more = f" and {len(self.patient_ids) - 10} more" if len(self.patient_ids) > 10 else ""
        super().__init__(
            f"refused {len(self.patient_ids)} stop letter(s): patient(s) {shown}{more} already "
            "had a stop letter in this programme; nothing was recorded. Leave them out, or force "
            "a second letter with force={patient_id: reason}"
        )
