"""A seeded book of follow-up cases for the pages' benchmark (bench/bench_pages.py) and the
statistics' equivalence test: clients, contracts, cases in every state over two years of
cohorts, three agencies, a few hundred open cases per advisor, with attempts, appointments,
requirements, bilan outcomes, actions and audit trails.

Deterministic for a seed. Written with `store.cases.bulk_insert` (the driver's executemany, as
the cohort writes cases), so 100,000 cases take seconds on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Engine, insert, select

from states.calendar import PARIS, contact_window, due_date
from store import audit
from store.cases import bulk_insert
from store.demo_pools import PLACES, PRODUCTS, make_pools
from store.snapshot import ACTION, APPOINTMENT, ATTEMPT, CASE, CASE_CONTRACT, CLIENT, CONTRACT, OUTCOME, REQUIREMENT
from store.tables import Advisor, Agency

# A Wednesday, 10:30 in Paris: inside the calling hours.
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=timezone.utc)
MONTHS = 24  # cohorts 2024-12 .. 2026-11
AGENCIES = {"corniche": 0.5, "rouviere": 0.3, "estaque": 0.2}  # share of the cases
CASES_PER_ADVISOR = 1_650  # ~280 of them open: "a few hundred" per advisor
OPEN_RECENT = ["a_contacter"] * 30 + ["joint_rdv"] * 12 + ["fiche_validee"] * 8 + ["contrats_finalises"] * 7 + \
    ["bilan_fait"] * 6 + ["actions_planifiees"] * 6 + ["email_envoye"] * 8 + ["courrier_envoye"] * 5 + ["cloture"] * 18
CLOSING = ["complet"] * 55 + ["injoignable"] * 20 + ["refus"] * 15 + ["sans_suite"] * 10
REACHED_STATES = {"joint_rdv", "fiche_validee", "contrats_finalises", "bilan_fait", "actions_planifiees"}
BILAN_STATES = {"bilan_fait", "actions_planifiees"}
SATISFIED = ["received", "validated", "waived", "missing"]
# Accented names, so that the folded search has something to fold.
EXTRA_FIRST = ["Hélène", "Géraldine", "Jérôme", "Frédéric", "Anaïs", "Noël", "Zoé", "Loïc", "Cécile", "Gaëlle"]
EXTRA_LAST = ["Léger", "Bérénice", "Lefèvre", "Gérard", "Hébert", "Ménard", "Pétain", "Lemaître", "Béranger"]
REQ_CODES = ["dp", "devis", "carte_grise", "permis", "releve_information", "bail_ou_titre", "attestation_droits",
             "cni", "kbis_ou_insee"]


@dataclass
class Book:
    """What the benchmark needs to know about the book it seeded."""

    cases: int = 0
    advisors: dict[str, list[int]] = field(default_factory=dict)  # agency -> advisor ids
    case_ids_by_advisor: dict[int, list[int]] = field(default_factory=dict)
    names: list[tuple[str, str]] = field(default_factory=list)  # (first, last) of some clients
    phones: list[str] = field(default_factory=list)  # E.164 phones of some clients
    counts: dict[str, int] = field(default_factory=dict)  # rows per table


def _ts(d: datetime) -> datetime:
    return d.astimezone(timezone.utc)


def _month(i: int) -> tuple[str, date]:
    """The i-th cohort month (0 = the oldest) and a contract effective date three months before."""
    y, m = divmod(NOW.year * 12 + NOW.month - 1 - (MONTHS - 1 - i), 12)
    ey, em = divmod(y * 12 + m - 3, 12)
    return f"{y:04d}-{m + 1:02d}", date(ey, em + 1, 1)


def seed(engine: Engine, n_cases: int, seed_value: int = 8, extra_columns=None) -> Book:
    """Write the book into a migrated, empty database. `extra_columns(client_dict)`: columns to
    add to each client row (a later schema's derived columns), or None."""
    rng = random.Random(seed_value)
    pools = make_pools(seed_value, size=600)
    firsts = pools.first_names + EXTRA_FIRST * 3
    lasts = pools.last_names + EXTRA_LAST * 3
    book = Book(cases=n_cases)
    try:
        from store.search_columns import keys as search_keys
    except ImportError:  # a schema before migration 0010
        search_keys = None
    with engine.begin() as conn:
        have = set(conn.execute(select(Agency.__table__.c.id)).scalars())
        for agency in AGENCIES:
            if agency not in have:
                conn.execute(insert(Agency.__table__).values(id=agency, name=agency.capitalize()))
        n_adv = {a: max(3, round(n_cases * share / CASES_PER_ADVISOR)) for a, share in AGENCIES.items()}
        for agency, k in n_adv.items():
            book.advisors[agency] = [conn.execute(insert(Advisor.__table__).values(
                name=f"Conseiller {agency} {j:02d}", agency_id=agency, active=True,
                email=f"c{j}.{agency}@agence.example", first_name=rng.choice(firsts), last_name=rng.choice(lasts))
                .returning(Advisor.__table__.c.id)).scalar_one() for j in range(k)]
        clients, contracts, cases, links, reqs, attempts, appts, outcomes, actions, records = \
            [], [], [], [], [], [], [], [], [], []
        agencies = list(AGENCIES)
        weights = list(AGENCIES.values())
        kinds = ["particulier"] * 80 + ["professionnel"] * 14 + ["entreprise"] * 6
        k_id = 0
        for i in range(n_cases):
            case_id = i + 1
            month_i = i * MONTHS // n_cases
            cohort, effective = _month(month_i)
            effective = effective + timedelta(days=rng.randrange(28))
            due = due_date(effective)
            start, end = contact_window(due)
            age = MONTHS - 1 - month_i  # 0: this month's cohort
            agency = rng.choices(agencies, weights)[0]
            adv = rng.choice(book.advisors[agency]) if rng.random() > 0.02 else None
            kind = rng.choice(kinds)
            first, last = rng.choice(firsts), rng.choice(lasts)
            place = rng.choice(PLACES)
            phone = f"+336{rng.randrange(10**8):08d}" if rng.random() > 0.05 else None
            client_id = f"BC{case_id:07d}"
            client = dict(id=client_id, kind=kind, first_name=first, last_name=last,
                          company_name=rng.choice(pools.companies) if kind == "entreprise" else None,
                          address=rng.choice(pools.streets), postal_code=place[0], city=place[1], phone=phone,
                          email=f"{client_id.lower()}@example.fr", agency_id=agency, advisor_id=adv,
                          marital_status="marié(e)", professional_status="salarié(e)", opposition_phone=rng.random() < 0.03,
                          opposition_email=False, opposition_letter=False)
            if extra_columns is not None:
                client.update(extra_columns(client))
            elif search_keys is not None:  # the folded keys the import keeps (migration 0010)
                client.update(search_keys(first, last, client["company_name"], phone))
            clients.append(client)
            if i % 97 == 0:
                book.names.append((first, last))
                if phone:
                    book.phones.append(phone)
            # Contracts: the followed one(s), and sometimes others the client holds.
            prods = PRODUCTS[kind]
            case_contracts = []
            for _ in range(1 if rng.random() < 0.8 else 2):
                fam, prod, *_ = rng.choice(prods)
                k_id += 1
                contracts.append(dict(id=f"BK{k_id:08d}", client_id=client_id, family=fam, product=prod,
                                      effective_date=effective, status="active", premium_eur=rng.randrange(150, 3000)))
                case_contracts.append((f"BK{k_id:08d}", fam))
            for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
                fam, prod, *_ = rng.choice(prods)
                k_id += 1
                contracts.append(dict(id=f"BK{k_id:08d}", client_id=client_id, family=fam, product=prod,
                                      effective_date=effective - timedelta(days=rng.randrange(200, 2000)),
                                      status="active" if rng.random() < 0.85 else "cancelled",
                                      premium_eur=rng.randrange(150, 3000)))
            families_before = len({c["family"] for c in contracts[-(len(case_contracts) + 2):]
                                   if c["client_id"] == client_id and c["status"] == "active"})
            # State: the older the cohort, the more likely closed.
            if age >= 3:
                state = "cloture" if rng.random() < 0.95 else rng.choice(["a_contacter", "email_envoye", "joint_rdv",
                                                                          "courrier_envoye", "bilan_fait"])
            elif age == 0:
                state = "a_contacter" if rng.random() < 0.7 else rng.choice(OPEN_RECENT)
            else:
                state = rng.choice(OPEN_RECENT)
            closing = rng.choice(CLOSING) if state == "cloture" else None
            reached = state in REACHED_STATES or closing in ("complet", "refus") and rng.random() < 0.9
            opened = datetime.combine(start - timedelta(days=7), time(6), PARIS)
            reached_at = None
            if reached:
                day = start + timedelta(days=rng.randrange(-2, 12))
                # A few late in the evening (23:xx, 00:xx in Paris: 21:xx to 23:xx UTC).
                hour = rng.choice([9, 10, 11, 14, 15, 16, 17]) if rng.random() < 0.97 else rng.choice([23, 0])
                reached_at = min(_ts(datetime.combine(day, time(hour, rng.randrange(60)), PARIS)), NOW)
            bilan = state in BILAN_STATES or closing == "complet"
            bilan_at = reached_at + timedelta(days=rng.randrange(0, 6)) if bilan and reached_at else None
            if bilan_at is not None:
                bilan_at = min(bilan_at, NOW)
            closed_at = _ts(datetime.combine(end + timedelta(days=rng.randrange(1, 40)), time(11), PARIS)) \
                if state == "cloture" else None
            if closed_at is not None:
                closed_at = min(closed_at, NOW)
            step = {"email_envoye": 1, "courrier_envoye": 2}.get(state, 0)
            n_attempts = rng.randrange(0, 5) if state != "a_contacter" or rng.random() < 0.5 else 0
            last_at = opened
            for a in range(n_attempts):
                at = min(_ts(datetime.combine(start + timedelta(days=a * 2 + rng.randrange(2)),
                                              time(rng.choice([9, 10, 11, 14, 15, 16])), PARIS)), NOW - timedelta(hours=1))
                outcome = "reached" if reached and a == n_attempts - 1 else rng.choice(["no_answer", "voicemail"])
                attempts.append(dict(case_id=case_id, channel="phone", at=at, advisor_id=adv, outcome=outcome,
                                     direction="outbound", basis="solicitation"))
                last_at = max(last_at, at)
            if state in REACHED_STATES | {"a_contacter"} and age <= 1 and rng.random() < 0.06:
                at = _ts(datetime.combine(NOW.astimezone(PARIS).date() + timedelta(days=rng.randrange(-3, 8)),
                                          time(rng.choice([9, 11, 14, 16]), 30), PARIS))
                appts.append(dict(case_id=case_id, at=at, channel="phone", client_agreed=True, status="scheduled",
                                  advisor_id=adv, created_at=opened, updated_at=opened))
            if reached or state == "cloture":
                for code, _fam in case_contracts:
                    for rc in rng.sample(REQ_CODES, rng.randrange(0, 5)):
                        status = rng.choice(SATISFIED)
                        reqs.append(dict(contract_id=code, code=rc, status=status,
                                         waiver_reason="pièce non exigée par l'assureur" if status == "waived" else None,
                                         updated_at=reached_at or opened))
            if bilan:
                for _ in range(rng.randrange(1, 4)):
                    outcomes.append(dict(case_id=case_id, kind=rng.choice(["satisfied", "complementary_need",
                                                                           "complementary_need", "technical_question"]),
                                         detail="besoin relevé au bilan", created_at=bilan_at or opened))
                for _ in range(rng.randrange(0, 3)):
                    kind_a = rng.choice(["devis", "devis", "rdv", "envoi", "relance"])
                    actions.append(dict(case_id=case_id, kind=kind_a, label="à faire", owner_id=adv,
                                        due_date=(bilan_at or NOW).date() + timedelta(days=rng.randrange(-20, 20)),
                                        status=rng.choice(["open", "open", "done", "cancelled"]),
                                        devis_status=rng.choice([None, "propose", "envoye", "signe", "refuse"])
                                        if kind_a == "devis" else None, created_at=bilan_at or opened))
            # The audit trail: the opening record, then one record per later step (hash-chained).
            steps = [("ouverture", "system:cohort", opened, {"state": [None, "a_contacter"], "cohort_month":
                                                              [None, cohort]})]
            if reached_at:
                steps.append(("record_attempt", "user:bench", reached_at, {"case.state": ["a_contacter", "joint_rdv"]}))
            if state not in ("a_contacter", "joint_rdv"):
                steps.append(("fire_event", "user:bench", max(last_at, closed_at or last_at),
                              {"case.state": ["joint_rdv", state]}))
            head = audit.GENESIS
            for seq, (action, actor, at, changes) in enumerate(steps, start=1):
                rec = audit.record_values(case_id, seq, head, at, actor, action, changes, None)
                head = rec["hash"]
                records.append(tuple(rec[c] for c in ("case_id", "seq", "at", "actor", "action", "changes", "reason",
                                                      "prev_hash", "hash")))
            cases.append((case_id, client_id, agency, cohort, due, start, end, state, closing, adv,
                          rng.randrange(0, 120), step, rng.random() < 0.04, adv is not None and reached, False,
                          reached_at, bilan_at, closed_at, opened, max(last_at, closed_at or opened),
                          len(steps), len(steps), head, families_before))
            links.extend((case_id, code) for code, _ in case_contracts)
            if adv is not None:
                book.case_ids_by_advisor.setdefault(adv, []).append(case_id)
        _write(conn, CLIENT, clients)
        _write(conn, CONTRACT, contracts)
        bulk_insert(conn, CASE, ("id", "client_id", "agency_id", "cohort_month", "due_date", "window_start",
                                 "window_end", "state", "closing_reason", "assigned_advisor_id", "priority",
                                 "escalation_step", "late", "assignment_confirmed", "nothing_elsewhere", "reached_at", "bilan_at",
                                 "closed_at", "created_at", "updated_at", "version", "audit_seq", "audit_head",
                                 "families_before"),
                    cases)
        bulk_insert(conn, CASE_CONTRACT, ("case_id", "contract_id"), links)
        bulk_insert(conn, audit.AUDIT, ("case_id", "seq", "at", "actor", "action", "changes", "reason", "prev_hash",
                                        "hash"), records)
        for table, rows in ((REQUIREMENT, _dedupe(reqs)), (ATTEMPT, attempts), (APPOINTMENT, appts),
                            (OUTCOME, outcomes), (ACTION, actions)):
            _write(conn, table, rows)
        try:  # each case's document counts, as the cohort writes them (migration 0010)
            from store import completeness
        except ImportError:
            completeness = None
        if completeness is not None:
            completeness.refresh_all(conn)
        if engine.dialect.name == "postgresql":
            from sqlalchemy import text
            conn.execute(text("SELECT setval(pg_get_serial_sequence('followup_case', 'id'), :n)"), {"n": n_cases})
    book.counts = {"clients": len(clients), "contracts": len(contracts), "requirements": len(reqs),
                   "attempts": len(attempts), "appointments": len(appts), "outcomes": len(outcomes),
                   "actions": len(actions), "audit records": len(records)}
    _analyze(engine)
    return book


def _dedupe(reqs: list[dict]) -> list[dict]:
    seen, out = set(), []
    for r in reqs:
        key = (r["contract_id"], r["code"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _write(conn, table, rows: list[dict], chunk: int = 20_000) -> None:
    """Rows of dicts with the same keys, through bulk_insert (the driver's executemany)."""
    if not rows:
        return
    columns = tuple(rows[0])
    for s in range(0, len(rows), chunk):
        bulk_insert(conn, table, columns, [tuple(r[c] for c in columns) for r in rows[s:s + chunk]])


def _analyze(engine: Engine) -> None:
    """Fresh planner statistics, as a database in service has (SQLite's ANALYZE, PostgreSQL's autovacuum)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
