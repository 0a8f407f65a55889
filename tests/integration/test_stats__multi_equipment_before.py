"""The multi-equipment rate "before" is what the client held when the case opened, frozen then:
a contract cancelled (or taken) since does not rewrite it."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select, update

from api.queries.stats import StatsFilter, compute
from store.snapshot import CASE, CONTRACT
from tests import factories as f

OPENED = datetime(2026, 4, 1, 4, tzinfo=timezone.utc)


def test_stats__multi_equipment_before_is_frozen_at_opening(engine):
    with engine.begin() as conn:
        adv = f.advisor(conn)
        two = f.client(conn, advisor_id=adv)  # auto + santé held when the case opens
        k_auto = f.contract(conn, two, effective=date(2026, 1, 15))
        k_sante = f.contract(conn, two, family="Santé", product="Mutuelle", effective=date(2024, 5, 1))
        one = f.client(conn, advisor_id=adv)  # auto only; takes an épargne contract after the bilan
        k_one = f.contract(conn, one, effective=date(2026, 1, 15))
        c_two = f.case(conn, two, [k_auto], adv, now=OPENED)
        c_one = f.case(conn, one, [k_one], adv, now=OPENED)
        assert dict(conn.execute(select(CASE.c.id, CASE.c.families_before)).all()) == {c_two: 2, c_one: 1}
        conn.execute(update(CASE).values(state="bilan_fait", bilan_at=datetime(2026, 4, 20, tzinfo=timezone.utc)))
        # Afterwards: the santé contract is cancelled, the other client signs an assurance vie.
        conn.execute(update(CONTRACT).where(CONTRACT.c.id == k_sante).values(status="cancelled"))
        f.contract(conn, one, family="Épargne", product="Assurance vie", effective=date(2026, 4, 25))
    with engine.connect() as conn:
        totals = compute(conn, StatsFilter())["totals"]
        assert dict(conn.execute(select(CASE.c.id, CASE.c.families_before)).all()) == {c_two: 2, c_one: 1}
    assert totals["bilans"] == 2
    assert totals["multi_equipment_before"] == 0.5  # the first client held two families then
    assert totals["multi_equipment_after"] == 0.5  # now: the second does, the first no longer
