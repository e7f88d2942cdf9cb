"""The validation half of the real-repository suite: packages that no heuristic of the
pipeline was written for, built like the tuning half (bench.agent.real_repos: a bug injected
into a pinned sdist's function, the package's own test file decides).

The tuning half (inflection, toolz, boltons, cachetools) is what the pipeline's heuristics
were read from; figures that claim something about users' code come from this half. Eight of
its 24 bugs sit in functions over 100 lines (click's `Context.__init__`, `Option.__init__`,
`Option.get_help_record`, `echo`), where the pipeline edits a window.
"""

from __future__ import annotations

from bench.agent.real_repos import Package, RealTask

MORE_ITERTOOLS = Package(
    "more-itertools", "10.5.0",
    "5482bfef7849c25dc3c6dd53a6173ae4795da2a41a80faea6700d9f5846c5da6",
    (("more_itertools", "more_itertools"), ("tests", "tests")),
)  # fmt: skip
ISODATE = Package(
    "isodate", "0.7.2", "4cd1aa0f43ca76f4a6c6c0292a85f40b35ec2e43e315b59f06e6d32171a953e6",
    (("src/isodate", "isodate"), ("tests", "tests")),
)  # fmt: skip
WCWIDTH = Package(
    "wcwidth", "0.2.13", "72ea0c06399eb286d978fdedb6923a9eb47e1c486ce63e9b4e64fc18303972b5",
    (("wcwidth", "wcwidth"), ("tests", "tests")),
)  # fmt: skip
CLICK = Package(
    "click", "8.1.7", "ca9853ad459e787e2192211578cc907e7594e294c7ccc834310722b41b9ca6de",
    (("src/click", "click"), ("tests", "tests")),
)  # fmt: skip

_MORE, _RECIPES = "more_itertools/more.py", "more_itertools/recipes.py"
_MORE_TEST, _RECIPES_TEST = "tests/test_more.py", "tests/test_recipes.py"
_DUR, _ISODUR, _TIME = "isodate/duration.py", "isodate/isoduration.py", "isodate/isotime.py"
_WC, _WC_TEST = "wcwidth/wcwidth.py", "tests/test_emojis.py"
_CORE, _UTILS = "click/core.py", "click/utils.py"
_FIX = "Some of the project's tests fail. Fix the library code so that they pass."

VALIDATION_TASKS = [
    RealTask(
        "mit_padded_multiple", MORE_ITERTOOLS, _MORE,
        "yield islice(iterable_with_repeat, n - 1)", "yield islice(iterable_with_repeat, n)",
        "padded([1, 2, 3, 4], n=3, next_multiple=True) yields 8 items. It should pad to the "
        "next multiple of 3: [1, 2, 3, 4, None, None].",
        _MORE_TEST, "report",
    ),
    RealTask(
        "mit_repeat_last", MORE_ITERTOOLS, _MORE,
        "final = default if item is _marker else item",
        "final = item if item is _marker else default",
        "repeat_last(range(3)) keeps yielding None after 0, 1, 2 instead of repeating the last "
        "element, 2.",
        _MORE_TEST, "report",
    ),
    RealTask(
        "mit_nth", MORE_ITERTOOLS, _RECIPES,
        "return next(islice(iterable, n, None), default)",
        "return next(islice(iterable, n + 1, None), default)",
        "nth(range(10), 3) returns 4. It should return the item at index 3, which is 3.",
        _RECIPES_TEST, "report",
    ),
    RealTask(
        "mit_powerset", MORE_ITERTOOLS, _RECIPES,
        "for r in range(len(s) + 1))", "for r in range(1, len(s) + 1))",
        f"{_FIX} The failures are in tests/test_recipes.py.", _RECIPES_TEST, "tests",
    ),
    RealTask(
        "mit_partition", MORE_ITERTOOLS, _RECIPES,
        "return (compress(t1, map(operator.not_, p1)), compress(t2, p2))",
        "return (compress(t1, p1), compress(t2, map(operator.not_, p2)))",
        "partition(is_odd, range(10)) puts the odd numbers first. The items for which the "
        "predicate is false come first: ([0, 2, 4, 6, 8], [1, 3, 5, 7, 9]).",
        _RECIPES_TEST, "report",
    ),
    RealTask(
        "mit_ncycles", MORE_ITERTOOLS, _RECIPES,
        "return chain.from_iterable(repeat(tuple(iterable), n))",
        "return chain.from_iterable(repeat(tuple(iterable), n - 1))",
        "ncycles('ab', 3) yields a, b, a, b. It should repeat the sequence three times.",
        _RECIPES_TEST, "report",
    ),
    RealTask(
        "iso_duration_sign", ISODATE, _ISODUR,
        '        if groups["sign"] == "-":\n            ret = timedelta(0) - ret\n', "",
        "parse_duration('-P1D') returns a positive one-day timedelta: the minus sign is lost.",
        "tests/test_duration.py", "report",
    ),
    RealTask(
        "iso_duration_multiply", ISODATE, _DUR,
        "newduration = Duration(years=self.years * other, months=self.months * other)",
        "newduration = Duration(years=self.years * other, months=self.months)",
        "Duration(years=1, months=1) * 3 gives three years and one month; the months should "
        "be multiplied too: three years and three months.",
        "tests/test_duration.py", "report",
    ),
    RealTask(
        "iso_leap_year", ISODATE, _DUR,
        "if ((year % 400) == 0) or ((year % 100) != 0) and ((year % 4) == 0):",
        "if (year % 4) == 0:",
        "Adding Duration(years=1) to 1899-02-28 and similar date arithmetic around 1900 goes "
        "wrong: February 1900 is treated as having 29 days, but 1900 was not a leap year.",
        "tests/test_duration.py", "report",
    ),
    RealTask(
        "iso_minute_fraction", ISODATE, _TIME,
        "second = Decimal((minute - int(minute)) * 60).quantize(",
        "second = Decimal((minute - int(minute)) * 100).quantize(",
        "parse_time('10:30,5') gives 10:30:50. Half a minute is 30 seconds: 10:30:30.",
        "tests/test_time.py", "report",
    ),
    RealTask(
        "iso_negative_format", ISODATE, _ISODUR,
        "(isinstance(tduration, timedelta) and (tduration < timedelta(0)))",
        "(isinstance(tduration, timedelta) and (tduration > timedelta(0)))",
        f"{_FIX} The failures are in tests/test_duration.py.", "tests/test_duration.py", "tests",
    ),
    RealTask(
        "wc_zero_width_joiner", WCWIDTH, _WC,
        "            # Zero Width Joiner, do not measure this or next character\n"
        "            idx += 2\n",
        "            # Zero Width Joiner, do not measure this or next character\n"
        "            idx += 1\n",
        "wcswidth counts the character after a zero width joiner (U+200D): emoji sequences "
        "joined by it come out too wide.",
        _WC_TEST, "report",
    ),
    RealTask(
        "mit_distribute", MORE_ITERTOOLS, _MORE,
        "return [islice(it, index, None, n) for index, it in enumerate(children)]",
        "return [islice(it, index, None, n + 1) for index, it in enumerate(children)]",
        "distribute(3, [1, 2, 3, 4, 5, 6, 7]) loses items. It should give [[1, 4, 7], [2, 5], "
        "[3, 6]].",
        _MORE_TEST, "report",
    ),
    RealTask(
        "click_envvar_dash", CLICK, _CORE,
        'auto_envvar_prefix = auto_envvar_prefix.replace("-", "_")',
        'auto_envvar_prefix = auto_envvar_prefix.replace("_", "-")',
        "With auto_envvar_prefix='MY-APP', options are looked up in environment variables "
        "with dashes. Dashes in the prefix should become underscores: MY_APP_NAME.",
        "tests/test_options.py", "report",
    ),
    RealTask(
        "click_envvar_upper", CLICK, _CORE,
        'f"{parent.auto_envvar_prefix}_{self.info_name.upper()}"',
        'f"{parent.auto_envvar_prefix}_{self.info_name}"',
        "The automatic environment variable prefix of a subcommand keeps the subcommand's "
        "name in lower case (TEST_cmd_NAME); it should be upper case: TEST_CMD_NAME.",
        "tests/test_options.py", "report",
    ),
    RealTask(
        "click_count_range", CLICK, _CORE,
        "self.type = types.IntRange(min=0)", "self.type = types.IntRange(min=1)",
        f"{_FIX} The failures are in tests/test_options.py.", "tests/test_options.py", "tests",
    ),
    RealTask(
        "click_echo_strip_ansi", CLICK, _UTILS,
        "        if should_strip_ansi(file, color):\n",
        "        if not should_strip_ansi(file, color):\n",
        "click.echo keeps ANSI colour codes when writing to a file or a pipe, and strips "
        "them on a terminal; it should be the other way round.",
        "tests/test_termui.py", "report",
    ),
    RealTask(
        "click_show_default_inherited", CLICK, _CORE,
        "        if show_default is None and parent is not None:\n"
        "            show_default = parent.show_default\n",
        "",
        "show_default=True in a group's context_settings no longer shows defaults in its "
        "subcommands' help: a child context should inherit show_default from its parent.",
        "tests/test_context.py", "report",
    ),
    RealTask(
        "click_default_list_help", CLICK, _CORE,
        'default_string = ", ".join(str(d) for d in default_value)',
        'default_string = " ".join(str(d) for d in default_value)',
        "An option whose default is a list shows it in --help as [default: 1 2]; the values "
        "should be separated by commas: [default: 1, 2].",
        "tests/test_options.py", "report",
    ),
    RealTask(
        "click_flag_value", CLICK, _CORE,
        "            flag_value = not self.default\n", "            flag_value = self.default\n",
        f"{_FIX} The failures are in tests/test_defaults.py.", "tests/test_defaults.py", "tests",
    ),
    RealTask(
        "mit_ilen", MORE_ITERTOOLS, _MORE,
        "return sum(compress(repeat(1), zip(iterable)))",
        "return sum(compress(repeat(1), zip(iterable))) - 1",
        "ilen([1, 2, 3]) returns 2; it should count every item: 3.",
        _MORE_TEST, "report",
    ),
    RealTask(
        "mit_rstrip", MORE_ITERTOOLS, _MORE,
        "            yield from cache\n            cache_clear()\n            yield x\n",
        "            cache_clear()\n            yield x\n",
        "rstrip([None, 1, None, 2, None], lambda x: x is None) drops the None between 1 and 2. "
        "Only the items at the end should be stripped: [None, 1, None, 2].",
        _MORE_TEST, "report",
    ),
    RealTask(
        "wc_variation_selector", WCWIDTH, _WC,
        "                width += _bisearch(ord(last_measured_char), "
        'VS16_NARROW_TO_WIDE["9.0.0"])\n',
        "",
        "wcswidth ignores the emoji variation selector U+FE0F: a narrow character that it "
        "turns into a wide emoji (like '\\u2764\\ufe0f') should count as 2 cells, not 1.",
        _WC_TEST, "report",
    ),
    RealTask(
        "mit_strip", MORE_ITERTOOLS, _MORE,
        "    return rstrip(lstrip(iterable, pred), pred)", "    return rstrip(iterable, pred)",
        "strip([None, 1, None], lambda x: x is None) keeps the leading None. It should strip "
        "both ends, like str.strip: [1].",
        _MORE_TEST, "report",
    ),
]  # fmt: skip
