"""Writes that NumPy would make through an alias or a view: refused, with the line.

s2sad treats every name as its own value. NumPy arrays and lists can share memory
(``z = y``, ``v = y[1:]``, ``r = y.T``, a row ``y[0]`` of a matrix), and a write through
one name then changes what the others hold, which the adjoint would not see. So a write
into an array that, at that point, shares memory with another name still to be read, or
with an argument (the caller's object), is refused:

>>> import s2sad
>>> from .parse import function_from_source
>>> f = function_from_source('''
... def f(x):
...     y = x * 1.0
...     v = y[1:]
...     v[0] = 0.0
...     return (y * y).sum()
... ''')
>>> s2sad.source(f)
Traceback (most recent call last):
...
s2sad.errors.UnsupportedSyntaxError: <s2sad-source-...>:4: s2sad does not support writing into v, which shares memory with y; ...

The check runs on the core language, once shapes are known: an element of a vector
(``v = y[i]`` with ``y`` 1-D) is a number, not a view, and ``z += e`` on a number rebinds
``z``. ``y += e`` on an array nothing else shares is fine: s2sad computes ``y = y + e``.
Changing a list itself (``lst.append(v)``, ``lst[i] = v`` on a list built with ``[...]``)
writes into no array, so it is fine too. The analysis is a may-point-to analysis in
program order: each name maps to the abstract objects it may hold (an argument, or the
value a statement made), joined where branches meet and iterated in loops; a write is
judged by the names that share memory with its target there and are read afterwards.
"""

from __future__ import annotations

import inspect

import gast
import numpy as np

from . import rules
from .dataflow import MUTATING_METHODS, Effects, live_after
from .errors import UnsupportedSyntaxError
from .parse import UNRESOLVED
from .primitives import dotted_source, is_user_function
from .sequences import (
    ContainerAliases,
    containers_built,
    only_containers,
    returns_display,
    sequence_names,
    tuple_names,
)
from .sharing import (
    ARRAY_MUTATORS,
    CONTAINER_COPIES,
    ELEMENT_METHODS,
    MUTATING_FUNCTIONS,
    VIEW_ATTRIBUTES,
    VIEW_FUNCTIONS,
    VIEW_METHODS,
    from_numpy,
)
from .syntax import load, names_stored, operator_symbol, walk
from .writes import may_write, method_out, positional_out

#: methods that change a list or dict itself, not the arrays it holds
_LIST_METHODS = MUTATING_METHODS - {"fill", "resize"}

Objects = frozenset  # abstract objects a name may hold: arguments' and statements' values


def check_aliasing(function, shapes, kinds: dict | None = None) -> None:
    """Raise UnsupportedSyntaxError for a write through shared memory in ``function`` (a
    NormalizedFunction) whose names have ``shapes`` (s2sad.broadcasting.Shapes) and whose
    parameters have ``kinds`` (a list, tuple or dict argument's ``.copy()`` is shallow)."""
    if not may_write(function):
        return
    _Check(function, shapes, kinds or {}).run()


class _Check:
    def __init__(self, function, shapes, kinds: dict):
        self.function = function
        self.parsed = function.parsed
        self.shapes = shapes
        body = function.tree.body
        self.lists = containers_built(body)
        #: names that only ever hold lists, tuples or dicts (never arrays)
        self.collections = only_containers(body, self.parsed, kinds)
        self.kinds = kinds
        containers = [p for p in function.parameters if not _number_or_array(kinds.get(p))]
        self.aliases = ContainerAliases(body, self.parsed, containers)
        #: names that may be the caller's own list or dict (or one inside it), not a copy
        self.callers = self.aliases.callers
        self.tuples = tuple_names(body)
        #: names that may hold a list, tuple or dict besides the displays in self.lists
        self.shallow = sequence_names(body, self.parsed, kinds) | {
            name for name, kind in kinds.items() if kind == "mapping"
        }
        self.locals = {n.id for n in walk(function.tree) if isinstance(n, gast.Name)}
        #: names the function binds; any other name it reads is a global (or a builtin)
        self.bound = names_stored(function.tree) | set(function.parameters)
        self.live = live_after(body, Effects(lambda call: False, self.locals))
        self.exits: list[list] = []  # per enclosing loop: states at its breaks
        #: a tuple or list a statement made → what each element holds (None: new arrays)
        self.parts: dict[object, list | None] = {}
        self.parts_changed = 0  # a loop is analysed again until no part grows
        self.containers = Objects()  # the lists and dicts the function builds
        self.made_before: set[int] = set()  # statements that made an object already
        self.reshaped: set[int] = set()  # list displays grown by append, extend, insert
        self.opaque_containers: set = set()  # lists made by [y] * 2, list(t): slots unknown
        self.keys: dict[int, list] = {}  # a dict display → its keys, in its parts' order

    # ----- what a value may share ---------------------------------------------------------
    def points(self, statement, state: dict) -> Objects:
        """The objects the value ``statement`` assigns may share memory with."""
        value = statement.value
        made = Objects({id(statement)})
        if self.shapes.result(statement) == ():
            return made  # a number: shares nothing
        if isinstance(value, gast.Name):
            return self.held(value, state) if value.id in self.locals else made
        if isinstance(value, gast.Subscript):
            index = value.slice
            held = self.held(value.value, state)
            if isinstance(index, gast.Constant) and type(index.value) is int:
                # t[i] of a tuple t may hold is exactly its i-th element, not any other
                exact = {o for o in held if _is_element(o) and o[1] in held}
                return Objects().union(*(self.part(o, index.value) for o in held - exact))
            return held
        if isinstance(value, gast.Attribute) and isinstance(self.parsed.resolve(value), np.ndarray):
            return Objects({("global", dotted_source(value))})  # OBJ.w: an object's array
        if isinstance(value, gast.Attribute) and value.attr in VIEW_ATTRIBUTES:
            return self.held(value.value, state)
        if isinstance(value, (gast.Tuple, gast.List, gast.Dict)):
            if not isinstance(value, gast.Tuple):
                self.containers |= made
            elements = value.values if isinstance(value, gast.Dict) else value.elts
            if isinstance(value, gast.Dict):
                self.remember_keys(statement, value.keys)
            self.remember_parts(statement, [self.held(e, state) for e in elements])
            held = Objects().union(*(self.held(e, state) for e in elements))
            if isinstance(value, gast.Tuple):  # never changed: its parts stay exact
                held = Objects(("element", id(statement), _base(o)) for o in held)
            return made | held
        if isinstance(value, gast.BinOp) and self.joins_sequences(value, state):
            operands = self.held(value.left, state) | self.held(value.right, state)
            self.opaque_containers.add(id(statement))
            return made | Objects(map(_base, operands))  # [y] * 2, [y] + [w]: y itself
        if isinstance(value, gast.IfExp):
            return self.held(value.body, state) | self.held(value.orelse, state)
        if isinstance(value, gast.Call):
            return made | self.call_shares(statement, value, state)
        return made

    def joins_sequences(self, value: gast.BinOp, state: dict) -> bool:
        """``[y] * 2``, ``2 * (y,)``, ``[y] + [w]``: a list or tuple of the same arrays (an
        element read from a list, times a number, is arithmetic)."""

        def sequence(atom) -> bool:
            if isinstance(atom, gast.Name) and atom.id in self.lists:
                return True
            held = self.held(atom, state)
            return bool(held) and all(o in self.parts or _is_element(o) for o in held)

        if isinstance(value.op, gast.Add):
            return sequence(value.left) and sequence(value.right)
        if isinstance(value.op, gast.Mult):  # a list times anything is a repetition
            return sequence(value.left) or sequence(value.right)
        return False

    def call_shares(self, statement, call: gast.Call, state: dict) -> Objects:
        """What the result of ``call`` may share memory with, besides being new."""
        func = call.func
        keywords = _keywords(call)
        shares = Objects()
        if "out" in keywords:  # np.add(a, b, out=a) returns a
            shares |= self.held(keywords["out"], state)
        copy = keywords.get("copy")
        if isinstance(copy, gast.Constant) and copy.value in (False, None) and call.args:
            shares |= self.held(call.args[0], state)  # np.array(a, copy=False)
        if isinstance(func, gast.Attribute) and self.parsed.resolve(func.value) is UNRESOLVED:
            owner = self.held(func.value, state)
            if func.attr in VIEW_METHODS or (func.attr == "astype" and "copy" in keywords):
                shares |= owner
            elif func.attr in ELEMENT_METHODS or (
                func.attr == "copy"
                and (
                    owner & self.containers
                    or getattr(func.value, "id", None) in self.lists | self.shallow
                )
            ):  # lst.pop(), d.get(k, y), lst.copy(): the list's or dict's own elements
                held = owner.union(*(self.held(a, state) for a in call.args))
                shares |= Objects(map(_base, held))
            elif func.attr == "copy":
                shares |= self.copied(owner)
            return shares  # other methods of arrays make new values
        function = self.parsed.resolve(func)
        if any(function is f for f in VIEW_FUNCTIONS) and call.args:
            shape = self.shapes.of(statement, call.args[0])
            if function is np.diag and isinstance(shape, tuple) and len(shape) == 1:
                return shares  # np.diag of a vector makes a new matrix
            return shares | self.held(call.args[0], state)
        if any(function is f for f in (max, min)) and (len(call.args) == 1 or "key" in keywords):
            # max([a, b], key=np.sum) is a or b itself (max(a, b) of arrays raises)
            atoms = [*call.args, *keywords.values()]  # default= too
            held = Objects().union(*(self.held(a, state) for a in atoms))
            return shares | Objects(map(_base, held))
        if any(function is f for f in CONTAINER_COPIES) and call.args:
            self.opaque_containers.add(id(statement))
            # list(t) is a new list of the very same elements
            return shares | Objects(map(_base, self.held(call.args[0], state)))
        if is_user_function(function):
            if returns_display(function) is gast.Tuple:  # a, b = helper(...): its parts
                self.parts[id(statement)] = None
            return shares | self.returned(function, statement, state)
        if rules.lookup(function) is None and not from_numpy(function):
            # a bound method, a partial, a callable object: it may hand back anything
            return shares | self.returned(None, statement, state)
        return shares  # NumPy makes new arrays, but for the VIEW_FUNCTIONS

    def copied(self, owner: Objects) -> Objects:
        """What ``y.copy()`` shares when ``y`` is not known to be a list, tuple or dict:
        nothing, taking it for an array (a helper's summary says otherwise)."""
        return Objects()

    def returned(self, function, statement, state: dict) -> Objects:
        """What the result of the user's ``function`` called by ``statement`` may share:
        the arguments it may return (or views, tuples or shallow copies of them), its
        parameters' defaults; all of the arguments if unknown."""
        call = statement.value
        from .summaries import defaults_returned, returned_arguments  # they use _Check

        shared = None if function is None else returned_arguments(function)
        atoms = [*call.args, *(k.value for k in call.keywords)]
        if shared is None:  # it may hand back memory of its own: a global array, an object's
            unknown = Objects({("returned", dotted_source(call.func))})
        else:
            unknown = Objects(o for o in shared if o[0] in ("global", "returned", "default"))
            try:
                bound = inspect.signature(function).bind(*call.args, **_keywords(call))
            except (TypeError, ValueError):
                pass
            else:
                atoms = []
                unknown |= defaults_returned(function, shared, bound.arguments)
                for name, argument in bound.arguments.items():
                    copy = ("copied", name) in shared
                    if copy and isinstance(self.shapes.of(statement, argument), tuple):
                        copy = False  # an array's copy is new; a list's shares its arrays
                    if ("argument", name) in shared or copy:
                        atoms += argument if isinstance(argument, tuple) else [argument]
                        atoms += argument.values() if isinstance(argument, dict) else []
        held = Objects().union(*(self.held(a, state) for a in atoms if isinstance(a, gast.AST)))
        return unknown | Objects(map(_base, held))

    def call_writes(self, statement, call: gast.Call, state: dict) -> None:
        """Refuse a call that changes an array in place: ``y.sort()``, ``np.copyto(y, v)``,
        ``out=y``, or one of the user's helpers that writes into what it is given (when
        that array is read afterwards, or is the caller's)."""
        live = self.live.get(id(statement), set())
        for target, helper in self.writes_of(call):
            location = self.parsed.location(statement)
            if helper is None:
                line = self.parsed.source_line(location.line)
                raise UnsupportedSyntaxError(
                    f"`{line}`, which changes {dotted_source(target)} in place",
                    location,
                    hint="s2sad differentiates values, not changes made to an array: "
                    "compute a new one instead (np.where(mask, v, y), y * 2.0)",
                )
            if not isinstance(target, gast.Name) or self.shapes.of(statement, target) == ():
                continue  # a number: the helper's `a -= e` rebinds its own name
            seen = [n for n in [target.id, *self.sharing(target.id, state)] if n in live]
            shared = _bases(self.held(target, state))
            if seen or any(isinstance(o, tuple) and o[0] in _OUTSIDE for o in shared):
                raise UnsupportedSyntaxError(
                    f"calling {dotted_source(call.func)}, which writes into its argument "
                    f"{helper} ({target.id} here)",
                    location,
                    hint="NumPy changes the caller's array, which the adjoint would not see; "
                    f"pass a copy ({target.id}.copy()) or return a new array",
                )

    def writes_of(self, call: gast.Call) -> list[tuple]:
        """(atom, None) for each array ``call`` changes in place; (atom, parameter) for
        each one the user's function it calls writes into through that parameter."""
        func = call.func
        keywords = _keywords(call)
        if "out" in keywords:
            return [(keywords["out"], None)]
        if isinstance(func, gast.Attribute):
            owner = self.parsed.resolve(func.value)
            if owner is UNRESOLVED and func.attr in ARRAY_MUTATORS:
                if getattr(func.value, "id", None) not in self.lists:  # lst.sort(): a list
                    return [(func.value, None)]
            elif owner is UNRESOLVED:
                out = method_out(call)  # y.sum(0, None, o)
                if out is not None:
                    return [(out, None)]
            elif isinstance(owner, np.ufunc) and func.attr == "at" and call.args:
                return [(call.args[0], None)]  # np.add.at(y, i, v)
            elif func.attr == "shuffle" and call.args:
                return [(call.args[0], None)]  # rng.shuffle(y)
        function = self.parsed.resolve(func)
        if any(function is f for f in MUTATING_FUNCTIONS) and call.args:
            return [(call.args[0], None)]
        if isinstance(function, np.ufunc) and len(call.args) > function.nin:
            return [(out, None) for out in call.args[function.nin :]]  # np.exp(y, y)
        if from_numpy(function):  # np.sum(x, 0, None, out)
            out = positional_out(function, call.args)
            return [] if out is None else [(out, None)]
        if not is_user_function(function):
            return []
        from .summaries import returned_arguments  # it uses _Check

        written = {o[1] for o in returned_arguments(function) or () if o[0] == "written"}
        if not written:
            return []
        try:
            bound = inspect.signature(function).bind(*call.args, **keywords)
        except (TypeError, ValueError):
            return []
        return [(atom, name) for name, atom in bound.arguments.items() if name in written]

    def remember_parts(self, statement, parts: list) -> None:
        """What each element of the tuple or list ``statement`` makes may hold: in a loop,
        whatever it held on any pass (t[0] read at the top of the body sees them all)."""
        known = self.parts.get(id(statement))
        if known is not None:  # a dict's slots set later are kept (set_slot)
            parts = [old | new for old, new in zip(known, parts)] + known[len(parts) :]
            if parts == known:
                return
        self.parts[id(statement)] = parts
        self.parts_changed += 1

    def remember_keys(self, statement, keys: list) -> None:
        """The keys of a dict display, in the order of its parts (None: not all constant,
        so its slots are not followed)."""
        if all(isinstance(key, gast.Constant) for key in keys):
            self.keys.setdefault(id(statement), [key.value for key in keys])
        else:
            self.opaque_containers.add(id(statement))

    def set_slot(self, obj, key, value: Objects) -> None:
        """``d[key] = value`` on the dict display ``obj``: that slot may hold ``value`` too
        (a key s2sad cannot read makes the dict's slots unknown)."""
        keys, parts = self.keys[obj], self.parts[obj]
        if key is None:
            self.opaque_containers.add(obj)
        elif key in keys:
            position = keys.index(key)
            if not value <= parts[position]:
                parts[position] |= value
                self.parts_changed += 1
        else:
            keys.append(key)
            parts.append(value)
            self.parts_changed += 1

    def part(self, obj, index: int) -> Objects:
        """What ``t[index]`` may share when ``t`` holds ``obj``."""
        if obj not in self.parts:
            return Objects({obj})  # an array (its row is a view) or the caller's object
        parts = self.parts[obj]
        if parts is None:
            return Objects({(obj, index)})  # an element of a tuple a helper made
        if obj in self.keys:  # a dict: its parts are in the order of its keys
            keys = self.keys[obj]
            if obj in self.opaque_containers:
                return Objects().union(*parts)
            return parts[keys.index(index)] if index in keys else Objects()
        if -len(parts) <= index < len(parts):
            return parts[index]
        return Objects()

    def held(self, atom, state: dict) -> Objects:
        if isinstance(atom, gast.Name):
            if atom.id not in self.bound and isinstance(self.parsed.resolve(atom), np.ndarray):
                return Objects({("global", atom.id)})
            return state.get(atom.id, Objects())
        return Objects()

    def sharing(self, name: str, state: dict) -> list[str]:
        """The other names that may share ``name``'s memory in ``state``."""
        mine = _bases(state.get(name, Objects()))
        return sorted(n for n, objects in state.items() if n != name and _bases(objects) & mine)

    # ----- statements in order ------------------------------------------------------------
    def block(self, statements: list, state: dict | None) -> dict | None:
        for statement in statements:
            if state is None:
                return None
            state = self.statement(statement, state)
        return state

    def statement(self, statement, state: dict) -> dict | None:
        if isinstance(statement, (gast.Assign, gast.Expr)) and isinstance(
            statement.value, gast.Call
        ):
            self.call_writes(statement, statement.value, state)
        if isinstance(statement, gast.Assign):
            return self.assign(statement, dict(state))
        if isinstance(statement, gast.Expr) and isinstance(statement.value, gast.Call):
            func = statement.value.func
            if isinstance(func, gast.Attribute) and func.attr in MUTATING_METHODS:
                root = _root(func.value)
                if root in self.lists and isinstance(func.value, gast.Name):
                    if func.attr in _LIST_METHODS:  # lst.append(v): lst now holds v
                        state = dict(state)
                        self.reshaped |= {o for o in state.get(root, ()) if o in self.parts}
                        for atom in statement.value.args:
                            state[root] = state.get(root, Objects()) | self.held(atom, state)
                        return state
                self.write(statement, root, state)
            return state
        if isinstance(statement, gast.If):
            return _join(self.block(statement.body, state), self.block(statement.orelse, state))
        if isinstance(statement, (gast.For, gast.While)):
            return self.loop(statement, state)
        if isinstance(statement, gast.Break):
            self.exits[-1].append(state)
            return None
        return state

    def assign(self, statement: gast.Assign, state: dict) -> dict:
        target = statement.targets[0]
        if isinstance(target, gast.Subscript):
            self.assign_slot(statement, target, state)
            return state
        if id(statement) in self.function.in_place:  # z = z + e, written z += e
            name = target.id
            if name in self.collections:  # lst += [v]: Python extends the list itself
                self.extend(statement, name, state)
            elif self.shapes.of(statement, load(name)) != ():  # an array: NumPy writes into it
                self.write(statement, name, state, in_place=True)
            return state
        made = id(statement)
        if made in self.made_before:  # in a loop: what it made on earlier passes is older
            for name, held in state.items():
                state[name] = _aged(held, made)
            for key, parts in self.parts.items():  # parts only grow: the loop settles
                if parts is not None:
                    self.parts[key] = [part | _aged(part, made) for part in parts]
        self.made_before.add(made)
        objects = self.points(statement, state)
        for name in _names(target):
            state[name] = objects
        return state

    def assign_slot(self, statement, target: gast.Subscript, state: dict) -> None:
        """``c[i] = v``: a write into the array ``c``, or a list's or dict's slot replaced.
        For ``c[i] += e`` (``updated_items``) NumPy changes the array ``c[i]`` holds."""
        root = _root(target)
        slot = target.slice
        if isinstance(slot, gast.Slice) and root in self.lists | self.collections | self.shallow:
            raise UnsupportedSyntaxError(
                f"assigning a slice of the list {root}",
                self.parsed.location(statement),
                hint=f"build a new list ({root} = {root}[:i] + [...] + {root}[j:])",
            )
        key = slot.value if isinstance(slot, gast.Constant) else None
        index = key if type(key) is int else None
        old = self.function.updated_items.get(id(statement))
        # the caller's list or dict takes the array path below, which refuses the write
        ours = (self.lists | self.collections) - self.callers
        if not (isinstance(target.value, gast.Name) and root in ours):
            if old is not None and any(o in self.opaque_containers for o in state.get(root, ())):
                # ([y] * 2)[0] += e: NumPy changes y, which the other slot holds too
                self.write(statement, old, state, in_place=True, container=(root, None))
            self.write(statement, root, state)
            return
        others = sorted(self.live.get(id(statement), set()) & self.aliases.visible(root) - {root})
        if others:  # b = a; b[1] = v changes a too
            other = self.describe(others, statement)
            raise UnsupportedSyntaxError(
                f"writing into a slot of {root}, a list or dict {other} may be or hold too",
                self.parsed.location(statement),
                hint=f"Python changes it for {other} too, which s2sad does not follow; "
                f"change a copy ({root} = list({root}) or dict({root}))",
            )
        if old is not None:
            self.write(statement, old, state, in_place=True, container=(root, key))
        # lst[i] = v replaces a slot: lst now holds v, in that slot (or any)
        value = self.held(statement.value, state)
        already = bool(value & _bases(state.get(root, ())))  # v in another slot?
        state[root] = state.get(root, Objects()) | value
        for obj in state[root]:
            parts = self.parts.get(obj)
            if obj in self.keys:
                self.set_slot(obj, key, value)
            elif parts:
                if index is not None and -len(parts) <= index < len(parts):
                    parts[index] = parts[index] | value
                elif already:  # lst[i] = lst[j]: any two slots may hold it
                    self.parts[obj] = [part | value for part in parts]

    def loop(self, loop, state: dict) -> dict | None:
        head = state
        while True:
            parts_before = self.parts_changed
            self.exits.append([])
            entry = dict(head)
            if isinstance(loop, gast.For):  # the rows of an array are views of it
                element = loop.body and self.shapes.of(loop.body[0], load(loop.target.id))
                own = (
                    Objects({id(loop)})
                    if element == ()
                    else Objects(map(_base, self.held(loop.iter, entry)))  # the elements
                )
                if not own:
                    own = Objects({id(loop)})
                for name in _names(loop.target):
                    entry[name] = own
            end = self.block(loop.body, entry)
            exits = self.exits.pop()
            new_head = _join(head, end)
            if new_head == head and self.parts_changed == parts_before:
                break
            head = new_head
        return _join(head, *exits)

    # ----- the verdict ------------------------------------------------------------------
    def write(
        self, statement, name: str | None, state: dict, in_place=False, container=None
    ) -> None:
        """Refuse a write into ``name`` that another live name or the caller would see
        (``container``: the list or dict ``name`` was read from, which holds it anyway)."""
        if name is None:
            return
        location = self.parsed.location(statement)
        if name not in self.bound:
            if isinstance(self.parsed.resolve(load(name)), np.ndarray):
                self.refuse_global(name, ("global", name), location)
            return  # a global list or object: its own business
        outside = sorted(
            o
            for o in _bases(state.get(name, ()))
            if isinstance(o, tuple) and o[0] in ("global", "returned", "default")
        )
        if outside:
            self.refuse_global(name, outside[0], location)
        live = self.live.get(id(statement), set())
        holder = container and container[0]
        if container is not None and not self.understood(holder, state):
            holder = None  # lst = [y] * 2, or a list grown by append: its slots are unknown
        others = [n for n in self.sharing(name, state) if n in live and n != holder]
        if container is not None and self.in_two_slots(name, *container, state):
            others.append(holder)  # [y, y]: lst[0] += e changes lst[1] too
        if in_place:  # `z += e` writes into z's array: not into a number z may be instead
            others = [n for n in others if self.shapes.of(statement, load(n)) != ()]
        arguments = sorted(
            o[1] for o in _bases(state.get(name, ())) if isinstance(o, tuple) and o[0] == "argument"
        )
        if name in self.collections:  # a list's own change leaves the numbers it holds alone
            arguments = [a for a in arguments if not _number_or_array(self.kinds.get(a))]
        if arguments and not in_place:
            hint = f"copy it first: {arguments[0]} = {arguments[0]}.copy()"
            if arguments[0] in self.shallow and name not in self.callers:
                hint = (
                    f"a copy of the list or dict {arguments[0]} holds the caller's arrays: "
                    f"put a new array in the slot ({name}[k] = {name}[k] + ...)"
                )
            raise UnsupportedSyntaxError(
                f"writing into {name}, which shares memory with the argument "
                f"{arguments[0]} (the caller's object)",
                location,
                hint=hint,
            )
        if not others:
            return
        other = self.describe(others, statement)
        if in_place:
            line = self.parsed.source_line(location.line)
            rewrite = "copy the array first"
            if isinstance(statement.value, gast.BinOp):  # z += e, not lst[i] += e
                symbol = operator_symbol(statement.value.op)
                rewrite = f"write `{name} = {name} {symbol} ...` or {rewrite}"
            raise UnsupportedSyntaxError(
                f"`{line}` on an array that shares memory with {other}",
                location,
                hint=f"NumPy changes {other} too; {rewrite}",
            )
        raise UnsupportedSyntaxError(
            f"writing into {name}, which shares memory with {other}",
            location,
            hint="the adjoint would not see the change; copy the array (.copy()) "
            "before writing into it",
        )

    def extend(self, statement, name: str, state: dict) -> None:
        """Refuse ``lst += e`` while another live list may be the same list (it would grow
        too); the arrays ``lst`` holds are not changed."""
        joined = statement.value.right
        if isinstance(joined, gast.Tuple) or getattr(joined, "id", None) in self.tuples:
            return  # t += (v,): a tuple is never grown, t is bound to a new one
        if name in self.callers:
            raise UnsupportedSyntaxError(
                f"`{self.parsed.source_line(self.parsed.location(statement).line)}` on the "
                "caller's list (an argument)",
                self.parsed.location(statement),
                hint=f"Python grows the caller's list; build a new one: {name} = {name} + ...",
            )
        live = self.live.get(id(statement), set())
        others = sorted(live & self.aliases.visible(name) - {name})
        if others:
            location, other = self.parsed.location(statement), self.describe(others, statement)
            raise UnsupportedSyntaxError(
                f"`{self.parsed.source_line(location.line)}` on a list {other} may hold too",
                location,
                hint=f"Python grows it for {other} too, which s2sad does not follow; build a "
                f"new list (`{name} = {name} + ...`) if {other} should not change",
            )

    def understood(self, container: str, state: dict) -> bool:
        """Whether ``container`` is only ever a list or dict display whose slots s2sad
        follows: not grown by append, not made by ``*`` or ``+`` (a dict's keys are not
        followed: see the README)."""
        held = state.get(container, ())
        if any(o in self.reshaped or o in self.opaque_containers for o in held):
            return False
        return container in self.lists

    def in_two_slots(self, name: str, container: str, index, state: dict) -> bool:
        """Whether the array ``name`` (read from ``container[index]``) may also sit in
        another slot of the list or dict ``container``, as far as the parts of the displays
        it holds tell (``index``: the slot's constant index or key, or None)."""
        mine = _bases(state.get(name, ()))
        for obj in state.get(container, ()):
            parts = self.parts.get(obj)
            if not parts:
                continue
            position = index if type(index) is int else None
            if obj in self.keys:  # a dict: its parts follow its keys
                keys = self.keys[obj]
                position = keys.index(index) if index in keys else None
            if position is not None and -len(parts) <= position < len(parts):
                own = _bases(parts[position])  # the slot's own arrays
                position = position % len(parts)
                if any(_bases(p) & own for i, p in enumerate(parts) if i != position):
                    return True
            else:  # lst[i]: any array that sits in two slots
                slots = [_bases(part) & mine for part in parts]
                if any(sum(o in slot for slot in slots) > 1 for o in set().union(*slots)):
                    return True
        return False

    def refuse_global(self, name: str, memory: tuple, location) -> None:
        """Refuse a write into ``memory``: ("global", name) or ("returned", callable)."""
        kind, what = memory
        if kind == "default":
            raise UnsupportedSyntaxError(
                f"writing into {name}, which may be {what}: one array kept between calls",
                location,
                hint="the adjoint would not see the change; copy it first (.copy())",
            )
        if kind == "returned":
            raise UnsupportedSyntaxError(
                f"writing into {name}, which may be memory that {what}() handed back "
                "(its argument, or an array of its own)",
                location,
                hint="s2sad cannot see inside that call; copy the result first (.copy())",
            )
        shared = "" if name == what else f", which may be the global array {what}"
        raise UnsupportedSyntaxError(
            f"writing into {'the global array' if name == what else 'the array'} {name}{shared}",
            location,
            hint="s2sad treats global arrays as constants, which the adjoint reads "
            "unchanged; copy it first (.copy())",
        )

    def describe(self, others: list[str], statement) -> str:
        """A name the user wrote, or what a temporary holds."""
        users = [n for n in others if n not in self.function.temporaries]
        if users:
            return users[0]
        return "a value read from it earlier on this line (a view, still to be used)"

    def run(self) -> None:
        state = {name: Objects({("argument", name)}) for name in self.function.parameters}
        self.block(self.function.tree.body, state)


def _keywords(call: gast.Call) -> dict:
    return {k.arg: k.value for k in call.keywords if k.arg is not None}


def _aged(objects, made: int):
    """``objects`` with the object statement ``made`` made before renamed ("older", made):
    the statement is about to make a new one, which nothing holds yet."""
    if not objects:
        return objects
    older = ("older", made)

    def aged(obj):
        if obj == made:
            return older
        if _is_element(obj) and obj[2] == made:
            return ("element", obj[1], older)
        return obj

    return Objects(map(aged, objects))


#: memory from outside the function: the caller's arguments, global arrays, what calls
#: s2sad cannot see into hand back
_OUTSIDE = ("argument", "global", "returned", "copied", "default")


def _number_or_array(kind) -> bool:
    """Whether a parameter of ``kind`` is passed a number or an array, never a container."""
    return kind in ("number", "scalar") or (isinstance(kind, tuple) and kind[0] == "array")


def _is_argument(obj) -> bool:
    return isinstance(obj, tuple) and obj[0] == "argument"


def _is_element(obj) -> bool:
    """("element", t, obj): ``obj`` held as an element of the tuple made by statement t.
    A tuple shares memory with its elements, but ``t[i]`` is only its i-th (``part``)."""
    return isinstance(obj, tuple) and obj[0] == "element"


def _base(obj):
    return obj[2] if _is_element(obj) else obj


def _bases(objects) -> set:
    return {_base(o) for o in objects}


def _join(*states):
    """Where control flow meets: a name may hold what it holds on any incoming path."""
    live = [s for s in states if s is not None]
    if not live:
        return None
    joined = dict(live[0])
    for other in live[1:]:
        for name, objects in other.items():
            joined[name] = joined.get(name, Objects()) | objects
    return joined


def _names(target) -> set[str]:
    if isinstance(target, gast.Name):
        return {target.id}
    if isinstance(target, (gast.Tuple, gast.List)):
        return {n for e in target.elts for n in _names(e)}
    return set()


def _root(node) -> str | None:
    while isinstance(node, (gast.Subscript, gast.Attribute)):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None
