"""Safe YAML loading that remembers where every mapping and list came from.

Mappings load as `YamlMap` and lists as `YamlList`; both carry `.line` (1-based) and the line of
each key or element, so validation errors can say `file:line:`. Documents whose aliases would
add more than `MAX_NODES` nodes (a "billion laughs" bomb) are rejected before anything walks them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitor.errors import ConfigError

MAX_NODES = 100_000  # nodes that aliases may add when expanded


class YamlMap(dict[str, Any]):
    """A mapping that knows its own line and the line of each key."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    @classmethod
    def empty(cls, line: int = 0) -> YamlMap:
        """An empty mapping standing for a section the file leaves out."""
        made = cls()
        made.line = line
        made.key_lines = {}
        return made


class YamlList(list[Any]):
    """A list that knows its own line and the line of each element."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line

    @classmethod
    def empty(cls, line: int = 0) -> YamlList:
        """An empty list standing for a section the file leaves out."""
        made = cls()
        made.line = line
        made.item_lines = []
        return made


class _LineLoader(yaml.SafeLoader):
    def construct_yaml_map(self, node: yaml.MappingNode) -> Any:
        data = YamlMap()
        data.line = node.start_mark.line + 1
        data.key_lines = {}
        yield data
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, "mapping keys must be plain text", key_node.start_mark
                )
            key = str(key)
            if key in data:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            data[key] = self.construct_object(value_node, deep=True)
            data.key_lines[key] = key_node.start_mark.line + 1

    def construct_yaml_seq(self, node: yaml.SequenceNode) -> Any:
        data = YamlList()
        data.line = node.start_mark.line + 1
        data.item_lines = [child.start_mark.line + 1 for child in node.value]
        yield data
        data.extend(self.construct_object(child, deep=True) for child in node.value)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_yaml_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_yaml_seq)


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Node count once every alias is expanded, computed in linear time by memoising shared nodes."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = 1  # a recursive alias counts once instead of looping forever
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[id(node)] = size
    # The subtree holds at most len(memo) distinct nodes, so whatever exceeds that was added by
    # aliases: a large file written out in full is never mistaken for a bomb.
    if size - len(memo) > MAX_NODES:
        raise ConfigError(
            f"the document expands to more than {MAX_NODES} nodes through its aliases; "
            "write the values out instead of nesting anchors",
            line=node.start_mark.line + 1,
        )
    return size


def loads(text: str, source: str = "<string>") -> Any:
    """Parse YAML text; errors become ConfigError naming `source` and the line."""
    try:
        loader = _LineLoader(text)
    except yaml.reader.ReaderError as exc:  # control characters are refused before parsing
        reader_line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ConfigError(
            f"invalid YAML: control character U+{code:04X} is not allowed",
            path=source,
            line=reader_line,
        ) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        try:
            _expanded_size(root, {})
        except ConfigError as exc:
            raise ConfigError(str(exc).split(": ", 1)[-1], path=source, line=exc.line) from None
        return loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise ConfigError(f"invalid YAML: {problem}", path=source, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=source) from None
    finally:
        loader.dispose()


def load(path: Path) -> Any:
    """Read and parse a YAML file; a missing or unreadable file is a ConfigError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror}", path=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("file is not UTF-8 text", path=str(path)) from None
    return loads(text, str(path))
