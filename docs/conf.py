"""Sphinx configuration for the benzoredux documentation.

Build (warnings are errors, every cross-reference must resolve)::

    python -m sphinx -W --keep-going -n -b html docs docs/_build/html
    python -m sphinx -W --keep-going -b doctest docs docs/_build/doctest
"""

from __future__ import annotations

import doctest
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the source tree next to these docs, also when the package is not installed.
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(DOCS / "_ext"))

import benzoredux  # noqa: E402 - needs the path above

# sphinx-autodoc-typehints (3.6) calls a docutils parser method that Sphinx 9 deprecates; the
# resulting Python warning is repeated for every docstring and says nothing about these docs.
warnings.filterwarnings(
    "ignore", message=r".*_RstSnippetParser\.set_application.* is deprecated", module=r"sphinx.*"
)

# -- Project -------------------------------------------------------------------------------------

project = "benzoredux"
author = "benzoredux developers"
copyright = "benzoredux developers"
release = benzoredux.__version__
version = ".".join(release.split(".")[:2])

# -- General -------------------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx_autodoc_typehints",  # after autodoc: it rewrites the signatures autodoc produced
    "benzoredux_cli_docs",  # docs/_ext: the commands' --help texts (docs/cli.rst)
    "benzoredux_docs",  # docs/_ext: tables rendered from the code, links to public names
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "py:obj"
nitpicky = True

# -- Cross-references to other projects ----------------------------------------------------------
#
# The house style links to Python's and pandas' docs (and narwhals', polars', attrs') through
# intersphinx. This project's machines and CI have no internet access except package registries,
# so no inventory can be fetched and no remote mapping is configured: a fetch would fail (a
# warning, so an error under -W) on every build. The extension stays loaded so that a build with
# network access can enable it with one line each, for example
#
#     intersphinx_mapping = {
#         "python": ("https://docs.python.org/3", None),
#         "pandas": ("https://pandas.pydata.org/docs", None),
#     }
#
# Until then, references to types of the standard library and of third-party libraries cannot
# resolve, and nitpicky mode would report each one. They are listed below, by library, so that a
# missing reference to *our own* API is still an error.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

nitpick_ignore_regex = [
    # Python's standard library (the "python" inventory would resolve these).
    (r"py:.*", r"(collections\.abc|contextlib|datetime|enum|io|os|pathlib|re|types|typing)\..*"),
    (r"py:.*", r"fractions\..*"),  # exact doses in the tapering schedules
    (r"py:data", r"Ellipsis"),  # the ``...`` of ``tuple[str, ...]``
    # narwhals: every algorithm is a narwhals query (expressions, lazy frames, the frame types a
    # caller may pass in as ``IntoFrame``).
    (r"py:.*", r"narwhals(\..*)?"),
    # The dataframe libraries callers pass in and get back (and numpy, whose arrays the reader
    # toolkit hands over: RawTable.lines, distinct_cells).
    (r"py:.*", r"(pandas|polars|pyarrow|duckdb|numpy)(\..*)?"),
    # attrs (the records) and python-dateutil (the calendar arithmetic of the windows).
    (r"py:.*", r"(attr|attrs|dateutil)(\..*)?"),
    # The optional letters and schedule extras (templates, documents, spreadsheets, calendars).
    (r"py:.*", r"(jinja2|markupsafe|docx|docxtpl|docxcompose|lxml|openpyxl|icalendar)(\..*)?"),
]

# -- autodoc and type hints ----------------------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": False}
autodoc_preserve_defaults = True
typehints_fully_qualified = False
always_document_param_types = False
typehints_defaults = "comma"

# -- doctest -------------------------------------------------------------------------------------
#
# Every ``>>>`` example in these pages and in the docstrings autodoc pulls in runs under
# ``python -m sphinx -b doctest docs docs/_build/doctest``; the docstrings' examples assume the
# names of their own module, provided here.
# Unlike Sphinx's default, exception messages are compared too: they are part of what the pages
# promise (the error names the column, the row and the rule).
doctest_default_flags = (
    doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1 | doctest.NORMALIZE_WHITESPACE
)
doctest_global_setup = """
import datetime as dt

import pandas as pd

import benzoredux
from benzoredux import *  # noqa: F403
from benzoredux.codes import *  # noqa: F403
from benzoredux.dates import *  # noqa: F403
from benzoredux.errors import *  # noqa: F403
from benzoredux.engine import *  # noqa: F403
from benzoredux.tables import *  # noqa: F403
from benzoredux.consult.records import *  # noqa: F403
from benzoredux.consult.questionnaires import *  # noqa: F403
from benzoredux.consult.tapering import *  # noqa: F403
from benzoredux.consult.handouts import *  # noqa: F403
from benzoredux.reading.parsing import *  # noqa: F403
from benzoredux.reading.mapping import *  # noqa: F403
from benzoredux.reading.choose import *  # noqa: F403
from benzoredux.reading.identifiers import *  # noqa: F403
from benzoredux.reading.names import *  # noqa: F403
from benzoredux.screening import *  # noqa: F403
from benzoredux.schedule import *  # noqa: F403
from benzoredux.letters.rendering import *  # noqa: F403
from benzoredux.letters.compose import *  # noqa: F403
from benzoredux.letters.default_style import *  # noqa: F403
from benzoredux.output import *  # noqa: F403
from benzoredux.gp_lists import *  # noqa: F403
from benzoredux.spreadsheets import *  # noqa: F403
from benzoredux.demo import *  # noqa: F403

pd.set_option("display.width", 100)
"""

# -- HTML ----------------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"benzoredux {release}"
html_static_path: list[str] = []
