"""The floors hold: core imports no channel, knowledge or application code, channels and the
knowledge base import no application code, and no module imports itself round a cycle."""

from __future__ import annotations

import graphlib

import grimp
import pytest

from channels.registry import BUILT_IN

PACKAGES = ("core", "channels", "knowledge_base", "bot")
FORBIDDEN = [
    ("core", "channels"),
    ("core", "knowledge_base"),
    ("core", "bot"),
    ("channels", "bot"),
    ("channels", "knowledge_base"),
    ("knowledge_base", "bot"),
    ("knowledge_base", "channels"),
]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # Imports for type checkers only never run, so they cannot make a cycle or a dependency.
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)


@pytest.mark.parametrize(("lower", "higher"), FORBIDDEN)
def test_a_lower_floor_never_imports_a_higher_one(
    graph: grimp.ImportGraph, lower: str, higher: str
) -> None:
    chains = graph.find_shortest_chains(importer=lower, imported=higher, as_packages=True)
    assert not chains, f"{lower} reaches {higher} through: {sorted(chains)[:3]}"


def test_no_module_imports_round_a_cycle(graph: grimp.ImportGraph) -> None:
    # Imports inside functions count too: a late import only hides a cycle.
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    try:
        graphlib.TopologicalSorter(imports).prepare()
    except graphlib.CycleError as cycle:
        pytest.fail(f"import cycle: {' -> '.join(cycle.args[1])}")


def test_the_graph_sees_the_whole_code(graph: grimp.ImportGraph) -> None:
    # A check over an empty graph would pass whatever the code does.
    assert {"core.conversation", "channels.telegram.updates", "bot.cli.main"} <= graph.modules
    assert "core.conversation" in graph.find_modules_directly_imported_by("bot.services")


def test_each_channel_folder_stands_alone(graph: grimp.ImportGraph) -> None:
    # One home per channel: a channel uses what channels/ shares, never another channel.
    folders = [module.rsplit(".", 1)[0] for module in BUILT_IN]
    assert len(folders) >= 4
    for importer in folders:
        for imported in folders:
            if importer != imported:
                chains = graph.find_shortest_chains(importer, imported, as_packages=True)
                assert not chains, f"{importer} reaches {imported}: {sorted(chains)[:3]}"
