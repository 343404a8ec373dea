"""benzoredux: the minimal intervention to stop chronic benzodiazepine use in general practice.

The public surface follows the six steps of the intervention; start with
:func:`select_chronic_users`. Heavy optional parts (letters, charts, spreadsheets) live in their
own modules and are not imported here.
"""

from benzoredux.__about__ import __version__
from benzoredux.codes import ATCCode, ICPCCode
from benzoredux.consults import (
    CONSULTS,
    consults_from_frame,
    consults_to_frame,
    validate_consults,
)
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
from benzoredux.questionnaires import (
    BENDEP_SRQ,
    BWSQ,
    score_bendep_srq,
    score_bwsq,
    score_response_table,
)
from benzoredux.reading import ReadError, ReadResult, read_source
from benzoredux.register import (
    LetterRefusedError,
    Register,
    RegisterError,
    RegisterStore,
    export_register,
    import_register,
    open_register,
)
from benzoredux.schedule import Schedule, plan_schedule
from benzoredux.screening import Override, Screening, screen
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
from benzoredux.tapering import (
    REGULATED,
    SLOW,
    TaperProtocol,
    build_taper_schedule,
)

__all__ = [
    "BENDEP_SRQ",
    "BWSQ",
    "CONSULTS",
    "DISPENSINGS",
    "EPISODES",
    "PATIENTS",
    "REGULATED",
    "SLOW",
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
    "LetterRefusedError",
    "MissingColumnsError",
    "NewUseCriteria",
    "Override",
    "Patient",
    "PatientStatus",
    "Pharmacist",
    "Practice",
    "ReadError",
    "ReadResult",
    "Register",
    "RegisterError",
    "RegisterStore",
    "Schedule",
    "Screening",
    "Sex",
    "StopLetter",
    "TaperProtocol",
    "Validation",
    "__version__",
    "build_taper_schedule",
    "consults_from_frame",
    "consults_to_frame",
    "count_per_gp",
    "export_register",
    "import_register",
    "open_register",
    "plan_schedule",
    "read_source",
    "score_bendep_srq",
    "score_bwsq",
    "score_response_table",
    "screen",
    "select_chronic_users",
    "select_new_users",
    "validate_consults",
    "validate_dispensings",
    "validate_episodes",
    "validate_patients",
]
