"""Mon compte: who I am, and changing my password (the old one, then the new one twice)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from api import auth, credentials, sessions
from api.pages.common import PageUser, flash, form_of, redirect, render
from api.roles import PERMISSIONS

router = APIRouter(prefix="/compte", include_in_schema=False)

PERMISSION_LABELS = {
    "cases.read": "consulter les dossiers", "cases.write": "travailler les dossiers",
    "cases.reassign": "réassigner des dossiers", "audit.read": "lire les journaux d'audit",
    "audit.export": "exporter les journaux d'audit", "clients.export": "exporter les données d'un client",
    "stats.read": "consulter les statistiques",
}


def _ctx(user, error: str | None = None) -> dict:
    from config import get_settings

    return {"permissions": [PERMISSION_LABELS.get(p, p) for p in PERMISSIONS if user.can(p)],
            "min_length": get_settings().password_min_length, "error": error}


@router.get("")
async def account(request: Request, user: PageUser):
    return render(request, "account/page.html", _ctx(user))


@router.post("/mot-de-passe")
async def change_password(request: Request, user: PageUser):
    from config import get_settings

    form = await form_of(request)
    old, new, again = (str(form.get(k) or "") for k in ("old_password", "new_password", "new_password_again"))
    if new != again:
        return render(request, "account/page.html", _ctx(user, "Les deux saisies du nouveau mot de passe diffèrent."),
                      status_code=422)
    now = request.app.state.clock()
    try:  # the current password is a password check: limited and bounded like the login
        new_hash = await credentials.gate(request.app).change_password(
            user, old, new, credentials.client_address(request), now, get_settings().password_min_length)
    except credentials.Throttled as exc:
        return render(request, "account/page.html", _ctx(user, f"Mot de passe inchangé : trop de tentatives. "
                      f"Réessayez dans {exc.minutes} minute{'s' if exc.minutes > 1 else ''}."),
                      status_code=429, headers={"Retry-After": str(exc.retry_after_s)})
    except auth.UserError as exc:
        return render(request, "account/page.html", _ctx(user, f"Mot de passe inchangé : {exc}."), status_code=422)
    # This session goes on with the new password; every other session of this user ends.
    sessions.open_session(request.session, user.id, new_hash, now)
    flash(request, "Mot de passe changé. Vos autres sessions sont fermées.")
    return redirect("/compte")
