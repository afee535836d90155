"""Forms of the curation admin. They validate input; the admins hand the data to the services."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.core.exceptions import ValidationError

from elephantasm.admin import StorableJSONFormField
from elephantasm.api.errors import ApplicationError

from ..identity_schema import EMPTY_IDENTITY, validate_identity
from ..models import Identity, Knowledge, Lesson, Memory, MemoryStatus, MemoryTag
from ..services.memories import SETTABLE_STATUSES
from .display import excerpt

TAG_MAX_LENGTH = MemoryTag._meta.get_field("name").max_length


def parse_tags(value: str) -> list[str]:
    names = sorted({t.strip() for t in (value or "").split(",") if t.strip()})
    too_long = [n for n in names if len(n) > TAG_MAX_LENGTH or "\x00" in n]
    if too_long:
        raise ValidationError(
            f"Tags are at most {TAG_MAX_LENGTH} characters: {', '.join(t[:20] for t in too_long)}."
        )
    return names


def parse_ids(value: str) -> list[UUID]:
    """Ids separated by commas, spaces or new lines; duplicates dropped, order kept."""
    ids, bad = [], []
    for token in (value or "").replace(",", " ").split():
        try:
            ids.append(UUID(token))
        except ValueError:
            bad.append(token[:40])
    if bad:
        raise ValidationError(f"Not an id: {', '.join(bad)}.")
    return list(dict.fromkeys(ids))


def with_refusal(form_class: type[forms.BaseForm], refusal: ApplicationError):
    """`form_class`, failing validation with what a service refused on the last attempt: its
    message on the form, its details on the fields they name (others in the message)."""
    details = refusal.details if isinstance(refusal.details, dict) else {}

    class RefusedForm(form_class):
        def clean(self):
            data = super().clean()
            self.add_error(None, refusal.message)
            for name, problems in details.items():
                if name in self.fields:
                    problems = problems if isinstance(problems, list) else [problems]
                    self.add_error(name, [str(problem) for problem in problems])
            return data

    RefusedForm.__name__ = RefusedForm.__qualname__ = form_class.__name__
    return RefusedForm


class CuratedForm(forms.ModelForm):
    """Every curated change can say why; the reason goes into the audit entry."""

    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why this change? Kept with the change in the audit log.",
    )


class MemoryAdminForm(CuratedForm):
    tags = forms.CharField(required=False, help_text="Comma-separated.")
    related_ids = forms.CharField(
        label="Related memories",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text="Ids of live memories of the same spirit, one per line (or comma-separated). "
        "Replaces the memory's related memories; they are listed with its links below.",
    )

    class Meta:
        model = Memory
        fields = ["spirit", "memory_type", "content", "summary", "subject"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            names = sorted(self.instance.tags.values_list("name", flat=True))
            self.initial.setdefault("tags", ", ".join(names))
            related = self.instance.related_to.filter(deleted_at__isnull=True)
            ids = sorted(str(pk) for pk in related.values_list("pk", flat=True))
            self.initial.setdefault("related_ids", "\n".join(ids))
        if "status" in self.fields:
            # Only what memory_update may set; the other statuses come with their operations.
            self.fields["status"].choices = [
                (value, label)
                for value, label in MemoryStatus.choices
                if value in SETTABLE_STATUSES
            ]

    def clean_tags(self) -> list[str]:
        return parse_tags(self.cleaned_data.get("tags", ""))

    def clean_related_ids(self) -> list[UUID]:
        return parse_ids(self.cleaned_data.get("related_ids", ""))

    def tags_changed(self) -> bool:
        initial = parse_tags(self.get_initial_for_field(self.fields["tags"], "tags") or "")
        return self.cleaned_data["tags"] != initial

    def related_ids_changed(self) -> bool:
        initial = self.get_initial_for_field(self.fields["related_ids"], "related_ids")
        return set(self.cleaned_data["related_ids"]) != set(parse_ids(initial))


class KnowledgeAdminForm(CuratedForm):
    class Meta:
        model = Knowledge
        fields = ["spirit", "knowledge_type", "topic", "content", "summary"]


class LessonAdminForm(CuratedForm):
    class Meta:
        model = Lesson
        fields = ["spirit", "statement", "rationale", "confidence", "status"]


# --- actions --------------------------------------------------------------------------------------


class MemoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{excerpt(str(obj), 100)} [{obj.status}]"


class DisputeForm(forms.Form):
    """Which memory the selected ones contradict: one of them, or any other of the same spirit."""

    conflicting = MemoryChoiceField(
        queryset=Memory.objects.none(),
        required=False,
        empty_label=None,
        widget=forms.RadioSelect,
        label="They contradict",
    )
    other = forms.ModelChoiceField(
        queryset=Memory.objects.none(),
        required=False,
        widget=forms.TextInput(attrs={"size": 40}),
        label="…or this other memory (id)",
        help_text="The id of another memory of the same spirit.",
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, selected, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conflicting"].queryset = selected
        self.fields["other"].queryset = candidates

    def clean(self):
        data = super().clean()
        chosen = [m for m in (data.get("conflicting"), data.get("other")) if m is not None]
        if len(chosen) != 1 and not self.errors:
            raise ValidationError("Choose one selected memory or give one other memory's id.")
        if chosen:
            data["anchor"] = chosen[0]
        return data


class MergeForm(forms.Form):
    summary = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="The merged memory's summary. Empty: the sources' summaries joined.",
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


# --- identity -------------------------------------------------------------------------------------

_text = {"required": False, "widget": forms.Textarea(attrs={"rows": 3}), "max_length": 4000}
_STYLE_KEYS = {
    "tone": "tone",
    "verbosity": "verbosity",
    "formality": "formality",
    "notes": "style_notes",
}
_ARC_KEYS = {"title": "arc_title", "description": "arc_description", "since": "arc_since"}


def _choices(*values: str) -> list[tuple[str, str]]:
    return [("", "—"), *((v, v) for v in values)]


class IdentityAdminForm(CuratedForm):
    """The identity document as fields; `document` (built in clean) goes to identity_revise."""

    essence = forms.CharField(**_text)
    purpose = forms.CharField(**_text)
    principles = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), help_text="One per line."
    )
    values = StorableJSONFormField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text='A list of {"name": …, "description": …, "weight": 0–1}.',
    )
    tone = forms.CharField(required=False, max_length=255)
    verbosity = forms.ChoiceField(required=False, choices=_choices("terse", "balanced", "detailed"))
    formality = forms.ChoiceField(required=False, choices=_choices("casual", "neutral", "formal"))
    style_notes = forms.CharField(label="Style notes", **_text)
    relationships = StorableJSONFormField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text='A list of {"name": …, "kind": …, "notes": …}.',
    )
    arc_title = forms.CharField(label="Current arc", required=False, max_length=255)
    arc_description = forms.CharField(label="Arc description", **_text)
    arc_since = forms.CharField(label="Arc since", required=False, max_length=255)

    DOCUMENT_FIELDS = (
        "essence",
        "purpose",
        "principles",
        "values",
        *_STYLE_KEYS.values(),
        "relationships",
        *_ARC_KEYS.values(),
    )

    class Meta:
        model = Identity
        fields = ["spirit"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        doc = {**EMPTY_IDENTITY, **(self.instance.document if self.instance.pk else {})}
        style, arc = doc.get("communication_style") or {}, doc.get("current_arc") or {}
        initial = {
            "essence": doc.get("essence", ""),
            "purpose": doc.get("purpose", ""),
            "principles": "\n".join(doc.get("principles") or []),
            "values": doc.get("values") or [],
            "relationships": doc.get("relationships") or [],
            **{field: style.get(key, "") for key, field in _STYLE_KEYS.items()},
            **{field: arc.get(key, "") for key, field in _ARC_KEYS.items()},
        }
        for name, value in initial.items():
            self.initial.setdefault(name, value)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        document = {
            "essence": data["essence"],
            "purpose": data["purpose"],
            "principles": [p.strip() for p in data["principles"].splitlines() if p.strip()],
            "values": data["values"] or [],
            "communication_style": {k: data[f] for k, f in _STYLE_KEYS.items() if data[f]},
            "relationships": data["relationships"] or [],
            "current_arc": {k: data[f] for k, f in _ARC_KEYS.items() if data[f]},
        }
        try:
            validate_identity(document)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        data["document"] = document
        return data

    def document_changed(self) -> bool:
        return any(name in self.changed_data for name in self.DOCUMENT_FIELDS)
