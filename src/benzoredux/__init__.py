"""benzoredux: the minimal intervention to stop chronic benzodiazepine use in general practice.

The public surface follows the six steps of the intervention; start with
:func:`select_chronic_users`. Every name below is imported from its module on first use
(PEP 562), so ``import benzoredux`` stays light: a HIS add-on that only selects never loads
the register, the readers or the letter machinery, and heavy optional parts (docxtpl,
openpyxl, matplotlib) are only imported by the functions that need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from benzoredux.__about__ import __version__

if TYPE_CHECKING:
    from benzoredux.codes import ATCCode, ICPCCode
    from benzoredux.consult.questionnaires import (
        BENDEP_SRQ,
        BWSQ,
        score_bendep_srq,
        score_bwsq,
        score_response_table,
    )
    from benzoredux.consult.records import (
        CONSULTS,
        consults_from_frame,
        consults_to_frame,
        validate_consults,
    )
    from benzoredux.consult.tapering import (
        REGULATED,
        SLOW,
        TaperProtocol,
        build_taper_schedule,
    )
    from benzoredux.errors import (
        BenzoreduxError,
        ColumnTypeError,
        DataCoverageWarning,
        InvalidRowsError,
        MissingColumnsError,
        UnknownCodesWarning,
    )
    from benzoredux.evaluation.effect import (
        REFERENCE_FIGURES,
        EffectDefinitions,
        EffectEvaluation,
        evaluate_effect,
    )
    from benzoredux.evaluation.forecast import ReferenceRatios, forecast
    from benzoredux.evaluation.indicators import (
        StandardPractice,
        Targets,
        chronic_users_indicator,
        prescriptions_outside_consult,
        progress_against_targets,
    )
    from benzoredux.evaluation.letters import LETTERS_SENT
    from benzoredux.evaluation.plan import PlanOfAction, plan_of_action
    from benzoredux.evaluation.process import evaluate_process, sending_dates
    from benzoredux.evaluation.sharing import DisclosureRule, aggregate_export, mirror_report
    from benzoredux.evaluation.stats import wilson_interval
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
    from benzoredux.programme import Programme
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
    from benzoredux.report import write_report
    from benzoredux.schedule import Schedule, plan_schedule
    from benzoredux.screening import Override, Screening, screen
    from benzoredux.selection import (
        ChronicUseCriteria,
        NewUseCriteria,
        count_per_gp,
        select_chronic_users,
        select_new_users,
        unknown_code_rows,
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

# Where each public name lives: imported from there on first access.
_EXPORTS: dict[str, str] = {
    "ATCCode": "benzoredux.codes",
    "BENDEP_SRQ": "benzoredux.consult.questionnaires",
    "BWSQ": "benzoredux.consult.questionnaires",
    "BenzoreduxError": "benzoredux.errors",
    "CONSULTS": "benzoredux.consult.records",
    "ChronicUseCriteria": "benzoredux.selection",
    "ColumnTypeError": "benzoredux.errors",
    "Consult": "benzoredux.models",
    "ConsultOutcome": "benzoredux.models",
    "ConsultRole": "benzoredux.models",
    "DISPENSINGS": "benzoredux.tables",
    "DataCoverageWarning": "benzoredux.errors",
    "Dispensing": "benzoredux.models",
    "EPISODES": "benzoredux.tables",
    "Episode": "benzoredux.models",
    "EffectDefinitions": "benzoredux.evaluation.effect",
    "DisclosureRule": "benzoredux.evaluation.sharing",
    "PlanOfAction": "benzoredux.evaluation.plan",
    "aggregate_export": "benzoredux.evaluation.sharing",
    "mirror_report": "benzoredux.evaluation.sharing",
    "plan_of_action": "benzoredux.evaluation.plan",
    "EffectEvaluation": "benzoredux.evaluation.effect",
    "LETTERS_SENT": "benzoredux.evaluation.letters",
    "REFERENCE_FIGURES": "benzoredux.evaluation.effect",
    "ReferenceRatios": "benzoredux.evaluation.forecast",
    "StandardPractice": "benzoredux.evaluation.indicators",
    "Targets": "benzoredux.evaluation.indicators",
    "chronic_users_indicator": "benzoredux.evaluation.indicators",
    "evaluate_effect": "benzoredux.evaluation.effect",
    "evaluate_process": "benzoredux.evaluation.process",
    "forecast": "benzoredux.evaluation.forecast",
    "prescriptions_outside_consult": "benzoredux.evaluation.indicators",
    "progress_against_targets": "benzoredux.evaluation.indicators",
    "sending_dates": "benzoredux.evaluation.process",
    "wilson_interval": "benzoredux.evaluation.stats",
    "ExclusionCriterion": "benzoredux.models",
    "GeneralPractitioner": "benzoredux.models",
    "ICPCCode": "benzoredux.codes",
    "InvalidRowsError": "benzoredux.errors",
    "LetterKind": "benzoredux.models",
    "LetterRefusedError": "benzoredux.register",
    "MissingColumnsError": "benzoredux.errors",
    "NewUseCriteria": "benzoredux.selection",
    "Override": "benzoredux.screening",
    "PATIENTS": "benzoredux.tables",
    "Patient": "benzoredux.models",
    "PatientStatus": "benzoredux.models",
    "Pharmacist": "benzoredux.models",
    "Practice": "benzoredux.models",
    "Programme": "benzoredux.programme",
    "REGULATED": "benzoredux.consult.tapering",
    "ReadError": "benzoredux.reading",
    "ReadResult": "benzoredux.reading",
    "Register": "benzoredux.register",
    "RegisterError": "benzoredux.register",
    "RegisterStore": "benzoredux.register",
    "SLOW": "benzoredux.consult.tapering",
    "Schedule": "benzoredux.schedule",
    "Screening": "benzoredux.screening",
    "Sex": "benzoredux.models",
    "StopLetter": "benzoredux.models",
    "TaperProtocol": "benzoredux.consult.tapering",
    "UnknownCodesWarning": "benzoredux.errors",
    "Validation": "benzoredux.tables",
    "build_taper_schedule": "benzoredux.consult.tapering",
    "consults_from_frame": "benzoredux.consult.records",
    "consults_to_frame": "benzoredux.consult.records",
    "count_per_gp": "benzoredux.selection",
    "export_register": "benzoredux.register",
    "import_register": "benzoredux.register",
    "open_register": "benzoredux.register",
    "plan_schedule": "benzoredux.schedule",
    "read_source": "benzoredux.reading",
    "write_report": "benzoredux.report",
    "score_bendep_srq": "benzoredux.consult.questionnaires",
    "score_bwsq": "benzoredux.consult.questionnaires",
    "score_response_table": "benzoredux.consult.questionnaires",
    "screen": "benzoredux.screening",
    "select_chronic_users": "benzoredux.selection",
    "select_new_users": "benzoredux.selection",
    "unknown_code_rows": "benzoredux.selection",
    "validate_consults": "benzoredux.consult.records",
    "validate_dispensings": "benzoredux.tables",
    "validate_episodes": "benzoredux.tables",
    "validate_patients": "benzoredux.tables",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'benzoredux' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "BENDEP_SRQ",
    "BWSQ",
    "CONSULTS",
    "DISPENSINGS",
    "EPISODES",
    "LETTERS_SENT",
    "PATIENTS",
    "REFERENCE_FIGURES",
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
    "DisclosureRule",
    "Dispensing",
    "EffectDefinitions",
    "EffectEvaluation",
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
    "PlanOfAction",
    "Practice",
    "Programme",
    "ReadError",
    "ReadResult",
    "ReferenceRatios",
    "Register",
    "RegisterError",
    "RegisterStore",
    "Schedule",
    "Screening",
    "Sex",
    "StandardPractice",
    "StopLetter",
    "TaperProtocol",
    "Targets",
    "UnknownCodesWarning",
    "Validation",
    "__version__",
    "aggregate_export",
    "build_taper_schedule",
    "chronic_users_indicator",
    "consults_from_frame",
    "consults_to_frame",
    "count_per_gp",
    "evaluate_effect",
    "evaluate_process",
    "export_register",
    "forecast",
    "import_register",
    "mirror_report",
    "open_register",
    "plan_of_action",
    "plan_schedule",
    "prescriptions_outside_consult",
    "progress_against_targets",
    "read_source",
    "score_bendep_srq",
    "score_bwsq",
    "score_response_table",
    "screen",
    "select_chronic_users",
    "select_new_users",
    "sending_dates",
    "unknown_code_rows",
    "validate_consults",
    "validate_dispensings",
    "validate_episodes",
    "validate_patients",
    "wilson_interval",
    "write_report",
]
