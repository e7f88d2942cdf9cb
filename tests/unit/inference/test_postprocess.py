from inference.postprocess import CursorContext, clean_completion, should_stop
from inference.text import cursor_offset, fim_window


def ctx(before="    ", after="", following=()):
    return CursorContext(before, after, tuple(following))


def test_mid_line_keeps_one_line_and_drops_the_repeated_tail():
    cursor = ctx("    total = compute(", ")")
    assert clean_completion("a, b)\n    more()", cursor, max_lines=8) == "a, b"
    assert should_stop("a, b)\n", cursor, max_lines=8, stops=())


def test_stops_at_dedent_out_of_the_block():
    text = "x = 1\n    return x\n\ndef other():\n    pass"
    assert clean_completion(text, ctx("    "), max_lines=8) == "x = 1\n    return x"


def test_blank_line_then_new_statement_at_same_level_ends_it():
    text = "a = 1\n    b = 2\n\n    c = 3"
    assert clean_completion(text, ctx("    "), max_lines=8) == "a = 1\n    b = 2"


def test_never_repeats_the_following_lines():
    cursor = ctx("    ", following=["    return result", ""])
    text = "result = 42\n    return result\n"
    assert clean_completion(text, cursor, max_lines=8) == "result = 42"


def test_caps_lines_and_cuts_stop_markers():
    text = "\n".join(f"    x{i} = {i}" for i in range(20))
    assert len(clean_completion(text, ctx(""), max_lines=3).split("\n")) == 3
    assert (
        clean_completion("a = 1<|endoftext|>junk", ctx(""), max_lines=3, stops=["<|endoftext|>"])
        == "a = 1"
    )


def test_whitespace_only_is_nothing():
    assert clean_completion("   \n  \n", ctx(), max_lines=5) == ""


def test_cursor_offset_counts_code_points_and_clamps():
    text = "a𝄞b\nxyz"
    assert cursor_offset(text, 0, 3) == 3  # front ends convert LSP positions to code points
    assert cursor_offset(text, 0, 9) == text.index("\n")  # past the line's end: its end
    assert cursor_offset(text, 1, 2) == text.index("z")
    assert cursor_offset(text, 9, 0) == len(text)


def test_fim_window_takes_lines_around_the_cursor():
    text = "".join(f"line{i}\n" for i in range(100))
    offset = cursor_offset(text, 50, 2)
    window = fim_window(text, offset, prefix_lines=3, suffix_lines=2)
    assert window.prefix == "line47\nline48\nline49\nli"
    assert window.suffix == "ne50\nline51\nline52"
    assert window.cursor.line_before == "li"
    assert window.cursor.line_after == "ne50"


def test_fim_window_start_moves_in_steps():
    text = "".join(f"line{i}\n" for i in range(200))
    starts = set()
    for line in range(96, 112):
        window = fim_window(text, cursor_offset(text, line, 0), 64, 4, line)
        starts.add(window.prefix.split("\n", 1)[0])
    assert starts == {"line32"}  # (line - 64) // 16 * 16 = 32 for lines 96 to 111
    window = fim_window(text, cursor_offset(text, 112, 0), 64, 4, 112)
    assert window.prefix.startswith("line48\n")
