from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from rest_framework import serializers

from products.models import Facility


class FacilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Facility
        fields = ["code", "name", "kind", "fin", "is_active"]


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded"])
    database = serializers.BooleanField()
    broker = serializers.BooleanField()


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    facilities = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["username", "first_name", "last_name", "email", "roles", "facilities"]

    def get_roles(self, user: User) -> list[str]:
        return sorted(group.name for group in user.groups.all())

    def get_facilities(self, user: User) -> list[str]:
        return sorted(m.facility.code for m in user.memberships.all())
