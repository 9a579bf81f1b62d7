"""The `omtanke` command: serve, chat, ask, check, manifest, export, backup, restore, erase-user."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.backends import data_source
from bot.settings import Settings, SettingsError
from knowledge.errors import KnowledgeDataError
from knowledge.model import Answer
from knowledge.skallkrav import CheckContext
from presentation.cards import CardError
from presentation.texts import Texts, TextsError
from storage.errors import StoreError

# Errors that mean a data or configuration file is damaged; each message names the file.
STARTUP_ERRORS = (StoreError, KnowledgeDataError, TextsError, CardError)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one sub-command."""
    parser = argparse.ArgumentParser(
        prog="omtanke", description="Omtanke – nära vård i Halland, i Teams."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="kör HTTP-tjänsten för Teams (POST /api/messages, GET /healthz)")
    sub.add_parser("chat", help="prata med Omtanke i terminalen, utan Teams eller nätverk")
    ask = sub.add_parser("ask", help="ett svar ur kunskapsbasen")
    ask.add_argument(
        "question", nargs="?", help="frågan; utelämnad med --json läses en fråga per rad från stdin"
    )
    ask.add_argument("--json", action="store_true", help="skriv ett JSON-objekt per fråga")
    ask.add_argument("--locale", default="sv", choices=("sv", "en"))
    check = sub.add_parser(
        "check", help="kontrollera skallkraven för ett förslag (exportformat, JSON)"
    )
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true")
    manifest = sub.add_parser("manifest", help="bygg och validera Teams-appaketet")
    manifest.add_argument("--out", type=Path, default=Path("appPackage.zip"))
    export = sub.add_parser(
        "export", help="exportera alla förslag med status och beslut (för samordnarna)"
    )
    export.add_argument("--format", choices=("csv", "json", "docx"), default="csv")
    export.add_argument("--out", type=Path, default=None, help="fil att skriva till")
    report = sub.add_parser(
        "report", help="portföljen som en HTML-sida med diagram (öppnas utan nätverk)"
    )
    report.add_argument("--out", type=Path, default=Path("portfolio.html"))
    escalations = sub.add_parser(
        "escalations", help="frågor som användare har skickat vidare till samordnarna"
    )
    escalations.add_argument("--json", action="store_true")
    erase = sub.add_parser(
        "erase-user", help="ta bort en persons uppgifter (tjänsten måste vara stoppad)"
    )
    erase.add_argument("email", nargs="?", help="personens e-postadress")
    erase.add_argument("--aad", help="personens Entra-objekt-id, i stället för e-post")
    backup = sub.add_parser("backup", help="säkerhetskopiera datamappen, även medan tjänsten kör")
    backup.add_argument("dir", type=Path, help="en ny eller tom mapp")
    restore = sub.add_parser(
        "restore", help="återställ en säkerhetskopia (tjänsten måste vara stoppad)"
    )
    restore.add_argument("dir", type=Path, help="mappen som omtanke backup skrev")
    restore.add_argument(
        "--replace", action="store_true", help="ersätt data som redan finns (sparas först)"
    )
    args = parser.parse_args(argv)

    try:
        settings = Settings.from_env()
    except SettingsError as err:
        print(f"Fel i konfigurationen: {err}", file=sys.stderr)
        return 2

    if args.command == "serve":
        return _serve(settings)
    try:
        if args.command == "chat":
            from bot.chat import main as chat_main

            return chat_main(settings)
        if args.command == "ask":
            return _ask(settings, args.question, args.json, args.locale, sys.stdin, sys.stdout)
        if args.command == "check":
            return _check(settings, args.file, args.json)
    except STARTUP_ERRORS as err:
        # A damaged data or configuration file: one line naming the file, not a traceback.
        print(f"Kunde inte starta: {err}", file=sys.stderr)
        return 1
    if args.command == "manifest":
        from manifest.build import cli_main

        return cli_main(["--out", str(args.out)], dict(os.environ))
    if args.command == "export":
        from bot.export import run_export

        return run_export(
            data_source(settings),
            args.format,
            args.out,
            sys.stdout,
            sys.stderr,
            _check_context(settings),
        )
    if args.command == "report":
        from bot.report import run_report

        return run_report(data_source(settings), args.out, sys.stdout, sys.stderr)
    if args.command == "escalations":
        return _escalations(settings, args.json, sys.stdout, sys.stderr)
    if args.command in ("erase-user", "backup", "restore"):
        return _data_admin(settings, args)
    parser.error(f"unknown command {args.command}")
    return 2


def _escalations(settings: Settings, as_json: bool, stdout: TextIO, stderr: TextIO) -> int:
    """List the questions passed on to the coordinators, oldest first (from a snapshot of the
    data folder, so also while the service runs)."""
    import asyncio

    from bot.backends import data_source, open_checked

    async def read() -> list[dict[str, object]]:
        records = await open_checked(data_source(settings))
        try:
            return await records.escalations.all()
        finally:
            await records.close()

    try:
        rows = sorted(asyncio.run(read()), key=lambda r: (str(r.get("at", "")), str(r["id"])))
    except StoreError as error:
        stderr.write(f"Kunde inte läsa datamappen: {error}\n")
        return 1
    for row in rows:
        if as_json:
            stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            stdout.write(f"{str(row.get('at', ''))[:16]}  {row.get('question', '')}\n")
    if not rows and not as_json:
        stdout.write("Inga frågor har skickats vidare.\n")
    return 0


def _data_admin(settings: Settings, args: argparse.Namespace) -> int:
    """erase-user, backup and restore (bot.data_admin)."""
    from bot import data_admin

    azure = settings.azure if settings.storage == "azure" else None
    if args.command == "backup":
        return data_admin.run_backup(
            settings.data_dir, args.dir, sys.stdout, sys.stderr, azure=azure
        )
    if args.command == "restore":
        return data_admin.run_restore(
            args.dir, settings.data_dir, args.replace, sys.stdout, sys.stderr, azure=azure
        )
    people = [p for p in (settings.rug_members_path, settings.admins_path) if p is not None]
    return data_admin.run_erase(
        settings.data_dir, args.email, args.aad, people, sys.stdout, sys.stderr, azure=azure
    )


def _serve(settings: Settings) -> int:
    from aiohttp import web

    from bot.app import create_app

    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        app = create_app(settings)
        web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    except Exception as err:  # start-up failures (corrupt store, bad data file) end here
        logging.getLogger("omtanke").error("could not start: %s", err)
        return 1
    return 0


def _load_kb(settings: Settings):  # type: ignore[no-untyped-def]
    from bot.services import load_directories, load_knowledge

    groups, _rug, _admins = load_directories(settings)
    return load_knowledge(groups)


def _ask(
    settings: Settings,
    question: str | None,
    as_json: bool,
    locale: str,
    stdin: TextIO,
    stdout: TextIO,
) -> int:
    kb = _load_kb(settings)
    if question is None and not as_json:
        print('Skriv en fråga, till exempel: omtanke ask "Vad är nära vård?"', file=sys.stderr)
        return 2
    texts = Texts.load()
    questions = [question] if question is not None else (line.rstrip("\n") for line in stdin)
    for q in questions:
        if q is None:
            continue
        answer = kb.answer(q, locale)
        if as_json:
            record = _answer_record(answer, texts)
            stdout.write(json.dumps({"question": q, **record}, ensure_ascii=False) + "\n")
            stdout.flush()
            continue
        # A two-part question: each part as the user would read it, one after the other.
        for i, part in enumerate(answer.parts or (answer,)):
            stdout.write(("\n" if i else "") + _plain_answer(part, texts) + "\n")
            if part.answered and part.related:
                stdout.write(f"\n{texts.get('answer.related', part.lang)} "
                             + " · ".join(title for _id, title in part.related) + "\n")
    return 0


def _answer_record(answer: Answer, texts: Texts) -> dict[str, object]:
    """What `ask --json` writes for an answer (DESIGN.md), with its parts and suggestions."""
    record: dict[str, object] = {
        "answered": answer.answered,
        "answer": _plain_answer(answer, texts),
        "topic": answer.topic if answer.answered else None,
        "score": round(float(answer.score), 4),
        "source": answer.source if answer.answered else None,
        "reason": answer.reason,
        "lang": answer.lang,
        "suggestions": [entry_id for entry_id, _title in answer.suggestions],
    }
    if answer.parts:
        record["parts"] = [_answer_record(part, texts) for part in answer.parts]
    return record


def _plain_answer(answer: Answer, texts: Texts) -> str:
    """The answer text, with its source line in the answer's language when answered."""
    if answer.answered and answer.source:
        return f"{answer.text}\n\n{texts.get('answer.source', answer.lang, source=answer.source)}"
    return str(answer.text)


def _check(settings: Settings, path: Path, as_json: bool) -> int:
    from bot.check_command import run_check
    from bot.services import load_directories
    from knowledge.malbild import load_malbild
    from knowledge.skallkrav import CheckContext

    groups, rug, _admins = load_directories(settings)
    code, output = run_check(
        path, as_json, CheckContext(target_groups=groups, malbild=load_malbild(), rug=rug)
    )
    print(output)
    return code


if __name__ == "__main__":
    sys.exit(main())


def _check_context(settings: Settings) -> CheckContext:
    """The lists the skallkrav are checked against, as the service loads them."""
    from knowledge.malbild import load_malbild
    from knowledge.rug import PeopleDirectory, load_people
    from knowledge.target_groups import load_target_groups

    rug = load_people(settings.rug_members_path) if settings.rug_members_path else ()
    return CheckContext(
        target_groups=load_target_groups(settings.target_groups_path),
        malbild=load_malbild(),
        rug=PeopleDirectory(rug),
    )
