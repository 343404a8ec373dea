"""The selection and the effect evaluation on a Dask cluster give the pandas answer.

Rules under test: the "lazy in, lazy out" promise of ``select_chronic_users`` and
``evaluate_effect`` (its per-patient table and its summary) and ``prescriptions_outside_consult``
for a Dask DataFrame (a dask DataFrame in, a dask DataFrame out, computed on the cluster; the
per-letter and per-GP rows the summaries stack are brought to the client first:
``Execution.on_client``), and that the rules (window
boundaries, returns, complex co-medication, the NHG days of use, the GP route, departed
patients) come out the same when one patient's dispensings are spread over several partitions.
Everything runs on a real ``distributed.LocalCluster`` of two workers (threads: starts in about
a second and needs no pickling of the test module).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

import benzoredux
from benzoredux.demo import DemoPractice, demo_practice
from benzoredux.evaluation.effect import evaluate_effect
from benzoredux.evaluation.indicators import prescriptions_outside_consult

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

# narwhals 2.x still runs Dask itself but announces that this moves to `narwhals-dask`
# (pyproject.toml pins the range that has it built in).
pytestmark = pytest.mark.filterwarnings("ignore:Dask support is moving:FutureWarning")


def _load_strategies() -> Any:
    # tests/ is not a package (pytest runs with --import-mode=importlib): load the property
    # tests' strategies by path, under the name they give themselves.
    name = "_benzoredux_property_strategies"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "property" / "strategies.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None
        assert spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


strategies = _load_strategies()


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A local cluster of two workers; the client is the default scheduler while it lives.

    Shuffles by tasks: on a few thousand rows the peer-to-peer shuffle's set-up dominates.
    """
    import dask

    with (
        dask.config.set({"dataframe.shuffle.method": "tasks"}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def practice() -> DemoPractice:
    return demo_practice(seed=8, gps=2, patients_per_gp=250)


def _spread(frame: pd.DataFrame, partitions: int) -> Any:
    """``frame`` as a dask DataFrame, its rows dealt round-robin over ``partitions``: every
    patient with several rows has them in several partitions."""
    order = sorted(range(len(frame)), key=lambda i: (i % partitions, i))
    dealt = frame.iloc[order].reset_index(drop=True)
    # Persisted: the partitions live on the workers, as a dataset read there would.
    return dd.from_pandas(dealt, npartitions=partitions, sort=False).persist()


def _plain(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        assert value.time() == dt.time(0), value
        return value.date()
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _rows(frame: pd.DataFrame, key: tuple[str, ...] = ("patient_id",)) -> list[dict[str, Any]]:
    rows = [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]
    return sorted(rows, key=lambda row: tuple(str(row[k]) for k in key))


def _assert_same(got: pd.DataFrame, want: pd.DataFrame, key: tuple[str, ...] = ("patient_id",)):
    assert list(got.columns) == list(want.columns)
    a, b = _rows(got, key), _rows(want, key)
    assert len(a) == len(b)
    for row, reference in zip(a, b, strict=True):
        for name, value in reference.items():
            if isinstance(value, float) and row[name] is not None:
                assert row[name] == pytest.approx(value, rel=1e-9, abs=1e-12), (row, name)
            else:
                assert row[name] == value, (row, name)


def _computed(result: Any) -> pd.DataFrame:
    assert isinstance(result, dd.DataFrame), type(result)  # lazy in, lazy out
    computed: pd.DataFrame = result.compute()
    return computed


def test_practice_gives_the_pandas_answer_on_the_cluster(
    client: Any, practice: DemoPractice
) -> None:
    def select(dispensings: Any) -> Any:
        return benzoredux.select_chronic_users(
            dispensings,
            practice.reference_date,
            patients=practice.patients,
            episodes=practice.episodes,
            gp_route=True,
            include_excluded=True,
        )

    expected = select(practice.dispensings)
    assert expected["excluded_because"].notna().any()
    assert expected["excluded_because"].isna().sum() >= 3, "the practice must give a selection"
    lazy = select(_spread(practice.dispensings, 4))
    assert len(client.scheduler_info()["workers"]) == 2
    with distributed.get_task_stream(client) as stream:
        _assert_same(_computed(lazy), expected)
    # The graph ran on the cluster's workers, not on a local scheduler.
    assert stream.data
    assert {task["worker"] for task in stream.data} <= set(client.scheduler_info()["workers"])


REFERENCE = dt.date(2025, 12, 31)
START = dt.date(2024, 12, 31)  # a year back: the window runs after this day


def _edge_cases() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Patients at the edges of the rules; each with rows on several days."""
    d = dt.date

    def rows(patient: str, *items: tuple[dt.date, str, float]) -> list[dict[str, Any]]:
        return [
            {"patient_id": patient, "date": day, "atc": atc, "quantity": q, "prescriber_id": "g1"}
            for day, atc, q in items
        ]

    data = [
        # 91 units on the window's first day (the day after START) is chronic; on START not.
        *rows("in_first_day", (d(2025, 1, 1), "N05BA04", 45), (d(2025, 1, 1), "N05BA04", 46)),
        *rows("out_start_day", (START, "N05BA04", 60), (d(2025, 3, 1), "N05BA04", 31)),
        # On the reference date counts; the day after does not.
        *rows("on_reference", (d(2025, 6, 1), "N05CF02", 50), (REFERENCE, "N05CF02", 41)),
        *rows(
            "after_reference",
            (d(2025, 6, 1), "N05CF02", 50),
            (REFERENCE + dt.timedelta(days=1), "N05CF02", 41),
        ),
        # Exactly 90 is not chronic ("more than 90"); units of two substances add up.
        *rows("exactly_90", (d(2025, 2, 1), "N05BA04", 45), (d(2025, 9, 1), "N05CD07", 45)),
        *rows("two_substances", (d(2025, 2, 1), "N05BA04", 45), (d(2025, 9, 1), "N05CD07", 46)),
        # Returns subtract: 120 - 30 = 90 is not chronic, 120 - 20 = 100 is (one return).
        *rows("returned_to_90", (d(2025, 4, 1), "N05BA01", 120), (d(2025, 4, 5), "N05BA01", -30)),
        *rows("returned_to_100", (d(2025, 4, 1), "N05BA01", 120), (d(2025, 4, 5), "N05BA01", -20)),
        # Complex co-medication excludes; the exceptions of the rule do not.
        *rows("complex", (d(2025, 2, 1), "N05BA04", 100), (d(2025, 7, 1), "N03AE01", 30)),
        *rows("complex_before", (d(2025, 2, 1), "N05BA04", 100), (d(2024, 7, 1), "N03AE01", 30)),
        *rows("hydroquinine", (d(2025, 2, 1), "N05BA04", 100), (d(2025, 7, 1), "M09AA01", 30)),
        *rows("codeine_para", (d(2025, 2, 1), "N05BA04", 100), (d(2025, 7, 1), "N02AA59", 30)),
        # Issue 14: paracetamol + codeine under today's code is exempt too; pregabalin, an
        # anti-epileptic when the module was written, is N03 under today's analgesic code.
        *rows("codeine_para_2017", (d(2025, 2, 1), "N05BA04", 100), (d(2025, 7, 1), "N02AJ06", 30)),
        *rows("pregabalin", (d(2025, 2, 1), "N05BA04", 100), (d(2025, 7, 1), "N02BF02", 30)),
        # NHG: steady use all year (chronic by days), and one early refill carried forward.
        *rows("steady", *((d(2025, m, 1), "N05BA04", 30) for m in range(1, 13))),
        *rows("early_refill", (d(2025, 9, 1), "N05BA04", 60), (d(2025, 10, 1), "N05BA04", 60)),
    ]
    frame = pd.DataFrame(data)
    frame["date"] = pd.to_datetime(frame["date"])
    frame["quantity"] = frame["quantity"].astype("float64")
    patients = pd.DataFrame(
        {
            "patient_id": sorted(set(frame["patient_id"])),
            "gp_id": "G1",
            "status": "active",
            "status_date": pd.NaT,
        }
    )
    patients.loc[patients["patient_id"] == "steady", ["status", "status_date"]] = (
        "moved",
        pd.Timestamp(REFERENCE),
    )
    return frame, patients


@pytest.mark.parametrize("definition", ["units", "nhg"])
def test_rule_edges_give_the_pandas_answer_across_partitions(client: Any, definition: str) -> None:
    frame, patients = _edge_cases()
    spread = _spread(frame, 3)
    parts = [
        set(spread.get_partition(i)["patient_id"].compute()) for i in range(spread.npartitions)
    ]
    assert sum("returned_to_100" in part for part in parts) >= 2  # patients are split

    def select(dispensings: Any, **extra: Any) -> Any:
        return benzoredux.select_chronic_users(
            dispensings,
            REFERENCE,
            patients=patients,
            include_excluded=True,
            definition=definition,
            **extra,
        )

    expected = select(frame)
    got = _computed(select(spread))
    _assert_same(got, expected)
    if definition == "units":
        selected = set(got.loc[got["excluded_because"].isna(), "patient_id"])
        assert selected == {
            "in_first_day",
            "on_reference",
            "two_substances",
            "returned_to_100",
            "hydroquinine",
            "codeine_para",
            "codeine_para_2017",
            "early_refill",
            "complex_before",  # co-medication before the window does not exclude
        }
        excluded = dict(zip(got["patient_id"], got["excluded_because"], strict=True))
        assert excluded["complex"] == "complex co-medication: N03"
        assert excluded["pregabalin"] == "complex co-medication: N03"
        assert excluded["steady"] == "moved on or before the reference date"
        assert got.set_index("patient_id").loc["returned_to_100", "n_returns"] == 1
    else:
        days = dict(zip(got["patient_id"], got["days_used"], strict=True))
        # 60 days from 1 September, the refill of 1 October carried forward: covered from
        # 1 October up to and including 29 December.
        assert days["early_refill"] == pytest.approx(90.0)


def test_unknown_codes_are_reported_and_listed_across_partitions(client: Any) -> None:
    """Issue 14 on Dask: an unknown code of a group is counted, warned about with its row count,
    and unknown_code_rows() lists its rows as a dask DataFrame."""
    frame, _ = _edge_cases()
    extra = pd.DataFrame(
        {
            "patient_id": ["exactly_90", "exactly_90", "complex"],
            "date": pd.to_datetime(["2025-05-01", "2025-06-01", "2025-05-01"]),
            "atc": ["N05BA99", "N05BA99", "L01ZZ01"],
            "quantity": [1.0, 1.0, 1.0],
            "prescriber_id": ["g1", "g1", "g1"],
        }
    )
    frame = pd.concat([frame, extra], ignore_index=True)
    spread = _spread(frame, 3)
    # Recorded by hand, not with pytest.warns: the cluster's worker threads emit warnings of
    # their own (a NumPy deprecation in serialisation) that pytest.warns would turn into errors.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = _computed(benzoredux.select_chronic_users(spread, REFERENCE))
    reported = [str(w.message) for w in caught if w.category is benzoredux.UnknownCodesWarning]
    assert len(reported) == 1
    assert "(L01ZZ01: 1 row, N05BA99: 2 rows)" in reported[0]
    assert "exactly_90" in set(got["patient_id"])  # 90 + 2 units of the unknown code
    rows = _computed(benzoredux.unknown_code_rows(spread, REFERENCE))
    assert rows[["patient_id", "atc"]].values.tolist() == [
        ["complex", "L01ZZ01"],
        ["exactly_90", "N05BA99"],
        ["exactly_90", "N05BA99"],
    ]


@given(data=strategies.datasets())
@settings(
    max_examples=2,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_random_dispensings_give_the_pandas_answer(client: Any, data: dict[str, Any]) -> None:
    frame = strategies.pandas_frame(data)
    reference = data["reference"]
    expected = benzoredux.select_chronic_users(frame, reference, **data["options"])
    spread = _spread(frame, 2)
    _assert_same(
        _computed(benzoredux.select_chronic_users(spread, reference, **data["options"])),
        expected,
    )


def test_effect_evaluation_gives_the_pandas_answer(client: Any, practice: DemoPractice) -> None:
    start = practice.reference_date - dt.timedelta(days=365)
    chosen = benzoredux.select_chronic_users(practice.dispensings, start)
    assert len(chosen) > 5
    letters = chosen[["patient_id", "gp_id"]].assign(
        letter_date=pd.Timestamp(start + dt.timedelta(days=10))
    )
    # A short-term window of 1 to 2 months: these chronic users carry on, and in so short a
    # window some collect nothing though they still have tablets, so the supply's running
    # totals (joins of a patient's days to themselves, across partitions) decide the stop.
    expected = evaluate_effect(
        letters,
        practice.dispensings,
        practice.reference_date,
        patients=practice.patients,
        short_term=(1, 2),
    )
    per = expected.per_patient.dropna(subset=["short_term_stop"])
    assert len(per) > 5
    assert (per["short_term_stop"] != per["short_term_stop_plain"]).any()
    got = evaluate_effect(
        letters,
        _spread(practice.dispensings, 3),
        practice.reference_date,
        patients=practice.patients,
        short_term=(1, 2),
    )
    _assert_same(_computed(got.per_patient), expected.per_patient)
    _assert_same(_computed(got.summary), expected.summary, key=("measure", "level", "gp_id"))
    # In the same order: GPs, then the total, per measure.
    assert list(got.summary.compute()["level"]) == list(expected.summary["level"])


def test_prescriptions_outside_consult_gives_the_pandas_answer(
    client: Any, practice: DemoPractice
) -> None:
    dispensings = practice.dispensings.assign(
        channel=[
            ("consult", "repeat_prescription", None)[i % 3]
            for i in range(len(practice.dispensings))
        ]
    )
    expected = prescriptions_outside_consult(dispensings, practice.reference_date)
    assert expected["outside_consult"].sum() > 0
    got = prescriptions_outside_consult(_spread(dispensings, 3), practice.reference_date)
    _assert_same(_computed(got), expected, key=("level", "gp_id"))
