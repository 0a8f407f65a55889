"""Prefect flows of Suivi M+3: the monthly cohort, the daily escalation and the overdue reminders.

The logic lives in plain modules (cohort, escalation, reminders) that take an as-of date and
never read the wall clock; prefect_flows wraps them as Prefect flows; runner decides whether a
command goes through a Prefect server or runs the same code in-process.
"""
