"""What every admin of this project shares.

- Records are scoped like the API: a non-superuser sees only what the selectors let them see.
- New domain records are written by the services (the same functions the API calls), never by a
  ModelForm's save(). A service that says no raises DomainError or ValidationError inside the
  admin's transaction; we let it roll everything back, then render the same POST again with the
  refusal attached to the form (or inline row) it belongs to. Nothing is half-written, nothing 500s.
- Records are never deleted from the admin (21 CFR 11.10(e): the trail stays complete).
- The "History" button shows the audit trail pghistory's triggers wrote for the record.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, models
from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from products import integrity
from products.errors import DomainError

REFUSAL_ATTR = "_admin_service_refusal"
HISTORY_PAGE_SIZE = 100


def events_admin_url(request: HttpRequest, obj: models.Model) -> str | None:
    """pghistory's own Events admin for the record (it is not scoped by facility: superusers only)."""
    if not request.user.is_superuser:
        return None
    base = reverse("admin:pghistory_events_changelist")
    return f"{base}?{urlencode({'method': 'tracks', 'obj': f'{obj._meta.label}:{obj.pk}'})}"


class Refusal(Exception):
    """A service refused a write; carries the messages and where on the page they belong."""

    def __init__(self, errors: dict[str | None, list[str]], *, prefix: str | None = None, index: int = 0) -> None:
        self.errors = errors
        self.prefix = prefix  # None: the main form; otherwise the inline formset's prefix
        self.index = index  # the row of that formset
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))

    def apply(self, form: BaseForm) -> None:
        for field, msgs in self.errors.items():
            if field is not None and field in form.fields:
                form.add_error(field, msgs)
            else:
                label = f"{field}: " if field else ""
                form.add_error(None, [f"{label}{m}" for m in msgs])


def refusal_errors(exc: Exception) -> dict[str | None, list[str]]:
    """A service's DomainError or ValidationError as {field or None: [messages]}."""
    if isinstance(exc, DomainError):
        return {None: [domain_message(exc)]}
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return {(None if k == "__all__" else k): v for k, v in exc.message_dict.items()}
        return {None: exc.messages}
    if isinstance(exc, IntegrityError):
        # Only a race gets here (the forms check the model's constraints first): say what, as the API does.
        problem = integrity.describe(exc)
        if problem.kind == integrity.INVALID and len(problem.fields) == 1:
            return {problem.fields[0]: [problem.message]}
        return {None: [f"{problem.message} Someone may have saved at the same time: reload and try again."]}
    raise exc


def domain_message(exc: DomainError) -> str:
    return f"{exc.detail} ({exc.code})"


@contextmanager
def refused(*, prefix: str | None = None, index: int = 0) -> Iterator[None]:
    """Turn a service's refusal into a Refusal for the page (re-raised: the transaction must roll back)."""
    try:
        yield
    except (DomainError, ValidationError, IntegrityError) as exc:
        raise Refusal(refusal_errors(exc), prefix=prefix, index=index) from exc


def adopt(target: models.Model, created: models.Model) -> None:
    """Make the admin's unsaved instance be the row the service created (so logging and redirects work)."""
    target.__dict__.update(created.__dict__)


def _with_form_refusal(form_class: type[BaseForm], request: HttpRequest) -> type[BaseForm]:
    refusal: Refusal | None = getattr(request, REFUSAL_ATTR, None)
    if refusal is None:
        return form_class

    class RefusedForm(form_class):  # type: ignore[valid-type,misc]
        def clean(self) -> Any:
            cleaned = super().clean()
            if refusal.prefix is None:
                refusal.apply(self)
            else:
                # The row may be far down the page: say it at the top too. This also keeps the main
                # form invalid, so the second pass can never write.
                self.add_error(None, f"Nothing was saved. {refusal}")
            return cleaned

    RefusedForm.__name__ = form_class.__name__
    return RefusedForm


class ProjectAdmin(admin.ModelAdmin):
    """Scoping, no deletes, and the audit trail behind the History button."""

    # Columns the History page shows as changed but never with their values (e.g. a webhook's secret).
    history_redacted_fields: ClassVar[frozenset[str]] = frozenset()

    # Subclasses: how a non-superuser's queryset is narrowed (None: reference data, visible to all staff).
    def scope_queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        return queryset

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return self.scope_queryset(request, queryset)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST) -> dict:
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> HttpResponse:
        """The record's audit trail: every insert, update and delete the database triggers recorded."""
        from products.admin.history import audit_trail

        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        trail = audit_trail(obj, redacted=self.history_redacted_fields)
        page = Paginator(trail.events, HISTORY_PAGE_SIZE).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Audit trail: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "tracked": trail.tracked,
            "page_obj": page,
            "events": [trail.describe(event) for event in page.object_list],
            # pghistory's own admin shows every column's value: not offered where some are hidden.
            "events_admin_url": events_admin_url(request, obj) if trail.tracked and not trail.redacted else None,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/audit_history.html", context)


class ServiceAdmin(ProjectAdmin):
    """An admin whose add page (and inline rows) write through the domain services.

    Subclasses set `add_form` / `add_fieldsets` and implement `service_create`; the change page is
    read-only unless a subclass says otherwise (`plain_change_fields`).
    """

    add_form: type[BaseForm] | None = None
    add_fieldsets: Sequence[tuple[str | None, dict[str, Any]]] | None = None
    # Fields a plain save() may change (no rule guards them); everything else is read-only on change.
    plain_change_fields: ClassVar[tuple[str, ...]] = ()
    # What the change page shows (fields and computed values); read-only but for plain_change_fields.
    change_fields: ClassVar[tuple[str, ...]] = ()

    def service_create(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet]) -> models.Model:
        raise NotImplementedError

    def created_message(self, obj: models.Model) -> str | None:
        return None

    # --- forms ---------------------------------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        if obj is None and self.add_fieldsets is not None:
            return self.add_fieldsets
        return super().get_fieldsets(request, obj)

    def get_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        if obj is not None:
            return list(self.change_fields)
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        if obj is None:
            return ()
        return [name for name in self.change_fields if name not in self.plain_change_fields]

    def get_form(self, request: HttpRequest, obj: models.Model | None = None, change: bool = False, **kwargs: Any):
        if obj is None and self.add_form is not None:
            kwargs["form"] = self.add_form
        return _with_form_refusal(super().get_form(request, obj, change=change, **kwargs), request)

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refusal as refusal:
            # The admin's transaction has rolled back. Validate the same POST again, this time with the
            # service's answer attached to the form, so the page comes back with the error in place.
            setattr(request, REFUSAL_ATTR, refusal)
            return super().changeform_view(request, object_id, form_url, extra_context)

    # --- saving --------------------------------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: models.Model, form: BaseForm, change: bool) -> None:
        # Adding: the service writes in save_related, where the inline rows are known too.
        if change and set(form.changed_data) & set(self.plain_change_fields):
            obj.save()

    def save_related(self, request: HttpRequest, form: BaseForm, formsets: list[BaseFormSet], change: bool) -> None:
        if change:
            form.save_m2m()
            for formset in formsets:
                self.save_formset(request, form, formset, change=change)
            return
        with refused():
            created = self.service_create(request, form, formsets)
        adopt(form.instance, created)
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        message = self.created_message(form.instance)
        if message:
            messages.info(request, message)

    def save_formset(self, request: HttpRequest, form: BaseForm, formset: BaseFormSet, change: bool) -> None:
        inline = getattr(formset, "inline_admin", None)
        if isinstance(inline, ServiceAddInline):
            inline.save_rows(request, form.instance, formset)
        else:
            formset.save()


class ReadOnlyInline(admin.TabularInline):
    """Existing rows of an append-only log: shown, never edited or removed here."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        return self.get_fields(request, obj)


class ServiceAddInline(admin.TabularInline):
    """Blank rows for new records, each written by a service call; existing rows live in a ReadOnlyInline."""

    extra = 1
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).none()

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return self.has_add_permission(request, obj)

    def create_row(self, request: HttpRequest, parent: models.Model, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def customise_form(self, form_class: type[BaseForm], parent: models.Model | None) -> type[BaseForm]:
        return form_class

    def get_formset(self, request: HttpRequest, obj: models.Model | None = None, **kwargs: Any):
        formset_class = super().get_formset(request, obj, **kwargs)
        formset_class.form = self.customise_form(formset_class.form, obj)
        formset_class.inline_admin = self
        refusal: Refusal | None = getattr(request, REFUSAL_ATTR, None)
        if refusal is None or refusal.prefix is None:
            return formset_class

        class RefusedFormSet(formset_class):  # type: ignore[valid-type,misc]
            def clean(self) -> None:
                super().clean()
                if self.prefix == refusal.prefix and refusal.index < len(self.forms):
                    refusal.apply(self.forms[refusal.index])

        return RefusedFormSet

    def save_rows(self, request: HttpRequest, parent: models.Model, formset: BaseFormSet) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for index, form in enumerate(formset.forms):
            if not form.has_changed():
                continue
            with refused(prefix=formset.prefix, index=index):
                formset.new_objects.append(self.create_row(request, parent, form.cleaned_data))
