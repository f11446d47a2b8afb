"""What customers of Northwind Cloud write about, and how the team answers: text templates.

Each ``Issue`` is one kind of problem with the pieces of a conversation about it. Templates
use ``str.format_map`` placeholders filled per ticket (see ``plots._Variables``):
{first} {last} {org} {agent} {invoice} {amount} {month} {weekday} {card_last4} {plan}
{seats} {browser} {device} {app_version} {error_id} {eng_ticket} {endpoint} {report} {count}.

The customer-facing texts of the common issues in de, fr, es, pt and ja, and the phrases
every conversation uses (greetings, thanks, "any news?"), live in ``phrases``. Internal
notes are always English, the team's working language.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    key: str
    category: str
    product: str
    tags: tuple[str, ...]
    weight: int  # how common, relative to the others
    priorities: tuple[int, int, int, int]  # weights of P1..P4
    escalation_rate: float
    escalation_level: str
    subjects: tuple[str, ...]
    opening: str  # email, web form: a full message
    short: str  # chat, social, in-app: one or two lines
    summary: str  # third person, for phone notes and escalations
    ask: str  # the agent needs something from the customer
    answer: str  # the customer's answer to ``ask``
    note: str  # an internal note while working on it
    fix: str  # the reply that solves it
    l2_note: str  # what Tier 2 found
    waiting_on: str = "engineering"  # who a pending-internal ticket waits for


ISSUES: tuple[Issue, ...] = (
    # --- Billing ------------------------------------------------------------------------
    Issue(
        key="double_charge",
        category="Billing",
        product="Billing portal",
        tags=("invoice", "refund"),
        weight=9,
        priorities=(0, 3, 6, 1),
        escalation_rate=0.2,
        escalation_level="l2",
        subjects=(
            "Charged twice for invoice {invoice}",
            "Duplicate charge on our {month} invoice",
            "Why were we billed twice this month?",
        ),
        opening=(
            "Hello,\n\nOur finance team noticed two charges of {amount} on the company card ending "
            "{card_last4}, both for invoice {invoice}. We only have one workspace, so one of them must be "
            "a mistake. Could you refund the duplicate?\n\nThanks,\n{first} {last}\n{org}"
        ),
        short="Hi, we were charged twice for {invoice} ({amount}). Can you refund one of them?",
        summary="was charged twice ({amount}) for invoice {invoice} and wants the duplicate refunded",
        ask=(
            "I'm sorry about the double charge. To find both payments, could you send me the dates "
            "they appear on your statement? I'll take it from there."
        ),
        answer=(
            "Both are dated {weekday}, on the card ending {card_last4}. The second one came through "
            "about ten minutes after the first."
        ),
        note=(
            "Payment provider shows two captures for {invoice} ten minutes apart: the retry after a "
            "gateway timeout went through as well. The duplicate is safe to refund."
        ),
        fix=(
            "I've refunded the duplicate charge of {amount} to the card ending {card_last4}. Depending "
            "on your bank it shows up within 5–10 business days. The original payment for {invoice} "
            "stays in place, so nothing else changes on your account."
        ),
        l2_note="Refund approved in the billing console, reference RF-{error_id}. Above the L1 limit.",
        waiting_on="finance",
    ),
    Issue(
        key="vat_invoice",
        category="Billing",
        product="Billing portal",
        tags=("invoice", "vat"),
        weight=5,
        priorities=(0, 1, 6, 3),
        escalation_rate=0.05,
        escalation_level="l2",
        subjects=("Invoice {invoice} is missing our VAT number", "Need a corrected invoice with our tax ID"),
        opening=(
            "Hi there,\n\nOur accounts payable team rejected invoice {invoice} because it doesn't show "
            "our VAT number. Can you reissue it with the VAT ID and our full legal name, {org}?\n\n"
            "Kind regards,\n{first}"
        ),
        short="Can you add our VAT number to invoice {invoice}? Accounting won't pay it without it.",
        summary="needs invoice {invoice} reissued with their VAT number",
        ask="Happy to fix that. Could you send me the VAT ID exactly as it should appear on the invoice?",
        answer="Sure, it's on the attached registration certificate. Please use the full legal name too.",
        note="VAT ID validated in VIES. Billing profile had no tax ID, which is why it was left off.",
        fix=(
            "I've added your VAT ID to the billing profile and reissued {invoice}. You can download the "
            "corrected PDF under Billing portal → Invoices; future invoices will include it automatically."
        ),
        l2_note="Reissued the invoice manually because it was already in a closed accounting period.",
        waiting_on="finance",
    ),
    Issue(
        key="card_declined",
        category="Billing",
        product="Billing portal",
        tags=("invoice",),
        weight=4,
        priorities=(0, 5, 4, 1),
        escalation_rate=0.05,
        escalation_level="l2",
        subjects=("Payment failed – will our account be suspended?", "Card declined on renewal"),
        opening=(
            "Hello,\n\nWe got an email saying the renewal payment for our {plan} plan failed and the "
            "workspace will be suspended in 7 days. The card is valid and has funds. What's going on?"
            "\n\n{first}"
        ),
        short="Got a 'payment failed' email for our renewal. The card is fine. Will we be suspended?",
        summary="had their renewal payment declined and worries about suspension",
        ask=(
            "Don't worry, nothing will be suspended while we sort this out. Could you check with your "
            "bank whether they blocked an international payment to Northwind Cloud on {weekday}?"
        ),
        answer="The bank says they flagged it as suspicious. They've cleared it now, can you retry?",
        note="Decline code do_not_honor: the issuer blocked it. Put a 14-day grace flag on the workspace.",
        fix=(
            "I've retried the payment and it went through: your {plan} plan is renewed and the suspension "
            "notice is cancelled. A receipt is on its way to your billing contact."
        ),
        l2_note="Extended the grace period manually; dunning emails paused for this workspace.",
        waiting_on="finance",
    ),
    # --- Account access -----------------------------------------------------------------
    Issue(
        key="password_reset",
        category="Account access",
        product="Northwind Web",
        tags=("password-reset",),
        weight=10,
        priorities=(0, 3, 6, 1),
        escalation_rate=0.05,
        escalation_level="l2",
        subjects=("Password reset email never arrives", "Can't reset my password", "No reset link received"),
        opening=(
            "Hi,\n\nI've requested a password reset three times this morning but the email never "
            "arrives. I've checked spam and the quarantine. My address is the one I'm writing from.\n\n"
            "Thanks,\n{first}"
        ),
        short="I requested a password reset 3 times but no email arrives. Checked spam already.",
        summary="does not receive the password reset email",
        ask=(
            "Sorry for the trouble. Our logs show the messages were accepted by your mail server. Could "
            "you ask your IT team whether mail from no-reply@northwind.example is being held?"
        ),
        answer="IT found them in the gateway quarantine and allowlisted the sender. Can you send one more?",
        note="Mail logs: reset emails soft-bounced by the customer's gateway. Not on our side.",
        fix=(
            "I've sent a fresh reset link; it's valid for 60 minutes. Once you're in, you may want to "
            "turn on two-factor authentication under Profile → Security."
        ),
        l2_note="Sender reputation is fine; their gateway flagged the tracking link. Sent a link without it.",
    ),
    Issue(
        key="sso_loop",
        category="Account access",
        product="Northwind Web",
        tags=("sso",),
        weight=5,
        priorities=(1, 5, 3, 0),
        escalation_rate=0.5,
        escalation_level="specialist",
        subjects=("SSO login loops back to the sign-in page", "Okta sign-in not working since this morning"),
        opening=(
            "Hello,\n\nSince this morning none of our {seats} users can sign in with SSO. After "
            "authenticating with our identity provider they land back on the Northwind sign-in page, "
            "in a loop. Password login is disabled for us, so we're locked out.\n\n{first} {last}\n"
            "IT, {org}"
        ),
        short="SSO sign-in loops back to the login page for all our users. We're locked out!",
        summary="reports that SSO sign-in loops back to the login page for all their users",
        ask=(
            "That sounds like the SAML response is being rejected. Could you send me a SAML trace "
            "(the browser extension works) of one failed attempt, and tell me whether anything changed "
            "in your identity provider recently?"
        ),
        answer="Trace attached. Our IdP team rotated the signing certificate yesterday evening.",
        note="Trace shows a signature validation failure: the IdP certificate was rotated on their side.",
        fix=(
            "Thanks for the trace. The new signing certificate from your identity provider is now "
            "installed on your workspace and I've confirmed a test sign-in works. Your users can sign "
            "in again; no one needs to do anything."
        ),
        l2_note="Uploaded the new IdP certificate and enabled overlap so the old one stays valid 48 h.",
        waiting_on="the customer's IT team",
    ),
    Issue(
        key="lost_2fa",
        category="Account access",
        product="Northwind Mobile",
        tags=("2fa",),
        weight=5,
        priorities=(0, 4, 5, 1),
        escalation_rate=0.3,
        escalation_level="specialist",
        subjects=("Lost my phone – can't get past two-factor", "Locked out after changing phones"),
        opening=(
            "Hi,\n\nI got a new phone and didn't move my authenticator app. Now I can't get past the "
            "two-factor step and I can't find my recovery codes. Can you help me get back in?\n\n{first}"
        ),
        short="New phone, lost my authenticator. Can't log in. Help?",
        summary="lost their two-factor device and recovery codes",
        ask=(
            "I can help, but first I need to make sure it's really you. Please ask one of your "
            "workspace admins to confirm this request by replying here from their own address."
        ),
        answer="My admin has replied to this thread now to confirm.",
        note="Identity verified by the workspace admin on this thread. OK to reset 2FA.",
        fix=(
            "Thanks, the verification is complete and I've reset two-factor on your account. At your "
            "next sign-in you'll be asked to set it up again. Please save the new recovery codes!"
        ),
        l2_note="Security check passed (admin confirmation plus matching sign-in history). 2FA reset.",
        waiting_on="security review",
    ),
    # --- Bug report ---------------------------------------------------------------------
    Issue(
        key="csv_export",
        category="Bug report",
        product="Northwind Web",
        tags=("data-export",),
        weight=7,
        priorities=(0, 2, 6, 2),
        escalation_rate=0.45,
        escalation_level="l2",
        subjects=(
            "CSV export is missing the custom field columns",
            "Export to CSV drops our custom fields",
        ),
        opening=(
            "Hello,\n\nWhen I export the project list to CSV, the custom field columns are empty "
            "(the headers are there, the values aren't). It worked last week. We need this for our "
            "month-end report on {weekday}.\n\nBest,\n{first}\n{org}"
        ),
        short="CSV export: custom field columns are empty since last week. Headers OK, no values.",
        summary="says CSV exports leave custom field columns empty",
        ask=(
            "Thanks for reporting this. Could you tell me which view you export from and which browser "
            "you use? A screenshot of the export settings would help too."
        ),
        answer="It's the 'All projects' view, {browser}. Screenshot attached.",
        note="Reproduced on a test workspace: custom fields with a default value export empty.",
        fix=(
            "Our engineers found the cause: custom fields that have a default value were skipped by the "
            "exporter. The fix is live since this morning, so your next export will include them. "
            "Sorry for the disruption to your month-end."
        ),
        l2_note="Confirmed regression from the last release. Filed {eng_ticket}, marked customer-impacting.",
    ),
    Issue(
        key="mobile_crash",
        category="Bug report",
        product="Northwind Mobile",
        tags=("ios",),
        weight=6,
        priorities=(0, 3, 5, 2),
        escalation_rate=0.4,
        escalation_level="l2",
        subjects=(
            "App crashes on launch after updating to {app_version}",
            "Mobile app closes right after opening",
        ),
        opening=(
            "Hi team,\n\nSince updating the Northwind app to {app_version} on my {device}, it crashes "
            "right after the splash screen. I've restarted the phone and reinstalled it, same thing. "
            "Several colleagues have the same problem.\n\n{first}"
        ),
        short="App crashes after the splash screen since {app_version} on {device}. Reinstall didn't help.",
        summary="reports the mobile app crashing on launch since {app_version} on {device}",
        ask=(
            "Sorry about that! Could you tell me the OS version of your {device} and whether the crash "
            "also happens when you're on Wi-Fi instead of mobile data?"
        ),
        answer="Latest OS version, and yes it crashes on Wi-Fi too.",
        note="Crash reports match a known startup crash when offline sync has more than 500 items.",
        fix=(
            "Version {app_version}.1 is now in the app store and fixes the crash on launch. Please "
            "update the app; your data is safe and will sync as soon as you open it."
        ),
        l2_note="Crash signature matches {eng_ticket}. Hotfix scheduled for the next mobile release.",
    ),
    Issue(
        key="chart_timezone",
        category="Bug report",
        product="Northwind Web",
        tags=("reports",),
        weight=3,
        priorities=(0, 0, 6, 4),
        escalation_rate=0.4,
        escalation_level="l2",
        subjects=("Dashboard charts are shifted by one hour", "Wrong times on the activity chart"),
        opening=(
            "Hello,\n\nSince the clocks changed, all charts on our dashboard show activity one hour "
            "late. The table view has the right times; only the charts are off.\n\nRegards,\n{first}"
        ),
        short="Charts are off by one hour since the clocks changed. Tables are fine.",
        summary="sees dashboard charts shifted by one hour since the daylight-saving change",
        ask="Thanks! Which time zone is set in your profile, and which time zone does the workspace use?",
        answer="Profile is set to our local time, the workspace to UTC I think.",
        note="Charts use the workspace zone for bucketing but the profile zone for labels. Known issue.",
        fix=(
            "The chart fix is released: charts now use your own time zone for both buckets and labels, "
            "so they match the table view. Reload the dashboard and you should see the right times."
        ),
        l2_note="Duplicate of {eng_ticket}; added this workspace to the affected customers list.",
    ),
    # --- How-to -------------------------------------------------------------------------
    Issue(
        key="bulk_invite",
        category="How-to",
        product="Northwind Web",
        tags=("onboarding",),
        weight=9,
        priorities=(0, 0, 5, 5),
        escalation_rate=0.0,
        escalation_level="l2",
        subjects=("How do we invite {seats} people at once?", "Bulk invite users from a spreadsheet"),
        opening=(
            "Hi,\n\nWe're rolling Northwind out to the whole company next week ({seats} people). Is "
            "there a way to invite everyone at once instead of one by one?\n\nThanks!\n{first}, {org}"
        ),
        short="Is there a way to invite {seats} users at once instead of one by one?",
        summary="wants to invite {seats} users at once",
        ask="Sure! Do you manage your users in a directory such as Azure AD or Google Workspace?",
        answer="We use Google Workspace.",
        note="Enterprise plan, so directory sync is included. Sent the bulk-invite article as well.",
        fix=(
            "You can invite everyone at once under Settings → People → Invite → Upload CSV (one email "
            "address per line, optional role column). With Google Workspace you can also turn on "
            "directory sync so new colleagues are added automatically."
        ),
        l2_note="n/a",
    ),
    Issue(
        key="scheduled_report",
        category="How-to",
        product="Northwind Web",
        tags=("reports",),
        weight=5,
        priorities=(0, 0, 5, 5),
        escalation_rate=0.0,
        escalation_level="l2",
        subjects=(
            "Send a weekly report to our managers automatically",
            "Can reports be emailed on a schedule?",
        ),
        opening=(
            "Hello,\n\nOur managers want the '{report}' report in their inbox every Monday morning. "
            "Can Northwind send it automatically, or do I have to export it each week?\n\n{first}"
        ),
        short="Can the '{report}' report be emailed to our managers every Monday automatically?",
        summary="wants the '{report}' report emailed weekly",
        ask="Yes, that's possible. Should the managers get a PDF or a link to the live report?",
        answer="A PDF would be best, some of them read it on their phones.",
        note="Scheduled reports need the Business plan; they're on it.",
        fix=(
            "Open the '{report}' report, click Share → Schedule, pick 'Every Monday 08:00' and add the "
            "managers' addresses; choose PDF as the format. Each person gets it in their own time zone."
        ),
        l2_note="n/a",
    ),
    Issue(
        key="api_key_rotate",
        category="How-to",
        product="Northwind API",
        tags=("api",),
        weight=4,
        priorities=(0, 1, 5, 4),
        escalation_rate=0.05,
        escalation_level="l2",
        subjects=("How do I rotate our API key without downtime?", "API key rotation"),
        opening=(
            "Hi,\n\nOur security policy requires rotating API keys every 90 days. How can we do that "
            "without breaking the integration that's running in production?\n\n{first}\n{org}"
        ),
        short="How do we rotate our API key without breaking production?",
        summary="asks how to rotate an API key without downtime",
        ask="Good question. Is the key used by a single service or by several systems?",
        answer="Two services, both in our own infrastructure.",
        note="Pointed them at the two-key rotation article.",
        fix=(
            "Create a second key under Settings → API keys, deploy it to both services, check in the "
            "key list that the old key's 'last used' time stops moving, then revoke the old key. Both "
            "keys work in parallel until you revoke one."
        ),
        l2_note="n/a",
    ),
    # --- Outage -------------------------------------------------------------------------
    Issue(
        key="outage_dashboard",
        category="Outage",
        product="Northwind Web",
        tags=("incident",),
        weight=1,
        priorities=(6, 3, 1, 0),
        escalation_rate=0.1,
        escalation_level="l2",
        subjects=(
            "Dashboard not loading – 502 Bad Gateway",
            "Northwind is down for our whole team",
            "URGENT: can't access the web app",
        ),
        opening=(
            "Hello,\n\nNone of us can open Northwind right now: the dashboard shows '502 Bad Gateway' "
            "after a long wait. This is blocking {count} people. Is there an outage?\n\n{first}\n{org}"
        ),
        short="Is Northwind down? Dashboard gives 502 Bad Gateway for our whole team.",
        summary="cannot open the web app (502 Bad Gateway) for their whole team",
        ask="We're investigating. Is it every page, or only the dashboard?",
        answer="Every page, on all browsers.",
        note="Matches the ongoing incident. Linked to the incident, customer told to follow the status page.",
        fix=(
            "The incident is resolved and Northwind is fully available again. The cause was a failed "
            "load balancer update; no data was lost. We're sorry for the disruption; a full report "
            "will be on https://status.northwind.example within two business days."
        ),
        l2_note="Confirmed impact for this workspace in the edge logs.",
    ),
    Issue(
        key="outage_api",
        category="Outage",
        product="Northwind API",
        tags=("incident", "api"),
        weight=1,
        priorities=(6, 3, 1, 0),
        escalation_rate=0.1,
        escalation_level="l2",
        subjects=("API returning 503 for all requests", "Production integration down – API errors"),
        opening=(
            "Hi,\n\nSince about 20 minutes ago every call to the Northwind API returns HTTP 503. Our "
            "order sync is down. Please advise ASAP.\n\n{first}, {org}"
        ),
        short="Every API call returns 503 right now. Our sync is down!",
        summary="gets HTTP 503 on every API call",
        ask="We're on it. Could you share one request ID from the response headers?",
        answer="X-Request-Id: {error_id}",
        note="Request ID shows the call hit the degraded API cluster; part of the current incident.",
        fix=(
            "The API incident is resolved and error rates are back to normal. Requests that failed "
            "during the incident can be retried safely. Details will follow on https://status.northwind.example."
        ),
        l2_note="Confirmed via request ID in the API gateway logs.",
    ),
    # --- Feature request ----------------------------------------------------------------
    Issue(
        key="dark_mode",
        category="Feature request",
        product="Northwind Mobile",
        tags=("feature-request",),
        weight=3,
        priorities=(0, 0, 2, 8),
        escalation_rate=0.0,
        escalation_level="l2",
        subjects=("Dark mode for the mobile app?", "Feature request: dark theme"),
        opening=(
            "Hi,\n\nOur field team uses the app at night a lot and the white screens are blinding. Any "
            "plans for a dark mode? It would make a big difference for us.\n\n{first}"
        ),
        short="Any plans for a dark mode in the app? Our night shift would love it.",
        summary="asks for a dark mode in the mobile app",
        ask="Thanks for the suggestion! Which devices does your field team mostly use?",
        answer="Mostly Android phones.",
        note="Added their vote to the dark mode request in the product board.",
        fix=(
            "Thanks for the idea. I've added your vote and your use case to the request for a dark "
            "mode; our product team reviews the most requested features every month and we'll let you "
            "know when it's scheduled."
        ),
        l2_note="n/a",
    ),
    Issue(
        key="scim",
        category="Feature request",
        product="Northwind Web",
        tags=("feature-request", "sso"),
        weight=2,
        priorities=(0, 0, 5, 5),
        escalation_rate=0.2,
        escalation_level="specialist",
        subjects=("SCIM provisioning for Azure AD", "Automatic user deprovisioning"),
        opening=(
            "Hello,\n\nWe'd like users to be removed from Northwind automatically when they leave the "
            "company. Do you support SCIM with Azure AD, or is it on the roadmap?\n\n{first} {last}, {org}"
        ),
        short="Do you support SCIM provisioning with Azure AD?",
        summary="asks for SCIM provisioning with Azure AD",
        ask="Good timing: could you tell me whether you need group sync as well, or only users?",
        answer="Users and groups, ideally.",
        note="SCIM for users is in beta; groups are not yet supported.",
        fix=(
            "SCIM user provisioning for Azure AD is available in beta and I've enabled it for your "
            "workspace: Settings → Security → SCIM. Group sync isn't supported yet; I've recorded your "
            "interest and we'll tell you when it is."
        ),
        l2_note="Beta flag turned on for the workspace after checking their plan.",
        waiting_on="product",
    ),
    # --- Integrations -------------------------------------------------------------------
    Issue(
        key="slack_integration",
        category="Integrations",
        product="Northwind Web",
        tags=("slack",),
        weight=5,
        priorities=(0, 2, 6, 2),
        escalation_rate=0.3,
        escalation_level="l2",
        subjects=("Slack alerts stopped posting to #ops", "Slack integration not sending messages"),
        opening=(
            "Hi,\n\nOur Slack integration stopped posting alerts to the #ops channel on {weekday}. "
            "Nothing changed on our side as far as I know. The integration page still says "
            "'Connected'.\n\nCheers,\n{first}"
        ),
        short="Slack alerts stopped posting to #ops since {weekday}, integration still shows Connected.",
        summary="stopped receiving Slack alerts although the integration shows as connected",
        ask=(
            "Thanks for letting us know. Could you check whether the channel was renamed or made private "
            "recently? Slack stops accepting our messages in that case."
        ),
        answer="Yes! Someone converted #ops to a private channel on {weekday}.",
        note="Slack returns channel_not_found since the channel went private.",
        fix=(
            "That explains it: after a channel becomes private, the Northwind app has to be invited "
            "again. Type /invite @Northwind in #ops and alerts will flow again; I've sent a test alert "
            "that should appear once you've done that."
        ),
        l2_note="Slack API logs show channel_not_found for the webhook since the channel change.",
    ),
    Issue(
        key="salesforce_duplicates",
        category="Integrations",
        product="Northwind API",
        tags=("salesforce",),
        weight=4,
        priorities=(0, 2, 6, 2),
        escalation_rate=0.5,
        escalation_level="l2",
        subjects=("Salesforce sync creates duplicate contacts", "Duplicates after Salesforce sync"),
        opening=(
            "Hello,\n\nEvery night the Salesforce sync creates duplicates of contacts that already exist "
            "({count} so far). Our sales team is getting frustrated. Can you check the sync "
            "configuration?\n\nThanks,\n{first} {last}"
        ),
        short="Salesforce sync keeps creating duplicate contacts every night ({count} so far).",
        summary="gets duplicate contacts from the nightly Salesforce sync",
        ask=(
            "Sorry about the duplicates. Which field do you match contacts on in the sync settings: "
            "email, or the Salesforce ID?"
        ),
        answer="Email, I believe. Some of our contacts have two email addresses in Salesforce.",
        note="Matching on primary email only; contacts with a different primary in SF get duplicated.",
        fix=(
            "I've switched the sync to match on the Salesforce ID and merged the {count} duplicates it "
            "had created. Tonight's sync will update the existing contacts instead of adding new ones."
        ),
        l2_note="Ran the de-duplication script for the workspace and verified the sync run log.",
    ),
    Issue(
        key="webhook_signature",
        category="Integrations",
        product="Northwind API",
        tags=("webhooks", "api"),
        weight=3,
        priorities=(0, 4, 5, 1),
        escalation_rate=0.6,
        escalation_level="l2",
        subjects=("Webhook signature verification fails", "Invalid signature on webhooks since yesterday"),
        opening=(
            "Hi,\n\nSince yesterday our endpoint rejects every Northwind webhook because the signature "
            "doesn't match. We verify the HMAC exactly as in your docs. Did something change?\n\n{first}"
        ),
        short="Webhook signatures stopped matching since yesterday. Did you change anything?",
        summary="reports webhook signature verification failing since yesterday",
        ask="Could you share the delivery ID of one failed webhook, and the library you verify it with?",
        answer="Delivery {error_id}, we verify in Node with crypto.createHmac.",
        note="They hash the parsed JSON, not the raw body; yesterday's payload gained a unicode field.",
        fix=(
            "The signature is computed over the raw request body. Your handler parses the JSON first, "
            "which changes the bytes when a payload contains non-ASCII characters (they appeared "
            "yesterday in one field). Verify against the raw body and the signatures will match."
        ),
        l2_note="Reproduced with the delivery payload; our signing is correct. Sent them a code sample.",
    ),
    Issue(
        key="api_rate_limit",
        category="Integrations",
        product="Northwind API",
        tags=("api", "rate-limit"),
        weight=4,
        priorities=(0, 3, 5, 2),
        escalation_rate=0.35,
        escalation_level="l2",
        subjects=("Getting HTTP 429 on /v2/{endpoint}", "Rate limited during nightly import"),
        opening=(
            "Hello,\n\nOur nightly import started failing with HTTP 429 Too Many Requests on "
            "/v2/{endpoint}. We send about {count} requests a minute, which should be within our plan. "
            "Can you check our limits?\n\n{first}, {org}"
        ),
        short="We get 429s on /v2/{endpoint} during our nightly import. Limits changed?",
        summary="hits HTTP 429 on /v2/{endpoint} during a nightly import",
        ask="Could you send the X-RateLimit headers from one of the 429 responses?",
        answer="X-RateLimit-Limit: 600, Remaining: 0, Reset: 41.",
        note="Their plan allows 600/min; the import bursts far above that in the first minute.",
        fix=(
            "Your plan allows 600 requests per minute and the import sends most of them in the first "
            "few seconds. Spreading the calls evenly, or using the bulk endpoint /v2/{endpoint}/batch "
            "(100 items per call), keeps you well under the limit."
        ),
        l2_note="Raised the burst allowance temporarily while they switch to the batch endpoint.",
    ),
    # --- Data & privacy -----------------------------------------------------------------
    Issue(
        key="gdpr_export",
        category="Data & privacy",
        product="Northwind Web",
        tags=("gdpr", "data-export"),
        weight=2,
        priorities=(0, 2, 6, 2),
        escalation_rate=0.6,
        escalation_level="l2",
        subjects=("Data subject access request", "GDPR request: copy of personal data"),
        opening=(
            "Dear Northwind team,\n\nWe received a data subject access request from a former employee "
            "and need a copy of all personal data Northwind holds about them within the statutory "
            "deadline. How do we proceed?\n\nKind regards,\n{first} {last}\nData Protection, {org}"
        ),
        short="We need a copy of all personal data you hold about a former employee (GDPR request).",
        summary="needs a GDPR data export for a former employee",
        ask=(
            "We'll help you meet the deadline. Please send the person's email address and confirm you're "
            "authorised to make the request on behalf of {org}."
        ),
        answer="Confirmed, I'm the DPO. The address is in the attached request form.",
        note="Requester is listed as DPO in the contract. OK to proceed.",
        fix=(
            "The export is ready: you'll find a download link in the Data requests section of your admin "
            "settings, valid for 7 days. It contains every record linked to the person, in JSON and CSV."
        ),
        l2_note="Generated the export with the privacy tool; checked it includes archived projects.",
        waiting_on="the privacy team",
    ),
    Issue(
        key="erase_user",
        category="Data & privacy",
        product="Northwind Web",
        tags=("gdpr",),
        weight=2,
        priorities=(0, 1, 6, 3),
        escalation_rate=0.5,
        escalation_level="l2",
        subjects=("Please delete all data about a former employee", "Erasure request"),
        opening=(
            "Hello,\n\nA former colleague has asked us to delete all their personal data. Their account "
            "is deactivated, but their name still shows on old records. Can you erase it completely?"
            "\n\n{first}"
        ),
        short="Can you erase all personal data of a former employee? Account is already deactivated.",
        summary="wants a former employee's personal data erased",
        ask="Of course. Please send me the person's email address and confirm you're a workspace admin.",
        answer="Yes, I'm an admin. Details in the attached form.",
        note="Admin confirmed. Erasure anonymises the name on old records, keeps the records themselves.",
        fix=(
            "The erasure is complete: the account and its personal data are deleted, and old records now "
            "show 'Former user'. You'll receive a confirmation certificate by email for your records."
        ),
        l2_note="Ran the erasure job and verified search no longer returns the person's name.",
        waiting_on="the privacy team",
    ),
    # --- Performance --------------------------------------------------------------------
    Issue(
        key="slow_search",
        category="Performance",
        product="Northwind Web",
        tags=("reports",),
        weight=3,
        priorities=(0, 3, 6, 1),
        escalation_rate=0.5,
        escalation_level="specialist",
        subjects=("Search takes 20+ seconds in our workspace", "Everything is very slow today"),
        opening=(
            "Hi,\n\nSearch has become extremely slow in our workspace: 20 seconds or more, sometimes it "
            "times out. Other pages are OK. We have about {count} projects.\n\nThanks,\n{first}"
        ),
        short="Search takes 20+ seconds for us, sometimes times out. Other pages fine.",
        summary="sees search taking more than 20 seconds in their workspace",
        ask="Could you give me an example search term that is slow, and roughly what time you tried it?",
        answer="Searching for 'invoice' around 10:00 this morning took 34 seconds.",
        note="Query plan for their workspace does a sequential scan: index rebuild needed.",
        fix=(
            "We rebuilt the search index for your workspace; the same search now returns in under a "
            "second. Thanks for the precise example, it made the problem easy to find."
        ),
        l2_note="Search index fragmented after a bulk import; rebuilt it off-peak.",
    ),
)

OUTAGE_ISSUES: tuple[Issue, ...] = tuple(issue for issue in ISSUES if issue.category == "Outage")


# Short lines agents write in chats and on social media, where a letter-style reply looks odd.
SOCIAL_HANDLE = "@NorthwindCloud"

# Internal notes that mention a colleague (``{handle}``): these become mention notifications.
MENTION_NOTES: tuple[str, ...] = (
    "@{handle} could you approve a goodwill credit for this one? The customer has been patient.",
    "@{handle} FYI, enterprise customer and they mentioned renewal. Keeping a close eye on it.",
    "@{handle} have you seen this before? Looks similar to last week's case.",
)

NEXT_STEP_NOTES: tuple[str, ...] = (
    "Waiting for the customer's answer before going further.",
    "Checked the account: plan and seats look fine, nothing unusual in the audit log.",
    "Searched the KB: nothing fits exactly, will write up the answer as an article draft.",
    "Customer is on a trial that ends this week; worth a quick answer.",
)

CHURN_NOTE = "Customer mentioned they're evaluating alternatives. Tagged churn-risk for the account team."
