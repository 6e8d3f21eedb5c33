"""Limits on what a YAML document may ask of the loader (a spec is data from anywhere).

* Aliases: a "billion laughs" document nests aliases of aliases (``b: [*a, *a, ...]``,
  ``c: [*b, *b, ...]``) so that a few lines expand into billions of nodes. PyYAML builds
  an alias as a shared reference, so loading is quick, but whatever walks the result
  afterwards (validation, hashing, messages) runs out of memory. :func:`check_aliases`
  measures the expansion on the composed node graph, before any Python object is built,
  and refuses a document whose aliases add more than :data:`MAX_ALIAS_NODES` nodes. A
  spec reusing a few category mappings adds hundreds.
* Integers: Python refuses to convert more than 4300 digits (a ValueError, not a YAML
  error) and no spec number needs more than 308 (the float range):
  :func:`construct_int` refuses integers of more than :data:`MAX_INT_DIGITS` digits.
"""

from __future__ import annotations

from typing import Any

import yaml

from sid.errors import SpecError, shown

MAX_ALIAS_NODES = 100_000
MAX_INT_DIGITS = 320


class AliasRecorder:
    """Loader mix-in: records each alias composed, as (anchor name, node, position)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)  # type: ignore[call-arg]
        self.alias_uses: list[tuple[str, yaml.Node, yaml.Mark]] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            event = self.peek_event()  # type: ignore[attr-defined]
            node = self.anchors.get(event.anchor)  # type: ignore[attr-defined]
            if node is not None:  # an undefined alias: the composer raises its own error
                self.alias_uses.append((event.anchor, node, event.start_mark))
        return super().compose_node(parent, index)  # type: ignore[misc]


def construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    """YAML int constructor that refuses more than MAX_INT_DIGITS digits (with the line)."""
    digits = sum(c.isalnum() for c in str(node.value))
    if digits > MAX_INT_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of {digits} digits is too large", node.start_mark
        )
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def check_aliases(alias_uses: list[tuple[str, yaml.Node, yaml.Mark]], root: yaml.Node,
                  where: str) -> None:
    """Raise a one-line SpecError (file and line of the alias) when the aliases of the
    document ``root`` expand it by more than MAX_ALIAS_NODES nodes, or an alias lies inside
    its own anchor.

    The expanded size of a node is 1 + that of its children, computed once per distinct
    node and iteratively (no recursion), so measuring a bomb costs as little as reading it.
    """
    if not alias_uses:
        return
    size: dict[int, int] = {}
    busy = -1  # a node whose children are being counted: on the path from the root
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, counted = stack.pop()
        if counted:
            size[id(node)] = 1 + sum(size[id(c)] for c in _children(node))
            continue
        if id(node) in size:
            if size[id(node)] == busy:  # reached from inside itself
                name, _, mark = next(u for u in alias_uses if size.get(id(u[1])) == busy)
                raise SpecError(f"{where}:{mark.line + 1}: YAML alias *{shown(name, bare=True)} "
                                "lies inside its own anchor; remove the alias")
            continue
        size[id(node)] = busy
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if size.get(id(c)) in (None, busy))
    added = size[id(root)] - len(size)
    if added > MAX_ALIAS_NODES:
        name, node, mark = max(alias_uses, key=lambda use: size[id(use[1])])
        raise SpecError(
            f"{where}:{mark.line + 1}: YAML alias *{shown(name, bare=True)} expands to "
            f"{size[id(node)]:,} nodes, and the file's aliases add {added:,} in all (at most "
            f"{MAX_ALIAS_NODES:,}); write the values out instead of nesting aliases"
        )
