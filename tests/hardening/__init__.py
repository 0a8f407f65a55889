"""The hardening suite (issue 9): load, faults, bad input, no personal data in logs.

Run it alone with `./dev test -m hardening`; `M3_HARDENING_FULL=1` for the full profile.
See docs/hardening.md.
"""
