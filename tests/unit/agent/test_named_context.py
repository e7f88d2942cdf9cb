from agent.localize import Region
from agent.named_context import named_definitions

INFLECTION = """import re

PLURALS = [(r"$", "s")]
SINGULARS = [(r"s$", "")]


def pluralize(word):
    for rule, replacement in PLURALS:
        if re.search(rule, word):
            return re.sub(rule, replacement, word)
    return word


def singularize(word):
    raise NotImplementedError


def humanize(word):
    return word.capitalize()
"""
SINGULARIZE = Region("inflection.py", 14, 15, "singularize", "function", 1.0)


def test_a_function_is_shown_the_other_definitions_its_task_names():
    task = "singularize has lost its implementation. Implement it, the reverse of pluralize."
    context = named_definitions(INFLECTION, SINGULARIZE, task)
    assert context.code == (
        "def pluralize(word):\n"
        "    for rule, replacement in PLURALS:\n"
        "        if re.search(rule, word):\n"
        "            return re.sub(rule, replacement, word)\n"
        "    return word"
    )
    assert context.shown == ("pluralize",)


def test_nothing_named_already_shown_or_only_the_function_itself_shows_nothing():
    assert named_definitions(INFLECTION, SINGULARIZE, "Fix singularize.").code == ""
    task = "singularize should mirror pluralize."
    assert named_definitions(INFLECTION, SINGULARIZE, task, shown=("pluralize",)).code == ""
    whole = Region("inflection.py", 0, 20, "inflection.py", "file", 1.0)
    assert named_definitions(INFLECTION, whole, task).code == ""
