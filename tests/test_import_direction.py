"""Imports run down the layers only: channels -> services -> followups -> dialogues -> nlu, and
everyone may use storage, which imports nothing of the project. Read from the source with `ast`
(function-level imports included), so a lazy import cannot hide a wrong direction."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("bot", "dialogues", "nlu", "storage")
# package (a folder, or a module of bot/) -> the imports it must never make
FORBIDDEN = {
    "dialogues": ("bot", "storage", "telegram"),
    "nlu": ("bot", "storage", "dialogues", "telegram"),
    "storage": ("bot", "dialogues", "nlu", "telegram"),
    "bot.services": ("telegram", "bot.telegram", "bot.web", "bot.console", "bot.cli"),
    "bot.followups": ("telegram", "bot.services", "bot.telegram", "bot.web", "bot.console",
                      "bot.cli"),
}
BOT_FOLDERS = ("bot.services", "bot.followups", "bot.telegram", "bot.web")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module this file imports, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources() -> dict[str, set[str]]:
    """Module name -> what it imports, for every project module except the migrations."""
    graph = {}
    for package in PROJECT:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                graph[module_name(path)] = imports_of(path)
    return graph


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_graph_is_read() -> None:
    graph = sources()
    assert "bot.services.conversations" in graph
    assert "dialogues.engine" in imports_of(ROOT / "bot" / "services" / "runner.py")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(package: str) -> None:
    wrong = sorted(f"{module} imports {target}"
                   for module, targets in sources().items() if within(module, package)
                   for target in targets
                   if any(within(target, banned) for banned in FORBIDDEN[package]))
    assert wrong == []


def test_only_the_telegram_channel_imports_python_telegram_bot() -> None:
    wrong = sorted(module for module, targets in sources().items()
                   if not within(module, "bot.telegram")
                   and any(within(t, "telegram") for t in targets))
    assert wrong == []


def test_no_two_bot_folders_import_each_other() -> None:
    uses: dict[str, set[str]] = {folder: set() for folder in BOT_FOLDERS}
    for module, targets in sources().items():
        mine = next((f for f in BOT_FOLDERS if within(module, f)), None)
        if mine is None:
            continue
        for target in targets:
            other = next((f for f in BOT_FOLDERS if within(target, f)), None)
            if other is not None and other != mine:
                uses[mine].add(other)
    both_ways = sorted((a, b) for a in BOT_FOLDERS for b in uses[a] if a in uses[b] and a < b)
    assert both_ways == []


def test_only_storage_queries_the_database() -> None:
    """No `select`, `session.exec` or `session.get` outside storage/: storage owns every query."""
    wrong = []
    for package in ("bot", "dialogues", "nlu"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module in ("sqlmodel", "sqlalchemy") \
                        and any(a.name in ("select", "delete", "update") for a in node.names):
                    wrong.append(f"{module_name(path)} imports {node.module}.select/delete/update")
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in ("exec", "execute", "get") \
                        and isinstance(node.func.value, ast.Name) \
                        and node.func.value.id in ("session", "s", "connection"):
                    wrong.append(f"{module_name(path)}:{node.lineno} calls "
                                 f"{node.func.value.id}.{node.func.attr}")
    assert wrong == []
