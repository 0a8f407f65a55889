"""The corrections back to the CRM, on both databases: a CSV in the CRM's own client columns with
the record as Suivi M+3 holds it, formula-safe cells, the rows marked exported (the next export
is empty), a past export downloadable again, and scoped to the manager's agency."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from store.corrections_export import COLUMNS
from store.csv_source import COLUMNS as CRM_COLUMNS
from store.tables import ClientCorrection
from states.commands import CorrectClient
from store.write_path import execute
from tests.integration.pages_support import case_for, html, site, text_of  # noqa: F401

CORRECTION = ClientCorrection.__table__


def _rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())  # UTF-8 with BOM, as spreadsheets and the CRM read it
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_pages__corrections_csv_in_crm_columns_marks_them_exported(site, now):  # noqa: F811
    with site.engine.begin() as conn:
        case_id, client_id, _ = case_for(conn, site.advisors["corniche"], last_name="Corrigé", kind="professionnel")
        other_case, other_client, _ = case_for(conn, site.advisors["rouviere"], agency="rouviere")
    execute(site.engine, case_id, 1, CorrectClient({"phone": "06 99 88 77 66", "activity": "=HYPERLINK(\"x\")",
                                                   "turnover_eur": "310000"}), "user:marie", now)
    execute(site.engine, other_case, 1, CorrectClient({"city": "Aix"}), "user:rose", now)
    b = site.logged_in("paul")
    page = html(b.client.get("/manager/corrections"))
    listed = [text_of(r) for r in page.css("table.data tbody tr")]
    assert len(listed) == 3 and all(client_id in r for r in listed)  # not Rouvière's correction
    token = page.css_first('form[action="/manager/corrections/export"] input[name="csrf_token"]').attributes["value"]

    resp = b.client.post("/manager/corrections/export", data={"csrf_token": token}, follow_redirects=False)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert "attachment" in resp.headers["content-disposition"]
    [line] = _rows(resp.content)
    assert tuple(line) == COLUMNS and set(COLUMNS) <= set(CRM_COLUMNS) | {"client_kind"}
    assert line["client_id"] == client_id and line["client_kind"] == "professionnel"
    assert line["phone"] == "+33699887766"  # stored E.164, a plain number: not touched
    assert line["activity"] == "'=HYPERLINK(\"x\")"  # would run as a formula: made text
    assert line["turnover_eur"] == "310000.00" and line["agency"] == "Corniche"
    assert line["advisor"] == "Conseillère Corniche" and line["last_name"] == "Corrigé"
    with site.engine.connect() as conn:
        marked = dict(conn.execute(select(CORRECTION.c.client_id, CORRECTION.c.exported_at)
                                   .where(CORRECTION.c.field == "phone")).all())
        other = conn.execute(select(CORRECTION.c.exported_at).where(CORRECTION.c.client_id == other_client)).scalar_one()
    assert marked[client_id] == now and other is None  # the other agency's stays to export

    # Nothing new since: no file, a message.
    again = b.client.post("/manager/corrections/export", data={"csrf_token": token}, follow_redirects=True)
    assert again.headers["content-type"].startswith("text/html") and "Aucune correction à exporter" in again.text
    # A new correction of a field already exported is exported again.
    execute(site.engine, case_id, 2, CorrectClient({"city": "Cassis"}), "user:marie", now)
    page = html(b.client.get("/manager/corrections"))
    assert len(page.css("table.data tbody tr")) == 1
    # The past export, downloaded again, marks nothing.
    [link] = [a.attributes["href"] for a in page.css(".previous-exports a")]
    old = b.client.get(link)
    assert old.status_code == 200 and _rows(old.content)[0]["client_id"] == client_id
    assert len(html(b.client.get("/manager/corrections")).css("table.data tbody tr")) == 1
