from agent.class_outline import class_outline, module_outline
from agent.localize import Region

CACHE = '''import collections


class Cache:
    def __getitem__(self, key):
        return self.data[key]


class LRUCache(Cache):
    """Least recently used."""

    def __init__(self, maxsize,
                 getsizeof=None):
        self.__order = collections.OrderedDict()

    def __getitem__(self, key, cache_getitem=Cache.__getitem__):
        return cache_getitem(self, key)

    class Entry:
        def touch(self):
            pass

    def __update(self, key) -> None:
        self.__order.move_to_end(key)


def free():
    return 1
'''


def _region(name: str, occurrence: int = 0) -> Region:
    lines = CACHE.split("\n")
    first = [i for i, line in enumerate(lines) if f"def {name}(" in line][occurrence]
    return Region("cachetools.py", first, first + 1, name, "function", 1.0)


def test_a_method_s_prompt_names_its_class_and_the_methods_it_may_call():
    # Not the nested class's methods, nor the base class's; a wrapped signature is cut.
    assert class_outline(CACHE, _region("__getitem__", occurrence=1)) == (
        "`__getitem__` is a method of `class LRUCache(Cache)`, whose methods are: "
        "`__init__(self, maxsize, ...)`, "
        "`__getitem__(self, key, cache_getitem=Cache.__getitem__)`, `__update(self, key)`."
    )


def test_a_module_level_function_or_a_whole_file_gets_no_outline():
    assert class_outline(CACHE, _region("free")) == ""
    assert class_outline(CACHE, Region("cachetools.py", 0, 30, "cachetools.py", "file", 1.0)) == ""


def test_a_module_level_function_s_prompt_names_the_module_s_constants_and_functions():
    text = (
        '"""Words."""\n__version__ = "1"\nPLURALS = [("$", "s")]\nSINGULARS: list = []\n\n\n'
        "def pluralize(word):\n    return word + 's'\n\n\n"
        "def singularize(word):\n    raise NotImplementedError\n\n\n"
        "class Inflector:\n    def plural(self, word):\n        return pluralize(word)\n"
    )
    region = Region("words.py", 10, 11, "singularize", "function", 1.0)
    assert module_outline(text, region) == (
        "`singularize` is a function of words.py, which also defines: `PLURALS`, "
        "`SINGULARS`, `pluralize(word)`."
    )
    method = Region("words.py", 15, 16, "plural", "function", 1.0)
    assert module_outline(text, method) == ""  # a method gets its class's outline instead
