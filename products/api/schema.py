"""Schema post-processing: what every operation may answer, documented once."""

from typing import Any

THROTTLED = {
    "description": "Too many requests from this user or address (throttling, see README). Retry after the number "
    "of seconds in the `Retry-After` header.",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
        }
    },
}
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}


def document_throttling(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Every API operation is throttled (products/api/throttles.py), so each may answer 429."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in HTTP_METHODS:
                operation.setdefault("responses", {}).setdefault("429", THROTTLED)
    return result
