"""A new contract of a client whose case is open joins that case (domain.md, "Which clients a cohort takes").

A client is called once for a burst of new contracts, not once per contract. What the joined
contract's signatures and documents become depends on where the case is:
- *contrats finalisés* not passed yet (à contacter, joint/RDV, fiche validée, email or courrier
  envoyé): they are part of that step. The guard `contracts_complete` reads every contract of
  the case, so the new one counts without anything else to write.
- step passed (contrats finalisés, bilan fait, actions planifiées): the step is not reopened;
  what is missing becomes one open *pièces à obtenir* action, owner the case's advisor, due on
  `cmd.pieces_due`. It is open, so the case cannot close (`cloturer` and `cloturer_satisfait`
  need every action finished) until the pieces are obtained, or the action cancelled with the
  trail saying by whom.
The change is audited on the case like any other (before/after of its contract list).
"""
from __future__ import annotations

from datetime import datetime

from states import requirements
from states.calls import pieces_label
from states.commands import JoinContracts
from states.effects import Effects, Insert, Row
from states.errors import InvalidChange
from states.lifecycle import BEFORE_FINALISATION, State
from states.records import ActionKind, ActionStatus, CaseSnapshot

ACTION = "rattacher_contrats"


def join_contracts(case: CaseSnapshot, cmd: JoinContracts, now: datetime) -> Effects:
    if not cmd.contracts:
        raise InvalidChange({"contracts": "aucun contrat à rattacher"})
    state = State(case.state)
    if state is State.CLOTURE:
        raise InvalidChange({"state": "dossier clôturé : un nouveau contrat ne s'y rattache pas"})
    before = list(case.contract_ids)
    already = [k.id for k in cmd.contracts if k.id in before]
    if already:
        raise InvalidChange({"contracts": f"déjà dans ce dossier : {', '.join(already)}"})
    new_ids = [k.id for k in cmd.contracts]
    if len(set(new_ids)) != len(new_ids):
        raise InvalidChange({"contracts": "un contrat est donné deux fois"})
    fx = Effects(action=ACTION)
    fx.inserts.extend(Insert(Row.CASE_CONTRACT, {"contract_id": k}) for k in new_ids)
    fx.changes["contracts"] = [before, before + new_ids]
    if state in BEFORE_FINALISATION:
        fx.reason = "nouveau contrat du client : ses signatures et pièces comptent pour « contrats finalisés »"
        return fx
    missing = [{"contract_id": k.id, "product": k.product, "code": item.code, "label": item.label}
               for k in cmd.contracts for item in requirements.checklist(k, case.client.kind) if not item.satisfied]
    fx.reason = ("nouveau contrat du client après « contrats finalisés » : "
                 + ("pièces à obtenir" if missing else "rien ne manque"))
    if missing:
        row = {"kind": ActionKind.PIECES.value, "owner_id": case.assigned_advisor_id, "due_date": cmd.pieces_due,
               "label": pieces_label(missing), "status": ActionStatus.OPEN.value, "created_at": now}
        fx.inserts.append(Insert(Row.ACTION, row))
        fx.changes["action"] = [None, {"kind": row["kind"], "owner_id": row["owner_id"],
                                       "due_date": cmd.pieces_due.isoformat(), "label": row["label"],
                                       "status": row["status"],
                                       "missing": [f"{m['contract_id']}.{m['code']}" for m in missing]}]
    return fx
