"""Named errors a user can cause, each with a message a reception clerk understands."""

from __future__ import annotations


class PetitionError(Exception):
    """Base of every error a user of the petition service can cause."""

    code = "petition_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidField(PetitionError):
    """A field of the input is missing or wrong; names the field."""

    code = "invalid"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class ActionNotAllowed(PetitionError):
    """The action does not fit the case's current state."""

    code = "not_allowed"


class AlreadyExtended(ActionNotAllowed):
    """The handling time limit may be extended only once."""

    code = "already_extended"


class CaseIsFinal(ActionNotAllowed):
    """A final case accepts nothing but revisits."""

    code = "case_final"


class CaseNotFound(PetitionError):
    """No case with that id or case number exists."""

    code = "not_found"


class Conflict(PetitionError):
    """The case changed under the caller; reload and try again."""

    code = "conflict"


class CalendarError(PetitionError):
    """A holiday schedule an administrator loaded is malformed."""

    code = "calendar_invalid"
