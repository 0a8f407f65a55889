"""The two profiles of the hardening suite: SHORT (default, what CI runs inside the whole suite)
and FULL (`M3_HARDENING_FULL=1`, the issue's sizes). Every figure the tests use is here, so
docs/hardening.md can quote them from one place."""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    load_seconds: float  # mixed load, per database
    load_clients: int  # concurrent clients
    cases: int  # cases seeded for the load
    server_kills: int  # SIGKILLs of the server during writes, per database
    flow_kills: int  # SIGKILLs of `m3 cohort` and of `m3 import`, each, per database
    cohort_clients: int  # size of the book the cohort is killed on
    import_rows: int  # rows of the CRM export the import is killed on
    outage_seconds: float  # PostgreSQL unreachable under load
    fuzz_examples: int  # hypothesis examples per importer fuzz test (per database)
    api_hostile_values: int  # hostile values tried per field and parameter (out of HOSTILE)
    stateful_examples: int  # schemathesis stateful: hypothesis examples (call sequences)
    stateful_steps: int  # ... and at most this many calls per sequence
    cohort_kill_databases: tuple[str, ...]  # where `m3 cohort` is killed
    import_kill_databases: tuple[str, ...]  # where `m3 import` is killed
    stateful_databases: tuple[str, ...]  # where schemathesis runs its stateful sequences
    api_sweep_databases: tuple[str, ...]  # where every field of every operation gets the hostile values


SHORT = Profile("SHORT", load_seconds=12, load_clients=20, cases=160, server_kills=1, flow_kills=3,
                cohort_clients=1500, import_rows=6000, outage_seconds=3, fuzz_examples=20,
                api_hostile_values=4, stateful_examples=6, stateful_steps=4,
                cohort_kill_databases=("sqlite",), import_kill_databases=("sqlite",), stateful_databases=("sqlite",),
                api_sweep_databases=("sqlite",))
FULL = Profile("FULL", load_seconds=120, load_clients=50, cases=600, server_kills=3, flow_kills=20,
               cohort_clients=20000, import_rows=30000, outage_seconds=10, fuzz_examples=300,
               api_hostile_values=10_000, stateful_examples=150, stateful_steps=12,
               cohort_kill_databases=("sqlite", "postgres"), import_kill_databases=("sqlite", "postgres"),
               stateful_databases=("sqlite", "postgres"), api_sweep_databases=("sqlite", "postgres"))

PROFILE = FULL if os.environ.get("M3_HARDENING_FULL") == "1" else SHORT
