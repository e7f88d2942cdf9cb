from agent.near_miss import off_by_one, self_qualified

ORIGINAL = "def humanize(word):\n    word = word.replace('_', ' ')\n    return word[0:10]\n"
CANDIDATE = (
    "def humanize(word):\n    if word.endswith('_id'):  # 3 chars\n        word = word[:-4]\n"
    "    word = word.replace('_', ' ')\n    return word[0:10] + '1'\n"
)


def test_only_numbers_on_the_candidate_s_new_lines_and_in_code_move_by_one():
    neighbours = off_by_one(ORIGINAL, CANDIDATE, "python")
    # Not the comment's 3 nor the string's '1'; the last line changed, so its 0 and 10 vary
    # (0 only upwards), up to the cap of four.
    assert [(n.row, n.after.strip()) for n in neighbours] == [
        (2, "word = word[:-3]"),
        (2, "word = word[:-5]"),
        (4, "return word[1:10] + '1'"),
        (4, "return word[0:9] + '1'"),
    ]
    first = neighbours[0]
    assert first.text == CANDIDATE.replace("[:-4]", "[:-3]")
    assert first.before == "        word = word[:-4]"


def test_a_line_the_original_has_unchanged_is_not_varied():
    candidate = ORIGINAL.replace("' '", "' '.join([])[0:2] or ' '")
    assert [n.after.strip() for n in off_by_one(ORIGINAL, candidate, "python", limit=9)] == [
        "word = word.replace('_', ' '.join([])[1:2] or ' ')",
        "word = word.replace('_', ' '.join([])[0:1] or ' ')",
        "word = word.replace('_', ' '.join([])[0:3] or ' ')",
    ]


def test_a_candidate_with_no_new_number_has_no_neighbours():
    candidate = ORIGINAL.replace("' '", "'-'")
    assert off_by_one(ORIGINAL, candidate, "python") == []


CACHE = (
    "class Cache:\n    __marker = object()\n\n"
    "    def pop(self, key, default=__marker):\n"
    "        if key in self.data:\n            return self.data.pop(key)\n"
    "        return default\n"
)
BARE = CACHE.replace(
    "        return default\n",
    "        if default is __marker:\n            raise KeyError(key)\n        return default\n",
)


def test_a_class_attribute_named_bare_in_a_method_is_read_on_self():
    messages = ["NameError: name '_Cache__marker' is not defined"]
    neighbour = self_qualified(CACHE, BARE, messages)
    assert neighbour is not None
    # The signature's default stays bare: there, in the class body, it is right.
    assert neighbour.text == BARE.replace("default is __marker", "default is self.__marker")
    assert neighbour.after.strip() == "if default is self.__marker:"


def test_no_neighbour_for_a_name_no_class_holds_or_another_error_or_language():
    assert self_qualified(CACHE, BARE, ["NameError: name 'missing' is not defined"]) is None
    assert self_qualified(CACHE, BARE, ["KeyError: 2"]) is None
    messages = ["NameError: name '_Cache__marker' is not defined"]
    assert self_qualified(CACHE, BARE, messages, "javascript") is None
    assert self_qualified(CACHE, CACHE.replace("data", "items"), messages) is None
