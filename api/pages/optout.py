"""The public opt-out page (/desinscription/<token>): a client opposes marketing emails.

The link comes from a marketing email (notifications/optout_links.py) and is signed, so no
login is needed and the signature, not a CSRF field, authorises the POST:

- GET shows what will happen and one confirm button; it changes nothing (mail scanners and
  link previews open every link of a message);
- POST records the opposition through the write path (RecordOpposition on the case the email
  was about, actor `client:optout`, audited on that case), also when the case is closed;
- the same POST is RFC 8058's one-click unsubscription: a mail client that read the
  `List-Unsubscribe-Post: List-Unsubscribe=One-Click` header POSTs `List-Unsubscribe=One-Click`
  to the link, without cookies, and gets 200.

A second click says the opposition is already recorded. A bad or altered token gets 400 and
changes nothing. Service messages (documents to return, appointment confirmations) still go.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from api.pages.common import render
from notifications import optout_links
from notifications.context import agency_info
from states.commands import RecordOpposition
from states.errors import InvalidChange
from states.optout import ALREADY
from states.records import Channel
from store.errors import CaseNotFound, VersionConflict
from store.snapshot import CASE, CLIENT
from store.write_path import execute

router = APIRouter(prefix=optout_links.PATH, include_in_schema=False)
ACTOR = "client:optout"
CHANNEL_FIELD = {"email": "opposition_email", "letter": "opposition_letter"}


def _load(engine, token: str):
    """(opt-out, agency name, already opposed) for a valid token whose case and client exist, else None."""
    from sqlalchemy import select

    optout = optout_links.read(token)
    if optout is None:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(CASE.c.agency_id, CLIENT.c[CHANNEL_FIELD[optout.channel]].label("opposed"))
                           .join(CLIENT, CLIENT.c.id == CASE.c.client_id)
                           .where(CASE.c.id == optout.case_id, CLIENT.c.id == optout.client_id)).first()
    if row is None:
        return None
    return optout, agency_info(row.agency_id)["name"], bool(row.opposed)


def _invalid(request: Request):
    return render(request, "optout/page.html", {"state": "invalid", "agency_name": None, "token": None},
                  status_code=400)


@router.get("/{token}")
async def confirm_page(request: Request, token: str):
    found = await run_in_threadpool(_load, request.app.state.engine, token)
    if found is None:
        return _invalid(request)
    _, agency_name, opposed = found
    return render(request, "optout/page.html", {"state": "done_before" if opposed else "confirm",
                                                "agency_name": agency_name, "token": token})


def _record(engine, optout: optout_links.OptOut, now) -> str:
    """'done' or 'done_before'; the version is the case's current one (retried if it moves)."""
    from sqlalchemy import select

    for _ in range(3):
        with engine.connect() as conn:
            version = conn.execute(select(CASE.c.version).where(CASE.c.id == optout.case_id)).scalar_one_or_none()
        if version is None:
            raise CaseNotFound(optout.case_id)
        try:
            execute(engine, optout.case_id, version, RecordOpposition(Channel(optout.channel), "lien de désinscription"),
                    ACTOR, now)
            return "done"
        except VersionConflict:
            continue
        except InvalidChange as exc:
            if ALREADY in exc.errors.values():
                return "done_before"
            raise
    raise VersionConflict(optout.case_id, version, -1)


@router.post("/{token}")
async def record(request: Request, token: str):
    found = await run_in_threadpool(_load, request.app.state.engine, token)
    if found is None:
        return _invalid(request)
    optout, agency_name, _ = found
    state = await run_in_threadpool(_record, request.app.state.engine, optout, request.app.state.clock())
    return render(request, "optout/page.html", {"state": state, "agency_name": agency_name, "token": None})
