"""`m3 cohort`, `m3 escalate`, `m3 remind`, `m3 worker`: the three flows and the scheduler.

Each answers in seconds: through Prefect when a Prefect server is configured (M3_PREFECT_API_URL
or PREFECT_API_URL), in-process otherwise; the output says which. `--today YYYY-MM-DD` replays
or simulates a day. With `--json`, standard output carries only the JSON; the rest goes to
standard error.
"""
from __future__ import annotations

import json
import sys
from datetime import date

import typer

from cli.main import app


def _check_date(value: str | None) -> str | None:
    """A YYYY-MM-DD date; from M3_TODAY (the simulated date) a full ISO datetime gives its day."""
    if not value:
        return None
    try:
        if len(value.strip()) > 10:
            from api.simulated import simulated_day
            return simulated_day(value).isoformat()
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise typer.BadParameter(f"date attendue au format AAAA-MM-JJ, pas {value!r}") from None


def _check_month(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        date.fromisoformat(f"{value}-01")
    except ValueError:
        raise typer.BadParameter(f"mois attendu au format AAAA-MM, pas {value!r}") from None
    return value


TODAY = typer.Option(None, "--today", envvar="M3_TODAY", callback=_check_date,
                     help="Date du passage, AAAA-MM-JJ (par défaut : M3_TODAY, la date simulée, sinon aujourd'hui "
                          "à Paris)")


def _report(text: str, how: str, to_stderr: bool) -> None:
    out = sys.stderr if to_stderr else sys.stdout
    if text:
        print(text.rstrip(), file=out)
    print(f"[{how}]", file=out)


@app.command("cohort")
def cohort(
    month: str = typer.Option(None, "--month", callback=_check_month,
                              help="Mois de la cohorte AAAA-MM (par défaut : les cohortes ouvertes à --today, celle "
                                   "du mois et, à moins de M3_COHORT_LEAD_DAYS jours de son début, celle du mois "
                                   "suivant)"),
    today: str = TODAY,
    dry_run: bool = typer.Option(False, "--dry-run", help="Montrer ce qui serait créé, sans rien écrire"),
    as_json: bool = typer.Option(False, "--json", help="Afficher le passage en JSON sur la sortie standard : "
                                                       "résumé, dossiers, contrats rattachés à un dossier ouvert, "
                                                       "contrats écartés (avec le dossier qui couvre chacun et "
                                                       "pourquoi)"),
) -> None:
    """Ouvrir les dossiers M+3 dus : un par client dont des contrats ont pris effet trois mois plus tôt.

    Un dossier par client ayant des contrats échus dans le mois, avec le rattrapage du mois précédent.
    Un nouveau contrat d'un client déjà suivi rejoint son dossier ouvert, ou il est écarté avec le motif.
    Une deuxième exécution n'ouvre rien de plus.
    """
    from flows.runner import run

    result, markdown, how = run("cohort", month=month, today=today, dry_run=dry_run)
    _report(markdown or _cohort_text(result["summary"]), how, as_json)
    if as_json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")


def _cohort_text(s: dict) -> str:
    verb = "à créer (simulation)" if s["dry_run"] else "créés"
    return (f"Cohorte {s['month']} : {s['cases']} dossiers {verb}, {s['late']} rattrapés, {s['contracts']} contrats, "
            f"{s['joined_contracts']} rattachés à un dossier ouvert, {s['skipped_contracts']} écartés\n"
            f"par agence : {s['by_agency']}\npar famille : {s['by_family']}")


def _daily(flow: str, today: str | None, as_json: bool) -> None:
    from flows.runner import run

    result, markdown, how = run(flow, today=today)
    _report(markdown or json.dumps(result["summary"], ensure_ascii=False), how, as_json)
    if as_json:
        print(json.dumps(result, ensure_ascii=False))


AS_JSON = typer.Option(False, "--json", help="Afficher le passage en JSON sur la sortie standard (le reste sur la "
                                              "sortie d'erreur)")


@app.command("escalate")
def escalate(today: str = TODAY, as_json: bool = AS_JSON) -> None:
    """Relance quotidienne : appels sans réponse -> email -> courrier -> injoignable (jours ouvrés).

    Compte les jours ouvrés depuis la dernière tentative ; les notifications partent avec `m3 send`.
    """
    _daily("escalation", today, as_json)


@app.command("remind")
def remind(today: str = TODAY, as_json: bool = AS_JSON) -> None:
    """Rappels quotidiens : dossiers en retard, récapitulatif hebdomadaire, actions échues, pièces manquantes."""
    _daily("reminders", today, as_json)


@app.command("worker")
def worker(port: int = typer.Option(None, help="Port du serveur Prefect local, quand il est démarré "
                                               "(par défaut : M3_PREFECT_PORT, 4200)")) -> None:
    """Lancer les traitements planifiés (cohorte, relances et rappels, envoi), heure de Paris.

    Sans serveur Prefect configuré, un serveur Prefect local démarre (SQLite, dans le répertoire des données).
    Ctrl-C arrête tout.
    """
    from config import get_settings
    from flows.worker import main

    raise typer.Exit(main(port or get_settings().prefect_port))
