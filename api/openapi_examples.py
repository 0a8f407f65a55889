"""Example request bodies of the JSON API, per operationId: what Swagger UI (/docs) offers to
send and what a client generator shows. `api.openapi.op` attaches them to their operation.

French domain values in the demo book's style (`store/demo_book.py`): agencies `corniche` and
`rouviere`, contracts `CTR…`, clients `CLI…`, the requirement and suggestion codes of
`states/data/`, November 2026 as in the README's walk. Each example must validate against its
route's body model: tests/integration/test_api__openapi_contract.py checks it, and sends each
one to the server.
"""
from __future__ import annotations

from typing import Any

Examples = dict[str, Any]  # name -> body, or name -> (summary, body)

EXAMPLES: dict[str, Examples] = {
    "openSession": {
        "jeton": ("Le jeton donné par `m3 user add`", {"token": "m3_7Hq2xV9c.pZ3k8sW1-eXampleSecretNotReal"}),
    },
    "fireEvent": {
        "sans_motif": ("La plupart des événements (valider_fiche, finaliser_contrats…)", {}),
        "classer_sans_suite": ("Classer sans suite : le motif est obligatoire",
                               {"reason": "Contrat résilié par le client avant l'appel"}),
    },
    "correctClient": {
        "coordonnees": ("Coordonnées corrigées au téléphone",
                        {"phone": "06 12 34 56 78", "email": "helene.martin@orange.fr",
                         "reason": "Corrigé au téléphone avec la cliente"}),
        "situation": ("Situation du foyer (bilan)",
                      {"housing_status": "tenant", "children_at_home": 2, "vehicles": 1,
                       "marital_status": "marié(e)"}),
        "opposition": ("Opposition aux emails commerciaux", {"opposition_email": True,
                                                             "reason": "Demande de la cliente"}),
    },
    "confirmAssignment": {
        "agence_et_conseiller": ("Agence et chargé de clientèle confirmés", {"agency_id": "corniche",
                                                                            "advisor_id": 3}),
    },
    "recordAttempt": {
        "pas_de_reponse": ("Appel sortant sans réponse", {"channel": "phone", "outcome": "no_answer",
                                                          "at": "2026-11-19T10:15:00+01:00"}),
        "joint": ("Client joint", {"channel": "phone", "outcome": "reached", "at": "2026-11-20T10:15:00+01:00"}),
        "appel_entrant": ("Le client rappelle (jamais restreint)", {"channel": "phone", "outcome": "reached",
                                                                    "direction": "inbound"}),
        "au_rendez_vous": ("Appel au rendez-vous accepté", {"channel": "phone", "outcome": "reached",
                                                            "basis": "appointment", "appointment_id": 12}),
        "refus": ("Le client refuse le suivi (clôt le dossier)", {"channel": "phone", "outcome": "refused"}),
        "email_envoye": ("Email envoyé", {"channel": "email", "outcome": "sent"}),
    },
    "setRequirement": {
        "validee": ("Pièce validée", {"status": "validated"}),
        "dispensee": ("Pièce dispensée, avec le motif",
                      {"status": "waived",
                       "waiver_reason": "Relevé d'information transmis directement par l'ancien assureur"}),
    },
    "addInventoryLine": {
        "ailleurs": ("Contrat détenu ailleurs", {"family": "IARD", "product": "Habitation", "held": "ailleurs",
                                                 "insurer": "MAIF", "renewal_date": "2027-03-01"}),
        "chez_nous": ("Contrat chez nous", {"family": "Prévoyance", "product": "Prévoyance individuelle",
                                           "held": "chez_nous"}),
    },
    "setNothingElsewhere": {
        "rien_ailleurs": ("Le client n'a rien ailleurs", {"value": True}),
    },
    "addOutcome": {
        "besoin": ("Besoin complémentaire", {"kind": "complementary_need",
                                            "detail": "Habitation à revoir : logement loué depuis septembre",
                                            "client_decision": "to_think"}),
        "question": ("Question technique, avec sa réponse",
                     {"kind": "technical_question", "answer": "La franchise bris de glace est de 0 € avec "
                                                              "l'option choisie", "topic_id": 4}),
        "satisfait": ("Client satisfait, sans besoin", {"kind": "satisfied"}),
    },
    "addAction": {
        "devis": ("Devis à préparer", {"kind": "devis", "due_date": "2026-12-05", "label": "Devis habitation",
                                       "owner_id": 3}),
        "rappel": ("Relance", {"kind": "relance", "due_date": "2026-12-01", "label": "Relancer pour le RIB"}),
    },
    "updateAction": {
        "terminee": ("Action terminée", {"status": "done"}),
        "replanifiee": ("Replanifiée", {"due_date": "2026-12-12"}),
        "devis_envoye": ("Devis envoyé au client", {"devis_status": "envoye"}),
    },
    "reassignCases": {
        "conges": ("Deux dossiers confiés à un collègue",
                   {"items": [{"case_id": 85, "version": 4, "advisor_id": 5},
                              {"case_id": 91, "version": 2, "advisor_id": 5}],
                    "reason": "Congés de Margaret Hebert"}),
    },
    "reassignCase": {
        "un_dossier": ("Un dossier confié à un collègue", {"advisor_id": 5, "reason": "Client suivi par Louis Dupont"}),
    },
    "bookAppointment": {
        "telephone": ("Rendez-vous téléphonique accepté", {"at": "2026-11-24T17:30:00+01:00", "channel": "phone",
                                                          "client_agreed": True}),
        "agence": ("À l'agence, avec un autre conseiller", {"at": "2026-11-26T10:00:00+01:00", "channel": "agency",
                                                           "client_agreed": True, "advisor_id": 5}),
    },
    "moveAppointment": {
        "deplace": ("Nouvelle date", {"at": "2026-11-26T12:30:00+01:00",
                                      "reason": "La cliente a un empêchement mardi"}),
    },
    "cancelAppointment": {
        "annule": ("Motif obligatoire", {"reason": "Le client rappellera après son déménagement"}),
    },
    "addNote": {
        "note": ("Une note (jamais de santé)", {"text": "Préfère être appelée entre 12 h et 14 h ; souhaite un "
                                                        "devis pour la maison de sa mère."}),
    },
    "addTopic": {
        "sinistre": ("Un sinistre depuis la souscription",
                     {"kind": "sinistre", "occurred_on": "2026-10-02",
                      "summary": "Bris de glace sur le véhicule, déclaré le 3 octobre"}),
        "question": ("Une question du client", {"kind": "question",
                                                "summary": "La garantie couvre-t-elle le prêt du véhicule ?"}),
    },
    "answerTopic": {
        "reponse": ("La réponse donnée", {"answer": "Oui : tout conducteur autorisé est couvert, franchise "
                                                    "jeune conducteur en plus"}),
    },
    "acceptSuggestion": {
        "avec_devis": ("Retenue, devis planifié dans la même écriture",
                       {"client_decision": "accepted", "create_devis": {"due_date": "2026-12-01",
                                                                        "label": "Devis habitation"}}),
        "a_reflechir": ("Retenue, le client réfléchit (la réponse propose le devis)",
                        {"client_decision": "to_think", "detail": "Habitation : locataire, assuré par le bailleur ?"}),
    },
    "dismissSuggestion": {
        "ecartee": ("Motif obligatoire", {"reason": "Déjà assurée ailleurs, échéance en mars"}),
    },
    "updateOutcome": {
        "decision": ("Décision du client et devis lié", {"client_decision": "accepted", "action_id": 7}),
    },
    "sendBilan": {
        "adresse_du_client": ("À l'adresse du client", {}),
        "autre_adresse": ("À une autre adresse", {"to": "helene.martin@orange.fr"}),
    },
}
