"""Fixtures and hooks of the hardening suite (docs/hardening.md).

- The log scan (tests/hardening/logscan.py) is installed as a plugin as soon as this folder is
  collected, so a whole-suite run keeps the log records of every test; the scan itself runs last.
- Each test's figures (throughput, p99, kills survived, examples tried) are printed at the end of
  the run ("hardening figures"), with the profile that produced them.
"""
from __future__ import annotations

import pytest

from tests.hardening import logscan
from tests.hardening.profile import PROFILE

SCAN_TEST = "test_zz_logs__"
_FIGURES: list[tuple[str, str]] = []


class _Plugin:
    """Registered with the plugin manager (not as a conftest), so its hooks see every test of
    the run, inside this folder or not."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        logscan.install()  # Prefect's logging set-up replaces the root logger's handlers

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item):
        logscan.install()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, session, config, items):
        unmarked = [i.nodeid for i in items if "tests/hardening/" in i.nodeid and not i.get_closest_marker("hardening")]
        if unmarked:
            raise pytest.UsageError(f"hardening tests without @pytest.mark.hardening: {unmarked}")
        last = [i for i in items if SCAN_TEST in i.nodeid]
        items[:] = [i for i in items if SCAN_TEST not in i.nodeid] + last

    def pytest_terminal_summary(self, terminalreporter):
        if _FIGURES:
            terminalreporter.write_sep("=", f"hardening figures (profile {PROFILE.name})")
            for test, line in _FIGURES:
                terminalreporter.write_line(f"{test}: {line}")


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("m3-hardening"):
        config.pluginmanager.register(_Plugin(), "m3-hardening")
    logscan.install()


@pytest.fixture
def figures(request):
    """figures("...") records a line for the end-of-run summary (and prints it)."""
    def add(line: str) -> None:
        _FIGURES.append((request.node.name, line))
        print(f"[hardening] {request.node.name}: {line}")
    return add


@pytest.fixture(scope="package")
def zygote(tmp_path_factory):
    from tests.hardening.zygote import Zygote

    z = Zygote(tmp_path_factory.mktemp("zygote"))
    yield z
    z.close()


@pytest.fixture
def pg_database():
    """A PostgreSQL database of the test's own (created, dropped at the end)."""
    from tests.conftest import SKIP_PG
    from tests.hardening.servers import PgDatabase

    if SKIP_PG:
        pytest.skip("M3_TEST_SKIP_POSTGRES=1")
    made = []

    def make(label: str = "db") -> PgDatabase:
        made.append(PgDatabase(label))
        return made[-1]
    yield make
    for db in made:
        db.drop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, pg_database):
    """An empty database URL on SQLite (a file) or PostgreSQL (created for the test)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm3.db'}"
    return pg_database(request.node.name[:12].lower().replace("[", "_").replace("-", "_")).url


class Deployment:
    """Two server processes (uvicorn --workers 2) on one database, seeded for the load."""

    def __init__(self, kind: str, url: str, seeded, server, proxy=None) -> None:
        self.kind, self.url, self.seeded, self.server, self.proxy = kind, url, seeded, server, proxy


@pytest.fixture(scope="package", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def deployment(request, tmp_path_factory):
    """Package-scoped: shared by the load and fault tests, stopped when the run leaves this folder."""
    from tests.conftest import SKIP_PG
    from tests.hardening.pgproxy import PgProxy
    from tests.hardening.servers import PgDatabase, Server, seed

    workdir = tmp_path_factory.mktemp(f"deploy-{request.param}")
    pg = proxy = None
    if request.param == "sqlite":
        url = server_url = f"sqlite:///{workdir / 'm3.db'}"
    else:
        if SKIP_PG:
            pytest.skip("M3_TEST_SKIP_POSTGRES=1")
        pg = PgDatabase("load")
        url = pg.url
        # The servers reach PostgreSQL through the test's TCP proxy, so that the outage test can
        # make it unreachable without touching the shared server (tests/hardening/pgproxy.py).
        proxy = PgProxy().start()
        server_url = pg.url_via(proxy.port)
    try:
        seeded = seed(url, PROFILE.cases)
        server = Server(server_url, workdir, workers=2, label=f"{request.param}-server").start()
        try:
            yield Deployment(request.param, url, seeded, server, proxy)
        finally:
            server.stop()
    finally:
        if proxy is not None:
            proxy.close()
        if pg is not None:
            pg.drop()
