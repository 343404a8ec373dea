"""Deprecated alias of :mod:`benzoredux.reading.text`.

Import from :mod:`benzoredux.reading` instead: see :mod:`benzoredux.deprecation`.
"""

from benzoredux.deprecation import warn_moved
from benzoredux.reading.text import *  # noqa: F403

warn_moved(__name__)
