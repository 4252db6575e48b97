"""A plain ``pip install .`` gives engine, nn and viz working: every package they import is a dependency,
and the data nn loads is installed with it."""

from __future__ import annotations

import ast
import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

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


# --- the data that ships inside the nn package ---------------------------------------------

# What a wheel is built from: the project's description and its packages, copied away from the checkout so
# that building leaves nothing (build/, *.egg-info) in it.
BUILT_FROM = ["setup.cfg", "pyproject.toml", "README.md", *sorted(FIRST_PARTY)]
SHIPPED_DATA = ["nn/datasets/digits.csv.gz", "nn/datasets/README.md",
                "viz/playground/static/index.html", "viz/playground/static/playground.js",
                "viz/playground/static/playground.css"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel of glassgrad built from a copy of this checkout, offline, with the build tools already here."""
    source = tmp_path_factory.mktemp("source")
    for name in BUILT_FROM:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--wheel-dir", str(out), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return next(out.glob("glassgrad-*.whl"))


def test_the_wheel_holds_the_digits_their_source_and_licence_and_the_playground_page(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for path in SHIPPED_DATA:
            assert path in names, f"{path} is not in the wheel: see setup.cfg's [options.package_data]"
            assert archive.read(path) == (ROOT / path).read_bytes()


def test_the_wheel_installs_the_playground_command(wheel):
    with zipfile.ZipFile(wheel) as archive:
        entry_points = next(name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt"))
        lines = archive.read(entry_points).decode().splitlines()
    assert "glassgrad-playground = viz.playground.__main__:main" in lines


def test_an_installed_copy_loads_the_digits_from_its_own_folder(wheel, tmp_path):
    installed = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target",
                           str(installed), str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    # run from an empty folder with only the installed copy ahead of site-packages: not this checkout
    code = "import json, nn; X, y = nn.load_digits(); print(json.dumps([nn.__file__, X.shape, int(y.max())]))"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(installed)})
    assert done.returncode == 0, done.stderr
    where, shape, largest_label = json.loads(done.stdout)
    assert Path(where).is_relative_to(installed)
    assert shape == [1797, 64] and largest_label == 9
