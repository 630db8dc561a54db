"""The shared form templates every page includes: labels, help and errors tied to their field."""

from __future__ import annotations

import re

from django import forms
from django.template.loader import render_to_string


class SampleForm(forms.Form):
    name = forms.CharField(label="Name", help_text="As customers see it.")
    agree = forms.BooleanField(label="Agree")
    teams = forms.MultipleChoiceField(
        label="Teams",
        choices=[("1", "Orders"), ("2", "Billing")],
        widget=forms.CheckboxSelectMultiple,
        help_text="Pick any.",
    )


def rendered_with_errors() -> str:
    form = SampleForm({"teams": ["3"]})
    assert not form.is_valid()
    return render_to_string("core/_form.html", {"form": form})


def test_every_described_by_id_names_help_or_errors_on_the_page() -> None:
    html = rendered_with_errors()

    described = {
        ref for refs in re.findall(r'aria-describedby="([^"]+)"', html) for ref in refs.split()
    }
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    assert described == {
        "id_name_helptext",
        "id_name_error",
        "id_agree_error",
        "id_teams_helptext",
        "id_teams_error",
    }
    assert described <= ids


def test_labels_have_no_trailing_colon() -> None:
    html = rendered_with_errors()

    assert '<label for="id_name">Name</label>' in html
    assert "<legend>Teams</legend>" in html
    assert ":</label>" not in html
    assert ":</legend>" not in html


def test_a_checkbox_sits_inside_its_label() -> None:
    html = render_to_string("core/_form.html", {"form": SampleForm()})

    assert re.search(
        r'<label class="check" for="id_agree"><input type="checkbox"[^>]*> Agree</label>', html
    )
