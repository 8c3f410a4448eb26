"""s2sad.syntax: the tree helpers every pass relies on (walk, clone, substitute, to_source)."""

import gast

from s2sad.syntax import clone, parse_expr, substitute, to_source, walk

_MARKERS = (gast.expr_context, gast.operator, gast.unaryop, gast.cmpop, gast.boolop)
SOURCE = """
def f(x, y):
    z = -x * y[0] + g(x, k=2.0) if x < y < 3 else [a for a in y]
    for i in range(3):
        z = z ** 2 - (lambda t: t + 1)(z)
    return z
"""


def test_walk_yields_every_node_but_the_context_and_operator_markers():
    tree = gast.parse(SOURCE)
    expected = [n for n in gast.walk(tree) if not isinstance(n, _MARKERS)]
    found = list(walk(tree))
    assert sorted(map(id, found)) == sorted(map(id, expected))


def test_walk_can_stay_out_of_nested_functions():
    tree = gast.parse(SOURCE).body[0]
    names = {n.id for n in walk(tree, into_functions=False) if isinstance(n, gast.Name)}
    assert "z" in names and "t" not in names
    assert "t" in {n.id for n in walk(tree) if isinstance(n, gast.Name)}


def test_clone_is_a_deep_copy_that_prints_the_same():
    tree = gast.parse(SOURCE).body[0]
    copy = clone(tree)
    assert to_source(copy) == to_source(tree)
    assert copy.body[0].lineno == tree.body[0].lineno
    original = {id(n) for n in walk(tree)}
    assert original.isdisjoint(id(n) for n in walk(copy))
    # changing the copy, its lists included, leaves the original as it was
    before = to_source(tree)
    compare = next(n for n in walk(copy) if isinstance(n, gast.Compare))
    compare.ops.append(gast.Lt())
    compare.comparators.append(gast.Constant(value=4, kind=None))
    copy.body[1].body.clear()
    assert to_source(tree) == before
    assert [len(n.ops) for n in walk(tree) if isinstance(n, gast.Compare)] == [2]


def test_substitute_replaces_only_loaded_names_each_by_its_own_copy():
    tree = gast.parse("y = x + x * z").body[0]
    replacement = parse_expr("a[0]")
    result = substitute(tree, {"x": replacement, "y": parse_expr("b")})
    assert to_source(result) == "y = a[0] + a[0] * z"  # y is stored, not loaded
    subscripts = [n for n in walk(result) if isinstance(n, gast.Subscript)]
    assert len({id(s) for s in subscripts}) == 2 and replacement not in subscripts
    assert to_source(tree) == "y = x + x * z"


def test_negative_constants_print_with_the_parentheses_they_need():
    power = gast.BinOp(
        left=gast.Constant(value=-2.0, kind=None), op=gast.Pow(), right=parse_expr("x")
    )
    assert to_source(power) == "(-2.0) ** x"
    attribute = gast.Attribute(
        value=gast.Constant(value=-1, kind=None), attr="real", ctx=gast.Load()
    )
    assert to_source(attribute) == "(-1).real"
    assert to_source(gast.Constant(value=-0.5, kind=None)) == "-0.5"
    assert eval(to_source(power), {"x": 2.0}) == 4.0  # noqa: S307 - our own expression


def test_statements_without_line_numbers_print():
    statement = gast.Assign(
        targets=[gast.Name(id="y", ctx=gast.Store(), annotation=None, type_comment=None)],
        value=parse_expr("x - -1.5"),
        type_comment=None,
    )
    assert to_source(statement) == "y = x - -1.5"
