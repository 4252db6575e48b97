"""A plain ``pip install .`` gives engine, nn and viz working: every package they import is a dependency."""

from __future__ import annotations

import ast
import configparser
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {"engine", "nn", "viz"}


def imported_top_level_names(package: str) -> set[str]:
    """Every top-level module a package's files import, at the top of a file or inside a function."""
    names = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def _requirements(section: str, key: str) -> set[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config[section][key].split("\n")
    return {re.split(r"[<>=!~ ]", line.strip())[0].lower() for line in lines if line.strip()}


def install_requires() -> set[str]:
    return _requirements("options", "install_requires")


def optional_torch() -> set[str]:
    """The way out to PyTorch (nn.to_torch) is an extra: torch is imported only when it is called."""
    return _requirements("options.extras_require", "torch")


def test_every_package_the_library_imports_is_installed_by_a_plain_install():
    third_party = set()
    for package in FIRST_PARTY:
        third_party |= imported_top_level_names(package) - set(sys.stdlib_module_names) - FIRST_PARTY
    assert third_party, "the scan found no third-party import at all: it is not looking at the packages"
    missing = third_party - install_requires() - optional_torch()
    assert not missing, f"imported by the library but not in setup.cfg's install_requires: {missing}"


def test_the_engine_core_imports_only_the_standard_library():
    core = ROOT / "engine" / "value.py"
    tree = ast.parse(core.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)
