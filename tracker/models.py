"""Patient side: people and clinical events (PHI lives only in this app)."""

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q

from products.models import ChainOfIdentity, Facility, Product
from tracker.choices import Sex


@pghistory.track()
class Patient(models.Model):
    """A patient (PHI) treated at one facility."""

    mrn = models.CharField("MRN", max_length=40, help_text="Medical record number at the treating facility.")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=8, choices=Sex.choices)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="patients")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "mrn"], name="patient_unique_mrn_per_facility"),
            models.CheckConstraint(
                name="patient_weight_plausible", condition=Q(weight_kg__isnull=True) | Q(weight_kg__gt=0)
            ),
        ]
        indexes = [models.Index(fields=["facility", "family_name"])]

    def __str__(self) -> str:
        # Deliberately no MRN or birth date: __str__ ends up in logs and admin breadcrumbs.
        return f"Patient {self.pk}"

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}"


@pghistory.track()
class TherapyOrder(models.Model):
    """Binds a patient to a product through a chain of identity (the COI the product side knows)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="orders")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")
    chain = models.OneToOneField(ChainOfIdentity, on_delete=models.PROTECT, related_name="order")
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ordered_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-ordered_at"]

    def __str__(self) -> str:
        return f"Order {self.chain.coi}"

    @property
    def coi(self) -> str:
        return self.chain.coi

    @property
    def status(self) -> str:
        return self.chain.status
