"""French labels of the domain's codes, for every screen (the codes stay English in the data)."""
from __future__ import annotations

from states.lifecycle import EVENTS

CLIENT_KINDS = {"particulier": "Particulier", "professionnel": "Professionnel", "entreprise": "Entreprise"}
CHANNELS = {"phone": "Téléphone", "email": "Email", "letter": "Courrier"}
ATTEMPT_OUTCOMES = {"no_answer": "Pas de réponse", "voicemail": "Messagerie", "wrong_number": "Faux numéro",
                    "reached": "Joint", "appointment": "Rendez-vous pris", "refused": "Refus",
                    "sent": "Envoyé", "replied": "Réponse du client"}
DIRECTIONS = {"outbound": "Sortant", "inbound": "Entrant"}
BASES = {"solicitation": "sollicitation", "appointment": "rendez-vous"}
APPOINTMENT_CHANNELS = {"phone": "Téléphone", "agency": "À l'agence", "video": "Visioconférence"}
APPOINTMENT_STATUS = {"scheduled": "Prévu", "done": "Effectué", "cancelled": "Annulé", "missed": "Manqué"}
REQUIREMENT_STATUS = {"missing": "Manquante", "received": "Reçue", "validated": "Validée", "waived": "Dispensée"}
REQUIREMENT_KINDS = {"signature": "Signature", "document": "Pièce"}
HELD = {"chez_nous": "Chez nous", "ailleurs": "Ailleurs"}
FAMILIES = ("IARD", "Santé", "Prévoyance", "Épargne")
OUTCOME_KINDS = {"satisfied": "Satisfait, sans besoin", "complementary_need": "Besoin complémentaire",
                 "technical_question": "Question technique", "situation_change": "Changement de situation"}
ACTION_KINDS = {"devis": "Devis", "rdv": "Rendez-vous", "envoi": "Envoi de documents", "relance": "Relance",
                "avenant": "Avenant (modification de contrat)", "pieces": "Pièces à obtenir"}
ACTION_STATUS = {"open": "Ouverte", "done": "Terminée", "cancelled": "Annulée"}
DEVIS_STATUS = {"propose": "Proposé", "envoye": "Envoyé", "signe": "Signé", "refuse": "Refusé"}
TOPIC_KINDS = {"question": "Question", "sinistre": "Sinistre"}
TOPIC_STATUS = {"open": "En cours", "answered": "Répondu"}
DECISIONS = {"accepted": "Accepte", "refused": "Refuse", "to_think": "Réfléchit"}
CLOSING_REASONS = {"complet": "complet", "injoignable": "injoignable", "refus": "refus", "sans_suite": "sans suite"}
ESCALATION_STEPS = {1: "Email envoyé", 2: "Courrier envoyé"}
HOUSING = {"owner": "propriétaire", "tenant": "locataire", "hosted": "hébergé"}

# What the audit trail calls a change, in words (an event's label comes from the one table).
AUDIT_ACTIONS = {
    "ouverture": "Ouverture du dossier", "open_case": "Ouverture du dossier",
    "correct_client": "Correction de la fiche", "confirm_assignment": "Agence et conseiller confirmés",
    "reassign": "Réassignation", "record_attempt": "Tentative de contact", "set_requirement": "Signature ou pièce",
    "add_inventory_line": "Ligne d'inventaire", "set_nothing_elsewhere": "Rien ailleurs",
    "add_outcome": "Résultat du bilan", "add_action": "Action planifiée", "update_action": "Action modifiée",
    "book_appointment": "Rendez-vous pris", "move_appointment": "Rendez-vous déplacé",
    "cancel_appointment": "Rendez-vous annulé", "add_note": "Note", "add_topic": "Sinistre ou question",
    "answer_topic": "Réponse à une question", "import_client_changes": "Mise à jour par l'import CRM",
    "join_contracts": "Nouveau contrat rattaché", "redact_audit_record": "Effacement (RGPD)",
    "redaction": "Effacement (RGPD)", "import_crm": "Mise à jour par l'import CRM",
    "accept_suggestion": "Suggestion retenue", "dismiss_suggestion": "Suggestion écartée",
    "update_outcome": "Résultat du bilan complété", "prefill_inventory": "Inventaire : contrats chez nous",
    "send_bilan": "Bilan envoyé au client", "mark_letter_posted": "Courrier posté",
    "record_opposition": "Opposition du client enregistrée",
}


def audit_action(action: str) -> str:
    if action in EVENTS:
        return EVENTS[action].label
    return AUDIT_ACTIONS.get(action, action.replace("_", " "))


def actor(value: str) -> str:
    """'user:marie' -> 'marie'; 'system:cohort' -> 'système (cohort)'."""
    kind, _, who = value.partition(":")
    if kind == "user":
        return who
    if kind == "system":
        return f"système ({who})"
    return value


ALL = {
    "client_kinds": CLIENT_KINDS, "channels": CHANNELS, "attempt_outcomes": ATTEMPT_OUTCOMES,
    "directions": DIRECTIONS, "bases": BASES, "appointment_channels": APPOINTMENT_CHANNELS,
    "appointment_status": APPOINTMENT_STATUS, "requirement_status": REQUIREMENT_STATUS,
    "requirement_kinds": REQUIREMENT_KINDS, "held": HELD, "families": FAMILIES, "outcome_kinds": OUTCOME_KINDS,
    "action_kinds": ACTION_KINDS, "action_status": ACTION_STATUS, "devis_status": DEVIS_STATUS,
    "topic_kinds": TOPIC_KINDS, "topic_status": TOPIC_STATUS, "decisions": DECISIONS,
    "closing_reasons": CLOSING_REASONS, "escalation_steps": ESCALATION_STEPS, "housing": HOUSING,
}
