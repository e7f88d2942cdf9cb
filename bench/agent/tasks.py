"""Twelve small real tasks for the agent benchmark: each a tiny repository with a failing test
or a missing feature, and a check (the original tests plus hidden ones) that decides success.
The check is run on the result, with the task's own test files restored, so an agent cannot
pass by editing the tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str
    instruction: str
    files: dict[str, str]
    hidden_test: str  # test_hidden.py, added only for the check


TASKS = [
    Task(
        "calc_add",
        "make the failing test in test_calc.py pass",
        {
            "calc.py": "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
            "test_calc.py": "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n",
        },
        "from calc import add\n\n\ndef test_more():\n    assert add(-1, 1) == 0 and add(10, 5) == 15\n",
    ),
    Task(
        "last_n",
        "last_n returns one item too many; fix it so test_lists.py passes",
        {
            "lists.py": 'def last_n(items, n):\n    """The last n items of a list."""\n    return items[-n - 1 :]\n',
            "test_lists.py": "from lists import last_n\n\n\ndef test_last_two():\n    assert last_n([1, 2, 3, 4], 2) == [3, 4]\n",
        },
        "from lists import last_n\n\n\ndef test_one():\n    assert last_n(['a', 'b', 'c'], 1) == ['c']\n",
    ),
    Task(
        "fizzbuzz",
        "make the failing test in test_fizz.py pass",
        {
            "fizz.py": 'def fizzbuzz(n):\n    if n % 3 == 0:\n        return "Fizz"\n    if n % 5 == 0:\n        return "Buzz"\n    if n % 15 == 0:\n        return "FizzBuzz"\n    return str(n)\n',
            "test_fizz.py": 'from fizz import fizzbuzz\n\n\ndef test_fizzbuzz():\n    assert [fizzbuzz(i) for i in (3, 5, 15, 7)] == ["Fizz", "Buzz", "FizzBuzz", "7"]\n',
        },
        "from fizz import fizzbuzz\n\n\ndef test_30():\n    assert fizzbuzz(30) == 'FizzBuzz' and fizzbuzz(9) == 'Fizz'\n",
    ),
    Task(
        "slugify",
        "implement slugify in text.py so that test_text.py passes",
        {
            "text.py": 'def slugify(title):\n    """\'Hello, World!\' -> \'hello-world\': lowercase words joined by dashes."""\n    raise NotImplementedError\n',
            "test_text.py": 'from text import slugify\n\n\ndef test_slugify():\n    assert slugify("Hello, World!") == "hello-world"\n    assert slugify("  Many   spaces here ") == "many-spaces-here"\n',
        },
        "from text import slugify\n\n\ndef test_digits():\n    assert slugify('Top 10 Tips') == 'top-10-tips'\n",
    ),
    Task(
        "cli_json",
        "add a --json flag to the CLI in cli.py that prints the report as JSON instead of lines; test_cli.py shows the expected output",
        {
            "cli.py": 'import argparse\n\n\ndef report():\n    return {"files": 3, "lines": 42}\n\n\ndef main(argv=None):\n    parser = argparse.ArgumentParser()\n    parser.parse_args(argv)\n    for key, value in report().items():\n        print(f"{key}: {value}")\n\n\nif __name__ == "__main__":\n    main()\n',
            "test_cli.py": 'import json\n\nfrom cli import main\n\n\ndef test_lines(capsys):\n    main([])\n    assert capsys.readouterr().out == "files: 3\\nlines: 42\\n"\n\n\ndef test_json(capsys):\n    main(["--json"])\n    assert json.loads(capsys.readouterr().out) == {"files": 3, "lines": 42}\n',
        },
        "import json\n\nfrom cli import main\n\n\ndef test_json_again(capsys):\n    main(['--json'])\n    assert json.loads(capsys.readouterr().out)['lines'] == 42\n",
    ),
    Task(
        "greeting",
        'add an optional greeting parameter to greet (default "Hello"); test_greet.py shows how it is used',
        {
            "greet.py": 'def greet(name):\n    return f"Hello, {name}!"\n',
            "test_greet.py": 'from greet import greet\n\n\ndef test_default():\n    assert greet("Ann") == "Hello, Ann!"\n\n\ndef test_custom():\n    assert greet("Bob", greeting="Hi") == "Hi, Bob!"\n',
        },
        "from greet import greet\n\n\ndef test_positional():\n    assert greet('Cy', 'Hey') == 'Hey, Cy!'\n",
    ),
    Task(
        "default_port",
        "get_port should return 8080 when the config has no port, instead of raising KeyError",
        {
            "config.py": 'def get_port(config):\n    return int(config["port"])\n',
            "test_config.py": 'from config import get_port\n\n\ndef test_port():\n    assert get_port({"port": "9000"}) == 9000\n\n\ndef test_default():\n    assert get_port({}) == 8080\n',
        },
        "from config import get_port\n\n\ndef test_other_keys():\n    assert get_port({'host': 'x'}) == 8080\n",
    ),
    Task(
        "reverse_words",
        "make the failing test in test_words.py pass",
        {
            "words.py": 'def reverse_words(sentence):\n    """The words of the sentence in reverse order."""\n    return sentence[::-1]\n',
            "test_words.py": 'from words import reverse_words\n\n\ndef test_reverse():\n    assert reverse_words("one two three") == "three two one"\n',
        },
        "from words import reverse_words\n\n\ndef test_single():\n    assert reverse_words('alone') == 'alone'\n",
    ),
    Task(
        "palindrome",
        "is_palindrome should ignore case and spaces; make test_pal.py pass",
        {
            "pal.py": "def is_palindrome(text):\n    return text == text[::-1]\n",
            "test_pal.py": 'from pal import is_palindrome\n\n\ndef test_simple():\n    assert is_palindrome("level")\n\n\ndef test_mixed():\n    assert is_palindrome("Never odd or even")\n\n\ndef test_not():\n    assert not is_palindrome("python")\n',
        },
        "from pal import is_palindrome\n\n\ndef test_case():\n    assert is_palindrome('Racecar')\n",
    ),
    Task(
        "stack_peek",
        "add a peek method to Stack that returns the top item without removing it",
        {
            "stack.py": "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n        self.items.append(item)\n\n    def pop(self):\n        return self.items.pop()\n",
            "test_stack.py": "from stack import Stack\n\n\ndef test_peek():\n    s = Stack()\n    s.push(1)\n    s.push(2)\n    assert s.peek() == 2\n    assert s.pop() == 2\n",
        },
        "from stack import Stack\n\n\ndef test_peek_keeps():\n    s = Stack()\n    s.push('a')\n    assert s.peek() == 'a' and s.peek() == 'a' and s.items == ['a']\n",
    ),
    Task(
        "celsius",
        "make the failing test in test_temp.py pass",
        {
            "temp.py": "def c_to_f(celsius):\n    return celsius * 5 / 9 + 32\n",
            "test_temp.py": "from temp import c_to_f\n\n\ndef test_boiling():\n    assert c_to_f(100) == 212\n\n\ndef test_freezing():\n    assert c_to_f(0) == 32\n",
        },
        "from temp import c_to_f\n\n\ndef test_minus_40():\n    assert c_to_f(-40) == -40\n",
    ),
    Task(
        "word_count",
        "test_stats.py imports word_count from stats, which does not exist; add it (the number of words in a text)",
        {
            "stats.py": "def char_count(text):\n    return len(text)\n",
            "test_stats.py": 'from stats import char_count, word_count\n\n\ndef test_chars():\n    assert char_count("ab c") == 4\n\n\ndef test_words():\n    assert word_count("the quick  brown fox") == 4\n',
        },
        "from stats import word_count\n\n\ndef test_empty():\n    assert word_count('') == 0\n",
    ),
]
