"""Read models: the patient timeline (FHIR is rendered by tracker.fhir as it is)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tracker.api.serializers import PatientSerializer
from tracker.timeline import ALERT, INFO, NOTICE, Timeline, TimelineEvent, TimelineKind


class TimelineEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="When it happened (or is due, for a reminder).")
    date_only = serializers.BooleanField(help_text="A dated record (conditioning, follow-up visit): `at` is noon UTC.")
    day = serializers.IntegerField(
        allow_null=True, help_text="Calendar day relative to the infusion (day 0); null before any infusion."
    )
    kind = serializers.ChoiceField(choices=TimelineKind.choices)
    summary = serializers.CharField()
    level = serializers.ChoiceField(
        choices=[(INFO, "Information"), (NOTICE, "Worth a look"), (ALERT, "Needs attention")],
        help_text="How much the event asks for attention (e.g. a CRS/ICANS grade >= 2 is `alert`).",
    )
    record_type = serializers.CharField(help_text="The kind of record it comes from, e.g. `assessment`.")
    record_id = serializers.IntegerField(help_text="That record's id.")
    record = serializers.CharField(help_text="`record_type:record_id`, e.g. `assessment:12`.")
    detail = serializers.DictField(
        child=serializers.JSONField(), help_text="The record's fields (raw measurements, units, signatures...)."
    )

    def to_representation(self, event: TimelineEvent) -> dict[str, Any]:
        # Thousands of events: a plain dict per event, the datetime formatted as the rest of the API does.
        return {
            "at": self.fields["at"].to_representation(event.at),
            "date_only": event.date_only,
            "day": event.day,
            "kind": event.kind,
            "summary": event.summary,
            "level": event.level,
            "record_type": event.record_type,
            "record_id": event.record_id,
            "record": event.record,
            "detail": event.detail,
        }


class TimelineFiltersSerializer(serializers.Serializer):
    kind = serializers.ListField(child=serializers.CharField(), help_text="The kinds of event included.")
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)


class TimelineSerializer(serializers.Serializer):
    patient = PatientSerializer()
    infused_at = serializers.DateTimeField(
        allow_null=True, help_text="The first administration that was not voided (day 0)."
    )
    day_zero = serializers.DateField(allow_null=True, help_text="The calendar date of day 0.")
    filters = serializers.SerializerMethodField()
    count = serializers.SerializerMethodField()
    events = TimelineEventSerializer(many=True, help_text="In time order.")

    @extend_schema_field(TimelineFiltersSerializer)
    def get_filters(self, timeline: Timeline) -> dict[str, Any]:
        return TimelineFiltersSerializer(
            {"kind": list(timeline.kinds), "since": timeline.since, "until": timeline.until}
        ).data

    def get_count(self, timeline: Timeline) -> int:
        return len(timeline.events)
