"""benzoredux: the minimal intervention to stop chronic benzodiazepine use in general practice.

The public surface follows the six steps of the intervention; start with
:func:`select_chronic_users`. Heavy optional parts (letters, charts, spreadsheets) live in their
own modules and are not imported here.
"""

from benzoredux.__about__ import __version__
from benzoredux.codes import ATCCode, ICPCCode
from benzoredux.errors import (
    BenzoreduxError,
    ColumnTypeError,
    DataCoverageWarning,
    InvalidRowsError,
    MissingColumnsError,
)
from benzoredux.models import (
    Consult,
    ConsultOutcome,
    ConsultRole,
    Dispensing,
    Episode,
    ExclusionCriterion,
    GeneralPractitioner,
    LetterKind,
    Patient,
    PatientStatus,
    Pharmacist,
    Practice,
    Sex,
    StopLetter,
)
from benzoredux.selection import (
    ChronicUseCriteria,
    NewUseCriteria,
    count_per_gp,
    select_chronic_users,
    select_new_users,
)
from benzoredux.tables import (
    DISPENSINGS,
    EPISODES,
    PATIENTS,
    Validation,
    validate_dispensings,
    validate_episodes,
    validate_patients,
)

__all__ = [
    "DISPENSINGS",
    "EPISODES",
    "PATIENTS",
    "ATCCode",
    "BenzoreduxError",
    "ChronicUseCriteria",
    "ColumnTypeError",
    "Consult",
    "ConsultOutcome",
    "ConsultRole",
    "DataCoverageWarning",
    "Dispensing",
    "Episode",
    "ExclusionCriterion",
    "GeneralPractitioner",
    "ICPCCode",
    "InvalidRowsError",
    "LetterKind",
    "MissingColumnsError",
    "NewUseCriteria",
    "Patient",
    "PatientStatus",
    "Pharmacist",
    "Practice",
    "Sex",
    "StopLetter",
    "Validation",
    "__version__",
    "count_per_gp",
    "select_chronic_users",
    "select_new_users",
    "validate_dispensings",
    "validate_episodes",
    "validate_patients",
]
