"""Promises about the repository that no import contract can check.

Which package may import which (and that botbuilder stays in bot/, dialogs/ and one storage
module) is the import-linter contract in pyproject.toml, run by `make lint`.
"""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "dialogs", "rug", "knowledge", "storage", "presentation", "domain", "manifest")


def test_nothing_reads_the_shared_folder_at_run_time() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for folder in (*PACKAGES, "tests", "benchmarks")
        if (ROOT / folder).exists()
        for path in (ROOT / folder).rglob("*.py")
        if path != Path(__file__).resolve() and "shared/" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


# ----- Everything a user reads lives in the locale files ---------------------------------------
#
# The rules, on every string literal of the packages' modules (docstrings excepted):
# 1. No Swedish: a word with å, ä or ö, or a phrase of Swedish function words ("jag har en ide").
#    Swedish is the users' language, so Swedish in code is text that bypassed the locale files
#    or linguistic data that belongs in a data file (knowledge/data, dialogs/data).
# 2. Nothing in words handed straight to a person: print, .write, send_activity, the activity
#    builders, Activity(text=...), argparse help and descriptions ("Hej!" fails).
# 3. In dialogs/, rug/ and presentation/, which only talk to users, no English sentence either.
# English elsewhere is the code's own language for operators: exceptions, HTTP error bodies,
# diagnostics. Allowed throughout: log calls (logger.info(...)), and the short lists below.

# Measurement tools for the people who tune the knowledge base and the intents (make eval,
# make calibrate): their reports and generated question variants are not read by users.
DEVELOPER_TOOLS = frozenset(
    {
        "knowledge/eval.py",
        "knowledge/loso.py",
        "knowledge/calibrate.py",
        "knowledge/coverage.py",
        "knowledge/styles.py",
        "knowledge/questions.py",
        "dialogs/intent_eval.py",
        "dialogs/intent_train.py",
    }
)
# Words kept in stored data or model files, never shown: the audit log's unknown actor, the
# re-ranker's class for questions outside the knowledge.
STORED_WORDS = frozenset(
    {("storage/layout.py", "UNKNOWN_WHO"), ("knowledge/ranker.py", "OUTSIDE")}
)
USER_ONLY_PACKAGES = ("dialogs", "rug", "presentation")
# Modules whose words another piece of work is moving out; each entry goes when that lands
# (the test below says so).
MOVING_OUT: dict[str, str] = {}

_SWEDISH_LETTER_WORD = re.compile(r"[a-zåäöéA-ZÅÄÖÉ]*[åäöÅÄÖ][a-zåäöéA-ZÅÄÖÉ]*")
_CHARACTER_CLASS = re.compile(r"\[[^\]]*\]")
_WORD = re.compile(r"[a-zåäöé']+")
SWEDISH_MARKERS = frozenset(
    "och att inte som jag du vi ett till eller finns ska hej är ar på pa med har kan det den vad "
    "hur mig min din nej tack för kommun förslag forslag skriv ingen inga vill".split()
)
ENGLISH_MARKERS = frozenset(
    "the is are not you your please cannot can't could should was will and or of to in for "
    "with this that it be has have an on no we our my here there what how sorry".split()
)
_LOG_METHODS = frozenset({"debug", "info", "warning", "error", "exception", "critical", "log"})
_SPEAKING_CALLS = frozenset({"print", "send_activity", "text_activity", "card_activity"})
# .write on these (and a plain write(...) callback) puts text in front of a person.
_STREAMS = frozenset({"stdout", "stderr", "stream", "table_stream", "out", "err"})
# Values that carry why something was refused, for the log (dialogs.actions.InvalidAction).
LOG_REASONS = frozenset({"InvalidAction"})
_ARGPARSE_CALLS = frozenset({"add_argument", "add_parser", "ArgumentParser"})
_ARGPARSE_WORDS = frozenset({"help", "description", "epilog", "usage"})


def looks_swedish(text: str) -> bool:
    """A Swedish word or phrase (regex character classes like [A-ZÅÄÖ] do not count)."""
    plain = _CHARACTER_CLASS.sub(" ", text)
    if _SWEDISH_LETTER_WORD.search(plain) and any(
        len(word) > 1 for word in _SWEDISH_LETTER_WORD.findall(plain)
    ):
        return True
    words = _WORD.findall(plain.lower())
    return " " in plain.strip() and len({w for w in words if w in SWEDISH_MARKERS}) >= 2


def looks_english(text: str) -> bool:
    """An English sentence: three words or more, two of them function words."""
    words = _WORD.findall(text.lower())
    markers = {w for w in words if w in ENGLISH_MARKERS}
    return " " in text.strip() and len(words) >= 3 and len(markers) >= 2


def _text(node: ast.AST) -> str | None:
    """A literal's text; an f-string's literal parts with {} for what is filled in."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_log_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    target = node.func.value
    logger_like = (isinstance(target, ast.Name) and "log" in target.id.lower()) or (
        isinstance(target, ast.Call) and _name(target.func) == "getLogger"
    )
    return node.func.attr in _LOG_METHODS and logger_like


def _is_exception(node: ast.AST, parents: dict[int, ast.AST]) -> bool:
    """A raise, an ...Error(...) call, a LOG_REASONS value, or super().__init__ in an error."""
    if isinstance(node, ast.Raise):
        return True
    if isinstance(node, ast.Call):
        name = _name(node.func)
        if name.endswith(("Error", "Exception")) or name in LOG_REASONS:
            return True
        if name == "__init__":
            scope = parents.get(id(node))
            while scope is not None and not isinstance(scope, ast.ClassDef):
                scope = parents.get(id(scope))
            return scope is not None and scope.name.endswith(("Error", "Exception"))
    return False


def _spoken(call: ast.Call) -> list[ast.AST]:
    """The arguments of a call that a person reads as they are."""
    name = _name(call.func)
    if name in _ARGPARSE_CALLS:
        return [k.value for k in call.keywords if k.arg in _ARGPARSE_WORDS]
    owner = _name(call.func.value) if isinstance(call.func, ast.Attribute) else ""
    if (
        name in _SPEAKING_CALLS
        or (name == "text" and owner == "MessageFactory")
        or (name == "write" and (owner in _STREAMS or isinstance(call.func, ast.Name)))
    ):
        return list(call.args)
    if name == "Activity":
        return [k.value for k in call.keywords if k.arg == "text"]
    return []


def _literals_outside_calls(node: ast.AST) -> list[ast.AST]:
    """The literals of an expression, not those inside a nested call (a locale key is fine)."""
    found: list[ast.AST] = []

    def walk(n: ast.AST) -> None:
        if isinstance(n, ast.Call):
            return
        if _text(n) is not None:
            found.append(n)
            return
        for child in ast.iter_child_nodes(n):
            walk(child)

    walk(node)
    return found


def text_problems(source: str, module: str) -> list[str]:
    """Every literal of one module that breaks the rules above, as 'module:line: why: text'."""
    tree = ast.parse(source)
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and _text(first.value) is not None:
                skipped.add(id(first.value))
        if _is_log_call(node) or (
            isinstance(node, ast.Assign)
            and any((module, _name(t)) in STORED_WORDS for t in node.targets)
        ):
            skipped.update(id(n) for n in ast.walk(node))
    spoken: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for argument in _spoken(node):
                spoken.update(id(n) for n in _literals_outside_calls(argument))
    in_exception: set[int] = set()
    for node in ast.walk(tree):
        if _is_exception(node, parents):
            in_exception.update(id(n) for n in ast.walk(node))

    problems = []
    user_only = module.split("/")[0] in USER_ONLY_PACKAGES
    for node in ast.walk(tree):
        text = _text(node)
        if text is None or id(node) in skipped or isinstance(parents.get(id(node)), ast.JoinedStr):
            continue
        why = ""
        if looks_swedish(text):
            why = "Swedish"
        elif id(node) in spoken and re.search(r"[^\W\d_]{2}", text):
            why = "shown as it is"
        elif user_only and id(node) not in in_exception and looks_english(text):
            why = "English"
        if why:
            problems.append(f"{module}:{getattr(node, 'lineno', '?')}: {why}: {text[:80]!r}")
    return problems


def test_no_user_facing_text_in_python_modules() -> None:
    problems = [
        problem
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if (module := str(path.relative_to(ROOT))) not in DEVELOPER_TOOLS | set(MOVING_OUT)
        for problem in text_problems(path.read_text(encoding="utf-8"), module)
    ]
    assert problems == [], "texts belong in presentation/locales (or a data file):\n" + "\n".join(
        problems
    )


def test_modules_still_moving_their_words_out_are_not_clean_yet() -> None:
    for module in sorted(MOVING_OUT):
        path = ROOT / module
        clean = not path.exists() or not text_problems(path.read_text(encoding="utf-8"), module)
        name = Path(__file__).name
        assert not clean, f"{module} is clean now: remove it from MOVING_OUT in {name}"


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("dialogs/root_dialog.py", 'await context.send_activity("Hej!")'),
        ("bot/chat.py", 'write(f"Hej {name}!")'),
        ("bot/cli.py", 'parser.add_argument("--out", help="file to write to")'),
        ("rug/workflow.py", 'reply = "Vi hittade inget förslag."'),
        ("knowledge/kb.py", 'PHRASES = ("jag har en ide", "mina forslag")'),
        ("bot/check_command.py", 'raise ValueError(f"Filen {path} finns inte.")'),
        ("dialogs/steps.py", 'return Taken.refused("Sorry, that is not a valid answer.")'),
    ],
)
def test_the_text_check_finds_text_in_code(module: str, source: str) -> None:
    assert len(text_problems(source, module)) == 1


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("dialogs/root_dialog.py", 'await context.send_activity(texts.get("general.error"))'),
        ("dialogs/replies.py", 'logger.exception("could not answer the user; it is stored")'),
        ("dialogs/actions.py", 'raise InvalidAction(f"{name}: the value is too long")'),
        ("bot/app.py", 'return _problem(400, "request body is not valid JSON")'),
        ("knowledge/index.py", '_ACRONYM = re.compile(r"\\b[A-ZÅÄÖ]{2,6}\\b")'),
        ("storage/layout.py", 'UNKNOWN_WHO = "okänd"'),
        ("rug/document.py", 'def f() -> None:\n    """Förslaget som RUG läser det."""'),
        ("bot/cli.py", 'stdout.write("\\n" + texts.get("cli.related", titles=t) + "\\n")'),
        ("storage/records.py", 'await self._store.write({key: {"reference": r, "by": by}})'),
    ],
)
def test_the_text_check_lets_keys_logs_and_errors_through(module: str, source: str) -> None:
    assert text_problems(source, module) == []


def test_every_locale_has_the_same_keys_and_placeholders() -> None:
    folder = ROOT / "presentation" / "locales"
    tables = {n: json.loads((folder / f"{n}.json").read_text("utf-8")) for n in ("sv", "en")}

    def fields(template: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name}

    assert set(tables["sv"]) == set(tables["en"])
    differing = [k for k, sv in tables["sv"].items() if fields(sv) != fields(tables["en"][k])]
    assert differing == []
