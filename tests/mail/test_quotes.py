"""split_reply and split_reply_html: what is folded, in each language and client, and what never is."""

from __future__ import annotations

import pytest

from relaydesk.core.sanitize import sanitize_html
from relaydesk.mail.quotes import is_attribution, split_reply, split_reply_html

# (text, expected new part, expected folded part)
TEXT_CASES = [
    pytest.param(
        "Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM Ann <ann@example.com> wrote:\n> old\n> text\n",
        "Thanks!",
        "On Mon, Jan 1, 2024 at 10:00 AM Ann <ann@example.com> wrote:\n> old\n> text",
        id="en-gmail",
    ),
    pytest.param(
        "Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM Ann Example <\nann@example.com> wrote:\n\n> old\n",
        "Thanks!",
        "On Mon, Jan 1, 2024 at 10:00 AM Ann Example <\nann@example.com> wrote:\n\n> old",
        id="en-wrapped-over-two-lines",
    ),
    pytest.param(
        "Danke!\n\nAm 01.01.2024 um 10:00 schrieb Anna <anna@example.de>:\n> alt\n",
        "Danke!",
        "Am 01.01.2024 um 10:00 schrieb Anna <anna@example.de>:\n> alt",
        id="de",
    ),
    pytest.param(
        "Merci !\n\nLe lun. 1 janv. 2024 à 10:00, Anne <anne@example.fr> a écrit\u00a0:\n> ancien\n",
        "Merci !",
        "Le lun. 1 janv. 2024 à 10:00, Anne <anne@example.fr> a écrit\u00a0:\n> ancien",
        id="fr-with-nbsp",
    ),
    pytest.param(
        "¡Gracias!\n\nEl lun, 1 ene 2024 a las 10:00, Ana (<ana@example.es>) escribió:\n> viejo\n",
        "¡Gracias!",
        "El lun, 1 ene 2024 a las 10:00, Ana (<ana@example.es>) escribió:\n> viejo",
        id="es",
    ),
    pytest.param(
        "Obrigado!\n\nEm seg., 1 de jan. de 2024 às 10:00, Ana <ana@example.pt> escreveu:\n> velho\n",
        "Obrigado!",
        "Em seg., 1 de jan. de 2024 às 10:00, Ana <ana@example.pt> escreveu:\n> velho",
        id="pt",
    ),
    pytest.param(
        "Bedankt!\n\nOp ma 1 jan 2024 om 10:00 schreef Jan <jan@example.nl>:\n> oud\n",
        "Bedankt!",
        "Op ma 1 jan 2024 om 10:00 schreef Jan <jan@example.nl>:\n> oud",
        id="nl-gmail",
    ),
    pytest.param(
        "Bedankt!\n\nOp 1 jan. 2024 om 10:00 heeft Jan <jan@example.nl> het volgende geschreven:\n\n> oud\n",
        "Bedankt!",
        "Op 1 jan. 2024 om 10:00 heeft Jan <jan@example.nl> het volgende geschreven:\n\n> oud",
        id="nl-apple",
    ),
    pytest.param(
        "Fixed, thanks.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: x\n\nold",
        "Fixed, thanks.",
        "-----Original Message-----\nFrom: Support\nSent: Monday\nSubject: x\n\nold",
        id="outlook-original-message",
    ),
    pytest.param(
        "Danke.\n\n-----Ursprüngliche Nachricht-----\nVon: Support\nGesendet: Montag\nBetreff: x\n\nalt",
        "Danke.",
        "-----Ursprüngliche Nachricht-----\nVon: Support\nGesendet: Montag\nBetreff: x\n\nalt",
        id="outlook-de",
    ),
    pytest.param(
        "Works now.\n\n________________________________\nFrom: Support <s@example.com>\n"
        "Sent: Monday, January 1, 2024 10:00\nTo: Ann\nSubject: RE: printer\n\nold",
        "Works now.",
        "________________________________\nFrom: Support <s@example.com>\n"
        "Sent: Monday, January 1, 2024 10:00\nTo: Ann\nSubject: RE: printer\n\nold",
        id="outlook-header-block",
    ),
    pytest.param(
        "Works.\n\n*From:* Support\n*Sent:* Monday\n*To:* Ann\n*Subject:* printer\n\nold",
        "Works.",
        "*From:* Support\n*Sent:* Monday\n*To:* Ann\n*Subject:* printer\n\nold",
        id="outlook-bold-markers",
    ),
    pytest.param("Yes.\n\n> did it work?\n> \n", "Yes.", "> did it work?\n>", id="trailing-quote"),
    pytest.param("Thanks\n-- \nAnn Example\nCEO", "Thanks", "-- \nAnn Example\nCEO", id="signature"),
    pytest.param("Thanks\n--\nAnn", "Thanks", "--\nAnn", id="signature-without-space"),
    pytest.param("On it.\n\nSent from my iPhone", "On it.", "Sent from my iPhone", id="iphone"),
    pytest.param("Ok.\n\nVon meinem iPhone gesendet", "Ok.", "Von meinem iPhone gesendet", id="iphone-de"),
    pytest.param("Ok.\n\nGet Outlook for Android", "Ok.", "Get Outlook for Android", id="outlook-mobile"),
    pytest.param(
        "Sure.\r\n\r\nOn Mon, 1 Jan 2024, Ann wrote:\r\n> x\r\n",
        "Sure.",
        "On Mon, 1 Jan 2024, Ann wrote:\n> x",
        id="crlf",
    ),
]


@pytest.mark.parametrize(("text", "new", "folded"), TEXT_CASES)
def test_split_reply(text: str, new: str, folded: str) -> None:
    assert split_reply(text) == (new, folded)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Just a question about my invoice.", id="nothing-to-fold"),
        pytest.param("On Monday I wrote: the printer was broken.\nIt still is.", id="prose-on-wrote"),
        pytest.param("On Monday I wrote:\nthe printer is broken.", id="attribution-without-date"),
        pytest.param("> quoted first\n\nmy answer below", id="bottom-posting"),
        pytest.param("> q1\nanswer 1\n> q2\nanswer 2", id="interleaved"),
        pytest.param(
            "-----Original Message-----\nFrom: a\nSent: b\nSubject: c\n\nforwarded only", id="bare-forward"
        ),
        pytest.param("> everything\n> is quoted", id="only-quotes"),
        pytest.param("-- \nonly a signature", id="only-signature"),
        pytest.param("Total -- 5 items\nFrom: the warehouse", id="dashes-in-prose"),
        pytest.param("---------- Forwarded message ---------\nFrom: a\nDate: b\n\nbody", id="forwards-stay"),
    ],
)
def test_text_that_stays_whole(text: str) -> None:
    assert split_reply(text) == (text.strip(), "")


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_empty_text(text: str) -> None:
    assert split_reply(text) == (text.strip("\n").rstrip(), "")


def test_the_earliest_marker_wins() -> None:
    text = "New\n-- \nsig\n\nOn Mon, 1 Jan 2024, Ann <a@example.com> wrote:\n> old"
    assert split_reply(text) == ("New", "-- \nsig\n\nOn Mon, 1 Jan 2024, Ann <a@example.com> wrote:\n> old")


def test_nothing_is_lost() -> None:
    text = "A\n\nB\n\nOn Tue, 2 Jan 2024 at 10:00, X <x@example.com> wrote:\n> C\n> D\n\n-- \nE"
    new, folded = split_reply(text)
    assert f"{new}\n{folded}".split() == text.split()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("On Mon, Jan 1, 2024 at 10:00 AM Ann <ann@example.com> wrote:", True),
        ("On 1/2/24 10:00, Ann wrote:", True),
        ("On Monday, Ann wrote:", False),
        ("Am 1. Jan. 2024 um 10:00 schrieb Anna:", True),
        ("Le 1 janv. 2024, Anne a écrit :", True),
        ("On " + "x" * 700 + " 2024 wrote:", False),
        ("Once upon a time in 2024 I wrote: a book", False),
    ],
)
def test_is_attribution(line: str, expected: bool) -> None:
    assert is_attribution(line) is expected


# --- HTML -----------------------------------------------------------------------------------------

GMAIL = (
    '<div dir="ltr">Works now, thanks!</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
    "On Mon, Jan 1, 2024 at 10:00 AM Support &lt;s@example.com&gt; wrote:<br></div>"
    '<blockquote class="gmail_quote" style="margin:0">Please restart it.</blockquote></div>'
)
THUNDERBIRD = (
    "<p>Done.</p>"
    '<div class="moz-cite-prefix">On 1/1/24 10:00, Support wrote:<br></div>'
    '<blockquote type="cite"><p>Please restart it.</p></blockquote>'
    '<pre class="moz-signature">-- \nAnn</pre>'
)
APPLE = (
    '<html><body><div>Merci.</div><div><br><blockquote type="cite"><div>Le 1 janv. 2024 à 10:00, '
    "Support a écrit :</div><div>Redémarrez.</div></blockquote></div></body></html>"
)
OUTLOOK = (
    '<div>Thanks!</div><div id="appendonsend"></div><hr style="display:inline-block">'
    '<div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Support<br><b>Sent:</b> Monday<br>'
    "<b>Subject:</b> printer</div><div>Please restart it.</div>"
)
OUTLOOK_DESKTOP = (
    '<div class="WordSection1"><p class="MsoNormal">All good now.</p>'
    '<div style="border:none;border-top:solid #E1E1E1 1.0pt"><p class="MsoNormal"><b>From:</b> Support '
    "&lt;s@example.com&gt;<br><b>Sent:</b> Monday, January 1, 2024 10:00<br><b>To:</b> Ann<br>"
    '<b>Subject:</b> RE: printer</p></div><p class="MsoNormal">Please restart it.</p></div>'
)

HTML_CASES = [
    pytest.param(
        GMAIL,
        "<div>Works now, thanks!</div><br>",
        "<div><div>On Mon, Jan 1, 2024 at 10:00 AM Support &lt;s@example.com&gt; wrote:<br></div>"
        "<blockquote>Please restart it.</blockquote></div>",
        id="gmail",
    ),
    pytest.param(
        THUNDERBIRD,
        "<p>Done.</p>",
        "<div>On 1/1/24 10:00, Support wrote:<br></div><blockquote><p>Please restart it.</p></blockquote>"
        "<pre>-- \nAnn</pre>",
        id="thunderbird",
    ),
    pytest.param(
        APPLE,
        "<div>Merci.</div>",
        "<div><br><blockquote><div>Le 1 janv. 2024 à 10:00, Support a écrit :</div>"
        "<div>Redémarrez.</div></blockquote></div>",
        id="apple-mail",
    ),
    pytest.param(
        OUTLOOK,
        "<div>Thanks!</div>",
        "<div></div><hr><div><b>From:</b> Support<br><b>Sent:</b> Monday<br><b>Subject:</b> printer</div>"
        "<div>Please restart it.</div>",
        id="outlook-web",
    ),
    pytest.param(
        OUTLOOK_DESKTOP,
        "<div><p>All good now.</p></div>",
        "<div><p><b>From:</b> Support &lt;s@example.com&gt;<br><b>Sent:</b> Monday, January 1, 2024 10:00<br>"
        "<b>To:</b> Ann<br><b>Subject:</b> RE: printer</p></div><p>Please restart it.</p>",
        id="outlook-desktop",
    ),
]


@pytest.mark.parametrize(("html", "new", "folded"), HTML_CASES)
def test_split_reply_html_raw(html: str, new: str, folded: str) -> None:
    assert split_reply_html(html) == (new, folded)


@pytest.mark.parametrize(
    ("html", "new"),
    [
        pytest.param(GMAIL, "<div>Works now, thanks!</div><br>", id="gmail"),
        pytest.param(APPLE, "<div>Merci.</div>", id="apple-mail"),
        pytest.param(OUTLOOK, "<div>Thanks!</div><div></div>", id="outlook-web"),
        pytest.param(OUTLOOK_DESKTOP, "<div><p>All good now.</p></div>", id="outlook-desktop"),
        pytest.param(
            "<p>Yes.</p><blockquote>Did it work?</blockquote>", "<p>Yes.</p>", id="trailing-blockquote"
        ),
        pytest.param(
            "<p>Yes.</p><p>-----Original Message-----<br>From: a</p>",
            "<p>Yes.</p><p></p>",
            id="original-message",
        ),
    ],
)
def test_split_reply_html_on_sanitised_html_uses_the_text_fallbacks(html: str, new: str) -> None:
    sanitised = sanitize_html(html)
    assert 'class="' not in sanitised
    result_new, folded = split_reply_html(sanitised)
    assert result_new == new
    assert folded


@pytest.mark.parametrize(
    "html",
    [
        pytest.param("<p>Just a question.</p>", id="nothing-to-fold"),
        pytest.param(
            "<blockquote>A quote we were sent</blockquote><p>and my answer</p>", id="quote-then-answer"
        ),
        pytest.param(
            '<div class="gmail_quote"><blockquote>only history</blockquote></div>', id="only-history"
        ),
        pytest.param("<blockquote>only a quote</blockquote>", id="only-blockquote"),
        pytest.param("", id="empty"),
    ],
)
def test_html_that_stays_whole(html: str) -> None:
    assert split_reply_html(html) == (sanitize_html(html), "")


def test_html_halves_are_sanitised() -> None:
    html = (
        '<p onclick="x()">Hi<script>alert(1)</script></p><div class="gmail_quote">'
        '<a href="javascript:alert(2)">old</a></div>'
    )
    new, folded = split_reply_html(html)
    assert new == "<p>Hi</p>"
    assert folded == '<div><a rel="noopener noreferrer nofollow">old</a></div>'


def test_image_only_reply_is_new_content() -> None:
    html = '<img src="cid:a@b"><div class="gmail_quote">old</div>'
    assert split_reply_html(html) == ('<img src="cid:a@b">', "<div>old</div>")


def test_deeply_nested_html_does_not_recurse() -> None:
    html = "<div>" * 5000 + "deep" + "</div>" * 5000 + '<div class="gmail_quote">old</div>'
    new, folded = split_reply_html(html)
    assert "deep" in new
    assert folded == "<div>old</div>"


def test_very_long_html_is_returned_unsplit() -> None:
    html = "<p>" + "x" * (3 * 1024 * 1024) + '</p><div class="gmail_quote">old</div>'
    new, folded = split_reply_html(html)
    assert folded == ""
    assert new.endswith("<div>old</div>")
