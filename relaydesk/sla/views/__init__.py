"""The SLA screens: business calendars, the SLA table, the service vision (one module per screen)."""
