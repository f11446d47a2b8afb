from django.apps import AppConfig
from django.db.models import CharField
from django.db.models.functions import Lower


class CoreConfig(AppConfig):
    name = "relaydesk.core"
    label = "core"

    def ready(self) -> None:
        # ``field__lower=value`` compiles to LOWER(field) = value, which the functional unique
        # indexes on Lower(email) can serve; ``__iexact`` compiles to UPPER(...) on PostgreSQL
        # and scans the whole table.
        CharField.register_lookup(Lower)
