"""The follow-up lifecycle: states, events, guards, checklists, calendar rules.

Pure domain: nothing here imports a database, HTTP or Prefect. Time is an argument.
"""
