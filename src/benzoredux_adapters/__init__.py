"""Vendor readers and letter house styles for benzoredux, each a plugin module."""
