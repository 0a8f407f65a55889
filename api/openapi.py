"""The OpenAPI contract of the JSON API: the problem document's schema, the error responses each
kind of route can answer (defined once here, named by the route decorators), the permission each
operation needs, and the example request bodies.

A route decorator says, next to its summary and description:

    @router.post("/attempts", summary=..., description=..., response_model=ChangeOut,
                 **op("recordAttempt", *WRITE, permission="cases.write", examples=ATTEMPT_EXAMPLES))

`op()` gives FastAPI the `operation_id`, the error `responses` (problem+json, with one example per
stable `code`, each built by the very functions that answer it: `api.errors.domain_problem`,
`api.errors.problem_response`, the body limit's document), and `openapi_extra`: `x-permission`
and `x-roles` (from `api/roles.py`) and the request body's examples. `install(app)` adds the
`Problem` schema to the components and a "Rôles" line to each description.
`tests/integration/test_api__openapi_contract.py` checks every /api operation against these rules.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from api.roles import AGENCY_ROLES, PERMISSIONS, Role

PROBLEM_JSON = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
PUBLIC = object()  # an operation without authentication (health, readiness, opening a session)

ROLE_LABELS = {Role.ADVISOR: "chargé(e) de clientèle", Role.MANAGER: "responsable d'agence",
               Role.COMPLIANCE: "conformité", Role.ADMIN: "administrateur"}


# ---------------------------------------------------------------- the problem document (RFC 9457)
class FieldError(BaseModel):
    field: str = Field(description="Le champ en cause (`changes.phone`, `page`, `body`…)")
    message: str


class UnmetCondition(BaseModel):
    code: str = Field(description="Nom stable de la condition, ex. `email` ou `CTR000000142.carte_grise`")
    message: str


class Problem(BaseModel):
    """Toute erreur de l'API (`application/problem+json`, RFC 9457). `code` est stable (les clients
    s'y fient), `title` et `detail` sont en français, pour les personnes ; les autres membres disent
    quoi faire."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URN stable construite sur `code` : `urn:suivi-m3:problem:<code>`")
    code: str = Field(description="Identifiant stable de l'erreur (`version_conflict`, `guard_failed`…)")
    title: str = Field(description="Intitulé du statut HTTP, en français")
    status: int = Field(description="Le statut HTTP")
    detail: str = Field(description="Ce qui s'est passé, en français")
    instance: str | None = Field(None, description="Le chemin de la requête")
    errors: list[FieldError] | None = Field(None, description="`invalid_payload`, `invalid_change` : chaque "
                                                              "champ refusé et pourquoi")
    errors_omitted: int | None = Field(None, description="Erreurs de validation non listées (liste bornée)")
    unmet: list[UnmetCondition] | None = Field(None, description="`guard_failed` : chaque condition manquante")
    allowed: list[str] | None = Field(None, description="`event_not_allowed` : les événements possibles "
                                                        "depuis l'état")
    event: str | None = None
    state: str | None = None
    current_version: int | None = Field(None, description="`version_conflict` : la version actuelle (aussi "
                                                          "dans l'en-tête ETag) ; relire le dossier")
    expected_version: int | None = Field(None, description="`version_conflict` : la version envoyée dans "
                                                           "If-Match")
    reasons: list[str] | None = Field(None, description="`calling_rules` : chaque règle d'appel enfreinte")
    case_id: int | None = None
    permission: str | None = Field(None, description="`forbidden` : le droit qui manque au rôle")
    limit_bytes: int | None = Field(None, description="`payload_too_large` : la taille maximale du corps")
    retry_after_s: int | None = Field(None, description="`too_many_attempts` : secondes à attendre (aussi dans "
                                                        "l'en-tête Retry-After)")


# ---------------------------------------------------------------- one example per code
_STATUS_TEXT = {
    401: "Non authentifié : jeton absent, invalide, révoqué ou expiré",
    403: "Interdit : le rôle ne le permet pas, ou jeton CSRF absent pour une session",
    404: "Introuvable (ou hors de l'agence de l'utilisateur : même réponse)",
    409: "Conflit : événement impossible depuis l'état, ou version périmée (relire le dossier)",
    412: "If-Match illisible",
    413: "Corps de requête trop volumineux",
    422: "Requête refusée : données invalides, changement impossible, conditions manquantes ou règles d'appel",
    428: "If-Match manquant : toute écriture renvoie la version lue",
    429: "Trop d'échecs d'authentification : attendre `Retry-After` secondes",
    503: "Base de données indisponible : renvoyer la requête après `Retry-After` secondes",
}
TOO_MANY = "too_many_attempts"  # the 429 of the token rate limit (api/credentials.py, api/deps.py)


@lru_cache(maxsize=1)
def problem_examples() -> dict[str, dict[str, Any]]:
    """code -> the problem document the API answers for it (as sent, with `instance`)."""
    from api.body_limit import _problem as too_large
    from api.errors import Problem as Raised, domain_problem, problem_response
    from states.errors import CallingRulesViolation, GuardFailed, InvalidChange, Unmet
    from states.lifecycle import EventNotAllowed, allowed_events
    from store.errors import CaseNotFound, VersionConflict

    case = "/api/cases/85"
    raised = {
        "unauthenticated": Raised(401, "unauthenticated", "authentification requise (Authorization: Bearer m3_…)"),
        "invalid_token": Raised(401, "invalid_token", "jeton invalide, révoqué ou expiré"),
        "forbidden": Raised(403, "forbidden", "le rôle compliance ne permet pas cette opération",
                            permission="cases.write"),
        "csrf": Raised(403, "csrf", "en-tête X-CSRF-Token manquant ou faux pour une session"),
        "forbidden_agency": Raised(403, "forbidden_agency", "statistiques de l'agence rouviere hors de votre "
                                                           "périmètre"),
        "case_not_found": domain_problem(CaseNotFound(85)),
        "client_not_found": Raised(404, "client_not_found", "client CLI00000042 introuvable"),
        "bilan_not_found": Raised(404, "bilan_not_found", "bilan n° 2 introuvable dans le dossier 85", case_id=85,
                                  seq=2),
        "event_not_allowed": domain_problem(EventNotAllowed("cloturer", "a_contacter", allowed_events("a_contacter"))),
        "version_conflict": domain_problem(VersionConflict(85, 3, 5)),
        "if_match_invalid": Raised(412, "if_match_invalid", "If-Match illisible : attendu un ETag comme \"3\""),
        "if_match_required": Raised(428, "if_match_required", "en-tête If-Match obligatoire : renvoyez l'ETag lu "
                                                              "avec GET /api/cases/{id}"),
        "invalid_payload": Raised(422, "invalid_payload", "données invalides : outcome", errors=[
            {"field": "outcome", "message": "Input should be 'no_answer', 'voicemail', 'wrong_number', 'reached', "
                                            "'appointment', 'refused', 'sent' or 'replied'"}]),
        "invalid_change": domain_problem(InvalidChange({"phone": "téléphone invalide pour la région FR : '06 12 34'"})),
        "guard_failed": domain_problem(GuardFailed("finaliser_contrats", [
            Unmet("CTR000000142.carte_grise", "Carte grise : manquant (contrat CTR000000142)"),
            Unmet("CTR000000142.dp", "Dispositions particulières (DP) signées : manquant (contrat CTR000000142)")])),
        "calling_rules": domain_problem(CallingRulesViolation(["pas d'appel le week-end (samedi 21/11/2026)"])),
        TOO_MANY: Raised(429, TOO_MANY, "trop de tentatives d'authentification échouées : réessayez dans 60 s",
                         title="Trop de tentatives", retry_after_s=60),
        "database_unavailable": Raised(503, "database_unavailable", "base de données momentanément indisponible ; "
                                                                    "renvoyez la requête"),
        "schema_outdated": Raised(503, "schema_outdated", "schéma en version 0009, attendu 0012 : lancez "
                                                          "`m3 db upgrade`", current="0009", head="0012"),
    }
    where = {"client_not_found": "/api/clients/CLI00000042/export", "forbidden_agency": "/api/stats",
             "schema_outdated": "/api/ready", "invalid_token": "/api/me", "unauthenticated": "/api/me",
             TOO_MANY: "/api/me"}
    out = {code: json.loads(problem_response(p, where.get(code, case)).body) for code, p in raised.items()}
    out["payload_too_large"] = json.loads(too_large(1_000_000))
    return out


def responses(*codes: str) -> dict[int, dict[str, Any]]:
    """The error responses answering these codes, grouped by status, each with its examples."""
    examples = problem_examples()
    unknown = [c for c in codes if c not in examples]
    if unknown:
        raise KeyError(f"no example problem for {unknown}")
    out: dict[int, dict[str, Any]] = {}
    for code in dict.fromkeys(codes):  # once each, in the order given
        doc = examples[code]
        entry = out.setdefault(doc["status"], {
            "description": _STATUS_TEXT.get(doc["status"], doc["title"]),
            "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}, "examples": {}}}})
        entry["content"][PROBLEM_JSON]["examples"][code] = {"summary": doc["detail"][:120], "value": doc}
    return dict(sorted(out.items()))


# ---------------------------------------------------------------- the sets the routes share
AUTH = ("unauthenticated", "invalid_token", TOO_MANY, "database_unavailable")  # every authenticated route
BODY = ("payload_too_large", "invalid_payload")  # a route that reads a body
READ = AUTH + ("invalid_payload",)  # a read with parameters
READ_CASE = READ + ("case_not_found",)  # a read of one case (404 also outside the user's agency)
# Every change to a case: the one write path behind If-Match (api.access.change/perform).
WRITE = AUTH + ("csrf", "case_not_found", "event_not_allowed", "version_conflict", "if_match_invalid",
                "if_match_required", "invalid_payload", "invalid_change", "guard_failed", "calling_rules",
                "payload_too_large")


def roles_of(permission: str | None) -> list[Role]:
    """The roles that may call an operation needing `permission` (None: any authenticated user)."""
    return list(Role) if permission is None else [r for r in Role if r in PERMISSIONS[permission]]


def op(operation_id: str, *codes: str, permission: Any = PUBLIC, examples: dict[str, Any] | None = None,
       success: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The decorator keywords documenting one operation (see the module's docstring).

    `permission`: a key of api.roles.PERMISSIONS, None for any authenticated user, PUBLIC (the
    default) for no authentication. A permission some role lacks adds 403 `forbidden`.
    `examples`: name -> request body (each becomes {summary, value}; a (summary, value) pair names
    it); by default the operation's entry in api/openapi_examples.py.
    `success`: other success responses (a PDF, a CSV), merged with the errors.
    """
    from api.openapi_examples import EXAMPLES

    examples = EXAMPLES.get(operation_id) if examples is None else examples
    if not re.fullmatch(r"[a-z][A-Za-z0-9]+", operation_id):
        raise ValueError(f"operationId {operation_id!r}: camelCase expected")
    extra: dict[str, Any] = {}
    if permission is not PUBLIC:
        roles = roles_of(permission)
        if len(roles) < len(Role):
            codes = codes + ("forbidden",)
        if permission is not None:
            extra["x-permission"] = permission
        extra["x-roles"] = [r.value for r in roles]
    if examples:
        named = {}
        for name, value in examples.items():
            summary, value = value if isinstance(value, tuple) else (name.replace("_", " "), value)
            named[name] = {"summary": summary, "value": value}
        extra["requestBody"] = {"content": {"application/json": {"examples": named}}}
    return {"operation_id": operation_id, "responses": {**(success or {}), **responses(*codes)},
            "openapi_extra": extra}


def camel_case_id(route: APIRoute) -> str:
    """The fallback operationId of an /api route without one: its function's name in camelCase
    (`record_attempt` -> `recordAttempt`). Every route of api/routes names its own."""
    head, *rest = [p for p in route.name.split("_") if p]
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _roles_sentence(operation: dict[str, Any]) -> str:
    if "x-roles" not in operation:
        return "Sans authentification."
    roles = [Role(r) for r in operation["x-roles"]]
    who = "tout utilisateur authentifié" if len(roles) == len(Role) else ", ".join(ROLE_LABELS[r] for r in roles)
    scoped = [ROLE_LABELS[r] for r in roles if r in AGENCY_ROLES]
    scope = f" ; {' et '.join(scoped)} : leur agence seulement" if scoped and "x-permission" in operation else ""
    return f"Rôles : {who}{scope}."


def _if_match_required(operation: dict[str, Any]) -> None:
    """If-Match is declared optional so that its absence answers 428 (not FastAPI's 422), but
    every write needs it: the contract says required."""
    for param in operation.get("parameters", []):
        if param.get("in") == "header" and param.get("name") == "If-Match" and "428" in operation["responses"]:
            param["required"] = True
            param["schema"] = {"type": "string"}
            param["example"] = '"3"'


def install(app: FastAPI) -> None:
    """Add the Problem schema to the components and the roles to each /api description."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        defs = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(defs.pop("$defs", {}))
        components["Problem"] = defs
        for path, item in schema.get("paths", {}).items():
            for operation in item.values():
                if path.startswith("/api/") and isinstance(operation, dict) and "operationId" in operation:
                    text = operation.get("description", "").rstrip()
                    operation["description"] = (text + "\n\n" if text else "") + _roles_sentence(operation)
                    _if_match_required(operation)
                    for response in operation.get("responses", {}).values():
                        if response.get("description") == "Successful Response":
                            response["description"] = "Succès"
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
