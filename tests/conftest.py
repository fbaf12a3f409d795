"""Where the test stores come from.

Neo4j: ``NEO4J_URI`` when set (``.ci/run`` starts ``scripts/neo4j-local`` and sets
it), else a testcontainers Neo4j when a Docker daemon answers, else
``scripts/neo4j-local`` started for this session on free ports. With ``CI`` set, a
test that needs Neo4j fails rather than skips when none can be had.

The embedded FalkorDB store lives in a temporary ``KEYTRAIL_HOME`` for the session.
Integration tests take the ``backend`` fixture and run once per store.

The suite's embedded stores stop their server at the end of each command
(``KEYTRAIL_STORE_IDLE_SECONDS=0``), as a command did before servers were kept warm: the
tests that kill processes mean the server of the command they kill. The tests of warm
servers (``test_warm_store.py``, the warm part of ``test_crash_safety.py``) set an idle
time of their own; whatever server or watcher of a test store is still running when the
session ends is stopped.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from keytrail.graph.backends import Backend, FalkorDBBackend, Neo4jBackend, Neo4jSettings
from keytrail.graph.neo4j_local import credentials_for
from keytrail.graph.runner import reset_store

from .support import free_port

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
NEO4J_IMAGE = "neo4j:5.26.30-community"  # the tag docker-compose.yml pins (a test checks they agree)

os.environ["KEYTRAIL_STORE_IDLE_SECONDS"] = "0"


@pytest.fixture(scope="session", autouse=True)
def no_store_server_outlives_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Stop every embedded server (and its watcher) of a store under the session's temporary folder."""
    yield
    root = tmp_path_factory.getbasetemp().resolve()
    for process in psutil.process_iter(["name", "cmdline"]):
        try:
            words = process.info["cmdline"] or []
            if process.info["name"] == "redis-server":
                if Path(process.cwd()).resolve().is_relative_to(root):
                    process.kill()
                    # Its socket folder, named in its title (``unixsocket:<folder>/redis.socket``), goes with it.
                    for word in " ".join(words).split():
                        folder = Path(word.removeprefix("unixsocket:")).parent
                        if word.startswith("unixsocket:") and folder.name.startswith("keytrail-store-"):
                            shutil.rmtree(folder, ignore_errors=True)
            elif "keytrail.graph.embedded" in words and len(words) >= 2 and Path(words[-2]).resolve().is_relative_to(root):
                process.kill()
        except (psutil.Error, OSError):
            continue


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Neo4j is required in CI and none could be had: {reason}")
    pytest.skip(f"no Neo4j: {reason}")


@pytest.fixture(scope="session")
def neo4j_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jSettings]:
    uri = os.environ.get("NEO4J_URI")
    if uri:
        # A server of scripts/neo4j-local (as .ci/run starts) has its password read from its home.
        username, password = credentials_for(uri, os.environ.get("NEO4J_USERNAME"), os.environ.get("NEO4J_PASSWORD"))
        yield Neo4jSettings(uri, username, password, os.environ.get("NEO4J_DATABASE", "neo4j"))
        return
    if _docker_answers():
        try:
            from testcontainers.community.neo4j import Neo4jContainer
        except ImportError:
            from testcontainers.neo4j import Neo4jContainer
        with Neo4jContainer(NEO4J_IMAGE, password="keytrail-test") as container:
            yield Neo4jSettings(container.get_connection_url(), "neo4j", "keytrail-test")
        return
    home = tmp_path_factory.mktemp("neo4j-home")
    env = dict(os.environ, KEYTRAIL_NEO4J_HOME=str(home), NEO4J_BOLT_PORT=str(free_port()), NEO4J_HTTP_PORT=str(free_port()))
    script = REPO / "scripts" / "neo4j-local"
    started = subprocess.run(["bash", str(script), "start"], env=env, capture_output=True, text=True, timeout=900)
    if started.returncode != 0:
        _unavailable(f"scripts/neo4j-local start failed: {started.stdout[-2000:]}{started.stderr[-2000:]}")
    # keytrail commands run by the tests find this server's password the way they would a user's.
    os.environ["KEYTRAIL_NEO4J_HOME"] = str(home)
    try:
        # The script turns authentication on and keeps the generated password in its home, owner-only.
        yield Neo4jSettings(f"bolt://127.0.0.1:{env['NEO4J_BOLT_PORT']}", "neo4j", (home / "run" / "password").read_text().strip())
    finally:
        subprocess.run(["bash", str(script), "stop"], env=env, capture_output=True, timeout=120)


@pytest.fixture(scope="session")
def neo4j_backend(neo4j_settings: Neo4jSettings) -> Iterator[Neo4jBackend]:
    try:
        backend = Neo4jBackend(neo4j_settings)
    except Exception as exc:
        _unavailable(str(exc))
        raise
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def falkordb_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keytrail-home")


@pytest.fixture(scope="session")
def falkordb_backend(falkordb_home: Path) -> Iterator[FalkorDBBackend]:
    backend = FalkorDBBackend(falkordb_home)
    yield backend
    backend.close()


@pytest.fixture(params=["falkordb", "neo4j"], scope="module")
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """A store emptied of keytrail data for each test module, once per backend."""
    chosen: Backend = request.getfixturevalue(f"{request.param}_backend")
    reset_store(chosen)
    yield chosen


@pytest.fixture(params=["falkordb", "neo4j"])
def cli_store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """Global options and environment that point ``keytrail`` (the CLI, in this process) at one store, once per backend.

    The embedded store gets a home of its own: the test session's embedded store is held open by this process.
    Neo4j is the session's server, with its credentials in the environment; it is not emptied here.
    """
    if request.param == "falkordb":
        return ["--home", str(tmp_path / "home")], {"NEO4J_URI": ""}
    settings: Neo4jSettings = request.getfixturevalue("neo4j_settings")
    return ["--neo4j", settings.uri], {"NEO4J_USERNAME": settings.username or "", "NEO4J_PASSWORD": settings.password or ""}


@pytest.fixture(scope="session")
def moto_env() -> Iterator[dict[str, str]]:
    """One moto server on loopback for the session, and the environment that points boto3 at it.

    moto's state belongs to the process whichever server serves it, so one server is all the tests need; each
    module that uses it names its buckets, tables and databases its own way. Mocks are for AWS APIs only.
    """
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }
    server.stop()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real attack logs in ../shared/corpus (never copied into the project)."""
    if not CORPUS.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the shared corpus is missing: {CORPUS}")
        pytest.skip(f"no corpus at {CORPUS}")
    return CORPUS
