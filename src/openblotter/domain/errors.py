"""The few exceptions the portal raises on purpose.

Each carries a stable machine ``code``, a message written for people, and an
optional ``detail`` dict (parameter, allowed values, file, row, column). The
web layer maps them to HTTP status codes in one place; the CLI prints them
without a traceback.
"""

from __future__ import annotations

from typing import Any


class OpenBlotterError(Exception):
    """Base of every error the portal reports to a person."""

    code = "error"

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


class NotFound(OpenBlotterError):
    """A dataset, release, column or file that does not exist."""

    code = "not_found"


class InvalidInput(OpenBlotterError):
    """A request or file that cannot be used as given (says what and where)."""

    code = "invalid_input"


class Conflict(OpenBlotterError):
    """An action that clashes with the catalog's state (a duplicate release label)."""

    code = "conflict"


class TooLarge(OpenBlotterError):
    """A result or upload over a hard limit (an XLSX sheet, an upload size)."""

    code = "too_large"


class Gone(OpenBlotterError):
    """A release that was purged: its rows and files are gone for good (a tombstone stays);
    or the release a ``_next`` token pages, withdrawn or replaced."""

    code = "gone"


class Forbidden(OpenBlotterError):
    """A missing or insufficient publisher token."""

    code = "forbidden"


class ConfigurationError(OpenBlotterError):
    """Settings that are unsafe or inconsistent (a default salt outside demo mode)."""

    code = "configuration"


class Unavailable(OpenBlotterError):
    """Work the portal cannot do now: too many at once, or more memory than it may use.

    ``detail['retry_after']`` (seconds) when trying again later may work.
    """

    code = "unavailable"


class TimedOut(OpenBlotterError):
    """A query that ran past the portal's time limit and was stopped."""

    code = "timeout"
