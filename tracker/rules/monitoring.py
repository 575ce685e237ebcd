"""Clinical clocks of monitoring: how often an escalated patient is assessed, when a toxicity escalation ends, and
how long before a report deadline the team is reminded. Pure: no database.

The services (tracker.services.monitoring, tracker.services.scan) and the read models (tracker.worklist) read
these; none keeps a number of its own.
"""

from datetime import timedelta

# CAR-T consensus practice after CRS or ICANS grade >= 2 (tracker.rules.grading.URGENT_GRADE): assess every 4 hours,
# each check overdue an hour after it is due, until two consecutive assessments grade below 2 (ASTCT 2019 grades).
ESCALATED_INTERVAL = timedelta(hours=4)
ESCALATED_GRACE = timedelta(hours=1)
CALM_ASSESSMENTS = 2

# "A serious adverse event's report deadline approaching": reminded 3 days before it (21 CFR 600.80(c)(1)'s 15-day
# clock leaves time to finish the report after the reminder).
REPORT_WARNING = timedelta(days=3)

# A CRS or ICANS grade puts a patient first on the clinicians' worklist for a week: CRS and ICANS start within days of
# the infusion (median day 5 and day 7); an older grade is history, not a reason to come first today.
RECENT_GRADE = timedelta(days=7)

# 21 CFR 312.64(b): the investigator reports a serious adverse event to the sponsor "immediately". The reminder is due
# on the day of awareness and escalates to the on-call clinicians if still open a day later.
SPONSOR_NOTIFICATION_ESCALATION = timedelta(days=1)
