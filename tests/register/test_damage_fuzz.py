"""A damaged register file never reaches the user as a raw sqlite3 error, never shows a stored
value, and never lets a second stop letter through.

Each case copies a small register and damages the copy the way disks and careless hands do
(bits flipped, a page zeroed, the file cut short, the header garbled), then reads it and tries
to record a second stop letter for a patient who has one. The only errors allowed are the
register's own (:class:`~benzoredux.register.RegisterError`: damaged, refused, not a register).
``BENZOREDUX_FUZZ_CASES`` sets the number of copies (default 40), ``BENZOREDUX_FUZZ_SEED`` the
first seed; docs/reliability.rst gives the figures of a long run.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import traceback
from pathlib import Path

import pytest

from benzoredux.models import StopLetter
from benzoredux.register import (
    LetterRefusedError,
    RegisterDamagedError,
    RegisterError,
    open_register,
)

CASES = int(os.environ.get("BENZOREDUX_FUZZ_CASES", "40"))
SEED = int(os.environ.get("BENZOREDUX_FUZZ_SEED", "0"))
PLANTED = "Vermeulen-999999990"
"""A name and BSN planted in every patient id: no message may show any part of it."""


def _letter(patient_id: str, batch: int, day: dt.date) -> StopLetter:
    return StopLetter(patient_id=patient_id, gp_ids=("gp1",), letter_date=day, batch=batch)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("register") / "programme.sqlite"
    with open_register(path, create=True) as register:
        register.record_letters(
            [_letter(f"{PLANTED}-{n:03d}", 1, dt.date(2026, 1, 12)) for n in range(300)],
            by="assistente",
        )
    return path.read_bytes()


def damage(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One kind of damage, chosen and placed by ``rng``."""
    copy = bytearray(data)
    how = rng.choice(["flip", "flip", "zero_page", "truncate", "header"])
    if how == "flip":
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(copy))
            copy[at] ^= 1 << rng.randrange(8)
    elif how == "zero_page":
        page = rng.randrange(len(copy) // 4096)
        copy[page * 4096 : (page + 1) * 4096] = bytes(4096)
    elif how == "truncate":
        del copy[rng.randrange(len(copy)) :]
    else:
        copy[rng.randrange(100)] = rng.randrange(256)
    return how, bytes(copy)


@pytest.mark.parametrize("seed", range(SEED, SEED + CASES))
def test_a_damaged_register_fails_safely(original: bytes, tmp_path: Path, seed: int) -> None:
    how, data = damage(original, random.Random(seed))
    path = tmp_path / "programme.sqlite"
    path.write_bytes(data)
    again = _letter(f"{PLANTED}-100", 2, dt.date(2026, 2, 2))
    failure: RegisterError | None = None
    try:
        with open_register(path) as register:
            register.summary()
            register.letters()
            register.record_letters([again], by="assistente")
    except LetterRefusedError:
        pass  # read well enough to know the patient had a stop letter: refused, as it must be
    except RegisterError as error:
        failure = error
    if failure is not None:
        # What the user sees, also with --debug (a traceback shows no suppressed context).
        text = "".join(traceback.format_exception(failure))
        for part in PLANTED.split("-"):
            assert part not in text, (how, seed)
        if "is damaged" in str(failure):
            assert isinstance(failure, RegisterDamagedError)
            assert "register import" in str(failure)
    # Whatever happened, no second stop letter is recorded.
    if path.exists():
        try:
            with open_register(path) as register:
                letters = [e for e in register.letters("stop_letter") if e["batch"] == 2]
        except RegisterError:
            letters = []
        assert letters == []
