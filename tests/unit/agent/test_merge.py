"""Merging a partial rewrite back into its region by definition."""

from __future__ import annotations

from agent.editing.merge import merge_rewrite

MODULE = """import os


def first(seq):
    return seq[0]


class Box:
    size = 1

    def get(self, key):
        return self.data[key] + 1

    def put(self, key, value):
        self.data[key] = value


def last(seq):
    return seq[-1]
"""


def test_a_rewrite_of_one_function_replaces_only_that_function():
    merged = merge_rewrite(MODULE, "def last(seq):\n    return seq[len(seq) - 1]\n", "python")
    assert merged == MODULE.replace("return seq[-1]", "return seq[len(seq) - 1]")


def test_a_method_answered_alone_and_dedented_goes_back_into_its_class():
    answer = "def get(self, key):\n    return self.data[key]\n"
    merged = merge_rewrite(MODULE, answer, "python")
    assert merged == MODULE.replace("return self.data[key] + 1", "return self.data[key]")


def test_a_class_that_kept_some_members_keeps_the_others():
    answer = "class Box:\n    def put(self, key, value):\n        self.data[key] = value * 2\n"
    merged = merge_rewrite(MODULE, answer, "python")
    assert merged is not None
    assert "self.data[key] = value * 2" in merged and "def get(self, key):" in merged
    assert "size = 1" in merged and "def first(seq):" in merged


def test_new_helpers_and_imports_join_the_file_where_the_answer_put_them():
    answer = (
        "import math\n\n\ndef first(seq):\n    return helper(seq)\n\n\n"
        "def helper(seq):\n    return math.floor(seq[0])\n"
    )
    merged = merge_rewrite(MODULE, answer, "python")
    assert merged is not None
    lines = merged.split("\n")
    assert lines[:2] == ["import os", "import math"]
    assert merged.index("def first") < merged.index("def helper") < merged.index("class Box")
    assert "return helper(seq)" in merged and "def last(seq):" in merged
    compile(merged, "module.py", "exec")


def test_an_answer_that_shares_nothing_or_does_not_parse_is_not_merged():
    assert merge_rewrite(MODULE, "def other():\n    return 1\n", "python") is None
    assert merge_rewrite(MODULE, "def last(seq)\n    return (\n", "python") is None


def test_a_bare_method_name_that_two_classes_define_is_not_guessed():
    two = MODULE + "\n\nclass Crate:\n    def get(self, key):\n        return None\n"
    answer = "def get(self, key):\n    return 0\n"
    assert merge_rewrite(two, answer, "python") is None
