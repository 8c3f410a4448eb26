"""s2sad.tape.plan_tape: an overwritten value is pushed only if adjoint code reads it later.

Each test writes a small core-language body, says which primal names each statement's
adjoint reads (``Uses``), and checks which statements the plan makes push.
"""

import textwrap

import gast

from s2sad.syntax import to_source
from s2sad.tape import Uses, plan_tape


class Body:
    """A core-language body, its statements found by their first printed line."""

    def __init__(self, code: str):
        self.statements = gast.parse(textwrap.dedent(code)).body

    def __getitem__(self, text: str) -> gast.stmt:
        found = [
            node
            for node in (n for s in self.statements for n in gast.walk(s))
            if isinstance(node, gast.stmt) and to_source(node).splitlines()[0] == text
        ]
        assert len(found) == 1, (text, found)
        return found[0]

    def plan(self, uses: dict, parameters):
        return plan_tape(self.statements, {id(self[t]): u for t, u in uses.items()}, parameters)

    def ids(self, *texts) -> set:
        return {id(self[t]) for t in texts}


def test_a_loop_overwriting_what_its_adjoint_reads_pushes_each_iteration():
    body = Body(
        """
        for i in range(3):
            x = x * a
        """
    )
    plan = body.plan({"x = x * a": Uses(before={"x", "a"})}, {"x", "a"})
    assert plan.pushes == body.ids("x = x * a")
    assert plan.maybe_unbound == set()
    assert plan.records(body.statements)


def test_straight_line_code_without_overwrites_pushes_nothing():
    body = Body(
        """
        y = x * a
        z = np.sin(y)
        """
    )
    plan = body.plan(
        {"y = x * a": Uses(before={"x", "a"}), "z = np.sin(y)": Uses(before={"y"})}, {"x", "a"}
    )
    assert plan.pushes == set()
    assert not plan.records(body.statements)


def test_overwriting_a_value_already_read_pushes_it():
    body = Body(
        """
        y = x * a
        x = 3.0
        """
    )
    plan = body.plan({"y = x * a": Uses(before={"x", "a"})}, {"x", "a"})
    assert plan.pushes == body.ids("x = 3.0")


def test_overwriting_before_the_read_pushes_nothing():
    body = Body(
        """
        x = 3.0
        y = x * a
        """
    )
    plan = body.plan({"y = x * a": Uses(before={"x", "a"})}, {"x", "a"})
    assert plan.pushes == set()


def test_a_temporary_no_adjoint_reads_is_never_pushed():
    body = Body(
        """
        for i in range(3):
            t = x * a
            y = t + y
        """
    )
    uses = {"t = x * a": Uses(before={"x", "a"}), "y = t + y": Uses()}
    assert body.plan(uses, {"x", "a", "y"}).pushes == set()


def test_a_value_read_by_the_adjoint_is_pushed_when_the_next_iteration_overwrites_it():
    body = Body(
        """
        for i in range(3):
            t = x * a
            y = y * t
        """
    )
    uses = {"t = x * a": Uses(before={"x", "a"}), "y = y * t": Uses(before={"y", "t"})}
    plan = body.plan(uses, {"x", "a", "y"})
    assert plan.pushes == body.ids("t = x * a", "y = y * t")
    assert plan.maybe_unbound == {"t"}  # unassigned before the first iteration's push


def test_an_overwrite_in_one_branch_pushes_in_that_branch():
    body = Body(
        """
        y = x * a
        if c:
            x = 2.0
        else:
            z = 1.0
        """
    )
    plan = body.plan({"y = x * a": Uses(before={"x", "a"})}, {"x", "a", "c"})
    assert plan.pushes == body.ids("x = 2.0")


LOOP_WITH_BREAK = """
for i in range(3):
    y = x * a
    if c:
        break
    x = 2.0
x = 5.0
"""


def test_a_value_read_before_a_break_is_pushed_after_the_loop():
    body = Body(LOOP_WITH_BREAK)
    plan = body.plan({"y = x * a": Uses(before={"x", "a"})}, {"x", "a", "c"})
    assert id(body["x = 5.0"]) in plan.pushes  # the break leaves x read


def test_without_the_break_the_loop_leaves_the_value_unread():
    body = Body(LOOP_WITH_BREAK.replace("break", "z = 1.0"))
    plan = body.plan({"y = x * a": Uses(before={"x", "a"})}, {"x", "a", "c"})
    assert id(body["x = 5.0"]) not in plan.pushes
    assert id(body["x = 2.0"]) in plan.pushes


def test_an_inner_loops_trip_counter_is_pushed_when_an_outer_loop_resets_it():
    code = """
    for j in range(2):
        while c:
            y = y * a
    """
    uses = {
        "while c:": Uses(counter="n_steps", after={"n_steps"}),
        "y = y * a": Uses(before={"y", "a"}),
    }
    nested = Body(code)
    assert nested.plan(uses, {"y", "a", "c"}).counter_pushes == nested.ids("while c:")
    alone = Body(
        """
        while c:
            y = y * a
        """
    )
    assert alone.plan(uses, {"y", "a", "c"}).counter_pushes == set()


def test_a_loop_target_read_before_the_loop_is_pushed_before_it():
    body = Body(
        """
        y = i * a
        for i in range(3):
            z = a * 2.0
        """
    )
    plan = body.plan({"y = i * a": Uses(before={"i", "a"})}, {"i", "a"})
    assert plan.before_loop == body.ids("for i in range(3):")
    assert plan.pushes == set()
