"""The bulk load's CSV files: typed headers, quoting, and the values it refuses rather than change."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from keytrail.graph.bulk import BulkError, CsvFiles


def _read(folder: Path, stem: str) -> tuple[str, list[list[str]]]:
    [header] = folder.glob(f"*-{stem}.header.csv")
    data = header.with_name(header.name.replace(".header", ""))
    with data.open(newline="", encoding="utf-8") as handle:
        return header.read_text().strip(), list(csv.reader(handle))


def test_each_property_keeps_its_type_and_text(tmp_path: Path) -> None:
    files = CsvFiles(tmp_path)
    files.node("Event", {"eventID": 'a"b,\nc', "n": 12, "x": 0.1, "ok": False, "text": "12", "tags": ["x", 'y"']})
    files.close()
    header, rows = _read(tmp_path, "Event")
    assert header == "eventID:ID(Event),n:long,x:double,ok:boolean,text:string,tags:string[]"
    # A string that looks like a number stays a quoted string; the array's elements are joined with U+001F.
    assert rows == [['a"b,\nc', "12", "0.1", "false", "12", 'x\x1fy"']]
    assert files.import_arguments()[-1].startswith("--multiline-fields=")


def test_rows_with_other_types_go_to_other_tables(tmp_path: Path) -> None:
    files = CsvFiles(tmp_path)
    files.relationship("Event", "e1", "CREATED", "Resource", "r", {"count": 1})
    files.relationship("Event", "e2", "CREATED", "Resource", "r", {"count": "1"})
    files.close()
    assert len([a for a in files.import_arguments() if a.startswith("--relationships=CREATED=")]) == 2


@pytest.mark.parametrize("value", [[], [""], [1, "a"], {"a": 1}, 2**63, float("nan")])
def test_a_value_the_import_cannot_bring_back_exactly_is_refused(tmp_path: Path, value: object) -> None:
    with pytest.raises(BulkError):
        CsvFiles(tmp_path).node("Resource", {"id": "r", "v": value})


def test_the_array_delimiter_is_one_no_element_holds(tmp_path: Path) -> None:
    files = CsvFiles(tmp_path)
    files.node("Event", {"eventID": "e", "incidents": ["a\x1fb"]})
    files.choose_array_delimiter([["c\x1e"]])
    assert files.array_delimiter == "\x1d"
    (tmp_path / "other").mkdir()
    joined = CsvFiles(tmp_path / "other")
    joined.node("Event", {"eventID": "e", "incidents": ["a", "b"]})
    with pytest.raises(BulkError, match="array delimiter"):
        joined.choose_array_delimiter([["x\x1f"]])
