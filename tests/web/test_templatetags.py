"""The {% options %} tag: escaped like format_html, selected values marked."""

from __future__ import annotations

from django.template import Context, Template
from django.utils.safestring import mark_safe

from relaydesk.web.templatetags.relaydesk import options


def test_options_escape_values_and_labels_and_mark_the_selected() -> None:
    html = options(
        [(1, "Ann <admin>"), ('2"', "Bob & Co"), (3, mark_safe("<b>kept</b>"))], selected=[1, '2"']
    )
    assert html == (
        '<option value="1" selected>Ann &lt;admin&gt;</option>'
        '<option value="2&quot;" selected>Bob &amp; Co</option>'
        '<option value="3"><b>kept</b></option>'
    )


def test_options_in_a_template_with_one_selected_value() -> None:
    template = Template("{% load relaydesk %}{% options choices picked %}")
    rendered = template.render(Context({"choices": [("a", "A"), ("b", "<B>")], "picked": "b"}))
    assert rendered == '<option value="a">A</option><option value="b" selected>&lt;B&gt;</option>'
