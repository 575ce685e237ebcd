"""Error bodies, for the schema: the exception handler (products/api/exceptions.py) writes them."""

from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    """401, 404, 406, 413, 415, 429: what went wrong, in words."""

    detail = serializers.CharField()


class DomainErrorSerializer(serializers.Serializer):
    """409 (and 403): a valid request that breaks a rule, or a refusal. Some codes add details, e.g. `tests`."""

    code = serializers.CharField(help_text="One of the codes listed (products.api.schema.document_error_codes).")
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
