"""The `omtanke` command: serve, chat, ask, check, manifest, export, backup, restore, erase-user."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.backends import data_source
from bot.logsafe import configure_logging
from bot.settings import Settings, SettingsError
from knowledge.errors import KnowledgeDataError
from knowledge.model import Answer
from knowledge.skallkrav import CheckContext
from presentation.cards import CardError
from presentation.messages import say
from presentation.texts import Texts, TextsError
from storage.errors import StoreError

# Errors that mean a data or configuration file is damaged; each message names the file.
STARTUP_ERRORS = (StoreError, KnowledgeDataError, TextsError, CardError)


def describe(error: Exception, texts: Texts) -> str:
    """A start-up error as one line: a coordinator's data file in words, the rest as raised."""
    if isinstance(error, KnowledgeDataError):
        return say(texts, error.message)
    return str(error)


def build_parser(texts: Texts) -> argparse.ArgumentParser:
    """The sub-commands and their help, in Swedish (the coordinators' language)."""

    def h(name: str) -> str:
        return texts.get(f"cli.help.{name}")

    parser = argparse.ArgumentParser(prog="omtanke", description=h("omtanke"))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help=h("serve"))
    sub.add_parser("chat", help=h("chat"))
    ask = sub.add_parser("ask", help=h("ask"))
    ask.add_argument("question", nargs="?", help=h("ask.question"))
    ask.add_argument("--json", action="store_true", help=h("ask.json"))
    ask.add_argument("--locale", default="sv", choices=("sv", "en"))
    check = sub.add_parser("check", help=h("check"))
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true")
    manifest = sub.add_parser("manifest", help=h("manifest"))
    manifest.add_argument("--out", type=Path, default=Path("appPackage.zip"))
    export = sub.add_parser("export", help=h("export"))
    export.add_argument("--format", choices=("csv", "json", "docx"), default="csv")
    export.add_argument("--out", type=Path, default=None, help=h("export.out"))
    report = sub.add_parser("report", help=h("report"))
    report.add_argument("--out", type=Path, default=Path("portfolio.html"))
    escalations = sub.add_parser("escalations", help=h("escalations"))
    escalations.add_argument("--json", action="store_true", help=h("escalations.json"))
    escalations.add_argument("--open", action="store_true", help=h("escalations.open"))
    escalations.add_argument(
        "--knowledge-draft", type=Path, metavar="FILE", help=h("escalations.knowledge_draft")
    )
    gaps = sub.add_parser("gaps", help=h("gaps"))
    gaps.add_argument("--json", action="store_true", help=h("gaps.json"))
    erase = sub.add_parser("erase-user", help=h("erase"))
    erase.add_argument("email", nargs="?", help=h("erase.email"))
    erase.add_argument("--aad", help=h("erase.aad"))
    backup = sub.add_parser("backup", help=h("backup"))
    backup.add_argument("dir", type=Path, help=h("backup.dir"))
    restore = sub.add_parser("restore", help=h("restore"))
    restore.add_argument("dir", type=Path, help=h("restore.dir"))
    restore.add_argument("--replace", action="store_true", help=h("restore.replace"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one sub-command."""
    texts = Texts.load()
    parser = build_parser(texts)
    args = parser.parse_args(argv)
    if args.command == "manifest":
        # A package needs only the ids and the domain, not the service's secrets.
        return run_manifest(args.out, dict(os.environ), sys.stdout, sys.stderr, texts)

    try:
        settings = Settings.from_env()
    except SettingsError as err:
        print(texts.get("cli.bad_settings", error=err), file=sys.stderr)
        return 2

    if args.command == "serve":
        return _serve(settings, texts)
    try:
        if args.command == "chat":
            from bot.chat import main as chat_main

            return chat_main(settings)
        if args.command == "ask":
            return _ask(
                settings, args.question, args.json, args.locale, sys.stdin, sys.stdout, texts
            )
        if args.command == "check":
            return _check(settings, args.file, args.json, texts)
    except STARTUP_ERRORS as err:
        # A damaged data or configuration file: one line naming the file, not a traceback.
        print(texts.get("cli.cannot_start", error=describe(err, texts)), file=sys.stderr)
        return 1
    if args.command == "export":
        from bot.export import run_export

        return run_export(
            data_source(settings),
            args.format,
            args.out,
            sys.stdout,
            sys.stderr,
            _check_context(settings),
            texts,
        )
    if args.command == "report":
        from bot.report import run_report

        return run_report(data_source(settings), args.out, sys.stdout, sys.stderr)
    if args.command in ("escalations", "gaps"):
        return _escalations(settings, args, texts)
    return _data_admin(settings, args, texts)


def run_manifest(
    out: Path, environ: dict[str, str], stdout: TextIO, stderr: TextIO, texts: Texts
) -> int:
    """`omtanke manifest`: build the Teams app package and say where it is; 1 on failure.

    The builder's own reasons (ManifestError) are English, for whoever deploys the bot.
    """
    from manifest.build import ManifestError, build_package

    try:
        path = build_package(environ, out)
    except ManifestError as error:
        stderr.write(texts.get("cli.manifest.failed", error=error) + "\n")
        return 1
    stdout.write(texts.get("cli.manifest.done", path=path) + "\n")
    return 0


def _escalations(settings: Settings, args: argparse.Namespace, texts: Texts) -> int:
    """`escalations` and `gaps` (bot.escalation_report), from a snapshot of the data folder."""
    from bot import escalation_report

    if args.command == "gaps":
        return escalation_report.run_gaps(
            settings, as_json=args.json, stdout=sys.stdout, stderr=sys.stderr, texts=texts
        )
    return escalation_report.run_escalations(
        settings,
        only_open=args.open,
        as_json=args.json,
        draft=args.knowledge_draft,
        stdout=sys.stdout,
        stderr=sys.stderr,
        texts=texts,
    )


def _data_admin(settings: Settings, args: argparse.Namespace, texts: Texts) -> int:
    """erase-user, backup and restore (bot.data_admin)."""
    from bot import data_admin

    azure = settings.azure if settings.storage == "azure" else None
    if args.command == "backup":
        return data_admin.run_backup(
            settings.data_dir, args.dir, sys.stdout, sys.stderr, texts, azure=azure
        )
    if args.command == "restore":
        return data_admin.run_restore(
            args.dir, settings.data_dir, args.replace, sys.stdout, sys.stderr, texts, azure=azure
        )
    people = [p for p in (settings.rug_members_path, settings.admins_path) if p is not None]
    return data_admin.run_erase(
        settings.data_dir, args.email, args.aad, people, sys.stdout, sys.stderr, texts, azure=azure
    )


def _serve(settings: Settings, texts: Texts) -> int:
    # Start-up allocates the SDK's modules, the knowledge base and every stored record, and
    # none of it is garbage: the cyclic collector would only rescan the growing heap. It
    # runs again once the app is open, with what start-up built frozen out of its scans.
    gc.disable()
    try:
        from aiohttp import web

        from bot.app import create_app

        configure_logging(settings.log_level, "%(asctime)s %(levelname)s %(name)s: %(message)s")
        app = create_app(settings)
        app.on_startup.append(_collect_from_now_on)
        web.run_app(app, host=settings.host, port=settings.port, print=None, access_log=None)
    except Exception as err:  # start-up failures (corrupt store, bad data file) end here
        logging.getLogger("omtanke").error("could not start: %s", describe(err, texts))
        return 1
    finally:
        gc.enable()
    return 0


async def _collect_from_now_on(_app: object) -> None:
    """After the stores are open (on_startup runs after the app's cleanup contexts start):
    freeze what start-up built, then turn the collector back on.

    No collection first: it would hold up readiness by 0.1-0.17 s, and start-up leaves only
    about 1,800 unreachable objects (gc.collect() at this point, 10,000 conversations), which
    stay frozen.
    """
    gc.freeze()
    gc.enable()


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
    texts: Texts,
) -> int:
    kb = _load_kb(settings)
    if question is None and not as_json:
        print(texts.get("cli.ask_for_a_question"), file=sys.stderr)
        return 2
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


def _check(settings: Settings, path: Path, as_json: bool, texts: Texts) -> int:
    from bot.check_command import run_check
    from bot.services import load_directories
    from knowledge.malbild import load_malbild
    from knowledge.skallkrav import CheckContext

    groups, rug, _admins = load_directories(settings)
    context = CheckContext(target_groups=groups, malbild=load_malbild(), rug=rug)
    code, output = run_check(path, as_json, context, texts)
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
