"""The daily reminders: overdue digests, planned actions past due, documents still missing.

Everything is enqueued in the outbox (notifications.outbox.enqueue) in ONE transaction, with
dedupe keys that make a rerun the same day (or a crash and rerun) enqueue nothing twice:
- advisor_digest   `advisor_digest:{advisor id}:{as-of}`: one per advisor with open cases or
                   appointments: "Vos dossiers en cours" lists every open case of the advisor,
                   the late ones first (then by priority), each marked en retard / rattrapé;
                   then the day's appointments, by time, and the missed ones still to rebook;
- manager_digest   `manager_digest:{agency}:{ISO year}-W{ISO week}`: weekly, on the first
                   business day the flow runs in that week with overdue cases in the agency,
                   to the address of settings.manager_emails[agency];
- action_reminder  `action_reminder:{owner id}:{as-of}`: open planned actions past their due date;
- documents_request `documents_request:{case id}:{as-of}`: a service email to the client listing
                   the documents still missing, once the call happened (the case is reached and
                   being worked), at most once every D3 days [document_reminder_every_days]: the
                   last request's date is checked, so the key only guards same-day reruns.
                   Only to a client with an email address. A service message: an opposition
                   to marketing emails does not stop it (domain.md, "Email and post").
Late (*en retard*) is states.lateness.is_late, the one definition: open, not yet reached (à
contacter, email envoyé, courrier envoyé) and past the window's end on the as-of date; the
manager's digest counts and lists those. *Rattrapé* (opened by the cohort's catch-up) is the
separate `caught_up` flag of each line. Nothing runs on a non-business day.
The renderer turns the payloads into French emails; this module only enqueues them.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, and_, func, or_, select

from config import Settings, get_settings
from notifications.outbox import enqueue
from states import requirements
from states.calendar import is_business_day
from states.lifecycle import WORKING_STATES
from states.records import ClientKind, ContractRecord, Family, RequirementRecord, RequirementStatus
from store.snapshot import ACTION, ADVISOR, CASE, CASE_CONTRACT, CLIENT, CONTRACT, REQUIREMENT
from store.tables import Agency, Notification
from states.lateness import is_late
from states.lifecycle import State
from states.people import advisor_display_name, client_display_name
from notifications import fr
from states.appointments import STATUS_LABELS, status_at
from states.calendar import PARIS, add_business_days, client_timezone
from states.records import AppointmentStatus
from store.snapshot import APPOINTMENT

log = logging.getLogger("m3.reminders")
AGENCY = Agency.__table__
NOTIFICATION = Notification.__table__
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
    open_cases: int = 0  # listed in the advisors' digests ("Vos dossiers en cours")

    def summary(self) -> dict:
        return dict(self.__dict__, as_of=self.as_of.isoformat())


_name = client_display_name  # (kind, first, last, company, client id): the one rule, states.people


def _adv_name(adv) -> str:
    return advisor_display_name(adv.first_name, adv.last_name, adv.name)


def _open_cases(conn: Connection) -> list:
    """Every open case, with what the digests show of it."""
    return conn.execute(
        select(CASE.c.id, CASE.c.agency_id, CASE.c.assigned_advisor_id, CASE.c.due_date, CASE.c.window_end,
               CASE.c.state, CASE.c.priority, CASE.c.late, CLIENT.c.kind, CLIENT.c.first_name, CLIENT.c.last_name,
               CLIENT.c.company_name, CLIENT.c.id.label("client_id"))
        .join(CLIENT, CLIENT.c.id == CASE.c.client_id)
        .where(CASE.c.state != State.CLOTURE.value)
        .order_by(CASE.c.assigned_advisor_id, CASE.c.priority.desc(), CASE.c.window_end, CASE.c.id)).all()


def _summary(r, as_of: date) -> dict:
    # late: en retard, the one definition (states.lateness); caught_up: rattrapé, the stored flag.
    return {"case_id": r.id, "client_name": _name(r.kind, r.first_name, r.last_name, r.company_name, r.client_id),
            "due_date": r.due_date.isoformat(), "window_end": r.window_end.isoformat(), "state": r.state,
            "priority": r.priority, "late": is_late(r.state, r.window_end, as_of), "caught_up": bool(r.late)}


def _digests(conn: Connection, as_of: date, now: datetime, s: Settings, res: RemindResult) -> None:
    open_rows = _open_cases(conn)
    rows = [r for r in open_rows if is_late(r.state, r.window_end, as_of)]
    res.open_cases, res.overdue_cases = len(open_rows), len(rows)
    advisors = {a.id: a for a in conn.execute(select(ADVISOR)).all()}
    by_advisor: dict[int | None, list] = defaultdict(list)
    by_agency: dict[str, list] = defaultdict(list)
    for r in open_rows:  # "Vos dossiers en cours": every open case, the late ones first
        by_advisor[r.assigned_advisor_id].append(r)
    for cases in by_advisor.values():
        cases.sort(key=lambda r: not is_late(r.state, r.window_end, as_of))  # stable: priority order kept
    for r in rows:  # the manager's digest: the late cases
        by_agency[r.agency_id].append(r)
    appointments = _appointments(conn, as_of, now, s)  # an advisor with appointments gets a digest too
    for adv_id in appointments:
        by_advisor.setdefault(adv_id, [])
    for adv_id, cases in by_advisor.items():
        adv = advisors.get(adv_id)
        if adv is None or not adv.email or not adv.active:
            res.skipped_no_email += 1 if adv_id is not None else 0
            continue  # unassigned cases or a departed advisor: the manager's digest lists them
        if enqueue(conn, kind="advisor_digest", channel="email", dedupe_key=f"advisor_digest:{adv_id}:{as_of}",
                   now=now, recipient=adv.email,
                   payload={"advisor_name": _adv_name(adv), "as_of": as_of.isoformat(),
                            "cases": [_summary(r, as_of) for r in cases],
                            **appointments.get(adv_id, _NO_APPOINTMENTS)}):
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
        by_adv = [{"advisor_name": _adv_name(advisors[a]) if a in advisors else "(non attribué)", "overdue": n}
                  for a, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] or 0))]
        if enqueue(conn, kind="manager_digest", channel="email", dedupe_key=f"manager_digest:{agency_id}:{year}-W{week:02d}",
                   now=now, recipient=to,
                   payload={"agency_name": agencies.get(agency_id, agency_id), "as_of": as_of.isoformat(),
                            "week": f"{year}-W{week:02d}", "by_advisor": by_adv, "cases": [_summary(r, as_of) for r in cases]}):
            res.manager_digests += 1


_NO_APPOINTMENTS = {"appointments_today": [], "appointments_missed": []}


def _appointments(conn: Connection, as_of: date, now: datetime, s: Settings) -> dict[int, dict[str, list]]:
    """advisor id -> the day's appointments (by time) and the missed ones still to rebook, on open cases.

    The day is the as-of date in Paris (the agency's), through the eve of the next business day
    (a Friday lists the weekend's, with their `day`); each line also gives the client's local
    time when the client lives in another zone. Missed: scheduled, its time plus the tolerance
    passed before today, no call recorded against it (states.appointments.status_at)."""
    tolerance = timedelta(minutes=s.appointment_tolerance_minutes)
    start = datetime.combine(as_of, datetime.min.time(), PARIS)
    # Up to the next business day: Friday's digest also lists the weekend's (consented) appointments.
    end = datetime.combine(add_business_days(as_of, 1), datetime.min.time(), PARIS)
    rows = conn.execute(
        select(APPOINTMENT.c.id, APPOINTMENT.c.case_id, APPOINTMENT.c.at, APPOINTMENT.c.channel,
               APPOINTMENT.c.status, APPOINTMENT.c.advisor_id, CLIENT.c.kind, CLIENT.c.first_name,
               CLIENT.c.last_name, CLIENT.c.company_name, CLIENT.c.id.label("client_id"), CLIENT.c.phone,
               CLIENT.c.postal_code)
        .join(CASE, CASE.c.id == APPOINTMENT.c.case_id).join(CLIENT, CLIENT.c.id == CASE.c.client_id)
        .where(APPOINTMENT.c.advisor_id.is_not(None), CASE.c.state != "cloture",
               or_(and_(APPOINTMENT.c.at >= start, APPOINTMENT.c.at < end,
                        APPOINTMENT.c.status != AppointmentStatus.CANCELLED.value),
                   and_(APPOINTMENT.c.at < start, APPOINTMENT.c.status == AppointmentStatus.SCHEDULED.value)))
        .order_by(APPOINTMENT.c.at, APPOINTMENT.c.id)).all()
    out: dict[int, dict[str, list]] = {}
    for r in rows:
        status = status_at(r.status, r.at, now, tolerance)
        if r.at < start and status is not AppointmentStatus.MISSED:
            continue
        tz = client_timezone(r.postal_code)
        line = {"appointment_id": r.id, "case_id": r.case_id,
                "client_name": _name(r.kind, r.first_name, r.last_name, r.company_name, r.client_id),
                "phone": r.phone, "at": r.at.isoformat(), "time": fr.time_short(r.at),
                "date": fr.date_short(r.at), "channel": r.channel,
                "day": None if fr.as_date(r.at) == as_of else fr.datetime_short(r.at)[:10],  # "sam. 25/04"
                "channel_label": fr.APPOINTMENT_CHANNELS.get(r.channel, r.channel),
                "client_time": fr.time_short(r.at, tz) if tz.key != PARIS.key else None,
                "status": status.value, "status_label": STATUS_LABELS[status]}
        entry = out.setdefault(r.advisor_id, {"appointments_today": [], "appointments_missed": []})
        entry["appointments_today" if r.at >= start else "appointments_missed"].append(line)
    return out


def _actions(conn: Connection, as_of: date, now: datetime, res: RemindResult) -> None:
    rows = conn.execute(
        select(ACTION.c.id, ACTION.c.case_id, ACTION.c.kind, ACTION.c.label, ACTION.c.due_date, ACTION.c.owner_id,
               ADVISOR.c.name, ADVISOR.c.first_name.label("owner_first_name"),
               ADVISOR.c.last_name.label("owner_last_name"), ADVISOR.c.email,
               CLIENT.c.kind.label("client_kind"), CLIENT.c.first_name,
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
        payload = {"owner_name": advisor_display_name(first.owner_first_name, first.owner_last_name, first.name),
                   "as_of": as_of.isoformat(), "actions": [
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
        .where(CASE.c.state.in_(_WORKING), CLIENT.c.email.is_not(None), CLIENT.c.email != "")
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
            f"| dossiers en cours | {res.open_cases} |\n| dont en retard | {res.overdue_cases} |\n"
            f"| récapitulatifs conseillers | {res.advisor_digests} |\n"
            f"| récapitulatifs hebdomadaires direction | {res.manager_digests} |\n"
            f"| rappels d'actions | {res.action_reminders} |\n| demandes de pièces | {res.documents_requests} |\n"
            f"| destinataires sans adresse | {res.skipped_no_email} |\n")
