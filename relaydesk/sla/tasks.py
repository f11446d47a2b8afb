"""SLA jobs: the breach scanner, every minute, in the same consumer as every other job."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from relaydesk.sla.escalation import scan

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*"))
@lock_task("sla-scan")
def scan_sla_clocks() -> None:
    # The lock only saves work when a scan outlasts a minute: correctness under concurrent scans
    # (several consumers, or a manual run) comes from the per-clock claim in ``escalate_clock``.
    result = scan()
    if result.escalated or result.failed:
        logger.info(
            "SLA scan: %s warnings, %s breaches, %s failed", result.warnings, result.breaches, result.failed
        )
