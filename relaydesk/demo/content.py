"""Who and what the demo center is made of: Northwind Cloud's teams, people, taxonomy and customers.

Plain data only; ``seed.py`` turns it into rows. Everything fictional: ``.example`` domains,
phone numbers from the ranges reserved for drama (555-01xx, Ofcom 07700 900xxx and the like).
"""

from __future__ import annotations

from dataclasses import dataclass

STAFF_DOMAIN = "northwind.example"
L2_TEAM = "Tier 2 & Specialists"


@dataclass(frozen=True)
class TeamSpec:
    name: str
    region: str
    time_zone: str
    description: str


TEAMS: tuple[TeamSpec, ...] = (
    TeamSpec(
        "Americas",
        "Americas",
        "America/New_York",
        "Front line for North and South America, 08:00–20:00 New York time.",
    ),
    TeamSpec(
        "EMEA",
        "EMEA",
        "Europe/Dublin",
        "Front line for Europe, the Middle East and Africa, 07:00–19:00 Dublin time.",
    ),
    TeamSpec(
        "APAC",
        "APAC",
        "Asia/Singapore",
        "Front line for Asia-Pacific, 07:00–19:00 Singapore time; covers the overnight gap for the others.",
    ),
    TeamSpec(
        L2_TEAM,
        "Global",
        "UTC",
        "Escalations from every region: billing exceptions, SSO, API and integrations, confirmed bugs.",
    ),
)


@dataclass(frozen=True)
class PersonSpec:
    handle: str  # the local part of the email, also what follows @ in a mention
    full_name: str
    role: str
    level: str
    teams: tuple[str, ...]
    time_zone: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    capacity: int


PEOPLE: tuple[PersonSpec, ...] = (
    PersonSpec(
        "nadia",
        "Nadia Haddad",
        "admin",
        "l2",
        (),
        "Europe/Dublin",
        ("en", "fr", "ar"),
        ("security", "sso", "billing"),
        4,
    ),
    # Supervisors, one per region.
    PersonSpec(
        "marcus",
        "Marcus Johnson",
        "supervisor",
        "l2",
        ("Americas",),
        "America/New_York",
        ("en", "es"),
        ("billing", "escalations"),
        6,
    ),
    PersonSpec(
        "aoife",
        "Aoife Byrne",
        "supervisor",
        "l2",
        ("EMEA",),
        "Europe/Dublin",
        ("en", "ga"),
        ("billing", "account-access"),
        6,
    ),
    PersonSpec(
        "kenji",
        "Kenji Watanabe",
        "supervisor",
        "l2",
        ("APAC",),
        "Asia/Tokyo",
        ("ja", "en"),
        ("api", "integrations"),
        6,
    ),
    # L1 agents: the front line of each region.
    PersonSpec(
        "sofia",
        "Sofía Martínez",
        "agent",
        "l1",
        ("Americas",),
        "America/Mexico_City",
        ("es", "en", "pt"),
        ("billing", "how-to"),
        10,
    ),
    PersonSpec(
        "jamal",
        "Jamal Carter",
        "agent",
        "l1",
        ("Americas",),
        "America/Chicago",
        ("en",),
        ("account-access", "mobile", "how-to"),
        10,
    ),
    PersonSpec(
        "emily",
        "Emily Tran",
        "agent",
        "l1",
        ("Americas",),
        "America/Los_Angeles",
        ("en", "vi"),
        ("integrations", "how-to"),
        10,
    ),
    PersonSpec(
        "lukas",
        "Lukas Becker",
        "agent",
        "l1",
        ("EMEA",),
        "Europe/Berlin",
        ("de", "en"),
        ("billing", "account-access"),
        10,
    ),
    PersonSpec(
        "camille",
        "Camille Dubois",
        "agent",
        "l1",
        ("EMEA",),
        "Europe/Paris",
        ("fr", "en", "es"),
        ("how-to", "mobile"),
        10,
    ),
    PersonSpec(
        "weiling",
        "Tan Wei Ling",
        "agent",
        "l1",
        ("APAC",),
        "Asia/Singapore",
        ("en", "zh"),
        ("billing", "how-to"),
        10,
    ),
    PersonSpec(
        "arjun",
        "Arjun Mehta",
        "agent",
        "l1",
        ("APAC",),
        "Asia/Kolkata",
        ("en", "hi"),
        ("api", "account-access"),
        10,
    ),
    PersonSpec(
        "hana",
        "Hana Sato",
        "agent",
        "l1",
        ("APAC",),
        "Asia/Tokyo",
        ("ja", "en"),
        ("how-to", "mobile"),
        10,
    ),
    # Tier 2: escalations from every region.
    PersonSpec(
        "olusegun",
        "Olusegun Adeyemi",
        "agent",
        "l2",
        (L2_TEAM,),
        "Europe/London",
        ("en", "yo"),
        ("api", "integrations", "webhooks"),
        8,
    ),
    PersonSpec(
        "ana",
        "Ana Pereira",
        "agent",
        "l2",
        (L2_TEAM,),
        "America/Sao_Paulo",
        ("pt", "es", "en"),
        ("billing", "data-privacy", "integrations"),
        8,
    ),
    PersonSpec(
        "ingrid",
        "Ingrid Larsen",
        "agent",
        "specialist",
        (L2_TEAM,),
        "Europe/Oslo",
        ("en", "no", "de"),
        ("sso", "security", "performance"),
        6,
    ),
    PersonSpec(
        "fatima",
        "Fatima Zahra El Amrani",
        "qa_reviewer",
        "l2",
        (),
        "Africa/Casablanca",
        ("ar", "fr", "en"),
        ("quality", "coaching"),
        4,
    ),
    PersonSpec(
        "tom",
        "Tom Nguyen",
        "knowledge_owner",
        "l2",
        (L2_TEAM,),
        "Australia/Sydney",
        ("en", "vi"),
        ("knowledge-base", "how-to"),
        4,
    ),
)

# (label printed at start-up, handle) for the sign-ins listed by ``relaydesk run``.
DEMO_LOGIN_HANDLES: tuple[tuple[str, str], ...] = (
    ("admin", "nadia"),
    ("supervisor", "marcus"),
    ("L1 agent", "jamal"),
    ("L2 agent", "olusegun"),
    ("QA reviewer", "fatima"),
    ("knowledge owner", "tom"),
)

CATEGORIES: tuple[str, ...] = (
    "Account access",
    "Billing",
    "Bug report",
    "Data & privacy",
    "Feature request",
    "How-to",
    "Integrations",
    "Outage",
    "Performance",
)

PRODUCTS: tuple[str, ...] = ("Northwind Web", "Northwind Mobile", "Northwind API", "Billing portal")

TAGS: tuple[tuple[str, str], ...] = (
    ("2fa", "#7c3aed"),
    ("android", "#16a34a"),
    ("api", "#0891b2"),
    ("bug-confirmed", "#dc2626"),
    ("churn-risk", "#b91c1c"),
    ("data-export", "#0d9488"),
    ("feature-request", "#9333ea"),
    ("gdpr", "#475569"),
    ("incident", "#ef4444"),
    ("invoice", "#ca8a04"),
    ("ios", "#2563eb"),
    ("onboarding", "#65a30d"),
    ("password-reset", "#a855f7"),
    ("rate-limit", "#0e7490"),
    ("refund", "#d97706"),
    ("reports", "#4f46e5"),
    ("salesforce", "#0284c7"),
    ("slack", "#db2777"),
    ("sso", "#6d28d9"),
    ("vat", "#a16207"),
    ("vip", "#be123c"),
    ("webhooks", "#0f766e"),
)


@dataclass(frozen=True)
class OrgSpec:
    name: str
    domain: str
    tier: str
    region: str  # which regional team looks after it
    language: str  # what most of its people write in
    cultures: tuple[str, ...]  # name pools its people come from
    time_zones: tuple[str, ...]
    phone_prefix: str
    size: int  # how many contacts the demo gives it


ORGANIZATIONS: tuple[OrgSpec, ...] = (
    # Americas
    OrgSpec(
        "Bluefin Logistics",
        "bluefin-logistics.example",
        "enterprise",
        "Americas",
        "en",
        ("us", "es", "in"),
        ("America/Chicago", "America/New_York"),
        "+1 312 555 01",
        14,
    ),
    OrgSpec(
        "Cedar & Pine Realty",
        "cedarpine.example",
        "business",
        "Americas",
        "en",
        ("us",),
        ("America/Denver",),
        "+1 303 555 01",
        7,
    ),
    OrgSpec(
        "Harborview Health",
        "harborview-health.example",
        "enterprise",
        "Americas",
        "en",
        ("us", "nigeria", "china"),
        ("America/Los_Angeles",),
        "+1 206 555 01",
        12,
    ),
    OrgSpec(
        "Maple Street Bakery",
        "maplestreet.example",
        "standard",
        "Americas",
        "en",
        ("us",),
        ("America/Toronto",),
        "+1 416 555 01",
        3,
    ),
    OrgSpec(
        "Quantum Ledger",
        "quantumledger.example",
        "business",
        "Americas",
        "en",
        ("us", "in", "china"),
        ("America/New_York",),
        "+1 646 555 01",
        8,
    ),
    OrgSpec(
        "Sol Azteca Viajes",
        "solazteca.example",
        "business",
        "Americas",
        "es",
        ("es",),
        ("America/Mexico_City",),
        "+52 55 5555 01",
        6,
    ),
    OrgSpec(
        "Tropicana Fintech",
        "tropicana-fintech.example",
        "enterprise",
        "Americas",
        "pt",
        ("pt",),
        ("America/Sao_Paulo",),
        "+55 11 5555 01",
        9,
    ),
    OrgSpec(
        "Redwood Analytics",
        "redwood-analytics.example",
        "business",
        "Americas",
        "en",
        ("us", "in"),
        ("America/Los_Angeles",),
        "+1 415 555 01",
        7,
    ),
    OrgSpec(
        "Lakeside Schools",
        "lakeside-schools.example",
        "standard",
        "Americas",
        "en",
        ("us",),
        ("America/Chicago",),
        "+1 612 555 01",
        5,
    ),
    OrgSpec(
        "Andes Mining Co.",
        "andesmining.example",
        "business",
        "Americas",
        "es",
        ("es", "us"),
        ("America/Santiago", "America/Lima"),
        "+56 2 5555 01",
        5,
    ),
    OrgSpec(
        "Northstar Outfitters",
        "northstar-outfitters.example",
        "standard",
        "Americas",
        "en",
        ("us",),
        ("America/Denver", "America/Phoenix"),
        "+1 720 555 01",
        4,
    ),
    # EMEA
    OrgSpec(
        "Rheinwerk Maschinenbau",
        "rheinwerk.example",
        "enterprise",
        "EMEA",
        "de",
        ("de",),
        ("Europe/Berlin",),
        "+49 211 555 01",
        11,
    ),
    OrgSpec(
        "Alpenblick Hotels",
        "alpenblick.example",
        "business",
        "EMEA",
        "de",
        ("de",),
        ("Europe/Vienna", "Europe/Zurich"),
        "+43 1 555 01",
        6,
    ),
    OrgSpec(
        "Brightwater Energy",
        "brightwater-energy.example",
        "enterprise",
        "EMEA",
        "en",
        ("uk", "in", "nigeria"),
        ("Europe/London",),
        "+44 20 7946 0",
        12,
    ),
    OrgSpec(
        "Maison Lumière",
        "maison-lumiere.example",
        "business",
        "EMEA",
        "fr",
        ("fr",),
        ("Europe/Paris",),
        "+33 1 55 55 01",
        7,
    ),
    OrgSpec(
        "Atelier Numérique",
        "atelier-numerique.example",
        "standard",
        "EMEA",
        "fr",
        ("fr",),
        ("Europe/Brussels", "Europe/Paris"),
        "+32 2 555 01",
        4,
    ),
    OrgSpec(
        "Iberia Foods",
        "iberiafoods.example",
        "business",
        "EMEA",
        "es",
        ("es",),
        ("Europe/Madrid",),
        "+34 91 555 01",
        6,
    ),
    OrgSpec(
        "Lisboa Digital",
        "lisboa-digital.example",
        "standard",
        "EMEA",
        "pt",
        ("pt",),
        ("Europe/Lisbon",),
        "+351 21 555 01",
        4,
    ),
    OrgSpec(
        "Nordlys Shipping",
        "nordlys.example",
        "enterprise",
        "EMEA",
        "en",
        ("nordic", "uk"),
        ("Europe/Oslo", "Europe/Stockholm"),
        "+47 22 55 50 1",
        9,
    ),
    OrgSpec(
        "Kestrel Legal LLP",
        "kestrel-legal.example",
        "business",
        "EMEA",
        "en",
        ("uk",),
        ("Europe/London",),
        "+44 161 496 0",
        5,
    ),
    OrgSpec(
        "Sahara Telecom",
        "sahara-telecom.example",
        "enterprise",
        "EMEA",
        "en",
        ("arabic", "nigeria", "fr"),
        ("Africa/Cairo", "Asia/Dubai", "Africa/Lagos"),
        "+971 4 555 01",
        8,
    ),
    OrgSpec(
        "Van Dijk Retail",
        "vandijk-retail.example",
        "standard",
        "EMEA",
        "en",
        ("dutch",),
        ("Europe/Amsterdam",),
        "+31 20 555 01",
        4,
    ),
    # APAC
    OrgSpec(
        "Sakura Robotics",
        "sakura-robotics.example",
        "enterprise",
        "APAC",
        "ja",
        ("ja",),
        ("Asia/Tokyo",),
        "+81 3 5555 01",
        10,
    ),
    OrgSpec(
        "Kyoto Craft Beer",
        "kyotocraft.example",
        "standard",
        "APAC",
        "ja",
        ("ja",),
        ("Asia/Tokyo",),
        "+81 75 555 01",
        4,
    ),
    OrgSpec(
        "Merlion Payments",
        "merlion-payments.example",
        "enterprise",
        "APAC",
        "en",
        ("china", "malay", "in"),
        ("Asia/Singapore",),
        "+65 6555 01",
        11,
    ),
    OrgSpec(
        "Southern Cross Media",
        "southerncross-media.example",
        "business",
        "APAC",
        "en",
        ("au", "china"),
        ("Australia/Sydney", "Australia/Melbourne"),
        "+61 2 5550 01",
        8,
    ),
    OrgSpec(
        "Kiwi Agritech",
        "kiwi-agritech.example",
        "standard",
        "APAC",
        "en",
        ("au",),
        ("Pacific/Auckland",),
        "+64 9 555 01",
        4,
    ),
    OrgSpec(
        "Bengaluru Byteworks",
        "byteworks.example",
        "business",
        "APAC",
        "en",
        ("in",),
        ("Asia/Kolkata",),
        "+91 80 5555 01",
        8,
    ),
    OrgSpec(
        "Manila Care BPO",
        "manilacare.example",
        "business",
        "APAC",
        "en",
        ("filipino",),
        ("Asia/Manila",),
        "+63 2 5555 01",
        6,
    ),
    OrgSpec(
        "Seoul Pixel Studio",
        "seoulpixel.example",
        "standard",
        "APAC",
        "en",
        ("korean",),
        ("Asia/Seoul",),
        "+82 2 555 01",
        4,
    ),
)

# Customers who sign up with a personal address: no organization.
INDIVIDUALS_DOMAIN = "mailbox.example"
INDIVIDUAL_COUNT = 14

# Name pools per culture, for customers and bench agents.
FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "us": (
        "Emma", "Liam", "Olivia", "Noah", "Ava", "Ethan", "Madison", "Tyler", "Grace", "Caleb",
        "Hannah", "Jordan", "Megan", "Brandon", "Rachel", "Kevin", "Lauren", "Derek", "Tanya", "Marcus",
    ),
    "uk": (
        "Oliver", "Amelia", "Harry", "Isla", "George", "Poppy", "Alfie", "Freya", "Charlotte", "Callum",
        "Imogen", "Rhys", "Niamh", "Hamish", "Eleanor",
    ),
    "au": ("Jack", "Chloe", "Lachlan", "Matilda", "Cooper", "Zoe", "Riley", "Sienna", "Harrison", "Tahlia"),
    "de": (
        "Anna", "Jonas", "Lena", "Felix", "Katrin", "Maximilian", "Sabine", "Tobias", "Julia", "Stefan",
        "Miriam", "Florian", "Ute", "Matthias",
    ),
    "fr": (
        "Camille", "Louis", "Chloé", "Hugo", "Manon", "Julien", "Inès", "Mathieu", "Léa", "Antoine", "Élodie",
    ),
    "es": (
        "Lucía", "Alejandro", "Carmen", "Javier", "Valentina", "Diego", "Isabel", "Mateo", "Paula", "Andrés",
        "Ximena", "Rodrigo",
    ),
    "pt": (
        "João", "Beatriz", "Gabriel", "Mariana", "Rafael", "Larissa", "Thiago", "Fernanda", "Bruno", "Inês",
    ),
    "ja": (
        "Haruto", "Yui", "Sota", "Aoi", "Ren", "Mei", "Takumi", "Sakura", "Daiki", "Yuna", "Kaito", "Misaki",
    ),
    "in": ("Priya", "Rahul", "Ananya", "Vikram", "Sneha", "Karthik", "Divya", "Rohan", "Meera", "Aditya"),
    "china": ("Wei", "Li Na", "Jun", "Xiaoming", "Mei Ling", "Hao", "Yan", "Zhi Wei", "Jia Hui", "Kai"),
    "nigeria": ("Chinedu", "Ngozi", "Tunde", "Amaka", "Emeka", "Funmilayo", "Ifeanyi", "Zainab"),
    "arabic": ("Omar", "Layla", "Youssef", "Mariam", "Khalid", "Noura", "Tariq", "Huda"),
    "nordic": ("Erik", "Ingrid", "Lars", "Astrid", "Magnus", "Sigrid", "Henrik", "Elin"),
    "dutch": ("Daan", "Sanne", "Bram", "Femke", "Joost", "Lotte", "Ruben", "Anouk"),
    "malay": ("Aisyah", "Hafiz", "Nurul", "Farhan", "Siti", "Azman"),
    "filipino": ("Maria", "Jose", "Angelica", "Mark", "Kristine", "Paolo", "Joy", "Rommel"),
    "korean": ("Minjun", "Seoyeon", "Jiwoo", "Hyunwoo", "Eunji", "Dohyun"),
}  # fmt: skip

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "us": (
        "Smith", "Johnson", "Williams", "Brown", "Miller", "Davis", "Wilson", "Anderson", "Thompson",
        "Garcia", "Martinez", "Robinson", "Clark", "Lewis", "Walker", "Hall", "Young", "King",
    ),
    "uk": ("Taylor", "Evans", "Hughes", "Patel", "Wright", "Roberts", "Cooper", "Murphy", "Campbell", "Shaw"),
    "au": ("Nguyen", "Kelly", "Mitchell", "O'Brien", "Harris", "Ryan", "Walsh", "Fraser"),
    "de": (
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Hoffmann", "Koch", "Richter",
        "Bauer", "Wolf", "Schäfer",
    ),
    "fr": ("Martin", "Bernard", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau", "Fontaine", "Mercier"),
    "es": ("García", "Rodríguez", "López", "Hernández", "González", "Pérez", "Sánchez", "Ramírez", "Torres"),
    "pt": ("Silva", "Santos", "Oliveira", "Souza", "Costa", "Ferreira", "Almeida", "Carvalho", "Rocha"),
    "ja": ("Sato", "Suzuki", "Takahashi", "Tanaka", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato"),
    "in": ("Sharma", "Iyer", "Reddy", "Nair", "Gupta", "Kapoor", "Rao", "Menon", "Joshi"),
    "china": ("Chen", "Wang", "Li", "Zhang", "Liu", "Lim", "Tan", "Ng", "Goh"),
    "nigeria": ("Okafor", "Adebayo", "Eze", "Olawale", "Nwosu", "Bello"),
    "arabic": ("Haddad", "Mansour", "Khalil", "Nasser", "Saleh", "Farouk"),
    "nordic": ("Hansen", "Johansson", "Nilsson", "Berg", "Lindqvist", "Dahl"),
    "dutch": ("de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer"),
    "malay": ("Rahman", "Ismail", "Abdullah", "Hassan", "Yusof"),
    "filipino": ("Santos", "Reyes", "Cruz", "Bautista", "Mendoza", "Villanueva"),
    "korean": ("Kim", "Lee", "Park", "Choi", "Jung", "Kang"),
}  # fmt: skip

# The language people from these name pools write in; everyone else writes English.
CULTURE_LANGUAGE: dict[str, str] = {"de": "de", "fr": "fr", "es": "es", "pt": "pt", "ja": "ja"}

INDIVIDUAL_TIME_ZONES: tuple[str, ...] = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Singapore",
    "Australia/Brisbane",
)


# --- SLA: each region's opening hours and the promised response times ---------------------

WEEKDAYS = range(5)
CALENDARS: dict[str, dict[str, object]] = {
    # team name -> calendar; the hours match the team descriptions above.
    "Americas": {
        "name": "Americas business hours",
        "time_zone": "America/New_York",
        "weekly_hours": {str(day): [["08:00", "20:00"]] for day in WEEKDAYS},
        "yearly_holidays": ["01-01", "07-04", "12-25"],
    },
    "EMEA": {
        "name": "EMEA business hours",
        "time_zone": "Europe/Dublin",
        "weekly_hours": {str(day): [["07:00", "19:00"]] for day in WEEKDAYS},
        "yearly_holidays": ["01-01", "12-25", "12-26"],
    },
    "APAC": {
        "name": "APAC business hours",
        "time_zone": "Asia/Singapore",
        "weekly_hours": {str(day): [["07:00", "19:00"]] for day in WEEKDAYS},
        "yearly_holidays": ["01-01"],
    },
    L2_TEAM: {
        "name": "Around the clock",
        "time_zone": "UTC",
        "weekly_hours": {str(day): [["00:00", "00:00"]] for day in range(7)},
        "yearly_holidays": [],
    },
}

# The SLA table as promised to customers: (name, channel, priority, tier, first response,
# next response, resolution) in minutes; "" / None = any. First matching row wins.
SLA_TABLE: tuple[tuple[str, str, int | None, str, int | None, int | None, int | None], ...] = (
    ("P1 urgent outage, any channel", "", 1, "", 30, 60, 8 * 60),
    ("Enterprise, P2", "", 2, "enterprise", 60, 4 * 60, 2 * 8 * 60),
    ("Live chat", "chat", None, "", 5, 15, 8 * 60),
    ("Phone", "phone", None, "", 15, 4 * 60, 3 * 8 * 60),
    ("P2 time-sensitive", "", 2, "", 2 * 60, 8 * 60, 3 * 8 * 60),
    ("Email, web form, social and in-app", "", None, "", 8 * 60, 8 * 60, 5 * 8 * 60),
)

# Escalation rules by SLA row name (rows not listed keep the defaults: warn the assignee, tell
# the assignee and the team's supervisors at the breach).
SLA_ESCALATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "P1 urgent outage, any channel": (
        ("notify_assignee", "notify_supervisors"),
        ("notify_assignee", "notify_supervisors", "escalate_level"),
    ),
    "Enterprise, P2": (("notify_assignee",), ("notify_assignee", "notify_supervisors", "raise_priority")),
}

SERVICE_VISION = {
    "statement": (
        "Every Northwind customer gets a fast, friendly and competent answer, whatever the time in "
        "their part of the world. We own a problem until it is solved, we say what we will do and by "
        "when, and we follow up before the customer has to ask."
    ),
    "brand_tone": (
        "Warm, plain and precise. Use the customer's name, write short sentences, no jargon, no blame. "
        "Say sorry once and mean it, then say what happens next and when. Close by checking the "
        "problem is really solved."
    ),
    "channels": ["email", "chat", "phone", "social", "in_app", "web"],
    "languages": ["English", "Deutsch", "Français", "Español", "Português", "日本語"],
    "coverage": (
        "24/7 across three regions: Americas 08:00–20:00 New York, EMEA 07:00–19:00 Dublin, "
        "APAC 07:00–19:00 Singapore, on weekdays; Tier 2 escalations around the clock. "
        "Business-hours targets count the hours of the team that owns the ticket."
    ),
}

# Mailboxes customers write to (no IMAP server in the demo: mail arrives by the webhook or
# `relaydesk ingest-mail`; replies go through Django's configured mail backend).
MAILBOXES = (
    ("Support", "support@northwind.example", "Northwind Support", "Americas", "en"),
    ("Support (Deutsch)", "support-de@northwind.example", "Northwind Support", "EMEA", "de"),
)
ACKNOWLEDGEMENTS = {
    "en": (
        "We have your request [#{number}]: {subject}",
        "Hello {name},\n\nthank you for writing to Northwind. Your request is ticket #{number}; a member "
        "of our team will answer soon, within the times promised on our support page.\n\nReply to this "
        "email to add anything — keep the [#{number}] in the subject.\n\nNorthwind Support",
    ),
    "de": (
        "Wir haben Ihre Anfrage [#{number}]: {subject}",
        "Hallo {name},\n\nvielen Dank für Ihre Nachricht. Ihre Anfrage hat die Nummer #{number}; wir "
        "melden uns bald.\n\nAntworten Sie einfach auf diese E-Mail, um etwas zu ergänzen.\n\n"
        "Ihr Northwind-Support",
    ),
}
