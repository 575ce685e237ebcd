"""factory_boy factories. Writes that carry rules go through services, not factories."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from products.choices import FacilityKind, Role
from products.models import Facility, FacilityMembership

TEST_PASSWORD = "correct-horse-battery-staple"


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"fac-{n}")
    name = factory.Sequence(lambda n: f"Facility {n}")
    kind = FacilityKind.TREATMENT
    fin = factory.Sequence(lambda n: f"W{n % 10000:04d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Alex"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
            self.is_staff = any(r in (Role.COORDINATOR, Role.QA, Role.MANUFACTURING) for r in extracted)
        if create:
            self.save()

    @factory.post_generation
    def facilities(self, create: bool, extracted: list[Facility] | None, **kwargs: object) -> None:
        for facility in extracted or []:
            FacilityMembership.objects.get_or_create(user=self, facility=facility)
