"""Safe YAML loading that remembers where every mapping and list came from.

Mappings load as `YamlMap` and lists as `YamlList`; both carry `.line` (1-based) and the line of
each key or element, so validation errors can say `file:line:`. Documents are parsed by libyaml
(`CSafeLoader`); a document libyaml refuses is parsed again by PyYAML's pure-Python parser, whose
messages name the construct that broke, and only that answer counts, so both parsers accept
exactly what PyYAML accepts. Documents that nest deeper than `MAX_DEPTH` or whose aliases would
add more than `MAX_NODES` nodes (a "billion laughs" bomb) are rejected with their line before
anything downstream walks them.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from monitor.errors import ConfigError

MAX_NODES = 100_000  # nodes that aliases may add when expanded
# Mappings and lists inside each other. A rule's `all:`/`any:` costs two levels (a mapping and
# its list) under the four of `rules:`, the rule and `match:`, so this allows about 30 nested
# conditions, far more than anyone writes by hand, while every recursive step downstream
# (construction, validation, compiling, matching) stays far below Python's recursion limit.
MAX_DEPTH = 64
_EXCERPT = 120  # characters of a broken line quoted in a syntax error

_CONSTRUCT = re.compile(r"while (?:scanning|parsing) (?:an? |the )?(.+)")
# Where the parsers are known to disagree: a tab, a block scalar's header that PyYAML refuses
# and libyaml reads (`>#`), an explicit tag (libyaml reads "!" alone as a string, PyYAML as
# null). Text with none of them is parsed by libyaml; the rest, by PyYAML alone (correct, only
# slower). `tests/test_yamlfile.py` holds both parsers to the same answers on arbitrary text.
_DISAGREE = re.compile(
    r"\t|(?:^|[\s\[{,])!|(?:^|\s)[|>](?!(?:[-+]?[1-9]?|[1-9][-+])(?: +#[^\n]*| *)(?:\n|$))",
    re.MULTILINE,
)
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


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


class _Builder:
    """Turns composed nodes into YamlMap / YamlList / scalars, keeping lines.

    Built directly rather than through the constructor's generators (this is most of a rulebook's
    load time), refusing nesting deeper than MAX_DEPTH as it goes, so it never recurses further.
    A node reached twice is an alias and is built once; `aliased` tells the caller to check what
    the aliases expand to. Scalars and other tags go through the loader's own constructors, so
    values are exactly what PyYAML makes.
    """

    def __init__(self, loader: yaml.constructor.SafeConstructor) -> None:
        self.loader = loader
        self.made: dict[int, Any] = {}
        self.aliased = False

    def build(self, node: yaml.Node, depth: int = 1) -> Any:
        tag = node.tag
        if tag == _STR and isinstance(node, yaml.ScalarNode):
            return node.value
        known = self.made.get(id(node))
        if known is not None:
            self.aliased = True
            return known
        if isinstance(node, yaml.ScalarNode):
            return self.loader.construct_object(node)
        if depth > MAX_DEPTH:
            raise _too_deep(node)
        if tag == _MAP and isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if tag == _SEQ and isinstance(node, yaml.SequenceNode):
            data = YamlList()
            self.made[id(node)] = data
            data.line = node.start_mark.line + 1
            data.item_lines = [child.start_mark.line + 1 for child in node.value]
            data.extend(self.build(child, depth + 1) for child in node.value)
            return data
        _check_depth(node, depth)  # !!set, !!omap: PyYAML's constructors recurse on their own
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, depth: int) -> YamlMap:
        data = YamlMap()
        self.made[id(node)] = data
        data.line = node.start_mark.line + 1
        lines: dict[str, int] = {}
        data.key_lines = lines
        for key_node, value_node in node.value:
            key = self.build(key_node, depth + 1)
            if not isinstance(key, str):
                if not isinstance(key, int | float | bool) and key is not None:
                    raise yaml.constructor.ConstructorError(
                        None, None, "mapping keys must be plain text", key_node.start_mark
                    )
                key = str(key)
            if key in data:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            data[key] = self.build(value_node, depth + 1)
            lines[key] = key_node.start_mark.line + 1
        return data


class _PyLoader(yaml.SafeLoader):
    """The pure-Python parser: the reference, and the source of messages for broken documents."""


class _CLoader(yaml.CSafeLoader):
    """libyaml's parser with PyYAML's safe constructors and resolver."""


def _nested(loader: _PyLoader | _CLoader, node: yaml.Node) -> Any:
    """Maps and lists inside other tags (!!set, !!omap) keep their lines too."""
    return _Builder(loader).build(node)


for _tag in (_MAP, _SEQ):
    _PyLoader.add_constructor(_tag, _nested)
    _CLoader.add_constructor(_tag, _nested)


class _TooDeepToCompose(ConfigError):
    """PyYAML's composer ran out of stack: the document nests far deeper than MAX_DEPTH."""


def _too_deep_message() -> str:
    return (
        f"mappings and lists nest more than {MAX_DEPTH} levels deep here; flatten the structure "
        "(for rules: move inner conditions into named lists or separate rules)"
    )


def _too_deep(node: yaml.Node) -> ConfigError:
    return ConfigError(_too_deep_message(), line=node.start_mark.line + 1)


def _check_depth(root: yaml.Node, start: int = 1) -> None:
    """Refuse nesting deeper than MAX_DEPTH once aliases are followed, without recursing."""
    deepest: dict[int, int] = {}  # a shared (aliased) node is walked again only when deeper
    stack: list[tuple[yaml.Node, int]] = [(root, start)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            continue
        if depth > MAX_DEPTH:
            raise _too_deep(node)
        if deepest.get(id(node), 0) >= depth:
            continue
        deepest[id(node)] = depth
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
        else:
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))


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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A load allocates only live objects; collecting during it is pure cost (superlinear)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _excerpt(lines: list[str], line: int) -> str:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if not text.strip():
        return ""
    text = text if len(text) <= _EXCERPT else text[: _EXCERPT - 3] + "..."
    return f"\n    {line:>4} | {text}"


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, source: str) -> ConfigError:
    """Name the line where the broken construct starts (an opening quote, a list) and where
    parsing failed, and show both: the end of the file is rarely where the mistake is."""
    problem = exc.problem or str(exc)
    failed = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
    started = exc.context_mark.line + 1 if exc.context_mark is not None else None
    lines = text.splitlines()
    if started is None or started == failed:
        context = f" ({exc.context})" if exc.context else ""
        shown = _excerpt(lines, failed) if failed is not None else ""
        return ConfigError(f"invalid YAML: {problem}{context}{shown}", path=source, line=failed)
    named = _CONSTRUCT.fullmatch(exc.context or "")
    construct = named.group(1) if named else "construct"
    message = f"invalid YAML: {problem} at line {failed}, in the {construct} that starts at line {started}"
    shown = _excerpt(lines, started)
    if failed is not None:
        shown += _excerpt(lines, failed)
    return ConfigError(message + shown, path=source, line=started)


def _parse(loader_class: type[Any], text: str, source: str) -> Any:
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        builder = _Builder(loader)
        try:
            document = builder.build(root)
            if builder.aliased:
                # Built once, an alias costs nothing here, but whatever walks the document
                # later sees every expansion.
                _check_depth(root)
                _expanded_size(root, {})
        except ConfigError as exc:
            raise ConfigError(str(exc), path=source, line=exc.line) from None
        return document
    finally:
        loader.dispose()


def _control_character_error(text: str, source: str) -> ConfigError | None:
    # PyYAML's reader refuses these; libyaml's reader reports a byte offset instead of a line,
    # so the check runs first, on the text, with the reader's own pattern.
    found = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if found is None:
        return None
    return ConfigError(
        f"invalid YAML: control character U+{ord(found.group()):04X} is not allowed",
        path=source,
        line=text.count("\n", 0, found.start()) + 1,
    )


def _loads_with(loader_class: type[Any], text: str, source: str) -> Any:
    """Parse with one parser, turning every YAML complaint into a ConfigError."""
    refused = _control_character_error(text, source)
    if refused is not None:
        raise refused
    try:
        with _gc_paused():
            return _parse(loader_class, text, source)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, source) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=source) from None
    except RecursionError:
        # Only PyYAML's composer recurses before the builder's depth check can run.
        raise _TooDeepToCompose(_too_deep_message(), path=source) from None


def loads(text: str, source: str = "<string>") -> Any:
    """Parse YAML text; errors become ConfigError naming `source` and the line."""
    if _DISAGREE.search(text):
        return _loads_with(_PyLoader, text, source)
    try:
        return _loads_with(_CLoader, text, source)
    except ConfigError as fast_error:
        # libyaml's messages are terser, and it refuses a few documents PyYAML reads: the
        # pure-Python parser has the last word on anything libyaml did not accept...
        try:
            return _loads_with(_PyLoader, text, source)
        except _TooDeepToCompose as exc:
            # ...except nesting too deep for it to compose, where libyaml knows the line.
            raise ConfigError(_too_deep_message(), path=source, line=fast_error.line) from exc


def loads_reference(text: str, source: str = "<string>") -> Any:
    """Parse with PyYAML's pure-Python parser only: what `loads` must agree with."""
    return _loads_with(_PyLoader, text, source)


def load(path: Path) -> Any:
    """Read and parse a YAML file; a missing or unreadable file is a ConfigError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror}", path=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("file is not UTF-8 text", path=str(path)) from None
    return loads(text, str(path))
