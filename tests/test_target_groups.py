"""Tests for the configured target-group list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.errors import KnowledgeDataError
from knowledge.target_groups import TargetGroup, TargetGroupList, load_target_groups

GROUPS = [
    {
        "id": "mest_sjuka_aldre",
        "name": "De mest sjuka äldre",
        "aliases": ["multisjuka äldre", "80+"],
    },
    {"id": "barn_unga_psykisk_ohalsa", "name": "Barn och unga med psykisk ohälsa"},
    {"id": "psykisk_ohalsa", "name": "Personer med psykisk ohälsa", "aliases": ["psykisk ohälsa"]},
]


def write(tmp_path: Path, content: object) -> Path:
    """Write a target-group file and return its path."""
    path = tmp_path / "target_groups.json"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def test_plain_list_is_confirmed(tmp_path: Path) -> None:
    groups = load_target_groups(write(tmp_path, GROUPS))
    assert (groups.provisional, [g.id for g in groups]) == (
        False,
        ["mest_sjuka_aldre", "barn_unga_psykisk_ohalsa", "psykisk_ohalsa"],
    )


def test_object_marked_att_bekrafta_is_provisional(tmp_path: Path) -> None:
    content = {"status": "att bekräfta", "note": "Preliminär lista.", "groups": GROUPS}
    groups = load_target_groups(write(tmp_path, content))
    assert (groups.provisional, groups.note, len(groups)) == (True, "Preliminär lista.", 3)


def test_object_with_confirmed_status_is_not_provisional(tmp_path: Path) -> None:
    groups = load_target_groups(write(tmp_path, {"status": "bekräftad", "groups": GROUPS}))
    assert groups.provisional is False


def test_packaged_default_is_provisional() -> None:
    assert load_target_groups().provisional is True


def test_aliases_are_kept(tmp_path: Path) -> None:
    groups = load_target_groups(write(tmp_path, GROUPS))
    expected = TargetGroup("mest_sjuka_aldre", "De mest sjuka äldre", ("multisjuka äldre", "80+"))
    assert groups.by_id("mest_sjuka_aldre") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("De mest sjuka äldre", "mest_sjuka_aldre"),
        ("de mest sjuka aldre", "mest_sjuka_aldre"),
        ("DE MEST SJUKA ÄLDRE", "mest_sjuka_aldre"),
        ("mest_sjuka_aldre", "mest_sjuka_aldre"),
        ("De mest sjka äldre", "mest_sjuka_aldre"),
        ("multisjuka äldre", "mest_sjuka_aldre"),
        ("80+", "mest_sjuka_aldre"),
        ("barn och unga med psykisk ohalsa", "barn_unga_psykisk_ohalsa"),
        ("psykisk ohälsa", "psykisk_ohalsa"),
        ("vuxna med psykisk ohälsa", "psykisk_ohalsa"),
        ("Nyanlända", None),
        ("Turister", None),
        ("", None),
    ],
)
def test_match(tmp_path: Path, text: str, expected: str | None) -> None:
    group = load_target_groups(write(tmp_path, GROUPS)).match(text)
    assert (group.id if group else None) == expected


@pytest.mark.parametrize(
    ("content", "entry"),
    [
        ([{"id": "a"}], "a"),
        ([{"name": "Utan id"}], "#1"),
        ([GROUPS[0], "text"], "#2"),
        ([{"id": "a", "name": "A", "aliases": "inte en lista"}], "a"),
        ([GROUPS[0], GROUPS[0]], "mest_sjuka_aldre"),
        ({"status": "att bekräfta", "groups": {"a": 1}}, "groups"),
        ([], None),
        ("text", None),
    ],
)
def test_malformed_file_names_file_and_entry(
    tmp_path: Path, content: object, entry: str | None
) -> None:
    path = write(tmp_path, content)
    with pytest.raises(KnowledgeDataError) as info:
        load_target_groups(path)
    assert (info.value.path, info.value.entry) == (str(path), entry)


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeDataError) as info:
        load_target_groups(tmp_path / "saknas.json")
    assert info.value.path == str(tmp_path / "saknas.json")


def test_list_helpers() -> None:
    groups = TargetGroupList((TargetGroup("a", "A"), TargetGroup("b", "B")))
    assert (groups.names(), groups.by_id("b"), groups.by_id("c")) == (
        ["A", "B"],
        TargetGroup("b", "B"),
        None,
    )
