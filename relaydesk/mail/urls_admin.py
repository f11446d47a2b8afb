"""The email admin screens, mounted at /mail/admin/ inside the "mail" namespace (mail/urls.py)."""

from django.urls import URLPattern, path

from relaydesk.mail.views import mailboxes, outbox, quarantine, templates

urlpatterns: list[URLPattern] = [
    path("mailboxes/", mailboxes.mailboxes, name="mailboxes"),
    path("mailboxes/new/", mailboxes.mailbox_new, name="mailbox_new"),
    path("mailboxes/test/", mailboxes.mailbox_test, name="mailbox_test"),
    path("mailboxes/<int:mailbox_id>/", mailboxes.mailbox_detail, name="mailbox"),
    path(
        "mailboxes/<int:mailbox_id>/webhook-secret/",
        mailboxes.mailbox_webhook_secret,
        name="mailbox_webhook_secret",
    ),
    path("quarantine/", quarantine.quarantine, name="quarantine"),
    path("inbound/<int:inbound_id>/reprocess/", quarantine.inbound_reprocess, name="quarantine_reprocess"),
    path("inbound/<int:inbound_id>/raw/", quarantine.inbound_raw, name="inbound_raw"),
    path("log/", quarantine.mail_log, name="log"),
    path("outbox/", outbox.outbox, name="outbox"),
    path("outbox/<int:outbound_id>/release/", outbox.outbound_release, name="outbound_release"),
    path("acknowledgements/", templates.ack_templates, name="ack_templates"),
    path("acknowledgements/preview/", templates.ack_template_preview, name="ack_template_preview"),
    path("acknowledgements/<int:template_id>/", templates.ack_template, name="ack_template"),
    path(
        "acknowledgements/<int:template_id>/delete/",
        templates.ack_template_delete,
        name="ack_template_delete",
    ),
]
