"""Property: through the one write path, every accepted change appends exactly one audit record
(audit_seq + 1, version + 1), and every refused one (DomainError, VersionConflict) writes nothing."""
from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from states.commands import (
    AddAction, AddInventoryLine, AddOutcome, ConfirmAssignment, CorrectClient, FireEvent, Reassign, RecordAttempt,
    SetNothingElsewhere, SetRequirement, UpdateAction,
)
from states.errors import DomainError
from states.lifecycle import EVENTS, allowed_events
from states.records import (
    ActionKind, ActionStatus, AttemptOutcome, Channel, Family, Held, OutcomeKind, RequirementStatus,
)
from store import audit
from store.errors import VersionConflict
from store.tables import PlannedAction
from store.write_path import execute
from tests import factories as f
from tests.integration.db_helpers import AUDIT, world

ACTION = PlannedAction.__table__

# A step is (kind of command, parameters drawn by hypothesis, stale version?); it is turned into a
# command once the case, its advisor, contract and actions exist.
REQ_CODES = ["dp", "devis", "carte_grise", "permis", "releve_information", "cni", "kbis_ou_insee", "inconnu"]
ALL_EVENTS = sorted(EVENTS) + ["inconnu"]
# An event step picks one of the events the current state allows (so walks go deep) or any
# event at all (mostly refused).
event_steps = st.tuples(st.just("event"), st.integers(0, 2 * len(ALL_EVENTS)), st.sampled_from([None, "", "motif"]),
                        st.booleans())
steps = st.one_of(
    event_steps, event_steps, event_steps,
    st.tuples(st.just("attempt"), st.sampled_from(list(Channel)), st.sampled_from(list(AttemptOutcome)),
              st.integers(0, 60 * 24 * 40)),
    st.tuples(st.just("correct"), st.sampled_from([
        {"phone": "06 11 22 33 44"}, {"phone": "0692123456"}, {"email": "x@"}, {"siret": "73282932000075"},
        {"naf_code": "6201Z"}, {"couleur": "bleu"}, {"marital_status": "pacsé(e)"}, {"email": "n@example.fr"},
        {"opposition_email": True}, {}])),
    st.tuples(st.just("requirement"), st.sampled_from(REQ_CODES), st.sampled_from(list(RequirementStatus)),
              st.sampled_from([None, "dispense accordée"]), st.booleans()),
    st.tuples(st.just("inventory"), st.sampled_from(list(Family)), st.sampled_from(list(Held)),
              st.sampled_from(["Auto", "", "Mutuelle"])),
    st.tuples(st.just("nothing_elsewhere"), st.booleans()),
    st.tuples(st.just("outcome"), st.sampled_from(list(OutcomeKind))),
    st.tuples(st.just("action"), st.sampled_from(list(ActionKind)), st.sampled_from(["adv", None, "unknown"]),
              st.booleans()),
    st.tuples(st.just("update_action"), st.integers(0, 3), st.sampled_from(list(ActionStatus))),
    st.tuples(st.just("assign"), st.sampled_from(["corniche", "rouviere"]), st.sampled_from(["adv", "other"])),
    st.tuples(st.just("reassign"), st.sampled_from(["adv", "other", "unknown"])),
)


def build(step, ctx, state, now):
    kind, *p = step
    adv = {"adv": ctx["adv"], "other": ctx["other"], "unknown": 987654, None: None}
    if kind == "event":
        allowed = allowed_events(state)
        pool = allowed if p[2] and allowed else ALL_EVENTS
        name = pool[p[0] % len(pool)]
        return FireEvent(name, reason=p[1])
    if kind == "attempt":
        return RecordAttempt(p[0], now - timedelta(minutes=p[2]), p[1], advisor_id=ctx["adv"])
    if kind == "correct":
        return CorrectClient(dict(p[0]))
    if kind == "requirement":
        return SetRequirement(ctx["contract"] if p[3] else "K-AUTRE", p[0], p[1], p[2])
    if kind == "inventory":
        return AddInventoryLine(p[0], p[2], p[1], "Autre assureur")
    if kind == "nothing_elsewhere":
        return SetNothingElsewhere(p[0])
    if kind == "outcome":
        return AddOutcome(p[0])
    if kind == "action":
        return AddAction(p[0], adv[p[1]], now.date() + timedelta(days=7) if p[2] else None)
    if kind == "update_action":
        ids = ctx["actions"]
        action_id = ids[p[0] % len(ids)] if ids and p[0] else 999999
        return UpdateAction(action_id, status=p[1])
    if kind == "assign":
        return ConfirmAssignment(p[0], adv[p[1]])
    return Reassign(adv[p[0]])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(plan=st.lists(st.tuples(steps, st.sampled_from([False, False, False, True])), min_size=1, max_size=15))
def test_write_path__accepted_changes_append_one_record_refused_ones_write_nothing(engine, now, plan):
    with engine.begin() as conn:
        case_id, adv, _, k = f.ready_case(conn)
        other = f.advisor(conn, agency_id="rouviere")
    ctx = {"adv": adv, "other": other, "contract": k, "actions": []}
    accepted = 0
    for step, stale in plan:
        before = world(engine, case_id)
        version = before["case"]["version"]
        command = build(step, ctx, before["case"]["state"], now)
        try:
            result = execute(engine, case_id, version - 1 if stale else version, command, "advisor:p", now)
        except (DomainError, VersionConflict) as refused:
            event(f"refused: {type(refused).__name__}")
            assert not stale or isinstance(refused, VersionConflict)
            assert world(engine, case_id) == before, f"{command!r} was refused but changed something"
            continue
        accepted += 1
        event(f"accepted: {result.action}")
        assert not stale
        after = world(engine, case_id)
        assert after["case"]["version"] == version + 1 == result.version
        assert after["case"]["audit_seq"] == before["case"]["audit_seq"] + 1 == result.audit_seq
        assert len(after["audit"]) == len(before["audit"]) + 1
        with engine.connect() as conn:
            new = conn.execute(select(AUDIT).where(AUDIT.c.case_id == case_id, AUDIT.c.seq == result.audit_seq)).one()
            if isinstance(command, AddAction):
                ctx["actions"] = list(conn.execute(select(ACTION.c.id).where(ACTION.c.case_id == case_id)).scalars())
        assert (new.action, new.actor, new.hash) == (result.action, "advisor:p", after["case"]["audit_head"])
    with engine.connect() as conn:
        trail = audit.trail(conn, case_id)
        assert [r["seq"] for r in trail] == list(range(1, accepted + 2))
        assert [b for b in audit.verify_all(conn)[2] if b.case_id == case_id] == []
