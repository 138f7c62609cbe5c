"""environment.yml (conda, Binder) and pyproject.toml install the same kit."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _normalised(specs):
    out = {}
    for spec in specs:
        req = Requirement(spec)
        out[req.name.lower()] = (sorted(req.extras), str(req.specifier))
    return out


def test_environment_yml__and_pyproject__agree_on_dependencies():
    pip = next(d["pip"] for d in _environment()["dependencies"] if isinstance(d, dict))
    assert _normalised(pip) == _normalised(_pyproject()["project"]["dependencies"])


def test_environment_yml__pins_python_311():
    assert "python=3.11" in _environment()["dependencies"]


def test_moto__is_pinned_to_the_range_labkit_extends():
    moto = Requirement(next(d for d in _pyproject()["project"]["dependencies"] if d.startswith("moto")))
    assert moto.specifier.contains("5.2.5") and not moto.specifier.contains("5.3.0") and not moto.specifier.contains("6.0")


def test_installed_moto__is_in_the_pinned_range():
    from importlib.metadata import version

    moto = Requirement(next(d for d in _pyproject()["project"]["dependencies"] if d.startswith("moto")))
    assert moto.specifier.contains(version("moto"))
