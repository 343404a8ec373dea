"""Deprecated alias of :mod:`benzoredux.reading.raw`.

Import from :mod:`benzoredux.reading` instead: see :mod:`benzoredux.deprecation`.
"""

from benzoredux.deprecation import warn_moved
from benzoredux.reading.raw import *  # noqa: F403

warn_moved(__name__)
