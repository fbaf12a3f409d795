"""What every source shares: the registry of kinds, the Source protocol as the load uses it, and the progress line."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from keytrail.cli.load import _Progress
from keytrail.ingest import LoadSummary
from keytrail.loaders import sources
from keytrail.loaders.base import OriginManifest, ProgressListener, SourceError, SourceKind, SourceOptions
from keytrail.loaders.files import PathSource
from keytrail.loaders.records import LoaderItem, SourceRecord
from keytrail.loaders.sources import check_targets, kind_of, open_source

KEYTRAIL = Path(__file__).resolve().parents[3] / "keytrail"


@dataclass(slots=True)
class CountedProgress:
    files_done: int = 0
    said: str = ""

    def words(self) -> str:
        return self.said


class CountingSource:
    """The least a new kind of source needs: ``counting://N`` makes up N records."""

    kind = "counting"
    warnings: tuple[str, ...] = ()

    def __init__(self, target: str, files: int | None = None) -> None:
        self.target = target
        self.count = int(target.removeprefix("counting://") or 0)
        self.files = files
        self.progress = CountedProgress()
        self.on_progress: ProgressListener | None = None

    def __iter__(self) -> Iterator[LoaderItem]:
        for index in range(self.count):
            yield SourceRecord(self.target, index, {"eventID": f"counted-{index}", "eventTime": "2026-01-07T02:25:18Z"})

    def total_files(self) -> int | None:
        return self.files

    def origins_loaded(self, origins: list[str]) -> None:
        pass

    def as_dict(self) -> dict[str, object]:
        return {"target": self.target, "kind": self.kind, "records": self.count}

    def summary(self) -> str:
        return f"{self.target}: {self.count:,} records made up."


def _open_counting(target: str, options: SourceOptions, manifest: OriginManifest | None) -> CountingSource:
    return CountingSource(target)


COUNTING = SourceKind(name="counting", scheme="counting://", usage="counting://N", options=frozenset({"window"}), open=_open_counting)


# --------------------------------------------------------------------------- the registry


def test_a_kind_added_with_one_registry_line_is_claimed_checked_and_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "KINDS", (*sources.KINDS, COUNTING))  # the one registry line
    assert kind_of("counting://3") is COUNTING
    # A scheme claims its prefix only: a file named like it is still a path.
    assert kind_of("counting.jsonl").name == "path" and kind_of("lookup-events.json").name == "path"
    source = open_source("counting://3", SourceOptions())
    assert [item.record["eventID"] for item in source if isinstance(item, SourceRecord)] == ["counted-0", "counted-1", "counted-2"]
    with pytest.raises(SourceError, match="--org-id does not apply to counting targets"):
        open_source("counting://3", SourceOptions(org_id="o-a1b2c3d4e5"))
    with pytest.raises(SourceError, match="--workers does not apply to counting targets"):
        check_targets(["counting://3", "s3://some-bucket-keytrail"], SourceOptions(workers=2))


def test_without_its_registry_line_a_kind_is_a_path() -> None:
    assert kind_of("counting://3").name == "path"
    with pytest.raises(SourceError, match="no such file or directory: counting://3"):
        open_source("counting://3", SourceOptions())


def test_files_are_held_to_the_options_only_when_alone(tmp_path: Path) -> None:
    window = SourceOptions(regions=("us-east-1",))
    check_targets([str(tmp_path), "lookup-events"], window)
    with pytest.raises(SourceError, match="--region does not apply to path targets"):
        check_targets([str(tmp_path)], window)
    with pytest.raises(SourceError, match="no such file or directory"):
        check_targets([str(tmp_path / "missing")], SourceOptions())


def test_a_kind_naming_an_option_that_does_not_exist_is_refused() -> None:
    with pytest.raises(ValueError, match="no such options: bucket_size"):
        SourceKind(name="typo", scheme="typo://", usage="typo://", options=frozenset({"window", "bucket_size"}), open=_open_counting)


def test_only_the_registry_imports_the_source_modules() -> None:
    """No import circle, and the command knows sources only through the protocol."""
    kinds = {
        "keytrail.loaders.files",
        "keytrail.loaders.s3",
        "keytrail.loaders.athena",
        "keytrail.loaders.lookup_events",
        "keytrail.loaders.stdin",
        "keytrail.loaders.sources",
    }
    found: dict[str, set[str]] = {}
    for path in [*(KEYTRAIL / "loaders").glob("*.py"), KEYTRAIL / "cli" / "load.py"]:
        module = "keytrail." + ".".join(path.relative_to(KEYTRAIL).with_suffix("").parts)
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
        found[module] = imported & kinds - {module}
    assert found.pop("keytrail.loaders.sources") == kinds - {"keytrail.loaders.sources"}
    assert found.pop("keytrail.cli.load") == {"keytrail.loaders.sources"}
    assert all(not imported for imported in found.values()), found


def test_the_registry_imports_no_cloud_sdk() -> None:
    """Every source module is imported with the registry: their SDKs must wait until a cloud target is opened."""
    probe = "import sys, keytrail.cli.load; print(sorted(m for m in ('boto3', 'botocore', 'pyathena') if m in sys.modules))"
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(KEYTRAIL.parent)})
    assert found.stdout.strip() == "[]"


def test_a_path_source_counts_its_files_and_says_nothing_more(tmp_path: Path) -> None:
    for name in ("a.json", "b.json", "sub/c.jsonl"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(json.dumps({"Records": [{"eventID": name, "eventTime": "2026-01-07T02:25:18Z"}]}))
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")  # an entry that is not read: not a file to count
    source = open_source(str(tmp_path), SourceOptions())
    told: list[int] = []
    source.on_progress = lambda: told.append(source.progress.files_done)
    assert source.total_files() == 3
    items = list(source)
    assert told == [1, 2, 3] and source.progress.files_done == 3 and len(items) == 3 * 2 + 1
    assert isinstance(source, PathSource) and (source.as_dict(), source.summary(), source.progress.words()) == (None, None, "")


# --------------------------------------------------------------------------- the progress line


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def shown(sources_shown: list[CountingSource], clock: Clock) -> tuple[Progress, _Progress]:
    progress = Progress(console=Console(file=io.StringIO()), disable=True)
    return progress, _Progress(progress, sources_shown, clock=clock)


def test_the_progress_line_shows_files_records_per_second_events_written_and_the_time_left() -> None:
    clock = Clock()
    first, second = CountingSource("counting://0", files=30), CountingSource("counting://0", files=10)
    second.progress.said = "3.0 MB downloaded"
    progress, line = shown([first, second], clock)
    [task] = progress.tasks
    assert task.description == "0/40 files, 0 records, 0 records/s, 0 events written, 3.0 MB downloaded"
    first.progress.files_done, second.progress.files_done = 8, 2
    clock.now += 20
    line(LoadSummary("run", "case", "falkordb", read=5_000, loaded=4_000), SourceRecord("counting://0", 0, {}))
    # 10 files of 40 in 20 s: 30 more take 60 s at that pace.
    assert task.description == "10/40 files, 5,000 records, 250 records/s, 4,000 events written, 3.0 MB downloaded, ETA 0:01:00"
    assert (task.completed, task.total) == (10, 40)


def test_without_a_total_the_progress_line_shows_the_rate_and_no_time_left() -> None:
    clock = Clock()
    files, query = CountingSource("counting://0", files=30), CountingSource("counting://0", files=None)
    query.progress.said = "athena running"
    progress, line = shown([files, query], clock)
    files.progress.files_done = 10
    clock.now += 4
    line(LoadSummary("run", "case", "falkordb", read=1_000, loaded=500), SourceRecord("counting://0", 0, {}))
    [task] = progress.tasks
    assert task.description == "10 files, 1,000 records, 250 records/s, 500 events written, athena running"
    assert task.total is None
    # A source that reads no files adds no file count.
    progress, line = shown([query], clock)
    assert progress.tasks[0].description == "0 records, 0 records/s, 0 events written, athena running"


def test_the_progress_line_is_redrawn_at_most_ten_times_a_second() -> None:
    clock = Clock()
    source = CountingSource("counting://0", files=4)
    progress, line = shown([source], clock)
    source.progress.files_done = 1
    clock.now += 0.06
    line.refresh()
    assert progress.tasks[0].completed == 0
    clock.now += 0.06
    line.refresh()
    assert progress.tasks[0].completed == 1
