"""Deprecated alias of :mod:`benzoredux.reading.mapping`.

Import from :mod:`benzoredux.reading` instead: see :mod:`benzoredux.deprecation`.
"""

from benzoredux.deprecation import warn_moved
from benzoredux.reading.mapping import *  # noqa: F403

warn_moved(__name__)
