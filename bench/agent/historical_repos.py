"""Historical bugs: each shipped in a released version of its package and was fixed upstream
with a regression test. The task is the released sdist that has the fix (the validation
half's pins, bench.agent.validation_repos) with the fix's hunk reverted; the package's own
test file, which holds the upstream regression test, decides. Reported apart from the
injected bugs. The instructions say what a user saw, as the upstream issue did.

    upstream fix (commit)                                        task
    more-itertools cd0a3a8  iterate(): func may raise StopIteration    mit_hist_iterate
    more-itertools 9245cd0  split_after(maxsplit=1): no empty tail     mit_hist_split_after
    more-itertools ab72fc8  unique_in_window as documented             mit_hist_unique_in_window
    isodate 89f8089         round fractional seconds down              iso_hist_round_down
    isodate 76aead4         "1 month", not "1 months" (issue 33)       iso_hist_month_singular
    isodate 5988e98         time zones without a colon (+0430)         iso_hist_tz_no_colon
    more-itertools 080fb13  relative_seek from where it is (issue 862) mit_hist_relative_seek
    click 422e2110          Abort keeps the EOFError as its cause      click_hist_abort_cause
    click 589ca314          no empty line for an empty help text       click_hist_empty_help
    click b36e3ede          multiple=True flags default to ()          click_hist_multiple_flag
    click 8967b81b          no empty "[default: ]"                     click_hist_empty_default
    click ee56925b          is_bool_flag only for flags                click_hist_bool_flag
    click 8d7f03da          an empty auto envvar is not set            click_hist_empty_auto_envvar
"""

from __future__ import annotations

from bench.agent.real_repos import RealTask
from bench.agent.validation_repos import CLICK, ISODATE, MORE_ITERTOOLS

_MORE, _MORE_TEST = "more_itertools/more.py", "tests/test_more.py"
_CORE = "click/core.py"

HISTORICAL_TASKS = [
    RealTask(
        "mit_hist_iterate", MORE_ITERTOOLS, _MORE,
        "        try:\n            start = func(start)\n        except StopIteration:\n"
        "            break\n",
        "        start = func(start)\n",
        "iterate(func, start) should stop when func raises StopIteration, but the "
        "StopIteration escapes: list(iterate(lambda x: next(it), 0)) raises RuntimeError.",
        _MORE_TEST, "historical",
    ),
    RealTask(
        "mit_hist_split_after", MORE_ITERTOOLS, _MORE,
        "            if maxsplit == 1:\n                buf = list(it)\n                if buf:\n"
        "                    yield buf\n                return\n            buf = []\n",
        "            if maxsplit == 1:\n                yield list(it)\n                return\n"
        "            buf = []\n",
        "list(split_after('abc', lambda c: c == 'c', maxsplit=1)) gives [['a', 'b', 'c'], []]: "
        "an empty list at the end that should not be there.",
        _MORE_TEST, "historical",
    ),
    RealTask(
        "mit_hist_unique_in_window", MORE_ITERTOOLS, _MORE,
        "    window = deque(maxlen=n)\n    counts = defaultdict(int)\n"
        "    use_key = key is not None\n\n    for item in iterable:\n"
        "        if len(window) == n:\n            to_discard = window[0]\n"
        "            if counts[to_discard] == 1:\n                del counts[to_discard]\n"
        "            else:\n                counts[to_discard] -= 1\n\n"
        "        k = key(item) if use_key else item\n        if k not in counts:\n"
        "            yield item\n        counts[k] += 1\n        window.append(k)\n",
        "    window = deque(maxlen=n)\n    uniques = set()\n    use_key = key is not None\n\n"
        "    for item in iterable:\n        k = key(item) if use_key else item\n"
        "        if k in uniques:\n            continue\n\n        if len(uniques) == n:\n"
        "            uniques.discard(window[0])\n\n        uniques.add(k)\n"
        "        window.append(k)\n\n        yield item\n",
        "unique_in_window does not do what its docstring says: it should yield the items "
        "that are unique among the last n items seen, counting the repeats it skipped too.",
        _MORE_TEST, "historical",
    ),
    RealTask(
        "iso_hist_round_down", ISODATE, "isodate/isotime.py",
        '                second = Decimal(groups["second"]).quantize(\n'
        '                    Decimal(".000001"), rounding=ROUND_FLOOR\n                )\n',
        '                second = Decimal(groups["second"]).quantize(Decimal(".000001"))\n',
        "parse_time('11:59:59.9999999') raises or rolls over: fractional seconds more "
        "precise than microseconds should be rounded down, to 11:59:59.999999.",
        "tests/test_time.py", "historical",
    ),
    RealTask(
        "iso_hist_month_singular", ISODATE, "isodate/duration.py",
        '            fmt = "%d months"\n            if self.months <= 1:\n'
        '                fmt = "%d month"\n            params.append(fmt % self.months)\n',
        '            params.append("%d months" % self.months)\n',
        "str(Duration(months=1)) says '1 months, 0:00:00'; it should say '1 month, 0:00:00'.",
        "tests/test_duration.py", "historical",
    ),
    RealTask(
        "iso_hist_tz_no_colon", ISODATE, "isodate/isotzinfo.py",
        "(:?(?P<tzmin>[0-9]{2}))?", "(:(?P<tzmin>[0-9]{2}))?",
        "parse_datetime('1985-W15-5T10:15-0430') ignores the minutes of the time zone: an "
        "offset written without a colon, -0430, should be four and a half hours.",
        "tests/test_datetime.py", "historical",
    ),
    RealTask(
        "click_hist_abort_cause", CLICK, _CORE,
        "            except (EOFError, KeyboardInterrupt) as e:\n"
        "                echo(file=sys.stderr)\n                raise Abort() from e\n",
        "            except (EOFError, KeyboardInterrupt):\n"
        "                echo(file=sys.stderr)\n                raise Abort() from None\n",
        "With standalone_mode=False, an EOFError or KeyboardInterrupt in a command becomes "
        "an Abort that hides what happened: the Abort should keep the original exception "
        "as its cause.",
        "tests/test_commands.py", "historical",
    ),
    RealTask(
        "click_hist_empty_help", CLICK, _CORE,
        "        if self.help is not None:\n"
        "            # truncate the help text to the first form feed\n"
        '            text = inspect.cleandoc(self.help).partition("\\f")[0]\n'
        '        else:\n            text = ""\n\n        if self.deprecated:\n'
        '            text = _("(Deprecated) {text}").format(text=text)\n\n'
        "        if text:\n            formatter.write_paragraph()\n",
        '        text = self.help if self.help is not None else ""\n\n'
        "        if self.deprecated:\n"
        '            text = _("(Deprecated) {text}").format(text=text)\n\n'
        "        if text:\n"
        '            text = inspect.cleandoc(text).partition("\\f")[0]\n'
        "            formatter.write_paragraph()\n",
        "A command whose help text is only a form feed section (or blank) prints empty lines "
        "in --help where no help text should be.",
        "tests/test_formatting.py", "historical",
    ),
    RealTask(
        "click_hist_multiple_flag", CLICK, _CORE,
        "            if multiple:\n                self.default = ()\n            else:\n"
        "                self.default = False\n",
        "            self.default = False\n",
        "A flag option with multiple=True defaults to False when it is not given; it should "
        "default to an empty tuple, like other multiple options.",
        "tests/test_defaults.py", "historical",
    ),
    RealTask(
        "mit_hist_relative_seek", MORE_ITERTOOLS, _MORE,
        "    def relative_seek(self, count):\n        if self._index is None:\n"
        "            self._index = len(self._cache)\n\n"
        "        self.seek(max(self._index + count, 0))\n",
        "    def relative_seek(self, count):\n        index = len(self._cache)\n"
        "        self.seek(max(index + count, 0))\n",
        "seekable.relative_seek(n) moves relative to the end of what has been cached, not to "
        "where the iterator is now: after seek(2) and relative_seek(-1) it should be at 1.",
        _MORE_TEST, "historical",
    ),
    RealTask(
        "click_hist_empty_default", CLICK, _CORE,
        "            if default_string:\n"
        '                extra.append(_("default: {default}").format(default=default_string))\n',
        '            extra.append(_("default: {default}").format(default=default_string))\n',
        "With show_default=True, an option with multiple=True and no default shows an empty "
        "'[default: ]' in --help; nothing should be shown.",
        "tests/test_options.py", "historical",
    ),
    RealTask(
        "click_hist_bool_flag", CLICK, _CORE,
        "self.is_bool_flag: bool = is_flag and isinstance(self.type, types.BoolParamType)",
        "self.is_bool_flag: bool = isinstance(self.type, types.BoolParamType)",
        "An option with type=bool that is not a flag (--value true) is treated as a boolean "
        "flag: is_bool_flag should be True only for flags.",
        "tests/test_options.py", "historical",
    ),
    RealTask(
        "click_hist_empty_auto_envvar", CLICK, _CORE,
        "            rv = os.environ.get(envvar)\n\n            if rv:\n"
        "                return rv\n\n        return None\n\n    def value_from_envvar",
        "            rv = os.environ.get(envvar)\n\n        return rv\n\n    def value_from_envvar",
        "An automatic environment variable that is set but empty (TEST_NAME=) is taken as the "
        "value ''; an empty variable should count as not set, as for an explicit envvar.",
        "tests/test_options.py", "historical",
    ),
]  # fmt: skip
