"""The ``demo`` command: the whole intervention on a built-in synthetic practice, in one folder.

It writes the demo practice's canonical files (:func:`benzoredux.demo.demo_practice`) and a
practice file into ``DIR/input``, then runs the step commands themselves on them, each as a
practice would run it, into ``DIR``:

``select`` -> ``screen`` -> ``schedule`` -> ``letters`` (stop letters, then invitations with
the reserved consult) -> ``plan`` -> a simulated follow-up of the letters actually sent
(:func:`benzoredux.demo.simulate_follow_up`, :func:`benzoredux.demo.simulate_consults`) ->
``evaluate`` (into ``DIR/evaluation``, with charts when matplotlib is installed) -> ``report``
(``DIR/report.html``).

Every step records into the programme register ``DIR/programme.sqlite``, so ``benzoredux
report --out DIR`` and ``benzoredux register ...`` work on the folder afterwards. A part whose
optional package is missing is skipped with a note naming the extra to install. The demo writes
only into an empty folder or a folder an earlier demo wrote (it replaces that one's register);
``--until STEP`` stops after a step.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
from attrs import define, field

from benzoredux.cli.evaluate import evaluate_command
from benzoredux.cli.plan import plan_command
from benzoredux.cli.progress import progress_bar, shows_progress
from benzoredux.cli.select import select
from benzoredux.cli.steps import letters_command, schedule_command, screen_command

__all__ = ["DEMO_FIRST_LETTER", "DEMO_STEPS", "demo_command"]

DEMO_FIRST_LETTER = dt.date(2026, 1, 12)
"""The day the demo's first stop letters go out (a Monday, 12 days after the selection)."""

DEMO_STEPS = (
    "select",
    "screen",
    "schedule",
    "letters",
    "plan",
    "follow-up",
    "evaluate",
    "report",
)
"""The chain's steps, in order (``--until`` takes one)."""

_MARKER = "ABOUT-THIS-DEMO.txt"
# Removed before a new run in an earlier demo's folder: the demo's own subfolders and every
# top-level file of the kinds it writes (other kinds of file stay).
_DEMO_FOLDERS = ("input", "letters", "evaluation")
_DEMO_SUFFIXES = (".csv", ".xlsx", ".ics", ".html", ".sqlite", ".sqlite-wal", ".sqlite-shm")
_BY = "demo"
_PRACTICE_TOML = """\
# The demo practice (invented): who signs the letters.
practice_id = "demo"
name = "Huisartsenpraktijk De Demo"
address = "Kerkpad 1, 3431 AA Nieuwegein"
phone = "030-1234567"
place = "Nieuwegein"

[[gps]]
gp_id = "huisarts-1"
name = "A. de Vries"

[[gps]]
gp_id = "huisarts-2"
name = "B. Bakker"

[[gps]]
gp_id = "huisarts-3"
name = "C. Yilmaz"

[[pharmacists]]
pharmacist_id = "apotheker-1"
name = "M. Jansen"
pharmacy_name = "Apotheek De Brug"
"""
_ABOUT = """\
Written by `benzoredux demo`: an invented practice (three GPs, about 7,000 listed patients),
so the whole minimal intervention can be tried without patient data. No real person is in here.
Running the demo again into this folder replaces it.
"""


@define
class _Chain:
    """The demo's files and what the steps found, passed from step to step."""

    out: Path
    seed: int
    practice: Any = None
    follow_up: Any = None
    skipped: list[str] = field(factory=list)

    @property
    def input(self) -> Path:
        return self.out / "input"

    @property
    def files(self) -> dict[str, Path]:
        folder = self.input
        return {
            "dispensings": folder / "dispensings.csv",
            "patients": folder / "patients.csv",
            "episodes": folder / "episodes.csv",
            "practice": folder / "practice.toml",
            "follow_up": folder / "follow-up" / "dispensings.csv",
            "patients_after": folder / "follow-up" / "patients.csv",
            "consults": folder / "follow-up" / "consults.csv",
        }


def _check_folder(out: Path) -> None:
    """Refuse a non-empty folder that an earlier demo did not write; in an earlier demo's
    folder, remove its subfolders and the top-level files of the kinds it writes (its register
    too: a new demo sends its letters again)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise click.UsageError(f"{out} is a file; give a folder for --out")
    if any(out.iterdir()) and not (out / _MARKER).exists():
        raise click.UsageError(
            f"{out} is not empty and was not written by an earlier demo; give an empty or new "
            "folder (the demo never overwrites your own files)"
        )
    for entry in out.iterdir():
        if entry.is_dir() and entry.name in _DEMO_FOLDERS:
            shutil.rmtree(entry)
        elif entry.is_file() and entry.name.endswith(_DEMO_SUFFIXES):
            entry.unlink()


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[io.StringIO]:
    """Collect what a step prints (shown with ``--verbose``, or when the step fails)."""
    buffer = io.StringIO()
    failed = True
    try:
        with contextlib.redirect_stdout(buffer):
            yield buffer
        failed = False
    finally:
        if verbose or failed:
            text = buffer.getvalue()
            if text:
                click.echo(text.rstrip("\n"), err=failed)


def _write_practice(chain: _Chain) -> None:
    from benzoredux.demo import demo_practice
    from benzoredux.output import private_file, write_csv

    chain.practice = demo_practice(seed=chain.seed)
    files = chain.files
    chain.input.mkdir(parents=True, exist_ok=True)
    with private_file(chain.out / _MARKER, "w", encoding="utf-8") as handle:
        handle.write(_ABOUT)
    write_csv(chain.practice.dispensings, files["dispensings"])
    write_csv(chain.practice.patients, files["patients"])
    write_csv(chain.practice.episodes, files["episodes"])
    with private_file(files["practice"], "w", encoding="utf-8") as handle:
        handle.write(_PRACTICE_TOML)


def _select(ctx: click.Context, chain: _Chain) -> None:

    files = chain.files
    ctx.invoke(
        select,
        dispensings=files["dispensings"],
        reference_date=chain.practice.reference_date,
        patients=files["patients"],
        episodes=files["episodes"],
        include_excluded=True,
        practice=files["practice"],
        out=chain.out,
        by=_BY,
    )


def _screen(ctx: click.Context, chain: _Chain) -> None:

    files = chain.files
    ctx.invoke(
        screen_command,
        selection=chain.out / "chronic_users.csv",
        reference_date=chain.practice.reference_date,
        patients=files["patients"],
        episodes=files["episodes"],
        out=chain.out,
        by=_BY,
    )


def _schedule(ctx: click.Context, chain: _Chain) -> None:

    ctx.invoke(
        schedule_command,
        screening=chain.out / "screening.csv",
        first_letter_date=DEMO_FIRST_LETTER,
        slot_time=("09:00", "09:20"),
        out=chain.out,
        by=_BY,
    )


def _letters(ctx: click.Context, chain: _Chain) -> None:

    files = chain.files
    for kind, extra in (
        ("stop_letter", {"labels": True}),
        ("invitation", {"appointments": True, "consult_with": "de praktijkondersteuner"}),
    ):
        ctx.invoke(
            letters_command,
            source=chain.out / "schedule.csv",
            patients=files["patients"],
            practice=files["practice"],
            kind=kind,
            pharmacists=True,
            pdf="no",
            out=chain.out / "letters",
            by=_BY,
            **extra,
        )


def _plan(ctx: click.Context, chain: _Chain) -> None:

    ctx.invoke(
        plan_command,
        letter_date=DEMO_FIRST_LETTER,
        as_of=DEMO_FIRST_LETTER,
        out=chain.out,
        by=_BY,
    )


def _letters_sent(chain: _Chain) -> Any:
    """The stop letters the register holds as sent, with the invitation date when there is one."""
    import pandas as pd

    from benzoredux.register import open_register

    with open_register(chain.out / "programme.sqlite") as register:
        dates = {
            kind: {
                e["patient_id"]: e["sent_date"] or e["letter_date"] for e in register.letters(kind)
            }
            for kind in ("stop_letter", "invitation")
        }
    sent = pd.DataFrame(
        {
            "patient_id": list(dates["stop_letter"]),
            "letter_date": list(dates["stop_letter"].values()),
        }
    )
    sent["invitation_date"] = sent["patient_id"].map(dates["invitation"])
    sent["invited"] = sent["invitation_date"].notna()
    return sent


def _follow_up(_ctx: click.Context, chain: _Chain) -> None:
    from benzoredux.demo import simulate_calls, simulate_consults, simulate_follow_up
    from benzoredux.output import read_step_csv, write_csv
    from benzoredux.programme import Programme

    sent = _letters_sent(chain)
    if sent.empty:
        raise click.ClickException("no stop letters were sent, so there is nothing to follow up")
    chain.follow_up = simulate_follow_up(chain.practice, sent, seed=chain.seed)
    schedule = read_step_csv(chain.out / "schedule.csv", ("consult_date",))
    # Only who got an invitation can come to the consult (not a recipient who moved before).
    invited = schedule[schedule["patient_id"].isin(sent["patient_id"][sent["invited"]])]
    consults = simulate_consults(invited, seed=chain.seed)
    calls = simulate_calls(consults, seed=chain.seed)
    files = chain.files
    write_csv(chain.follow_up.dispensings, files["follow_up"])
    write_csv(chain.follow_up.patients, files["patients_after"])
    write_csv(consults, files["consults"])
    # The practice records the consults and the calls to who did not come as they happen.
    with Programme.open(chain.out / "programme.sqlite", by=_BY) as programme:
        programme.record_consult(consults)
        for call in calls.to_dict("records"):
            programme.record_call(
                str(call["patient_id"]), called_on=call["called_on"], outcome=str(call["outcome"])
            )
    click.echo(
        f"{len(sent)} stop letters followed up until {chain.follow_up.evaluation_date}: "
        f"{len(chain.follow_up.dispensings) - len(chain.practice.dispensings)} new dispensings"
    )


def _evaluate(ctx: click.Context, chain: _Chain) -> None:

    files = chain.files
    ctx.invoke(
        evaluate_command,
        letters=None,  # the stop letters the register holds as sent
        dispensings=files["follow_up"],
        evaluation_date=chain.follow_up.evaluation_date,
        patients=files["patients_after"],
        consults=files["consults"],
        practice_id="demo",
        out=chain.out / "evaluation",
        by=_BY,
    )
    note = _try_charts(chain)
    if note is not None:
        chain.skipped.append(note)


def _try_charts(chain: _Chain) -> str | None:
    """Draw the charts; without matplotlib, say what was skipped and what to install."""
    try:
        _charts(chain)
    except ImportError as error:
        return f"charts (PNG/SVG): {error.name} is not installed; pip install 'benzoredux[charts]'"
    return None


def _charts(chain: _Chain) -> None:
    """The FTO meeting's charts, as PNG and SVG, into ``DIR/evaluation``."""
    import matplotlib  # noqa: F401 - fail early (ImportError) before any chart is computed

    from benzoredux.evaluation.charts import (
        chart_before_after,
        chart_chronic_users_per_gp,
        chart_funnel,
    )
    from benzoredux.evaluation.indicators import chronic_users_indicator
    from benzoredux.output import read_step_csv
    from benzoredux.selection import count_per_gp, select_chronic_users

    out = chain.out / "evaluation"
    per_gp = read_step_csv(chain.out / "chronic_users_per_gp.csv")
    indicator = chronic_users_indicator(per_gp)
    indicator = indicator[indicator["level"] == "gp"]
    screening = read_step_csv(chain.out / "screening.csv")
    summary = read_step_csv(out / "effect_summary.csv")
    total = summary[(summary["level"] == "total") & (summary["measure"] == "short_term_stop")]
    consults = read_step_csv(chain.files["consults"])
    funnel = {
        "chronic_users": float(per_gp["chronic_users"].sum()),
        "eligible": float(screening["eligible"].astype(str).eq("True").sum()),
        "letters": float(len(_letters_sent(chain))),
        "consults": float((consults["contact"] != "did_not_attend").sum()),
        "stoppers": float(total["events"].sum()),
    }
    follow_up = chain.follow_up
    after = select_chronic_users(
        follow_up.dispensings, follow_up.evaluation_date, patients=follow_up.patients
    )
    after_per_gp = count_per_gp(after, follow_up.patients)[["gp_id", "chronic_users"]]
    both = per_gp[["gp_id", "chronic_users"]].merge(
        after_per_gp, on="gp_id", how="outer", suffixes=("_before", "_after")
    )
    labels = (f"{chain.practice.reference_date:%d-%m-%Y}", f"{follow_up.evaluation_date:%d-%m-%Y}")
    for suffix in (".png", ".svg"):
        chart_chronic_users_per_gp(indicator, out / f"chronic_users_per_gp{suffix}")
        chart_funnel(funnel, out / f"funnel{suffix}")
        chart_before_after(
            both.fillna(0),
            out / f"chronic_users_before_after{suffix}",
            before="chronic_users_before",
            after="chronic_users_after",
            labels=labels,
        )


DEMO_TICKED = (
    "brief-team",
    "instruct-team",
    "inform-public",
    "monitor-1",
    "monitor-2",
    "monitor-3",
)
"""The plan's tasks no step records (talking to the team, informing the patients, watching
progress): the demo's practice ticks them off before the meeting, as a practice does with
``benzoredux plan --done TASK``. Every other task is closed by what the register holds."""


def _report(ctx: click.Context, chain: _Chain) -> None:
    from benzoredux.programme import Programme

    if chain.follow_up is not None:
        ctx.invoke(
            plan_command,
            done=DEMO_TICKED,
            as_of=chain.follow_up.evaluation_date,
            out=chain.out,
            by=_BY,
        )

    with Programme.open(chain.out / "programme.sqlite", by=_BY) as programme:
        path = programme.report(
            chain.out,
            title="Benzoredux demo: Huisartsenpraktijk De Demo",
            as_of=chain.follow_up.evaluation_date if chain.follow_up else DEMO_FIRST_LETTER,
        )
    click.echo(f"Report: {path}")


_RUN: dict[str, Callable[[click.Context, _Chain], None]] = {
    "select": _select,
    "screen": _screen,
    "schedule": _schedule,
    "letters": _letters,
    "plan": _plan,
    "follow-up": _follow_up,
    "evaluate": _evaluate,
    "report": _report,
}

# Each step's optional packages: without them the step (and what needs it) is skipped.
_NEEDS = {
    "letters": (("docxtpl", "docxcompose", "docx", "lxml"), "letters"),
}
_AFTER_LETTERS = ("follow-up", "evaluate")
"""Steps that need the letters sent: skipped when the letters were."""

_GROUPS: tuple[tuple[str, Callable[[Path], bool]], ...] = (
    ("Report for the FTO meeting", lambda p: p.name == "report.html"),
    (
        "Per-GP lists and screening (xlsx)",
        lambda p: (
            p.suffix == ".xlsx"
            and p.parent.name != "input"
            and not p.name.startswith(("schedule", "plan"))
        ),
    ),
    ("Schedule and plan (xlsx, ics, csv)", lambda p: p.name.startswith(("schedule", "plan"))),
    (
        "Stop letters and invitations, merged per batch (docx)",
        lambda p: p.suffix == ".docx" and p.parent.name == "letters",
    ),
    ("Charts (PNG, SVG)", lambda p: p.suffix in {".png", ".svg"}),
    ("Evaluation", lambda p: p.parent.name == "evaluation"),
    ("Programme register", lambda p: p.name == "programme.sqlite"),
    ("Tables (CSV)", lambda p: p.suffix == ".csv"),
)


def _listing(chain: _Chain) -> list[str]:
    """Where everything was written, grouped (single letters counted per folder)."""
    out = chain.out
    files = sorted(
        p
        for p in out.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.name != _MARKER
    )
    lines: list[str] = []
    placed: set[Path] = set()
    inputs = [p for p in files if chain.input in p.parents]
    singles = [p for p in files if p.parent.parent.name == "letters" and p.suffix == ".docx"]
    placed.update(inputs, singles)
    for title, wanted in _GROUPS:
        chosen = [p for p in files if p not in placed and wanted(p)]
        if title.startswith("Stop letters") and singles:
            chosen += sorted({p.parent for p in singles})
        if not chosen:
            continue
        placed.update(chosen)
        lines.append(f"{title}:")
        for path in chosen:
            if path.is_dir():
                count = sum(1 for p in singles if p.parent == path)
                lines.append(f"  {path}{os.sep} ({count} single letters)")
            else:
                lines.append(f"  {path}")
    rest = [p for p in files if p not in placed]
    if rest:
        lines.append("Other files:")
        lines += [f"  {p}" for p in rest]
    if inputs:
        lines.append(f"The invented practice's data: {chain.input}{os.sep} ({len(inputs)} files)")
    return lines


def _missing_modules(modules: tuple[str, ...]) -> list[str]:
    import importlib.util

    return [m for m in modules if importlib.util.find_spec(m) is None]


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("benzoredux-demo"),
    show_default=True,
    help="Folder to write everything into (new, empty, or an earlier demo's).",
)
@click.option("--seed", type=int, default=2025, show_default=True, help="Seed of the practice.")
@click.option(
    "--until",
    type=click.Choice(DEMO_STEPS),
    default="report",
    show_default=True,
    help="Stop after this step.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show what each step command prints.")
@click.pass_context
def demo_command(ctx: click.Context, out: Path, seed: int, until: str, verbose: bool) -> None:
    """Run the whole intervention on a built-in synthetic practice (no real patient data).

    Three GPs, about 7,000 listed patients and two years of invented dispensings go through
    select, screen, schedule, letters (stop letters and invitations), plan, a simulated year
    and a half of follow-up, evaluate and report, using the same commands you would run on
    your own data. Everything goes into --out; the programme register is
    --out/programme.sqlite.

    \b
    Examples:
      benzoredux demo --out benzoredux-demo
      benzoredux demo --out try-out --until letters
      benzoredux report --out benzoredux-demo      (the report again, from the demo's files)
    """
    chain = _Chain(out=out, seed=seed)
    _check_folder(out)
    steps = DEMO_STEPS[: DEMO_STEPS.index(until) + 1]
    click.echo(f"Demo practice into {out} (seed {seed}); steps: {', '.join(steps)}")
    _write_practice(chain)
    patients = chain.practice.patients
    click.echo(
        f"  {patients['gp_id'].nunique()} GPs, {len(patients)} listed patients, "
        f"{len(chain.practice.dispensings)} dispensings up to {chain.practice.reference_date}"
    )
    done: list[str] = []
    # With a bar on the terminal the steps' figures wait until it is finished.
    later: list[str] | None = [] if shows_progress() else None
    with progress_bar("Demo", length=len(steps), item_show_func=lambda s: s) as bar:
        for step in steps:
            bar.current_item = step
            needs = _NEEDS.get(step)
            missing = _missing_modules(needs[0]) if needs else []
            if needs and missing:
                chain.skipped.append(
                    f"{step}: {', '.join(missing)} not installed; "
                    f"pip install 'benzoredux[{needs[1]}]'"
                )
                bar.update(1)
                continue
            if step in _AFTER_LETTERS and "letters" not in done:
                chain.skipped.append(f"{step}: no letters were written to follow up")
                bar.update(1)
                continue
            with _quiet(verbose) as said:
                _RUN[step](ctx, chain)
            done.append(step)
            if not verbose:
                lines = [f"  {step}: {line}" for line in _summary(step, said.getvalue())]
                if later is None:
                    click.echo("\n".join(lines))
                else:
                    later += lines
            bar.update(1)
    if later:
        click.echo("\n".join(later))
    for note in chain.skipped:
        click.echo(f"skipped {note}", err=True)
    click.echo(f"Done: {', '.join(done)}. Written (readable by you only):")
    for line in _listing(chain):
        click.echo(f"  {line}")
    click.echo(f"Open {out / 'report.html'} in a browser." if "report" in done else "")


def _summary(step: str, said: str) -> list[str]:
    """The lines of a step's output worth showing without ``--verbose``: its figures."""
    lines = [line.strip() for line in said.splitlines()]
    keep = {
        "select": ("chronic users selected", "new users"),
        "screen": ("selected patients are eligible",),
        "schedule": ("batch(es)",),
        "letters": ("merged document(s)",),
        "plan": ("task",),
        "follow-up": ("followed up",),
        "evaluate": ("short_term_stop", "sustained_stop", "ddd_reduction"),
        "report": ("Report:",),
    }[step]
    return [line for line in lines if any(k in line for k in keep) and "Register" not in line]
