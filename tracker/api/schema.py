"""Schema post-processing for the patient side (drf-spectacular's POSTPROCESSING_HOOKS)."""

from typing import Any

# Details of one record at two moments (a QC result and its invalidation, a hold and QA's decision, an allocation and
# its release) share their fields, and a release's detail extends its batch's: an event's detail may fit several of
# these shapes, so it is any of them, not exactly one (`oneOf` would call a valid answer invalid).
ANY_OF = ("TimelineEventDetail",)


def timeline_detail_any_of(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.get("components", {}).get("schemas", {})
    for name in ANY_OF:
        if "oneOf" in schemas.get(name, {}):
            schemas[name]["anyOf"] = schemas[name].pop("oneOf")
    return result
