"""Pages that write through the domain services: a record's add page, and its page's changes and new rows.

Each is an explicit view on Django's public admin API: validate the form (a plain products.admin_forms.ServiceForm
on an add page) and the page's row formsets, call the services, then redirect with a message. When a service says
no (a DomainError, a ValidationError, or a database constraint lost to a race) the same page comes back with the
answer on the field or the row it names, or at the top, and nothing written: the transaction rolled back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.exceptions import DisallowedModelAdminToField
from django.contrib.admin.options import IS_POPUP_VAR, SOURCE_MODEL_VAR, TO_FIELD_VAR, InlineModelAdmin
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.forms import BaseForm, BaseFormSet, ModelForm, all_valid
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from products import integrity
from products.admin.base import ProjectAdmin
from products.admin_forms import FormfieldCallback, ServiceForm
from products.errors import DomainError

# What a service raises when it refuses a write.
REFUSALS = (DomainError, ValidationError, IntegrityError)


def domain_message(exc: DomainError) -> str:
    return f"{exc.detail} ({exc.code})"


def show_refusal(
    form: BaseForm, exc: DomainError | ValidationError | IntegrityError, on: Mapping[str, str | None] | None = None
) -> list[str]:
    """A service's refusal on the form: on the field it names, else at the top; its messages are returned.

    `on` maps a service's field name, or a domain error's code, to the form field the message belongs on
    (e.g. {"invalid_signature": "verifier_password"}); mapped to None, it is shown at the top.
    """
    on = on or {}
    errors: dict[str | None, list[str]]
    if isinstance(exc, DomainError):
        errors = {on.get(exc.code): [domain_message(exc)]}
    elif isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            errors = {(None if k == NON_FIELD_ERRORS else on.get(k, k)): v for k, v in exc.message_dict.items()}
        else:
            errors = {None: exc.messages}
    else:
        # Only a race gets here (the forms check the model's constraints first): say what, as the API does.
        problem = integrity.describe(exc)
        if problem.kind == integrity.INVALID and len(problem.fields) == 1:
            errors = {on.get(problem.fields[0], problem.fields[0]): [problem.message]}
        else:
            errors = {None: [f"{problem.message} Someone may have saved at the same time: reload and try again."]}
    for field, texts in errors.items():
        if field is not None and field in form.fields:
            form.add_error(field, texts)
        else:
            form.add_error(None, [f"{field}: {text}" if field else text for text in texts])
    return [text for texts in errors.values() for text in texts]


class RowInline(admin.TabularInline):
    """Blank rows on a record's page for new records, each written by a service (`create`); the record's existing
    rows are shown by a ReadOnlyInline. The rows are model forms only so the admin can lay them out: they are
    validated, never saved."""

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

    def create(self, request: HttpRequest, parent: Any, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError


class ServiceAdmin(ProjectAdmin):
    """An admin whose add page, and the changes and new rows of whose record page, go through the services.

    Subclasses set `add_form` (a ServiceForm) and `add_fieldsets`, and implement `create`. The record's page is
    read-only (`change_fields`), but for `service_change_fields` (changed through `update`) and for its
    RowInlines: nothing on these pages is written by a plain save().
    """

    add_form: ClassVar[type[ServiceForm] | None] = None
    add_fieldsets: ClassVar[Sequence[tuple[str | None, dict[str, Any]]] | None] = None
    # What the change page shows (fields and computed values); read-only but for service_change_fields.
    change_fields: ClassVar[tuple[str, ...]] = ()
    # Fields changed on the record's page through a service (`update`).
    service_change_fields: ClassVar[tuple[str, ...]] = ()
    # Where a refusal's message goes: a service's field name or a domain error's code -> the form field.
    refusal_fields: ClassVar[Mapping[str, str | None]] = {}

    def create(self, request: HttpRequest, data: dict[str, Any], rows: list[BaseFormSet]) -> Any:
        """Write the new record through its service (`rows`: the add page's inline formsets, if any)."""
        raise NotImplementedError

    def created_message(self, obj: Any) -> str | None:
        return None

    def update(self, request: HttpRequest, obj: Any, changes: dict[str, Any], data: dict[str, Any]) -> None:
        """Write the changed `service_change_fields` through the record's service (`data`: the whole form)."""
        raise NotImplementedError

    # --- what the pages show -------------------------------------------------------------------------------

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
        return [name for name in self.change_fields if name not in self.service_change_fields]

    def save_model(self, request: HttpRequest, obj: models.Model, form: BaseForm, change: bool) -> None:
        """Never a plain save: every write of these pages goes through `create`, `update` or a RowInline."""

    def formfield_callback(self, request: HttpRequest) -> FormfieldCallback:
        """Model fields for a ServiceForm as the admin makes them: its widgets, the choices the user may pick."""
        return partial(self.formfield_for_dbfield, request=request)

    # --- the add page --------------------------------------------------------------------------------------

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        if not self.has_add_permission(request) or self.add_form is None:
            raise PermissionDenied
        posted = request.method == "POST"
        form = self.add_form(
            request.POST if posted else None,
            initial=self.get_changeform_initial_data(request),
            user=request.user,
            formfield_callback=self.formfield_callback(request),
        )
        formsets, inlines = self.inline_formsets(request, None, bind=lambda inline: posted)
        valid = form.is_valid()
        if posted and all_valid(formsets) and valid:
            try:
                obj = self.create(request, form.cleaned_data, formsets)
            except REFUSALS as exc:
                show_refusal(form, exc, self.refusal_fields)
            else:
                self.log_addition(request, obj, [{"added": {}}])
                if message := self.created_message(obj):
                    messages.info(request, message)
                return self.response_add(request, obj)
        return self.form_page(request, form, formsets, inlines, obj=None, extra_context=extra_context)

    # --- the record's page: its changes and new rows, through the services ---------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        writes = self.service_change_fields or any(issubclass(inline, RowInline) for inline in self.inlines)
        if request.method == "POST" and writes:
            return self.change_post_view(request, object_id, extra_context)
        return super().change_view(request, object_id, form_url, extra_context)

    def change_post_view(self, request: HttpRequest, object_id: str, extra_context: dict | None) -> HttpResponse:
        obj = self.changeable(request, object_id)
        if isinstance(obj, HttpResponse):
            return obj
        # The record's form: its service_change_fields, if any; else bound only to carry the page's errors.
        form = self.get_form(request, obj, change=True)(request.POST, instance=obj)
        formsets, inlines = self.inline_formsets(request, obj, bind=lambda inline: isinstance(inline, RowInline))
        rows = [(inline, formset) for inline, formset in zip(inlines, formsets, strict=True) if formset.is_bound]
        valid = form.is_valid()
        if all_valid([formset for _, formset in rows]) and valid:
            added = self.write_changes(request, obj, form, rows)
            if added is not None:
                changed = [str(form.fields[name].label or name) for name in self.changes(form)]
                self.log_change(request, obj, ([{"changed": {"fields": changed}}] if changed else []) + added)
                return self.response_change(request, obj)
        return self.form_page(request, form, formsets, inlines, obj=obj, extra_context=extra_context)

    def write_changes(
        self, request: HttpRequest, obj: Any, form: BaseForm, rows: list[tuple[Any, BaseFormSet]]
    ) -> list[dict] | None:
        """The changed fields and every filled-in row through their services, in one transaction: all are
        written, or none. A refusal goes on the field or the row it is about (and the row's at the top too)."""
        added, current = [], form
        try:
            with transaction.atomic():
                if changes := self.changes(form):
                    self.update(request, obj, changes, form.cleaned_data)
                for inline, formset in rows:
                    for current in (row for row in formset.forms if row.has_changed()):
                        new = inline.create(request, obj, current.cleaned_data)
                        added.append({"added": {"name": str(new._meta.verbose_name), "object": str(new)}})
        except REFUSALS as exc:
            refused = show_refusal(current, exc, self.refusal_fields if current is form else None)
            if current is not form:
                # The row may be far down the page: say it at the top too.
                form.add_error(None, f"Nothing was saved. {'; '.join(refused)}")
            return None
        return added

    def changes(self, form: BaseForm) -> dict[str, Any]:
        return {name: form.cleaned_data[name] for name in form.changed_data if name in self.service_change_fields}

    # --- building the page ------------------------------------------------------------------------------------

    def inline_formsets(
        self, request: HttpRequest, obj: Any, *, bind: Callable[[InlineModelAdmin], bool]
    ) -> tuple[list[BaseFormSet], list[InlineModelAdmin]]:
        """The page's inline formsets, prefixed as the admin prefixes them ("steps", then "steps-2"), bound to
        the POST where `bind` says so."""
        formsets, inlines, seen = [], [], Counter[str]()
        for formset_class, inline in self.get_formsets_with_inlines(request, obj):
            prefix = formset_class.get_default_prefix()
            seen[prefix] += 1
            if seen[prefix] != 1 or not prefix:
                prefix = f"{prefix}-{seen[prefix]}"
            kwargs = self.get_formset_kwargs(request, obj, inline, prefix)
            if not bind(inline):
                kwargs.pop("data", None)
                kwargs.pop("files", None)
            formsets.append(formset_class(**kwargs))
            inlines.append(inline)
        return formsets, inlines

    def form_page(
        self,
        request: HttpRequest,
        form: BaseForm,
        formsets: list[BaseFormSet],
        inlines: list[InlineModelAdmin],
        *,
        obj: Any,
        extra_context: dict | None,
    ) -> HttpResponse:
        """The admin's add or change page (its templates and context) for a form and formsets of our own."""
        add = obj is None
        editable = add or self.has_change_permission(request, obj)
        fieldsets = list(self.get_fieldsets(request, obj))
        readonly = self.get_readonly_fields(request, obj) if editable else flatten_fieldsets(fieldsets)
        # The admin's helpers take any form (the stubs say a model form).
        model_form = cast("ModelForm[Any]", form)
        admin_form = helpers.AdminForm(model_form, fieldsets, {}, readonly, model_admin=self)
        inline_admin_formsets = self.get_inline_formsets(request, formsets, inlines, obj)
        media = self.media + admin_form.media
        for inline_admin_formset in inline_admin_formsets:
            media += inline_admin_formset.media
        title = _("Add %s") if add else _("Change %s") if editable else _("View %s")
        # Opened from a "+" next to a choice: the popup answers with the new record's key (the admin's own code).
        to_field = request.POST.get(TO_FIELD_VAR, request.GET.get(TO_FIELD_VAR))
        if to_field and not self.to_field_allowed(request, to_field):
            raise DisallowedModelAdminToField(f"The field {to_field} cannot be referenced.")
        context = {
            **self.admin_site.each_context(request),
            "title": title % self.opts.verbose_name,
            "subtitle": None if add else str(obj),
            "adminform": admin_form,
            "object_id": None if add else obj.pk,
            "original": obj,
            "is_popup": IS_POPUP_VAR in request.POST or IS_POPUP_VAR in request.GET,
            "source_model": request.GET.get(SOURCE_MODEL_VAR),
            "to_field": to_field,
            "media": media,
            "inline_admin_formsets": inline_admin_formsets,
            "errors": helpers.AdminErrorList(model_form, formsets),
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=add, change=not add, obj=obj)
