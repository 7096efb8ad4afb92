"""Module boundaries and documentation that must stay honest."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from .conftest import ROOT

PURE = [
    "feeds.model",
    "feeds.errors",
    "feeds.normalise",
    "feeds.classify",
    "feeds.render",
    "feeds.parse.feed",
    "feeds.parse.text",
    "feeds.config",
]


def test_pure_modules_load_no_database_network_or_scheduler() -> None:
    code = (
        "import sys\n"
        f"for name in {PURE!r}: __import__(name)\n"
        "heavy = {'sqlite3', 'httpx', 'apscheduler'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


def _keys(node: object, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            keys.add(path)
            keys |= _keys(value, path)
    elif isinstance(node, list):
        for value in node:
            keys |= _keys(value, f"{prefix}[]")
    return keys


def test_every_key_of_the_shipped_config_is_documented() -> None:
    shipped = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", readme, flags=re.M))
    sections = {key for key, value in shipped.items() if isinstance(value, dict | list)}
    leaves = {key for key in _keys(shipped) if key not in sections - {"series"}}
    missing = sorted(leaves - documented)
    assert missing == []


def test_every_config_key_the_checker_accepts_is_documented() -> None:
    from feeds import config

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    groups = {
        "site": config._SITE_KEYS,
        "output": config._OUTPUT_KEYS,
        "storage": config._STORAGE_KEYS,
        "fetch": config._FETCH_KEYS,
        "rubrics[]": config._RUBRIC_KEYS,
        "sources[]": config._SOURCE_KEYS,
    }
    for group, keys in groups.items():
        for key in keys:
            assert f"`{group}.{key}`" in readme, f"{group}.{key} is not in the README"
