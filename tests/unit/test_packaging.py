"""Packaging and the container: what `pip install .` and `docker build` rely on."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_console_script_and_licence_metadata() -> None:
    data = pyproject()
    project = data["project"]
    module, _, name = project["scripts"]["musicbot"].partition(":")
    assert callable(getattr(importlib.import_module(module), name))
    # PEP 639: an SPDX expression and the licence file; setuptools understands it from 77.
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "setuptools>=77" in data["build-system"]["requires"]
    names = {re.split(r"[<>=\[]", dep)[0].lower() for dep in project["dependencies"]}
    assert {"prometheus-client", "pillow"} <= names


def test_dockerfile_layers_health_and_signals() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    base = next(line for line in lines if line.startswith("FROM "))
    # A patch version (or a digest), not a moving "3.11" tag.
    assert re.fullmatch(r"FROM python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base)
    copy_deps = lines.index("COPY requirements.lock /tmp/requirements.lock")
    install_deps = next(i for i, line in enumerate(lines) if "--require-hashes" in line)
    copy_code = lines.index("COPY bot ./bot")
    assert copy_deps < install_deps < copy_code  # code changes keep the dependency layer
    # Neither pyproject.toml (a lint setting would reinstall everything) nor a build of the
    # project (setuptools from the index at every code change) is part of the image.
    assert not any("pyproject.toml" in line for line in lines if line.startswith(("COPY", "RUN")))
    assert not any(re.search(r"pip install[^&]* \.( |$)", line) for line in lines)
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert 'CMD ["musicbot", "healthcheck"]' in lines
    assert "STOPSIGNAL SIGTERM" in lines
    assert lines[-1] == 'CMD ["musicbot"]'  # exec form: no shell between Docker and Python
    assert "USER musicbot" in lines


def test_compose_rotates_logs_and_keeps_metrics_private() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "driver: json-file" in text
    assert re.search(r'max-size: "\d+m"', text) and re.search(r'max-file: "\d+"', text)
    assert "init: true" in text
    assert "9100:9100" not in text  # never published to the host
