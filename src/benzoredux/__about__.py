"""Version information, kept apart so the build backend can read it without importing."""

__version__ = "0.1.0.dev0"
