"""ScratchNet's own source code, copied definition by definition: what an export asks for, and what that uses.

An exported notebook shows the very functions that trained a run, not a second copy written for it::

    code = CoreCode(kept={ACTIVATIONS_TABLE: "relu"})
    code.take(init_params)        # its source, after that of what it uses (Params, get_initializer, ...)
    code.take(forward)            # only what no earlier take gave
    code.imports()                # "import math", "import numpy as np", ...: what all of it needs

Each definition is read from its module's file (``ast``), with the lines it has there; the names it uses are
followed to the definitions of ScratchNet's modules (a function, a class, a constant, an import from another
ScratchNet module), and to the imports of other libraries, which ``imports`` gathers. A table of choices (a dict
made from a tuple of entries, such as ``ACTIVATIONS``) can be copied with only the entry a run chose: the code
then holds nothing that run did not use.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
from dataclasses import dataclass, field
from types import ModuleType

Ref = tuple[str, str]  # (module name, top-level name): one definition of ScratchNet's source


@dataclass
class _Module:
    """A module's source: its lines, its top-level definitions by name, and what each imported name is."""

    lines: list[str]
    definitions: dict[str, ast.stmt]
    core_imports: dict[str, Ref]  # a name imported from another ScratchNet module -> where it is defined
    other_imports: dict[str, tuple[str, str | None, str | None]]  # name -> (module, imported name or None, alias)


@dataclass
class CoreCode:
    """Copies definitions of ScratchNet's source, each once, dependencies first. ``kept`` maps a table of
    choices, ``(module name, table name)``, to the one key of it to copy."""

    kept: dict[Ref, str] = field(default_factory=dict)
    _given: set[Ref] = field(default_factory=set)
    _imports: dict[tuple[str, str | None, str | None], None] = field(default_factory=dict)

    def take(self, *wanted: object) -> str:
        """The source of the ``wanted`` definitions (functions, classes, or ``(module, name)`` for constants) and of
        every definition they use that no earlier ``take`` gave, each before what uses it, separated by blank lines."""
        blocks: list[str] = []
        for ref in map(reference, wanted):
            self._visit(ref, blocks, set())
        return "\n\n\n".join(blocks)

    def imports(self) -> list[str]:
        """The import statements that the code taken so far needs: ``import x`` first, then ``from x import ...``."""
        plain = sorted(f"import {module}" + (f" as {alias}" if alias else "") for module, name, alias in self._imports if name is None)
        froms: dict[str, list[str]] = {}
        for module, name, alias in self._imports:
            if name is not None:
                froms.setdefault(module, []).append(name + (f" as {alias}" if alias else ""))
        return plain + [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(froms.items())]

    def _visit(self, ref: Ref, blocks: list[str], visiting: set[Ref]) -> None:
        if ref in self._given or ref in visiting:
            return
        visiting.add(ref)
        module = _parsed(ref[0])
        if ref[1] not in module.definitions and ref[1] in module.core_imports:  # a package's re-export
            self._visit(module.core_imports[ref[1]], blocks, visiting)
            return
        if ref[1] not in module.definitions:
            raise LookupError(f"{ref[0]} defines no {ref[1]} at its top level")
        text = self._text(ref, module)
        for used in _names_in(text):
            if (ref[0], used) != ref and used in module.definitions:
                self._visit((ref[0], used), blocks, visiting)
            elif used in module.core_imports:
                self._visit(module.core_imports[used], blocks, visiting)
            elif used in module.other_imports:
                self._imports[module.other_imports[used]] = None
        self._given.add(ref)
        blocks.append(text)

    def _text(self, ref: Ref, module: _Module) -> str:
        node = module.definitions[ref[1]]
        first = min([node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])])
        lines = module.lines[first - 1 : node.end_lineno]
        if ref in self.kept:
            lines = _with_one_entry(node, lines, first, self.kept[ref], ref)
        return "\n".join(lines)


def reference(wanted: object) -> Ref:
    """``(module name, name)`` of a function or class, or of a ``(module, name)`` pair given for a constant."""
    if isinstance(wanted, tuple):
        module, name = wanted
        return (module.__name__ if isinstance(module, ModuleType) else module, name)
    return (wanted.__module__, wanted.__qualname__)


def _with_one_entry(node: ast.stmt, lines: list[str], first: int, key: str, ref: Ref) -> list[str]:
    """The lines of a table of choices, ``{... for entry in (a, b, c)}``, with only the entry for ``key``: a name
    ``key`` or a call whose first argument is ``key``."""
    comprehension = getattr(node, "value", None)
    entries = comprehension.generators[0].iter if isinstance(comprehension, ast.DictComp) else None
    if not isinstance(entries, ast.Tuple):
        raise LookupError(f"{ref[0]}.{ref[1]} is not a table made from a tuple of entries")

    def is_key(entry: ast.expr) -> bool:
        if isinstance(entry, ast.Name):
            return entry.id == key
        return isinstance(entry, ast.Call) and bool(entry.args) and getattr(entry.args[0], "value", None) == key

    kept = [entry for entry in entries.elts if is_key(entry)]
    if len(kept) != 1:
        raise LookupError(f"{ref[0]}.{ref[1]} has no entry {key!r}")
    lines = list(lines)
    if entries.lineno == entries.end_lineno:  # (a, b, c) on one line: rewrite it
        row = entries.lineno - first
        source = lines[row]
        entry = source[kept[0].col_offset : kept[0].end_col_offset]
        lines[row] = source[: entries.col_offset] + f"({entry},)" + source[entries.end_col_offset :]
        return lines
    dropped = {row for entry in entries.elts if entry is not kept[0] for row in range(entry.lineno - first, entry.end_lineno - first + 1)}
    return [line for row, line in enumerate(lines) if row not in dropped]


def _names_in(text: str) -> list[str]:
    """Every name the code uses, in the order it first appears (attributes count by the name they start from)."""
    names = (node.id for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Name))
    return list(dict.fromkeys(names))


@functools.cache
def _parsed(module_name: str) -> _Module:
    """The source of a ScratchNet module, read once."""
    module = importlib.import_module(module_name)
    source = inspect.getsource(module)
    tree = ast.parse(source)
    definitions: dict[str, ast.stmt] = {}
    core_imports: dict[str, Ref] = {}
    other_imports: dict[str, tuple[str, str | None, str | None]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            definitions[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    definitions[target.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            definitions[node.target.id] = node
        elif isinstance(node, ast.Import):
            for alias in node.names:
                other_imports[alias.asname or alias.name.split(".")[0]] = (alias.name, None, alias.asname)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            origin = importlib.util.resolve_name("." * node.level + (node.module or ""), module.__package__)
            for alias in node.names:
                name = alias.asname or alias.name
                if origin.split(".")[0] == module_name.split(".")[0]:
                    core_imports[name] = (origin, alias.name)
                else:
                    other_imports[name] = (origin, alias.name, alias.asname)
    return _Module(source.splitlines(), definitions, core_imports, other_imports)
