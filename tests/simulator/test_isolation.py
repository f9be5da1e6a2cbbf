"""The simulator is a separate reading of MusicAPI: it never loads the client, and a live bot
never loads the simulator."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bot.simulator

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, env: dict[str, str] | None = None) -> list[str]:
    """Run ``code`` in a fresh interpreter; it prints a JSON list of module names."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.e2e  # starts a process
def test_simulator_never_imports_the_client_at_run_time() -> None:
    # Starts the server and serves a create and a poll, so imports done lazily on a request
    # path would show up too.
    loaded = run_python(
        "import asyncio, json, sys, aiohttp\n"
        "from bot.simulator import MusicAPISimulator, SimulatorConfig\n"
        "async def main():\n"
        "    sim = MusicAPISimulator(SimulatorConfig(generation_time=0))\n"
        "    base = await sim.start()\n"
        "    auth = {'Authorization': 'Bearer k'}\n"
        "    body = {'custom_mode': False, 'mv': 'sonic-v5', 'gpt_description_prompt': 'x'}\n"
        "    async with aiohttp.ClientSession(headers=auth) as s:\n"
        "        async with s.post(base + '/api/v1/sonic/create', json=body) as r:\n"
        "            task = (await r.json())['task_id']\n"
        "        async with s.get(base + '/api/v1/sonic/task/' + task) as r:\n"
        "            assert r.status == 200, r.status\n"
        "    await sim.stop()\n"
        "asyncio.run(main())\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('bot'))))\n"
    )
    assert "bot.simulator.server" in loaded  # the probe really ran the simulator
    assert [m for m in loaded if m.startswith("bot.musicapi")] == []


def test_simulator_source_has_no_import_of_the_client() -> None:
    # Also catches an import inside a function body that the run above did not reach.
    package = Path(bot.simulator.__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
                if node.level == 1 and node.module is None:
                    names = [alias.name for alias in node.names]  # from . import x
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            offenders += [f"{path.name}: {n}" for n in names if "musicapi" in n]
    assert offenders == []


_START_UP = (
    "import asyncio, json, sys\n"
    "from bot.config import load_settings\n"
    "from bot.app import MusicBot\n"
    "import bot.__main__\n"
    "async def main():\n"
    # `async with`: the client's own set-up runs too (AutoShardedBot's close needs it).
    "    async with MusicBot(load_settings()) as bot:\n"
    "        await bot.setup_hook()\n"
    "asyncio.run(main())\n"
    "print(json.dumps(sorted(m for m in sys.modules if m.startswith('bot'))))\n"
)


def _start_up_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUSICAPI_", "SIMULATOR_"))}
    return {
        **env,
        "DISCORD_TOKEN": "test.bot.token",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "SYNC_COMMANDS": "none",
        **extra,
    }


@pytest.mark.e2e  # starts a process
def test_live_start_up_does_not_load_the_simulator(tmp_path: Path) -> None:
    loaded = run_python(
        _START_UP,
        _start_up_env(tmp_path, MUSICAPI_KEY="k", MUSICAPI_BASE_URL="http://127.0.0.1:9"),
    )
    assert "bot.app" in loaded and "bot.musicapi.client" in loaded
    assert [m for m in loaded if m.startswith("bot.simulator")] == []


@pytest.mark.e2e  # starts a process
def test_simulated_start_up_loads_it(tmp_path: Path) -> None:
    # The same probe with MUSICAPI_SIMULATE=1: shows that the check above can see an import.
    loaded = run_python(_START_UP, _start_up_env(tmp_path, MUSICAPI_SIMULATE="1"))
    assert "bot.simulator" in loaded
