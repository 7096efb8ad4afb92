"""deploy/feeds.service: systemd's own check of the unit, and the unit's
commands and signals run against a real `feeds run`, as systemd runs and
sends them (the stop signal to the whole process group, as to a control
group)."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, Server, group_ends, write_config

pytestmark = pytest.mark.slow

UNIT = ROOT / "deploy" / "feeds.service"
#: Where the unit expects the project; the tests put a folder of theirs there.
HOME = "/srv/feeds"


def rss(title: str) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<link>https://x.example/</link><description>d</description>"
        f"<item><title>{title}</title><link>https://x.example/{abs(hash(title))}</link>"
        "<category>art</category></item></channel></rss>"
    )


def service_section() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return dict(parser["Service"])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A folder laid out as the unit expects /srv/feeds: .venv/bin/feeds
    is this environment's."""
    folder = tmp_path / "srv"
    (folder / ".venv" / "bin").mkdir(parents=True)
    script = Path(sys.executable).with_name("feeds")
    assert script.exists(), f"{script} is missing: install the project with `make test`"
    (folder / ".venv" / "bin" / "feeds").symlink_to(script)
    return folder


def command(line: str, home: Path, **values: str) -> list[str]:
    line = line.replace(HOME, str(home))
    for name, value in values.items():
        line = line.replace(f"${name}", value)
    return shlex.split(line)


class Unit:
    """The unit's ExecStart running, started as systemd starts it."""

    def __init__(self, home: Path) -> None:
        self.section = service_section()
        self.home = home
        self.log = (home / "journal.log").open("w")
        self.process = subprocess.Popen(
            command(self.section["ExecStart"], home),
            cwd=self.section["WorkingDirectory"].replace(HOME, str(home)),
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def journal(self) -> str:
        return (self.home / "journal.log").read_text(encoding="utf-8")

    def wait_for(self, check, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            assert self.process.poll() is None, f"it exited\n{self.journal()}"
            time.sleep(0.1)
        raise AssertionError(f"condition not met in {timeout} s\n{self.journal()}")

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


@pytest.fixture
def unit() -> Iterator[list[Unit]]:
    started: list[Unit] = []
    yield started
    for each in started:
        each.close()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def test_systemd_accepts_the_unit(home: Path, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is required in CI: .ci/run installs systemd")
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    copy = tmp_path / "feeds.service"
    copy.write_text(UNIT.read_text(encoding="utf-8").replace(HOME, str(home)), encoding="utf-8")
    checked = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    # Unknown or misspelt keys are only warned about, and then ignored.
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_the_units_commands_start_reload_and_stop_the_service(
    server: Server, home: Path, unit: list[Unit]
) -> None:
    server.add("/a.rss", rss("From A"))
    server.add("/by.rss", rss("From B"))
    config = write_config(
        home,
        f"  - name: a\n    type: feed\n    url: {server.url}/a.rss\n"
        f"  - name: b\n    type: feed\n    url: {server.url}/bx.rss\n",
    )
    unit.append(Unit(home))
    running = unit[0]
    output = home / "output"
    running.wait_for(lambda: "From A" in _read(output / "all.atom"))

    # systemctl reload: the same length and time, so only the signal tells.
    before = config.stat()
    config.write_text(config.read_text(encoding="utf-8").replace("/bx.rss", "/by.rss"))
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    reload = command(running.section["ExecReload"], home, MAINPID=str(running.process.pid))
    subprocess.run(reload, check=True, timeout=10)
    running.wait_for(lambda: "From B" in _read(output / "all.atom"))

    # systemctl stop: KillSignal to every process of the group, then a
    # SIGKILL after TimeoutStopSec.
    os.killpg(running.process.pid, getattr(signal, running.section["KillSignal"]))
    try:
        code = running.process.wait(timeout=float(running.section["TimeoutStopSec"]))
    except subprocess.TimeoutExpired:
        pytest.fail(f"not stopped in TimeoutStopSec\n{running.journal()}")
    assert code == 0, running.journal()
    assert group_ends(running.process.pid)
    assert "Traceback" not in running.journal()


def test_an_invalid_config_at_start_is_not_restarted_for_ever(home: Path, unit: list[Unit]) -> None:
    (home / "config.yaml").write_text("site:\n  title: x\n  colour: blue\n", encoding="utf-8")
    unit.append(Unit(home))
    code = unit[0].process.wait(timeout=30)
    section = unit[0].section
    assert section["Restart"] == "on-failure" and code != 0
    assert str(code) in section["RestartPreventExitStatus"].split()
    assert "config.yaml" in unit[0].journal()
