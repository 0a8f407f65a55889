"""The daily reminders: overdue digests, planned actions past due, documents still missing.

Everything is enqueued in the outbox (notifications.outbox.enqueue) in ONE transaction, with
dedupe keys that make a rerun the same day (or a crash and rerun) enqueue nothing twice:
- advisor_digest   `advisor_digest:{advisor id}:{as-of}`: one per advisor with overdue cases;
- manager_digest   `manager_digest:{agency}:{ISO year}-W{ISO week}`: weekly, on the first
                   business day the flow runs in that week with overdue cases in the agency,
                   to the address of settings.manager_emails[agency];
- action_reminder  `action_reminder:{owner id}:{as-of}`: open planned actions past their due date;
- documents_request `documents_request:{case id}:{as-of}`: a service email to the client listing
                   the documents still missing, once the call happened (the case is reached and
                   being worked), at most once every D3 days [document_reminder_every_days]: the
                   last request's date is checked, so the key only guards same-day reruns.
                   Only to a client with an email address and no email opposition.
Overdue = the contact window has ended before the as-of date and the client was not reached
(states à contacter, email envoyé, courrier envoyé). Nothing runs on a non-business day.
The renderer turns the payloads into French emails; this module only enqueues them.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, func, select

from config import Settings, get_settings
from notifications.outbox import enqueue
from states import requirements
from states.calendar import is_business_day
from states.lifecycle import UNREACHED_STATES, WORKING_STATES
from states.records import ClientKind, ContractRecord, Family, RequirementRecord, RequirementStatus
from store.snapshot import ACTION, ADVISOR, CASE, CASE_CONTRACT, CLIENT, CONTRACT, REQUIREMENT
from store.tables import Agency, Notification

log = logging.getLogger("m3.reminders")
AGENCY = Agency.__table__
NOTIFICATION = Notification.__table__
_UNREACHED = [s.value for s in UNREACHED_STATES]
_WORKING = [s.value for s in WORKING_STATES]


@dataclass
class RemindResult:
    as_of: date
    business_day: bool = True
    overdue_cases: int = 0
    advisor_digests: int = 0
    manager_digests: int = 0
    action_reminders: int = 0
    documents_requests: int = 0
    skipped_no_email: int = 0  # advisors or managers without an address

    def summary(self) -> dict:
        return dict(self.__dict__, as_of=self.as_of.isoformat())


def _name(kind, first, last, company, client_id) -> str:
    if kind == "entreprise" and company:
        return company
    return " ".join(p for p in (first, last) if p) or company or client_id


def _overdue(conn: Connection, as_of: date) -> list:
    return conn.execute(
        select(CASE.c.id, CASE.c.agency_id, CASE.c.assigned_advisor_id, CASE.c.due_date, CASE.c.window_end,
               CASE.c.state, CASE.c.priority, CASE.c.late, CLIENT.c.kind, CLIENT.c.first_name, CLIENT.c.last_name,
               CLIENT.c.company_name, CLIENT.c.id.label("client_id"))
        .join(CLIENT, CLIENT.c.id == CASE.c.client_id)
        .where(CASE.c.state.in_(_UNREACHED), CASE.c.window_end < as_of)
        .order_by(CASE.c.assigned_advisor_id, CASE.c.priority.desc(), CASE.c.window_end, CASE.c.id)).all()


def _summary(r) -> dict:
    return {"case_id": r.id, "client_name": _name(r.kind, r.first_name, r.last_name, r.company_name, r.client_id),
            "due_date": r.due_date.isoformat(), "window_end": r.window_end.isoformat(), "state": r.state,
            "priority": r.priority, "late": bool(r.late)}


def _digests(conn: Connection, as_of: date, now: datetime, s: Settings, res: RemindResult) -> None:
    rows = _overdue(conn, as_of)
    res.overdue_cases = len(rows)
    advisors = {a.id: a for a in conn.execute(select(ADVISOR)).all()}
    by_advisor: dict[int | None, list] = defaultdict(list)
    by_agency: dict[str, list] = defaultdict(list)
    for r in rows:
        by_advisor[r.assigned_advisor_id].append(r)
        by_agency[r.agency_id].append(r)
    for adv_id, cases in by_advisor.items():
        adv = advisors.get(adv_id)
        if adv is None or not adv.email or not adv.active:
            res.skipped_no_email += 1 if adv_id is not None else 0
            continue  # unassigned cases or a departed advisor: the manager's digest lists them
        if enqueue(conn, kind="advisor_digest", channel="email", dedupe_key=f"advisor_digest:{adv_id}:{as_of}",
                   now=now, recipient=adv.email,
                   payload={"advisor_name": adv.name, "as_of": as_of.isoformat(), "cases": [_summary(r) for r in cases]}):
            res.advisor_digests += 1
    year, week, _ = as_of.isocalendar()
    agencies = dict(conn.execute(select(AGENCY.c.id, AGENCY.c.name)).all())
    for agency_id, cases in sorted(by_agency.items()):
        to = s.manager_emails.get(agency_id)
        if not to:
            res.skipped_no_email += 1
            continue
        counts: dict[int | None, int] = defaultdict(int)
        for r in cases:
            counts[r.assigned_advisor_id] += 1
        by_adv = [{"advisor_name": advisors[a].name if a in advisors else "(non attribué)", "overdue": n}
                  for a, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or 0))]
        if enqueue(conn, kind="manager_digest", channel="email", dedupe_key=f"manager_digest:{agency_id}:{year}-W{week:02d}",
                   now=now, recipient=to,
                   payload={"agency_name": agencies.get(agency_id, agency_id), "as_of": as_of.isoformat(),
                            "week": f"{year}-W{week:02d}", "by_advisor": by_adv, "cases": [_summary(r) for r in cases]}):
            res.manager_digests += 1


def _actions(conn: Connection, as_of: date, now: datetime, res: RemindResult) -> None:
    rows = conn.execute(
        select(ACTION.c.id, ACTION.c.case_id, ACTION.c.kind, ACTION.c.label, ACTION.c.due_date, ACTION.c.owner_id,
               ADVISOR.c.name, ADVISOR.c.email, CLIENT.c.kind.label("client_kind"), CLIENT.c.first_name,
               CLIENT.c.last_name, CLIENT.c.company_name, CLIENT.c.id.label("client_id"))
        .join(ADVISOR, ADVISOR.c.id == ACTION.c.owner_id).join(CASE, CASE.c.id == ACTION.c.case_id)
        .join(CLIENT, CLIENT.c.id == CASE.c.client_id)
        .where(ACTION.c.status == "open", ACTION.c.due_date < as_of, CASE.c.state != "cloture")
        .order_by(ACTION.c.owner_id, ACTION.c.due_date, ACTION.c.id)).all()
    by_owner: dict[int, list] = defaultdict(list)
    for r in rows:
        by_owner[r.owner_id].append(r)
    for owner_id, actions in by_owner.items():
        first = actions[0]
        if not first.email:
            res.skipped_no_email += 1
            continue
        payload = {"owner_name": first.name, "as_of": as_of.isoformat(), "actions": [
            {"case_id": a.case_id, "client_name": _name(a.client_kind, a.first_name, a.last_name, a.company_name,
                                                         a.client_id),
             "kind": a.kind, "label": a.label, "due_date": a.due_date.isoformat()} for a in actions]}
        if enqueue(conn, kind="action_reminder", channel="email", dedupe_key=f"action_reminder:{owner_id}:{as_of}",
                   now=now, recipient=first.email, payload=payload):
            res.action_reminders += 1


def _documents(conn: Connection, as_of: date, now: datetime, s: Settings, res: RemindResult) -> None:
    rows = conn.execute(
        select(CASE.c.id, CLIENT.c.kind, CLIENT.c.email, CONTRACT.c.id.label("contract_id"), CONTRACT.c.family,
               CONTRACT.c.product, CONTRACT.c.effective_date)
        .join(CLIENT, CLIENT.c.id == CASE.c.client_id)
        .join(CASE_CONTRACT, CASE_CONTRACT.c.case_id == CASE.c.id).join(CONTRACT, CONTRACT.c.id == CASE_CONTRACT.c.contract_id)
        .where(CASE.c.state.in_(_WORKING), CLIENT.c.email.is_not(None), CLIENT.c.email != "",
               ~CLIENT.c.opposition_email)
        .order_by(CASE.c.id, CONTRACT.c.id)).all()
    if not rows:
        return
    case_ids = sorted({r.id for r in rows})
    last: dict[int, datetime] = {}
    reqs: dict[str, dict[str, RequirementRecord]] = defaultdict(dict)
    for chunk in (case_ids[i:i + 500] for i in range(0, len(case_ids), 500)):
        last.update(conn.execute(
            select(NOTIFICATION.c.case_id, func.max(NOTIFICATION.c.created_at))
            .where(NOTIFICATION.c.kind == "documents_request", NOTIFICATION.c.case_id.in_(chunk))
            .group_by(NOTIFICATION.c.case_id)).all())
        for r in conn.execute(
                select(REQUIREMENT).join(CASE_CONTRACT, CASE_CONTRACT.c.contract_id == REQUIREMENT.c.contract_id)
                .where(CASE_CONTRACT.c.case_id.in_(chunk))):
            reqs[r.contract_id][r.code] = RequirementRecord(r.code, RequirementStatus(r.status), r.waiver_reason)
    by_case: dict[int, list] = defaultdict(list)
    for r in rows:
        by_case[r.id].append(r)
    every = timedelta(days=s.document_reminder_every_days)
    for case_id, contracts in by_case.items():
        prev = last.get(case_id)
        if prev is not None and prev > now - every + timedelta(hours=12):  # a day's slack for the run's hour
            continue
        missing = []
        for k in contracts:
            record = ContractRecord(k.contract_id, Family(k.family), k.product, k.effective_date, True, None,
                                    reqs.get(k.contract_id, {}))
            missing += [{"contract_id": k.contract_id, "product": k.product, "label": item.label}
                        for item in requirements.checklist(record, ClientKind(k.kind))
                        if item.kind == "document" and not item.satisfied]
        if missing and enqueue(conn, kind="documents_request", channel="email",
                               dedupe_key=f"documents_request:{case_id}:{as_of}", now=now,
                               recipient=contracts[0].email, case_id=case_id, payload={"missing": missing}):
            res.documents_requests += 1


def run_reminders(engine: Engine, as_of: date, now: datetime, settings: Settings | None = None) -> RemindResult:
    s = settings or get_settings()
    res = RemindResult(as_of)
    if not is_business_day(as_of):
        res.business_day = False
        return res
    with engine.begin() as conn:
        _digests(conn, as_of, now, s, res)
        _actions(conn, as_of, now, res)
        _documents(conn, as_of, now, s, res)
    log.info("reminders %s: %s", as_of, res.summary())
    return res


def summary_markdown(res: RemindResult) -> str:
    if not res.business_day:
        return f"# Relances du {res.as_of:%d/%m/%Y}\n\nJour non ouvré : rien à faire.\n"
    return (f"# Relances du {res.as_of:%d/%m/%Y}\n\n| message | en file |\n|---|---:|\n"
            f"| dossiers hors délai | {res.overdue_cases} |\n| récapitulatifs conseillers | {res.advisor_digests} |\n"
            f"| récapitulatifs hebdomadaires direction | {res.manager_digests} |\n"
            f"| rappels d'actions | {res.action_reminders} |\n| demandes de pièces | {res.documents_requests} |\n"
            f"| destinataires sans adresse | {res.skipped_no_email} |\n")
