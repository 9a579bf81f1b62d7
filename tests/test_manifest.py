"""The Teams app package builds, validates against Microsoft's schema and rejects bad input."""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from PIL import Image

from bot.cli import run_manifest
from manifest.build import (
    DEFAULT_SCHEMA_DIR,
    TEMPLATE_DIR,
    ManifestError,
    build_package,
)
from presentation.texts import Texts

BOT_ID = "0b6f4a2e-3c1d-4e5f-9a8b-7c6d5e4f3a21"
ENV = {"MicrosoftAppId": BOT_ID, "OMTANKE_BOT_DOMAIN": "omtanke.example.se"}
PACKAGE_FILES = {"manifest.json", "color.png", "outline.png", "en-us.json"}


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """Copy manifest/ to tmp so a test can break it."""
    target = tmp_path / "template"
    shutil.copytree(TEMPLATE_DIR, target, ignore=shutil.ignore_patterns("*.py", "build", "__*"))
    return target


def _read_zip(path: Path) -> dict[str, bytes]:
    """Return the package's files by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _edit_template(template: Path, change: dict[str, Any]) -> None:
    """Merge change into the template's top level."""
    path = template / "manifest.template.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(change)
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_package_builds_and_validates(tmp_path: Path) -> None:
    """The zip holds the four files flat, placeholders filled, and validates against v1.19."""
    path = build_package(ENV, tmp_path / "appPackage.zip")
    assert path == tmp_path / "appPackage.zip"
    files = _read_zip(path)
    assert set(files) == PACKAGE_FILES

    text = files["manifest.json"].decode("utf-8")
    assert "${{" not in text
    manifest = json.loads(text)
    assert manifest["id"] == BOT_ID
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["validDomains"] == ["omtanke.example.se"]
    assert manifest["developer"]["name"] == "Region Halland"
    assert manifest["name"] == {"short": "Omtanke", "full": "Omtanke – nära vård i Halland"}
    team_commands = [c["title"] for c in manifest["bots"][0]["commandLists"][2]["commands"]]
    assert "Registrera RUG-kanal" in team_commands

    schema_dir = DEFAULT_SCHEMA_DIR / "v1.19"
    schema = json.loads((schema_dir / "MicrosoftTeams.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(manifest)
    localization = json.loads(files["en-us.json"])
    loc_schema_path = schema_dir / "MicrosoftTeams.Localization.schema.json"
    jsonschema.Draft4Validator(json.loads(loc_schema_path.read_text("utf-8"))).validate(
        localization
    )
    with zipfile.ZipFile(path) as archive, archive.open("color.png") as icon:
        assert Image.open(icon).size == (192, 192)


def test_out_path_may_be_a_folder(tmp_path: Path) -> None:
    """Given a folder, the package is written as appPackage.zip inside it."""
    assert build_package(ENV, tmp_path) == tmp_path / "appPackage.zip"


def test_teams_app_id_and_developer_come_from_env(tmp_path: Path) -> None:
    """OMTANKE_TEAMS_APP_ID and OMTANKE_DEVELOPER_* override the defaults."""
    app_id = "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4"
    env = {
        **ENV,
        "OMTANKE_TEAMS_APP_ID": app_id,
        "OMTANKE_DEVELOPER_NAME": "Omtanke Halland",
        "OMTANKE_DEVELOPER_PRIVACY_URL": "https://example.se/privacy",
    }
    manifest = json.loads(_read_zip(build_package(env, tmp_path))["manifest.json"])
    assert (manifest["id"], manifest["bots"][0]["botId"]) == (app_id, BOT_ID)
    assert manifest["developer"]["name"] == "Omtanke Halland"
    assert manifest["developer"]["privacyUrl"] == "https://example.se/privacy"


def test_without_bot_domain_valid_domains_is_left_out(tmp_path: Path) -> None:
    """A bot needs no valid domain, so an unset OMTANKE_BOT_DOMAIN drops the list."""
    manifest = json.loads(
        _read_zip(build_package({"MicrosoftAppId": BOT_ID}, tmp_path))["manifest.json"]
    )
    assert "validDomains" not in manifest


def test_missing_bot_id_fails(tmp_path: Path) -> None:
    """Without MicrosoftAppId there is no bot to put in the package."""
    with pytest.raises(ManifestError, match="MicrosoftAppId"):
        build_package({}, tmp_path / "appPackage.zip")
    assert not (tmp_path / "appPackage.zip").exists()


def test_bot_id_must_be_a_guid(tmp_path: Path) -> None:
    """A malformed app id is named with its variable."""
    with pytest.raises(ManifestError, match=r"MicrosoftAppId: 'nope' is not a valid GUID"):
        build_package({"MicrosoftAppId": "nope"}, tmp_path / "appPackage.zip")


def test_wrong_icon_size_fails(tmp_path: Path, template: Path) -> None:
    """An outline icon of the wrong size is rejected, naming both sizes."""
    Image.new("RGBA", (30, 30), (255, 255, 255, 0)).save(template / "outline.png")
    with pytest.raises(ManifestError, match=r"outline\.png is 30×30, must be 32×32"):
        build_package(ENV, tmp_path / "appPackage.zip", template)


def test_colour_icon_wrong_size_fails(tmp_path: Path, template: Path) -> None:
    """A colour icon of the wrong size is rejected."""
    Image.new("RGB", (96, 96), (20, 132, 124)).save(template / "color.png")
    with pytest.raises(ManifestError, match=r"color\.png is 96×96, must be 192×192"):
        build_package(ENV, tmp_path / "appPackage.zip", template)


def test_outline_with_coloured_pixel_fails(tmp_path: Path, template: Path) -> None:
    """The outline icon may hold only white pixels."""
    with Image.open(template / "outline.png") as original:
        icon = original.convert("RGBA")
    icon.putpixel((3, 4), (200, 30, 30, 255))
    icon.save(template / "outline.png")
    with pytest.raises(ManifestError, match=r"outline.png has a non-white pixel at \(3, 4\)"):
        build_package(ENV, tmp_path / "appPackage.zip", template)


def test_unknown_field_fails_schema(tmp_path: Path, template: Path) -> None:
    """A field that v1.19 does not define is named in the schema error."""
    _edit_template(template, {"foo": True})
    with pytest.raises(ManifestError, match="unknown field 'foo' at"):
        build_package(ENV, tmp_path / "appPackage.zip", template)


def test_unknown_placeholder_fails(tmp_path: Path, template: Path) -> None:
    """A placeholder the builder cannot fill is named."""
    _edit_template(template, {"version": "${{NO_SUCH_THING}}"})
    with pytest.raises(ManifestError, match=r"unknown placeholder \$\{\{NO_SUCH_THING\}\}"):
        build_package(ENV, tmp_path / "appPackage.zip", template)


def test_bad_localization_key_fails(tmp_path: Path, template: Path) -> None:
    """A localization key that points at nothing in the manifest is rejected."""
    path = template / "locales" / "en-us.json"
    localization = json.loads(path.read_text(encoding="utf-8"))
    localization["bots[0].commandLists[0].commands[9].title"] = "Nothing"
    path.write_text(json.dumps(localization), encoding="utf-8")
    with pytest.raises(ManifestError, match=r"commands\[9\]\.title"):
        build_package(ENV, tmp_path / "appPackage.zip", template)


def test_missing_schema_dir_says_npm_ci(tmp_path: Path) -> None:
    """Without node_modules the builder tells the developer to run npm ci."""
    env = {**ENV, "OMTANKE_MANIFEST_SCHEMA_DIR": str(tmp_path / "none")}
    with pytest.raises(ManifestError, match="npm ci"):
        build_package(env, tmp_path / "appPackage.zip")


def test_cli_reports_path_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI prints the zip path on success and the error with exit 1 on failure."""
    out = tmp_path / "pkg.zip"
    texts = Texts.load()
    assert run_manifest(out, ENV, sys.stdout, sys.stderr, texts) == 0
    assert capsys.readouterr().out == texts.get("cli.manifest.done", path=out) + "\n"
    assert run_manifest(out, {}, sys.stdout, sys.stderr, texts) == 1
    err = capsys.readouterr().err
    assert err.startswith(texts.get("cli.manifest.failed", error="")) and "MicrosoftAppId" in err
