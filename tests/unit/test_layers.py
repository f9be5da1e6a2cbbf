"""The layers of the code, read from its imports (parsed with `ast`: nothing is imported).

A *package* here is a folder of `bot/` (`bot.delivery`, `bot.interactions`, `bot.jobs`,
`bot.store`, `bot.quota`, `bot.musicapi`, `bot.validation`, `bot.webhooks`,
`bot.observability`, `bot.simulator`, …), a module directly in `bot/` (`bot.config`,
`bot.states`, `bot.app`, …), or one cog (`cogs.quota`, …). Every import counts: at module
level, inside a function (imported late to start faster is still a dependency) and under
`TYPE_CHECKING`, with the one exception in 4.

The layering, from the bottom up:

1. Leaves (`LEAVES`): the version in `bot/__init__.py`, `bot.states` (the enums),
   `bot.periods` (budget period arithmetic), `bot.errors`, `bot.markdown`, `bot.redaction`,
   `bot.shards`. They import no other part of the bot but each other.
2. `bot.store`: SQL for SQLite and PostgreSQL. It imports only leaves: the ledger files its
   running totals by budget period through `bot.periods`, not `bot.quota` or `bot.config`.
3. Everything between (configuration, validation, the MusicAPI client, quota, observability,
   webhooks, jobs, delivery, interactions, …) imports only downwards, so the graph of
   packages has no cycle. Delivery sits below interactions: it is handed the buttons it
   attaches to a song (`DiscordPoster(clip_views=…)`, built in `bot.app`) instead of importing
   them.
4. `bot.app`, the composition root, builds every service and may import any package. Code
   below it names its `MusicBot` type under `TYPE_CHECKING` only (cogs and interaction helpers
   are still given the bot itself); those type-only imports of `bot.app` are the ones left out
   of the graph.
5. The command line: `bot.__main__` and `bot.cli` are one node (`python -m bot` runs the CLI,
   whose default command runs the bot).
6. Cogs: one extension per command group, loaded by name; a cog never imports another cog.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LEAVES = frozenset(
    {
        "bot",
        "bot.states",
        "bot.periods",
        "bot.errors",
        "bot.markdown",
        "bot.redaction",
        "bot.shards",
    }
)
STORE = "bot.store"
COMPOSITION_ROOT = "bot.app"
# Modules that are one node: the entry point and the subcommands it runs.
SAME_NODE = {"bot.cli": "bot.__main__"}
# Packages the walk must see, so that a walk that finds nothing cannot pass.
EXPECTED = frozenset(
    {
        "bot.delivery",
        "bot.interactions",
        "bot.jobs",
        "bot.store",
        "bot.quota",
        "bot.musicapi",
        "bot.validation",
        "bot.webhooks",
        "bot.observability",
        "bot.simulator",
        "bot.app",
        "cogs.quota",
    }
)


@dataclass(frozen=True, slots=True)
class Import:
    importer: str  # the module that imports
    imported: str  # the module (or package) it names
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`

    def __str__(self) -> str:
        kind = " (type only)" if self.type_only else ""
        return f"{self.importer} imports {self.imported}{kind}, line {self.line}"


Graph = dict[str, dict[str, list[Import]]]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path) -> list[Path]:
    return sorted([*root.glob("bot/**/*.py"), *root.glob("cogs/**/*.py")])


def _is_module(name: str, root: Path) -> bool:
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`) blocks."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            for statement in node.body:
                inside.update(id(child) for child in ast.walk(statement))
    return inside


def imports_of(path: Path, root: Path) -> Iterator[Import]:
    """The project's modules that one file imports (third-party and stdlib left out)."""
    name = module_name(path, root)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    type_only = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            # `from bot.store import clips` imports the module bot.store.clips.
            targets = [
                f"{source}.{alias.name}" if _is_module(f"{source}.{alias.name}", root) else source
                for alias in node.names
            ]
        for target in dict.fromkeys(targets):  # `from x import a, b` names x once
            if target.split(".")[0] in ("bot", "cogs"):
                yield Import(name, target, node.lineno, id(node) in type_only)


def package_of(module: str) -> str:
    """bot.store.ledger -> bot.store; bot.config -> bot.config; cogs.quota -> cogs.quota."""
    head = ".".join(module.split(".")[:2])
    return SAME_NODE.get(head, head)


def all_imports(root: Path) -> list[Import]:
    return [found for path in source_files(root) for found in imports_of(path, root)]


def package_graph(imports: list[Import]) -> Graph:
    graph: Graph = {}
    for found in imports:
        source, target = package_of(found.importer), package_of(found.imported)
        graph.setdefault(source, {})
        graph.setdefault(target, {})
        if source == target or (found.type_only and target == COMPOSITION_ROOT):
            continue
        graph[source].setdefault(target, []).append(found)
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle of packages, as [a, b, …, a], or None when the graph has none."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        on_path = {start}
        pending = [iter(sorted(graph[start]))]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                pending.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif step in on_path:
                return [*path[path.index(step) :], step]
            elif step not in done:
                path.append(step)
                on_path.add(step)
                pending.append(iter(sorted(graph[step])))
    return None


def describe(cycle: list[str], graph: Graph) -> str:
    lines = ["packages import each other: " + " -> ".join(cycle)]
    for source, target in itertools.pairwise(cycle):
        lines.append(f"  {source} -> {target}:")
        lines.extend(f"    {found}" for found in graph[source][target])
    return "\n".join(lines)


# -- the project ----------------------------------------------------------------------------


def test_the_walk_sees_every_layer() -> None:
    graph = package_graph(all_imports(ROOT))
    assert EXPECTED <= set(graph), sorted(EXPECTED - set(graph))
    assert graph[COMPOSITION_ROOT], "bot.app imports nothing: the walk is broken"


def test_no_cycle_between_packages() -> None:
    graph = package_graph(all_imports(ROOT))
    cycle = find_cycle(graph)
    assert cycle is None, describe(cycle, graph)


def test_store_imports_only_leaves() -> None:
    above = [
        str(found)
        for found in all_imports(ROOT)
        if package_of(found.importer) == STORE
        and package_of(found.imported) not in LEAVES | {STORE}
    ]
    assert not above, "bot.store imports above itself:\n" + "\n".join(above)


def test_leaves_import_only_leaves() -> None:
    upward = [
        str(found)
        for found in all_imports(ROOT)
        if package_of(found.importer) in LEAVES and package_of(found.imported) not in LEAVES
    ]
    assert not upward, "a leaf imports the rest of the bot:\n" + "\n".join(upward)


def test_cogs_do_not_import_each_other() -> None:
    between = [
        str(found)
        for found in all_imports(ROOT)
        if found.importer.startswith("cogs.")
        and found.imported.startswith("cogs")
        and package_of(found.imported) != package_of(found.importer)
    ]
    assert not between, "cogs import each other:\n" + "\n".join(between)


# -- the walk itself, on a tree made for it -------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_cycle_through_a_late_relative_import_is_found_and_named(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "bot/__init__.py": "",
            "bot/low/__init__.py": "",
            "bot/low/poster.py": "def view():\n    from ..high import buttons\n",
            "bot/high/__init__.py": "",
            "bot/high/buttons.py": "from bot.low import poster\n",
        },
    )
    graph = package_graph(all_imports(root))
    cycle = find_cycle(graph)
    assert cycle == ["bot.high", "bot.low", "bot.high"]
    text = describe(cycle, graph)
    assert "bot.low.poster imports bot.high.buttons, line 2" in text
    assert "bot.high.buttons imports bot.low.poster, line 1" in text


def test_type_only_imports_count_except_the_composition_root(tmp_path: Path) -> None:
    files = {
        "bot/__init__.py": "",
        "bot/app.py": "import bot.low.thing\n",
        "bot/low/__init__.py": "",
        "bot/low/thing.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from bot.app import MusicBot\n"
        ),
    }
    assert find_cycle(package_graph(all_imports(_tree(tmp_path / "root", files)))) is None
    files["bot/mid.py"] = "from bot.low import thing\n"
    files["bot/low/thing.py"] += "    from bot.mid import X\n"
    graph = package_graph(all_imports(_tree(tmp_path / "mid", files)))
    assert find_cycle(graph) == ["bot.low", "bot.mid", "bot.low"]
    assert graph["bot.low"]["bot.mid"][0].type_only


def test_a_store_reaching_up_and_cogs_importing_each_other_are_seen(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "bot/__init__.py": "",
            "bot/store/__init__.py": "",
            "bot/store/ledger.py": "from bot.quota.periods import current_window\n",
            "cogs/__init__.py": "",
            "cogs/a.py": "from cogs import b\n",
            "cogs/b.py": "",
        },
    )
    found = all_imports(root)
    store = [f for f in found if package_of(f.importer) == STORE]
    assert [package_of(f.imported) for f in store] == ["bot.quota"]
    assert [(f.importer, f.imported) for f in found if f.importer.startswith("cogs")] == [
        ("cogs.a", "cogs.b")
    ]
