"""End-to-end tests: the real server (uvicorn, as `m3 serve` runs it) as a subprocess on a free port,
with a temporary data folder and seeded cases, driven in Debian's headless Chromium by Playwright.

Never `playwright install`: the browser is /usr/bin/chromium (apt). Without it the tests are
skipped with that reason, unless M3_E2E_REQUIRED is set (CI), where a missing browser fails.
The server runs on a simulated, frozen clock (M3_TODAY): Wednesday 15 April 2026, 10:30 in Paris.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--lang=fr-FR"]  # French date and time inputs, as on the advisors' machines
SIMULATED = "2026-04-15T10:30:00"
PASSWORD = "mot de passe de démonstration"
SCREENSHOTS = Path(__file__).parent / "screenshots"
ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("M3_E2E_REQUIRED"):
        return  # the browser fixture fails loudly instead
    skip = pytest.mark.skip(reason=f"{CHROMIUM} absent (apt-get install chromium) and M3_E2E_REQUIRED not set")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@dataclass
class Seeded:
    walk: int
    tabs: int
    calls: int
    other_agency: int
    extra: list[int] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(url: str) -> Seeded:
    from api import auth
    from api.roles import Role
    from store.db import make_engine, upgrade
    from tests import factories as f

    engine = make_engine(url)
    upgrade(engine)
    now = datetime(2026, 4, 1, 8, tzinfo=timezone.utc)
    with engine.begin() as conn:
        marg = f.advisor(conn, name="Margaret Hebert", agency_id="corniche", email="margaret.hebert@agence.example")
        other = f.advisor(conn, name="Julien Martin", agency_id="corniche")
        rouv = f.advisor(conn, name="Rose Vidal", agency_id="rouviere")

        def case(adv, agency="corniche", effective=date(2026, 1, 15), product="Auto", **client):
            cl = f.client(conn, advisor_id=adv, agency_id=agency, **client)
            k = f.contract(conn, cl, product=product, effective=effective)
            return f.case(conn, cl, [k], adv, effective=effective, agency_id=agency, now=now)

        walk = case(marg, first_name="Hélène", last_name="Léger", phone="+33611223344",
                    email="helene.leger@example.fr")
        tabs = case(marg, first_name="Marc", last_name="Durand", phone="+33622334455")
        calls = case(marg, first_name="Sophie", last_name="Bernard", phone="+33633445566")
        extra = [
            case(marg, first_name="Louis", last_name="Garnier", phone="+33644556677",
                 effective=date(2026, 2, 2), product="Habitation"),  # window not open yet
            case(marg, kind="entreprise", company_name="Boulangerie Fabre SARL", phone="+33491234567",
                 product="Multirisque professionnelle"),
            case(marg, first_name="Chloé", last_name="Moreau", phone="+33655667788",
                 effective=date(2025, 12, 20)),  # late: its window ended on 27 March
            case(other, first_name="Paul", last_name="Lambert", phone="+33666778899"),
        ]
        other_agency = case(rouv, agency="rouviere", first_name="Nadia", last_name="Roux", phone="+33677889900")
        for name, role, agency, adv in [("marie", Role.ADVISOR, "corniche", marg),
                                        ("rose", Role.ADVISOR, "rouviere", rouv)]:
            auth.create_user(conn, name, role, agency, now, advisor_id=adv)
            auth.set_password(conn, name, PASSWORD, now, 12)
    engine.dispose()
    return Seeded(walk, tabs, calls, other_agency, extra)


@dataclass
class Server:
    base: str
    data: Path
    cases: Seeded


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    data = tmp_path_factory.mktemp("e2e-data")
    url = f"sqlite:///{data / 'm3.db'}"
    cases = _seed(url)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("M3_")}
    env.update(M3_DATA_DIR=str(data), M3_DATABASE_URL=url, M3_TODAY=SIMULATED, PYTHONPATH=str(ROOT))
    log = open(data / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--host",
                             "127.0.0.1", "--port", str(port), "--no-access-log"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the server did not start:\n" + (data / "server.log").read_text()[-3000:])
        time.sleep(0.2)
    yield Server(base, data, cases)
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="package")  # not session: Playwright's sync API holds an event loop in this
def browser():                      # thread, and later tests that run asyncio must find none
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is required (M3_E2E_REQUIRED is set): apt-get install chromium")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    yield b
    b.close()
    pw.stop()


class Counted:
    """A page whose clicks and full page loads are counted (htmx swaps are not page loads)."""

    def __init__(self, page, base: str) -> None:
        self.page, self.base = page, base
        self.clicks = 0
        self.loads = 0
        page.on("load", lambda _: self._loaded())
        page.set_default_timeout(15_000)

    def _loaded(self) -> None:
        self.loads += 1

    def goto(self, path: str):
        return self.page.goto(self.base + path)

    def click(self, locator) -> None:
        self.clicks += 1
        locator.click()

    def version(self) -> int:
        return int(self.page.locator("#case-body").get_attribute("data-version"))

    def record(self, locator) -> None:
        """Click a case form's button and wait for the case body to come back with a new version."""
        before = self.version()
        self.click(locator)
        self.page.wait_for_selector(f'#case-body[data-version="{before + 1}"]')

    def shot(self, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def new_page(browser, server):
    contexts = []

    def make() -> Counted:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        contexts.append(ctx)
        return Counted(ctx.new_page(), server.base)

    yield make
    for ctx in contexts:
        ctx.close()


def login(p: Counted, username: str = "marie") -> None:
    p.goto("/connexion")
    p.page.fill('input[name="username"]', username)
    p.page.fill('input[name="password"]', PASSWORD)
    p.click(p.page.locator('button[type="submit"]', has_text="Se connecter"))
    p.page.wait_for_url("**/dossiers")
