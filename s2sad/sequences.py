"""Which names hold lists or tuples, for the operators that join and repeat them.

``a + b`` and ``a * n`` are arithmetic on numbers and arrays but concatenation and
repetition on lists and tuples; their adjoints differ, and so does ``a += b`` (a list is
extended in place, an array is added into).
"""

from __future__ import annotations

import gast

from .activity import walk_statements
from .parse import ParsedFunction
from .syntax import walk


def sequence_names(body, parsed: ParsedFunction, kinds: dict) -> set[str]:
    r"""Names that may hold a list or a tuple: parameters passed one, and names bound to a
    display, ``list(...)``, ``tuple(...)``, a slice of a sequence, or ``+`` and ``*``
    with a sequence operand (whatever they hold at other times).

    >>> from s2sad.normalize import normalize
    >>> from s2sad.parse import function_from_source, parse_function
    >>> f = function_from_source("def f(x, y):\n    pair = [x] * 2\n    return pair[0] + y\n")
    >>> normalized = normalize(parse_function(f))
    >>> sorted(sequence_names(normalized.tree.body, normalized.parsed, {}))
    ['list_1', 'pair']
    """
    sequences = {name for name, kind in kinds.items() if kind == "sequence"}
    assignments = [
        (statement.targets[0].id, statement.value)
        for statement in walk_statements(body)
        if isinstance(statement, gast.Assign) and isinstance(statement.targets[0], gast.Name)
    ]
    grown = True
    while grown:
        grown = False
        for target, value in assignments:
            if target not in sequences and _makes_sequence(value, sequences, parsed):
                sequences.add(target)
                grown = True
    return sequences


def _makes_sequence(value, sequences: set[str], parsed: ParsedFunction) -> bool:
    def held(node) -> bool:
        return isinstance(node, (gast.List, gast.Tuple)) or (
            isinstance(node, gast.Name) and node.id in sequences
        )

    if isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Mult)):
        return held(value.left) or held(value.right)
    if isinstance(value, gast.Subscript):
        return isinstance(value.slice, gast.Slice) and held(value.value)
    if isinstance(value, gast.Call):
        return parsed.resolve(value.func) in (list, tuple)
    return held(value)


def only_sequences(body, parsed: ParsedFunction) -> set[str]:
    r"""Names every binding of which is a list or tuple (parameters excluded: their kind is
    the caller's).

    >>> from s2sad.normalize import normalize
    >>> from s2sad.parse import function_from_source, parse_function
    >>> f = function_from_source("def f(x):\n    a = [x]\n    a = a + [x]\n    b = a\n    b = x\n")
    >>> normalized = normalize(parse_function(f))
    >>> sorted(only_sequences(normalized.tree.body, normalized.parsed))
    ['a', 'list_1']
    """
    sequences = sequence_names(body, parsed, {})
    making = {
        id(statement.targets[0])
        for statement in walk_statements(body)
        if isinstance(statement, gast.Assign)
        and isinstance(statement.targets[0], gast.Name)
        and _makes_sequence(statement.value, sequences, parsed)
    }
    stores = [
        node
        for node in walk(gast.Module(body=body, type_ignores=[]))
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store)
    ]
    return sequences - {node.id for node in stores if id(node) not in making}
