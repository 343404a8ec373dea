"""The source of the third-party plugin the tests install: one reader and one criterion.

Kept as text in a module of its own so that it reads like the plugin an outside author would
write (docs/plugins/writing-an-adapter.rst walks through the same shape).
"""

ACME = '''
"""ACME practice plugin: reads ACME exports, adds the practice's own exclusion criterion."""

from pathlib import Path

import narwhals as nw
import pandas as pd

from benzoredux.hookspecs import hookimpl
from benzoredux.models import ExclusionCriterion
from benzoredux.reading import ParseSettings, RawTable, build_result

MAGIC = "ACME-EXPORT v1"


class AcmeReader:
    name = "acme"
    description = "ACME practice export (ACME-EXPORT v1, | separated, dates YYYYMMDD)"

    def detect(self, source):
        if not source.is_file():
            return 0.0
        with source.open("rb") as handle:
            return 1.0 if handle.read(len(MAGIC)) == MAGIC.encode() else 0.0

    def read(self, source, *, options):
        lines = source.read_text(encoding="utf-8").splitlines()[1:]
        rows = [line.split("|") for line in lines]
        frame = pd.DataFrame(rows, columns=["patient_id", "date", "atc", "quantity"], dtype=object)
        raw = RawTable(
            table="dispensings",
            frame=frame,
            file=source.name,
            settings=ParseSettings(date_formats=("%Y%m%d",), decimal="."),
            lines=list(range(2, len(rows) + 2)),
        )
        duplicates = options.get("duplicates", "reject")
        return build_result(self.name, source, [raw], duplicates=duplicates)


class LargeSupplies:
    criterion = ExclusionCriterion(
        key="acme_large_supplies",
        label="Meer dan 200 tabletten in een jaar (praktijkafspraak)",
        description="The ACME practice writes to these patients in person.",
        source="acme",
        parameters={"max_units": 200},
    )

    def decide(self, context):
        limit = context.parameters["max_units"]
        return context.selection.select(
            "patient_id",
            (nw.col("units") > limit).alias("excluded"),
            nw.lit(f"more than {limit} units").alias("reason"),
        )


@hookimpl
def benzoredux_register_readers(register):
    register(AcmeReader())


@hookimpl
def benzoredux_register_criteria(register):
    register(LargeSupplies())
'''
