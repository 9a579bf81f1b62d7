"""The `omtanke` command line, run as a real process the way people and scripts use it."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from bot.services import open_services
from bot.settings import Settings
from knowledge.kb import KnowledgeBase
from knowledge.model import Answer
from presentation.texts import Texts
from tests.commands import (
    EXAMPLE_RUG_MEMBERS,
    REPO_ROOT,
    cli_env,
    free_port,
    omtanke_command,
    run_omtanke,
    wait_healthy,
)

EXAMPLES = REPO_ROOT / "knowledge" / "examples"
SOURCE_LINE = "Källa: Färdplan för god och nära vård och omsorg i Halland"


@pytest.fixture
def omtanke_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """Run `omtanke ARGS` through bot.cli.main in this process (same code, no start-up cost)."""

    def run(args: list[str], stdin: str = "", **env: str) -> tuple[int, str, str]:
        for key in list(os.environ):
            monkeypatch.delenv(key)
        for key, value in cli_env(tmp_path / "data", **env).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = cli.main(args)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_ask_prints_the_answer_with_its_source(tmp_path: Path) -> None:
    """`omtanke ask "vad är nära vård?"` prints what the user would read, source included."""
    done = run_omtanke(["ask", "vad är nära vård?"], tmp_path / "data")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "personcentrerat" in lines[0]
    assert SOURCE_LINE in lines
    # One line of related questions, under the locale's heading.
    assert done.stdout.count(Texts.load().get("answer.related", "sv") + " ") == 1


def test_ask_without_a_question_explains_usage(omtanke_in_process: Any) -> None:
    """Without a question (and without --json) it says how to ask, and exits 2."""
    code, out, err = omtanke_in_process(["ask"])

    assert (code, out) == (2, "")
    assert 'omtanke ask "Vad är nära vård?"' in err


def test_ask_json_reads_questions_from_stdin(tmp_path: Path) -> None:
    """`omtanke ask --json` answers one JSON line per question read from standard input."""
    questions = ["vad är nära vård?", "vad är RUG?", "Vilken färg har bilen?"]

    done = run_omtanke(["ask", "--json"], tmp_path / "data", stdin="\n".join(questions) + "\n")

    assert done.returncode == 0, done.stderr
    records: list[dict[str, Any]] = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["question"] for r in records] == questions
    for record in records:
        assert {"question", "answered", "answer", "topic", "score"} <= set(record)
        assert isinstance(record["score"], float)
    assert [(r["answered"], r["topic"]) for r in records] == [
        (True, "nara_vard"),
        (True, "rug"),
        (False, None),
    ]
    assert records[0]["answer"].endswith("\n\n" + SOURCE_LINE)
    assert "Källa:" not in records[2]["answer"]
    assert records[2]["answer"].startswith("Det kan jag tyvärr inte svara säkert på.")


def test_ask_json_reports_parts_and_language(omtanke_in_process: Any) -> None:
    """A two-part question gets a `parts` list; an English one `"lang": "en"`."""
    questions = ["Vad är RUG och hur skickar jag in ett förslag?", "What is RUG?"]
    code, out, err = omtanke_in_process(["ask", "--json"], stdin="\n".join(questions) + "\n")
    assert code == 0, err
    two, english = [json.loads(line) for line in out.splitlines()]
    assert (two["answered"], two["topic"], two["lang"]) == (True, "rug", "sv")
    assert [(p["answered"], p["topic"]) for p in two["parts"]] == [(True, "rug"),
                                                                   (True, "skicka_in")]
    assert (english["topic"], english["lang"], english["suggestions"]) == ("rug", "en", [])
    assert "parts" not in english
    assert english["answer"].endswith(Texts.load().get("answer.source", "en",
                                                       source=english["source"]))


def test_ask_reports_suggestions_as_not_answered() -> None:
    """ "Menar du …?" is `"answered": false` with the offered topics, and plain text lists them."""
    texts = Texts.load()
    unsure = Answer(False, "Menar du något av det här?\n• Vad är RUG?\n• Vad är GNHH?", None,
                    0.3, None, (), "uncertain", "sv", (("rug", "Vad är RUG?"),
                                                       ("gnhh", "Vad är GNHH?")))
    record = cli._answer_record(unsure, texts)
    assert (record["answered"], record["topic"], record["suggestions"]) == (
        False, None, ["rug", "gnhh"])
    assert record["answer"].splitlines()[1:] == ["• Vad är RUG?", "• Vad är GNHH?"]


def test_check_json_complete_proposal(tmp_path: Path) -> None:
    """A proposal meeting all four skallkrav: complete, nothing unmet, exit code 0."""
    done = run_omtanke(
        ["check", "--json", str(EXAMPLES / "complete_basic.json")],
        tmp_path / "data",
        OMTANKE_RUG_MEMBERS=str(EXAMPLE_RUG_MEMBERS),
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["complete"], result["unmet"]) == (True, [])
    assert len(result["messages"]) == 4


@pytest.mark.parametrize(
    ("example", "unmet"),
    [
        ("fails_krav1_no_region.json", [1]),
        ("fails_krav1_only_region.json", [1]),
        ("fails_krav2_unknown_target_group.json", [2]),
        ("fails_krav3_made_up_factors.json", [3]),
        ("fails_krav4_no_endorsement.json", [4]),
    ],
)
def test_check_json_lists_unmet_requirements(
    omtanke_in_process: Any, example: str, unmet: list[int]
) -> None:
    """An incomplete proposal lists the numbers of the skallkrav it misses, exit code 1."""
    code, out, err = omtanke_in_process(
        ["check", "--json", str(EXAMPLES / example)], OMTANKE_RUG_MEMBERS=str(EXAMPLE_RUG_MEMBERS)
    )

    assert code == 1, err
    result = json.loads(out)
    assert (result["complete"], result["unmet"]) == (False, unmet)


def test_bad_configuration_names_the_variable(omtanke_in_process: Any) -> None:
    """A malformed variable stops every command with one line that names it."""
    code, _out, err = omtanke_in_process(["ask", "hej"], PORT="many")

    assert code == 2
    assert err == "Fel i konfigurationen: PORT must be a whole number, got 'many'\n"


def test_serve_answers_healthz_and_stops_on_sigterm(tmp_path: Path) -> None:
    """`omtanke serve` on PORT answers /healthz within seconds and exits cleanly on SIGTERM."""
    port = free_port()
    process = subprocess.Popen(
        [*omtanke_command(), "serve"],
        env=cli_env(tmp_path / "data", PORT=str(port)),
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = wait_healthy(process, port, 10)
        assert health is not None and health["status"] == "ok"

        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, err
    assert "Traceback" not in err


async def test_serve_refuses_a_corrupt_data_file(tmp_path: Path, knowledge: KnowledgeBase) -> None:
    """A damaged store file stops `omtanke serve` with a message naming it, no traceback."""
    data = tmp_path / "data"
    first = await open_services(Settings(data_dir=data), kb=knowledge)  # creates the store
    await first.close()
    shard = data / "state" / "shard-00000.json"
    shard.write_text('{"kv": {"1": {"k": "x", "v"', "utf-8")

    done = run_omtanke(["serve"], data, PORT=str(free_port()), timeout=20)

    assert done.returncode != 0
    assert str(shard) in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [["chat"], ["ask", "hej"]])
def test_other_commands_refuse_a_corrupt_file_in_one_line(
    tmp_path: Path, omtanke_in_process: Any, command: list[str]
) -> None:
    """`omtanke chat` and `omtanke ask` name a damaged file instead of raising a traceback."""
    groups = tmp_path / "groups.json"
    groups.write_text("{not json", "utf-8")

    code, out, err = omtanke_in_process(command, stdin="/quit\n", OMTANKE_TARGET_GROUPS=str(groups))

    assert (code, out) == (1, "")
    assert err.startswith(f"Kunde inte starta: {groups}")
    assert err.count("\n") == 1
