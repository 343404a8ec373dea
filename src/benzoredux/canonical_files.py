"""Deprecated alias of :mod:`benzoredux.reading.canonical`.

Import from :mod:`benzoredux.reading` instead: see :mod:`benzoredux.deprecation`.
"""

from benzoredux.deprecation import warn_moved
from benzoredux.reading.canonical import *  # noqa: F403

warn_moved(__name__)
