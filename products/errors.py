"""Domain errors: a valid request that breaks a rule. The API turns them into 409 {code, detail}."""

from typing import Any


class DomainError(Exception):
    code = "rule_violation"
    default_detail = "The request breaks a rule."

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.default_detail
        self.extra = extra
        super().__init__(self.detail)


class PermissionDeniedError(DomainError):
    code = "permission_denied"
    default_detail = "You may not do this."


class InvalidSignature(DomainError):
    code = "invalid_signature"
    default_detail = "The password given for the electronic signature is not correct."


class IllegalTransition(DomainError):
    code = "illegal_transition"
    default_detail = "This change is not allowed in the record's current state."
