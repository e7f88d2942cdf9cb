from agent.suspect_edits import MAX_PER_ROW, single_edits, suspect_rows

TAKE_NTH = (
    "def take_nth(n, seq):\n"
    '    """Every nth item: take_nth(2, seq) < 3"""\n'
    "    if n == 1 and True:  # 3 + 4\n"
    "        return seq\n"
    "    return itertools.islice(seq, 1, None, -n)\n"
)


def test_each_edit_changes_one_token_on_the_given_rows_in_their_order():
    edits = single_edits(TAKE_NTH, [4, 2], "python", limit=20)
    assert [(e.row, e.after.strip()) for e in edits] == [
        (4, "return itertools.islice(seq, 0, None, -n)"),  # the unary minus stays
        (4, "return itertools.islice(seq, 2, None, -n)"),
        (2, "if n != 1 and True:  # 3 + 4"),  # not the comment's operator
        (2, "if n == 0 and True:  # 3 + 4"),
        (2, "if n == 2 and True:  # 3 + 4"),
        (2, "if n == 1 or True:  # 3 + 4"),  # MAX_PER_ROW: not True -> False
    ]
    assert MAX_PER_ROW == 4
    assert edits[0].text == TAKE_NTH.replace("seq, 1,", "seq, 0,")
    assert edits[0].before == "    return itertools.islice(seq, 1, None, -n)"


def test_a_docstring_row_has_no_edits_and_the_total_is_capped():
    assert single_edits(TAKE_NTH, [1], "python") == []
    assert len(single_edits(TAKE_NTH, [2, 4], "python", limit=3)) == 3


def test_text_joined_with_plus_is_not_subtracted():
    line = "raise ValueError('expected ' + name + str(n + 1))\n"
    assert [e.after for e in single_edits(line, [0], "python", 9)] == [
        "raise ValueError('expected ' + name + str(n - 1))",
        "raise ValueError('expected ' + name + str(n + 0))",
        "raise ValueError('expected ' + name + str(n + 2))",
    ]


def test_booleans_flip_and_javascript_operators_swap():
    edits = single_edits("const ok = a.length >= 0 && b !== true;\n", [0], "javascript", 9)
    assert [e.after for e in edits] == [
        "const ok = a.length > 0 && b !== true;",
        "const ok = a.length == 0 && b !== true;",
        "const ok = a.length >= 1 && b !== true;",
        "const ok = a.length >= 0 || b !== true;",
    ]


def test_rows_the_tracebacks_reach_come_first_then_those_most_candidates_changed():
    rewrote_return = TAKE_NTH.replace("seq, 1,", "seq, n,")
    rewrote_both = rewrote_return.replace("n == 1", "n <= 1")
    candidates = [rewrote_return, rewrote_both, TAKE_NTH.replace("nth item", "item")]
    assert suspect_rows(TAKE_NTH, candidates, [], 0, 4) == [4, 1, 2]
    assert suspect_rows(TAKE_NTH, candidates, [3], 0, 4) == [3, 4, 1, 2]
    # Outside the region: neither a traced row nor a changed one.
    assert suspect_rows(TAKE_NTH, candidates, [9], 2, 3) == [2]


def test_with_the_rows_the_failing_tests_ran_only_those_count_and_untouched_ones_come_last():
    rewrote_return = TAKE_NTH.replace("seq, 1,", "seq, n,")
    rewrote_branch = TAKE_NTH.replace("return seq\n", "return list(seq)\n")
    candidates = [rewrote_return, rewrote_branch, rewrote_branch]
    assert suspect_rows(TAKE_NTH, candidates, [], 0, 4) == [3, 4]
    # n == 1 never held: the branch's row did not run, however many candidates rewrote it;
    # the rows that ran and no candidate touched follow, in order.
    assert suspect_rows(TAKE_NTH, candidates, [], 0, 4, executed={0, 2, 4}) == [4, 0, 2]
    # A traced row stays first.
    assert suspect_rows(TAKE_NTH, candidates, [3], 0, 4, executed={0, 2, 4}) == [3, 4, 0, 2]
