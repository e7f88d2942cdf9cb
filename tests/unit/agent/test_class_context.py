from agent.class_context import class_context, drop_copied_members
from agent.localize import Region

LFU = '''import collections


class Cache:
    __marker = object()

    def __getitem__(self, key):
        return self.data[key]


class LFUCache(Cache):
    """Least frequently used."""

    limit = 3

    def __init__(self, maxsize):
        self.__counter = collections.Counter()

    def __getitem__(self, key, cache_getitem=Cache.__getitem__):
        value = cache_getitem(self, key)
        self.__counter[key] += 1
        return value

    def __setitem__(self, key, value, cache_setitem=Cache.__setitem__):
        cache_setitem(self, key, value)
        self.__counter[key] -= 1

    @property
    def size(self):
        return 0

    def popitem(self):
        ((key, _),) = self.__counter.most_common(1)
        return (key, self.pop(key))


def free():
    return 1
'''


def _region(text: str, name: str, occurrence: int = 0) -> Region:
    lines = text.split("\n")
    first = [i for i, line in enumerate(lines) if f"def {name}(" in line][occurrence]
    last = first + 1
    while lines[last + 1].startswith(" " * 8):
        last += 1
    return Region("cachetools.py", first, last, name, "function", 1.0)


def test_a_method_is_shown_its_class_attributes_and_sibling_methods_but_not_itself():
    context = class_context(LFU, _region(LFU, "__getitem__", occurrence=1))
    assert context.code == (
        "class LFUCache(Cache):\n"
        "    limit = 3\n\n"
        "    def __init__(self, maxsize):\n"
        "        self.__counter = collections.Counter()\n\n"
        "    def __setitem__(self, key, value, cache_setitem=Cache.__setitem__):\n"
        "        cache_setitem(self, key, value)\n"
        "        self.__counter[key] -= 1\n\n"
        "    @property\n"
        "    def size(self):\n"
        "        return 0\n\n"
        "    def popitem(self):\n"
        "        ((key, _),) = self.__counter.most_common(1)\n"
        "        return (key, self.pop(key))"
    )
    assert context.complete
    assert set(context.shown) == {"__init__", "__setitem__", "size", "popitem"}


def test_over_the_line_budget_the_siblings_that_share_the_method_s_attributes_come_first():
    filler = "".join(
        f"    def helper{i}(self):\n" + "        x = 1\n" * 5 + "        return x\n\n"
        for i in range(8)
    )
    text = LFU.replace("    def popitem(self):", filler + "    def popitem(self):")
    context = class_context(text, _region(text, "__getitem__", occurrence=1))
    assert not context.complete
    assert {"__init__", "__setitem__", "popitem"} <= set(context.shown)
    assert len(context.code.split("\n")) <= 41


def test_a_module_level_function_gets_no_class_context():
    assert class_context(LFU, _region(LFU, "free")).code == ""
    whole = Region("cachetools.py", 0, 30, "cachetools.py", "file", 1.0)
    assert class_context(LFU, whole).code == ""


def test_siblings_copied_after_the_method_are_dropped_and_a_new_helper_stays():
    reply = (
        "    def __getitem__(self, key):\n"
        "        self.__counter[key] -= 1\n"
        "        return self.__helper(key)\n\n"
        "    def __helper(self, key):\n"
        "        return key\n\n"
        "    @property\n"
        "    def size(self):\n"
        "        return 1\n\n"
        "    def popitem(self):\n"
        "        return None"
    )
    kept = drop_copied_members(reply, "__getitem__", ("size", "popitem"), "python")
    assert kept == (
        "    def __getitem__(self, key):\n"
        "        self.__counter[key] -= 1\n"
        "        return self.__helper(key)\n\n"
        "    def __helper(self, key):\n"
        "        return key"
    )
    assert drop_copied_members(reply, "__getitem__", (), "python") == reply
