"""Service-level maths: business hours per calendar, independent of the ORM."""

from relaydesk.sla.engine import BusinessCalendar, add_business_time, business_time_between

__all__ = ["BusinessCalendar", "add_business_time", "business_time_between"]
