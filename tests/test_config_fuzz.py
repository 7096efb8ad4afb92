"""The config checker under random and mutated YAML (hypothesis).

Whatever config.yaml holds, `parse_config` either returns a Config or raises
ConfigError, never anything else, and the error is one an operator can act
on. The rule asserted for every ConfigError (`assert_actionable`):

- ``error.path`` is the file and ``str(error)`` starts with ``FILE:LINE:``;
- ``error.line >= 1`` for every input, the empty one included (the checker
  reports an empty file, a blank one or one with only comments as line 1,
  ``FILE:1: the file is empty``: that case is asserted exactly), and the
  line exists: it is at most one past the last line of the text;
- the message names the key path (``FILE:LINE: KEY: DETAIL`` with a
  non-empty KEY), or has no key and says "invalid YAML" or that the file is
  empty. The one keyless exception allowed is the document root itself,
  which has no key to name: "expected a mapping of keys, got ..." and
  "keys must be text, got ..." about the top level.

A few examples also go through the real CLI (`feeds check` and `feeds
build`): no traceback, exit codes as documented, ``FILE:LINE:`` on exit 2.
Builds stay offline: the configs only point at copies of samples/.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

import feeds.config
from feeds.config import parse_config
from feeds.errors import ConfigError
from feeds.model import Config

from .conftest import ROOT, run_cli

SHIPPED = ROOT / "config.yaml"
SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")
SHIPPED_LINES = SHIPPED_TEXT.splitlines()
SHIPPED_DATA: dict[str, Any] = yaml.safe_load(SHIPPED_TEXT)
SAMPLES = ROOT / "samples"

#: Keyless messages about the document root (see the module docstring).
ROOT_DETAILS = ("expected a mapping of keys, got ", "keys must be text, got ")

#: Every key name config.yaml knows, so random documents reach past `site`:
#: the checker's own tables (`_TOP_KEYS`, `_SOURCE_KEYS`...) plus a few.
KNOWN_KEYS = sorted(
    {
        key
        for name, keys in vars(feeds.config).items()
        if name.endswith("_KEYS") and isinstance(keys, tuple)
        for key in keys
        if isinstance(key, str)
    }
    | {"site", "sources", "rubrics", "url", "path", "items", "hub"}
)
#: Values that sit on the edges of what the checker accepts.
INTERESTING = [
    "",
    " ",
    "0",
    "-1",
    "1s",
    "10m",
    "0s",
    "1h30m",
    "abc",
    "http://[",
    "http://[::1",
    "http://",
    "https://x.example/",
    "ftp://x.example/",
    "file:///tmp/x.rss",
    "sqlite:///",
    "sqlite:///x.db",
    "mysql://x",
    "Europe/Moscow",
    "Europe",
    "Mars/Olympus",
    "../x",
    "a\x00b",
    "\ud800",
    "\x85",
    "text",
    "json",
    "debug",
    "feed",
    "all",
    "news",
    "literature",
    "Литература",
    "0 */2 * * *",
    "* * *",
    "127.0.0.1:8080",
    "[::1]:x",
    "10.0.0.0/8",
    "x:",
    "2001-13-01",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(INTERESTING)
)
keys = st.sampled_from(KNOWN_KEYS) | st.text(max_size=10) | st.integers(-3, 3)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)
documents = values | st.dictionaries(keys, values, max_size=8)

#: YAML tags and bodies that look like typed scalars ("2001-13-01" is an
#: implicit timestamp, "!!int abc" an explicit int), written raw.
TAGS = [
    "",
    "!!int ",
    "!!float ",
    "!!bool ",
    "!!null ",
    "!!str ",
    "!!timestamp ",
    "!!binary ",
    "!!set ",
    "!!omap ",
    "!!seq ",
    "!!map ",
    "!local ",
    "!!python/name:os.system ",
]
raw_scalars = st.builds(
    str.__add__,
    st.sampled_from(TAGS),
    st.text(alphabet="0123456789-:.+_ TtZzeExob=", max_size=14),
)


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def dump(data: Any) -> str:
    """YAML for `data`: libyaml's emitter when it can (fast), the pure one
    for text libyaml cannot write (lone surrogates, which it escapes)."""
    try:
        return yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False)
    except UnicodeEncodeError:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def flow(value: Any) -> str:
    """A value as one line of YAML, as it would follow `key: `."""
    text = yaml.safe_dump([value], default_flow_style=True, width=10**6, allow_unicode=True)
    return text.strip()[1:-1]


# --------------------------------------------------------------------------
# the rule


def assert_actionable(error: ConfigError, text: str, path: Path) -> None:
    # Every problem found (a broken source does not stop the check of the
    # next ones) is actionable on its own, and the error reads as the
    # first, in the file's order.
    lines = [problem.line for problem in error.problems]
    assert error.problems[0] is error or error.message == error.problems[0].message
    assert lines == sorted(lines), lines
    for problem in error.problems:
        assert_one_actionable(problem, text, path)
    more = len(error.problems) - 1
    assert str(error) == error.message + (f" (and {more} more)" if more else "")


def assert_one_actionable(error: ConfigError, text: str, path: Path) -> None:
    message = error.message
    shown = str(path)
    assert error.path == shown
    assert message.startswith(shown + ":"), message
    assert error.line >= 1, f"no line number for a non-empty text: {message!r}"
    assert message.startswith(f"{shown}:{error.line}: "), message
    assert error.line <= len(text.splitlines()) + 1, f"line past the end: {message!r}"
    if not text:
        assert (error.line, error.key, error.detail) == (1, "", "the file is empty")
    if error.key:
        # A key in a source that has its name already says which source.
        named = f" (source '{error.source}')" if error.source else ""
        assert not error.source or error.key.startswith("sources[")
        assert message == f"{shown}:{error.line}: {error.key}{named}: {error.detail}"
    else:
        assert (
            error.detail.startswith("invalid YAML")
            or error.detail == "the file is empty"
            or error.detail.startswith(ROOT_DETAILS)
        ), f"the message names no key: {message!r}"


def check(text: str, path: Path) -> Config | None:
    """parse_config's outcome; anything but Config/ConfigError propagates."""
    try:
        config = parse_config(text, path)
    except ConfigError as error:
        assert_actionable(error, text, path)
        return None
    assert isinstance(config, Config)
    return config


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    return folder / "config.yaml"


# --------------------------------------------------------------------------
# mutations of the shipped config.yaml

_KEY_LINE = re.compile(r"^(?P<head>\s*(?:-\s+)?)(?P<key>[A-Za-z_]\w*)(?P<colon>:)(?P<rest>.*)$")


def typo(draw: st.DrawFn, word: str) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz_"
    kind = draw(st.sampled_from(["drop", "swap", "insert", "replace", "case"]))
    at = draw(st.integers(0, max(0, len(word) - 1)))
    if kind == "drop" and len(word) > 1:
        return word[:at] + word[at + 1 :]
    if kind == "swap" and at + 1 < len(word):
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if kind == "insert":
        return word[:at] + draw(st.sampled_from(letters)) + word[at:]
    if kind == "case":
        return word[:at] + word[at:].upper()
    return word[:at] + draw(st.sampled_from(letters)) + word[at + 1 :]


@st.composite
def mutated_text(
    draw: st.DrawFn,
    chars: st.SearchStrategy[str],
    replacement: st.SearchStrategy[Any],
    raw: st.SearchStrategy[str],
) -> str:
    """The shipped config.yaml after one to three line-level mutations."""
    lines = list(SHIPPED_LINES)
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            lines.append("")
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(
            st.sampled_from(
                ["delete", "duplicate", "swap", "indent", "char", "value", "raw", "typo"]
            )
        )
        line = lines[i]
        keyed = _KEY_LINE.match(line)
        if kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i + 1, line)
        elif kind == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif kind == "indent":
            body = line.lstrip(" ")
            lines[i] = " " * draw(st.integers(0, 8)) + body
        elif kind == "char":
            at = draw(st.integers(0, len(line)))
            lines[i] = line[:at] + draw(chars) + line[at:]
        elif kind == "value" and keyed:
            lines[i] = f"{keyed['head']}{keyed['key']}: {flow(draw(replacement))}"
        elif kind == "raw" and keyed:
            lines[i] = f"{keyed['head']}{keyed['key']}: {draw(raw)}"
        elif kind == "typo" and keyed:
            lines[i] = f"{keyed['head']}{typo(draw, keyed['key'])}:{keyed['rest']}"
    return "\n".join(lines) + "\n"


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


SHIPPED_PATHS = _paths(SHIPPED_DATA)


def _at(data: Any, where: tuple[Any, ...]) -> Any:
    for step in where:
        data = data[step]
    return data


@st.composite
def mutated_tree(draw: st.DrawFn) -> str:
    """The shipped config with one value replaced by a random one, or one
    key renamed with a typo, dumped back to YAML."""

    data = copy.deepcopy(SHIPPED_DATA)
    for _ in range(draw(st.integers(1, 2))):
        where = draw(st.sampled_from(SHIPPED_PATHS))
        parent: Any = data
        try:
            for step in where[:-1]:
                parent = parent[step]
            parent[where[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed it
        if not isinstance(parent, dict | list):
            continue  # an earlier mutation made it a scalar (a string indexes too)
        last = where[-1]
        if isinstance(parent, dict) and draw(st.booleans()):
            renamed = typo(draw, str(last))
            parent[renamed] = parent.pop(last)
        else:
            parent[last] = draw(values)
    return dump(data)


# --------------------------------------------------------------------------
# parse_config in process

FUZZ = settings(max_examples=200, deadline=None)


@FUZZ
@example(text="'': null\n")  # an empty key name
@given(documents.map(dump))
def test_random_yaml_documents(config_path: Path, text: str) -> None:
    check(text, config_path)


YAML_TOKENS = [
    "site:",
    "sources:",
    "rubrics:",
    "\n",
    "\n  ",
    "  ",
    "- ",
    ": ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    '"',
    "? ",
    "#",
    "&a ",
    "*a",
    "<<: ",
    "!!int ",
    "!!float ",
    "!!timestamp ",
    "!!binary ",
    "!!python/object ",
    "!foo ",
    "%YAML 1.1\n",
    "---\n",
    "...\n",
    "|\n",
    ">\n",
    "\t",
    "\ufeff",
    "2001-13-01",
    "abc",
    "1",
    "~",
]


@FUZZ
# Each of these once escaped as something else than ConfigError, or gave
# line 0 / no key; kept as fixed points of the search.
@example(text="!!int")
@example(text="!!float")
@example(text="site: !!timestamp x\n")
@example(text="site: 2001-13-01\n")
@example(text="\x1f")
@example(text="? \n? ")  # two empty keys: a duplicate with no name
@given(st.text() | st.lists(st.sampled_from(YAML_TOKENS) | st.text(max_size=3)).map("".join))
def test_random_text(config_path: Path, text: str) -> None:
    check(text, config_path)


@FUZZ
@example(text="\x1f" + SHIPPED_TEXT)
@given(mutated_text(st.characters(exclude_categories=("Cs",)), values, raw_scalars))
def test_mutated_shipped_config_text(config_path: Path, text: str) -> None:
    check(text, config_path)


@FUZZ
@given(mutated_tree())
def test_shipped_config_with_a_value_replaced_or_a_key_misspelt(
    config_path: Path, text: str
) -> None:
    check(text, config_path)


KEYED_LINES = [i for i, line in enumerate(SHIPPED_LINES) if _KEY_LINE.match(line)]


#: The line of `site.title` in the shipped config.
SITE_TITLE = next(i for i, line in enumerate(SHIPPED_LINES) if line.startswith("  title:"))


@FUZZ
@example(index=SITE_TITLE, scalar="!!int 08")
@example(index=SITE_TITLE, scalar="!!bool ")
@example(index=SITE_TITLE, scalar="!!timestamp ")
@given(st.sampled_from(KEYED_LINES), raw_scalars)
def test_typed_scalars_in_every_value_of_the_shipped_config(
    config_path: Path, index: int, scalar: str
) -> None:
    keyed = _KEY_LINE.match(SHIPPED_LINES[index])
    assert keyed
    lines = list(SHIPPED_LINES)
    lines[index] = f"{keyed['head']}{keyed['key']}: {scalar}"
    check("\n".join(lines) + "\n", config_path)


SCALAR_PATHS = [p for p in SHIPPED_PATHS if not isinstance(_at(SHIPPED_DATA, p), dict | list)]


@pytest.mark.parametrize("where", SCALAR_PATHS, ids=lambda p: ".".join(map(str, p)))
def test_every_scalar_of_the_shipped_config_with_every_edge_value(
    config_path: Path, where: tuple[Any, ...]
) -> None:
    """Systematic, not random: each of the ~80 values of config.yaml replaced
    by each edge value in turn. Collects every crash before failing."""
    crashes: list[str] = []
    edge_values: list[Any] = [*INTERESTING, None, True, 0, -1, 1.5, float("nan"), float("inf")]
    for value in [*edge_values, [], {}]:
        data = copy.deepcopy(SHIPPED_DATA)
        parent = _at(data, where[:-1])
        parent[where[-1]] = value
        text = dump(data)
        try:
            check(text, config_path)
        except Exception as exc:  # noqa: BLE001 - reported all together
            crashes.append(f"{value!r}: {type(exc).__name__}: {exc}"[:300])
    assert not crashes, "\n".join(crashes)


@pytest.mark.parametrize("value", INTERESTING, ids=repr)
def test_source_url_with_every_edge_value(config_path: Path, value: str) -> None:
    data: dict[str, Any] = yaml.safe_load(SHIPPED_TEXT)
    del data["sources"][2]["path"]
    data["sources"][2]["url"] = value
    check(dump(data), config_path)


@pytest.mark.parametrize("opener", ["[", "{a: ", "- "])
@pytest.mark.parametrize("depth", [10, 200, 900, 1000, 1001, 3000])
def test_deeply_nested_values(config_path: Path, depth: int, opener: str) -> None:
    """Deep nesting is a table, not a hypothesis search: shrinking through
    thousands of RecursionErrors takes minutes, and where the stack runs out
    varies from run to run. libyaml stops at 1000 levels with a clean error."""
    closer = {"[": "]", "{a: ": "}", "- ": ""}[opener]
    if opener == "- ":
        body = "".join("\n" + "  " * (level + 1) + "- " for level in range(depth)) + "x"
    else:
        body = opener * depth + "x" + closer * depth
    crashed = ""
    try:
        check(f"site: {body}\n", config_path)
    except RecursionError:
        # Reported plainly: the traceback would be thousands of frames.
        crashed = f"RecursionError for {depth} levels of {opener!r}"
    assert not crashed, crashed


@pytest.mark.parametrize("text", ["", "\n\n", "   \n", "# only a comment\n", "---\n"])
def test_empty_documents_point_at_line_one(config_path: Path, text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, config_path)
    assert (info.value.line, info.value.key) == (1, "")
    assert str(info.value) == f"{config_path}:1: the file is empty"


def test_shipped_config_is_valid(config_path: Path) -> None:
    assert check(SHIPPED_TEXT, config_path) is not None


# --------------------------------------------------------------------------
# the real CLI on mutated configs: few examples, each a subprocess

#: Safe edits for runs that may write: no '/' or '\' (an absolute or
#: escaping path), values that name nothing outside the run's folder.
SAFE_CHARS = st.sampled_from(
    "abcxyzABC0123456789 _-:.,#&*!|>'\"[]{}?%@`\t"
)  # fmt: skip
SAFE_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", max_size=8)
SAFE_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 100_000) | SAFE_WORDS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(SAFE_WORDS, children, max_size=3)
    ),
    max_leaves=6,
)
CLI = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
LOCATED = re.compile(r"^error: (?P<file>.+?):(?P<line>\d+): ", re.MULTILINE)
NOW = "2026-11-26T09:00:00+00:00"


def prepare(folder: Path, text: str) -> Path:
    shutil.copytree(SAMPLES, folder / "samples")
    path = folder / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def in_process(path: Path) -> Config | None | Exception:
    """What parse_config makes of the file: a Config, None for a ConfigError,
    the exception for anything else (the CLI run then shows the damage)."""
    try:
        return parse_config(path.read_text(encoding="utf-8"), path)
    except ConfigError:
        return None
    except Exception as exc:  # noqa: BLE001 - compared with the CLI below
        return exc


def assert_config_exit(result: Any, path: Path) -> None:
    located = LOCATED.search(result.stderr)
    assert located, f"exit 2 without FILE:LINE: {result.stderr!r}"
    assert located["file"] == str(path)
    assert int(located["line"]) >= 1


def stays_inside(config: Config, folder: Path) -> bool:
    """Whether a build of `config` reads and writes only under `folder` and
    reaches no network (no URL source, no WebSub hub, no article fetch)."""
    folder = folder.resolve()
    if getattr(config.site, "hub", ""):
        return False
    places = [config.output_dir, Path(config.storage_url.removeprefix("sqlite:///"))]
    for source in config.sources:
        if source.url or source.path is None or getattr(source, "full_content", False):
            return False
        places.append(source.path)
    return all(place.is_relative_to(folder) for place in places)


@CLI
@given(mutated_text(SAFE_CHARS, SAFE_VALUES, SAFE_WORDS))
def test_cli_check_on_mutated_configs(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    folder = tmp_path_factory.mktemp("check")
    path = prepare(folder, text)
    expected = in_process(path)

    result = run_cli("check", "-c", str(path), cwd=folder)
    event(f"check exit {result.returncode}")

    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 2), (result.returncode, result.stderr)
    if result.returncode == 2:
        assert_config_exit(result, path)
    if isinstance(expected, Config):
        assert result.returncode == 0, result.stderr
    elif expected is None:
        assert result.returncode == 2, result.stdout


@CLI
@given(mutated_text(SAFE_CHARS, SAFE_VALUES, SAFE_WORDS))
def test_cli_build_on_mutated_configs(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    folder = tmp_path_factory.mktemp("build")
    path = prepare(folder, text)
    expected = in_process(path)
    if isinstance(expected, Config):
        # A valid config that names a place outside the folder is not run.
        assume(stays_inside(expected, folder))

    result = run_cli("build", "-c", str(path), "--now", NOW, cwd=folder)
    event(f"build exit {result.returncode}")

    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (0, 1, 2), (result.returncode, result.stderr)
    if result.returncode == 2:
        assert_config_exit(result, path)
    if isinstance(expected, Config):
        assert result.returncode in (0, 1), result.stderr
    elif expected is None:
        assert result.returncode == 2, result.stdout
