"""KPI definitions and reports: SLA attainment, first response and resolution times."""
