"""Error bodies, for the schema: the exception handler (products/api/exceptions.py) writes them."""

from rest_framework import serializers


class DomainErrorSerializer(serializers.Serializer):
    """409 (and 403 from a rule): a valid request that breaks a rule. Some codes add details, e.g. `tests`."""

    code = serializers.CharField()
    detail = serializers.CharField()


class QCErrorSerializer(DomainErrorSerializer):
    tests = serializers.ListField(child=serializers.CharField(), required=False, help_text="The tests concerned.")


class HoldErrorSerializer(DomainErrorSerializer):
    holds = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="`unit_on_hold`: the open holds (ids)."
    )


class ReleaseErrorSerializer(QCErrorSerializer):
    holds = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="`batch_on_hold`: the open holds (ids)."
    )
