"""Forms of the core-loop pages. They only parse input; the services validate and save."""

from __future__ import annotations

from django import forms

from learning.models import Reply


class ExerciseForm(forms.Form):
    ASSIGN_CHOICES = [("all", "All students"), ("some", "Chosen classes or students")]

    title = forms.CharField(max_length=200)
    instructions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, *italic*, lists, links. Use Preview to check it.",
    )
    instrument = forms.CharField(max_length=60, required=False)
    tags = forms.CharField(
        max_length=400, required=False, help_text="Separated by commas, e.g. scales, bowing"
    )
    due_at = forms.DateTimeField(
        required=False,
        label="Due",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    assign = forms.ChoiceField(
        choices=ASSIGN_CHOICES, initial="all", widget=forms.RadioSelect, label="Assign to"
    )
    classes = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    students = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    # The demonstration's MediaFile public id, filled in by the uploader on the page.
    demo = forms.UUIDField(required=False, widget=forms.HiddenInput)
    # Peer review (learning.peer_review).
    peer_review_count = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=10,
        initial=0,
        label="Peer reviews per student",
        help_text="After sending their reply, each student reviews this many classmates' "
        "replies. 0: no peer review.",
    )
    peer_review_anonymous = forms.BooleanField(
        required=False, initial=True, label="Anonymous: classmates do not see each other's names"
    )

    def __init__(self, *args, class_choices=(), student_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["classes"].choices = list(class_choices)
        self.fields["students"].choices = list(student_choices)

    def tag_list(self) -> list[str]:
        return [t for t in self.cleaned_data.get("tags", "").split(",") if t.strip()]


class ClassroomForm(forms.Form):
    name = forms.CharField(max_length=120)
    ends_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    students = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )

    # Co-teachers (learning.coteachers): set only when the form showed them (`teachers_shown`).
    teachers = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    teachers_shown = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, student_choices=(), teacher_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["students"].choices = list(student_choices)
        self.fields["teachers"].choices = list(teacher_choices)


class ReplyForm(forms.Form):
    media = forms.UUIDField(widget=forms.HiddenInput)
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Anything your teacher should know"}
        ),
    )


class ReviewForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(Reply.Status.REVIEWED, "Reviewed"), (Reply.Status.TRY_AGAIN, "Try again")]
    )
