"""*En retard* (states.lateness): open, not yet reached, past its window's end on `today`; and
the advisor's digest titled "Vos dossiers en cours", each line marked en retard / rattrapé."""
from __future__ import annotations

from datetime import date

import pytest

from notifications.context import _digest_extras, agency_info
from notifications.render import render_email
from states.lateness import is_late
from states.lifecycle import State

END = date(2026, 4, 22)


@pytest.mark.parametrize("state", ["a_contacter", "email_envoye", "courrier_envoye"])
def test_lateness__an_unreached_open_case_is_late_the_day_after_its_window(state):
    assert not is_late(state, END, END)  # the window's last day: still on time
    assert is_late(state, END, date(2026, 4, 23))


@pytest.mark.parametrize("state", [s.value for s in State if s.value not in ("a_contacter", "email_envoye",
                                                                             "courrier_envoye")])
def test_lateness__a_reached_or_closed_case_is_never_late(state):
    assert not is_late(state, END, date(2026, 6, 1))


def test_lateness__the_advisor_digest_lists_open_cases_marked_late_or_caught_up():
    cases = [{"case_id": 1, "client_name": "Marie Dupont", "due_date": "2026-04-15", "window_end": "2026-04-22",
              "state": "a_contacter", "priority": 10, "late": True, "caught_up": True},
             {"case_id": 2, "client_name": "Paul Roux", "due_date": "2026-04-28", "window_end": "2026-05-05",
              "state": "fiche_validee", "priority": 30, "late": False, "caught_up": False}]
    ctx = _digest_extras("advisor_digest", {"advisor_name": "Julie Martin", "as_of": "2026-04-23", "cases": cases,
                                            "agency": agency_info("corniche")})
    out = render_email("advisor_digest", ctx)
    assert "VOS DOSSIERS EN COURS" in out.text and "Vos dossiers en cours" in out.html
    assert out.subject.endswith("2 en cours, dont 1 en retard")
    one, two = [line for line in out.text.splitlines() if line.startswith("- Dossier")]
    assert one.endswith("EN RETARD · rattrapé") and "Fiche validée" in two and "RETARD" not in two
    assert "Rattrapé" in out.html
