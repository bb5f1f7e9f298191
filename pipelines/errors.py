"""Errors whose message is for the user: what is wrong, where, and the fix."""


class TaskError(ValueError):
    """A task name, spec, option or user data file that cannot be used (exit code 2)."""
