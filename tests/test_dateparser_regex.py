"""dateparser's locale patterns from the shipped table: the same patterns, the same dates, no compiling."""

from __future__ import annotations

import gzip
import json
import pickle
import subprocess
import sys

import regex

from provsieve.transforms import dateparser_regex

DATE_STRINGS = [
    "qwxz 12 zzqv 2019", "25 Agosto 2016", "Menu Posts Destaques 06 outubro, 2017", "The 2009-2010 cohort saw 15",
    "miércoles, 24 de abril de 2019", "16 травня 2018 року о 9", "Eng, juin 2014 23", "3. März 2020", "2019年3月4日",
    "le 5 mai 2017 à 10h", "4 марта 2019 г.", "2020년 3월 4일", "mar 5 mar 2019", "17 Ekim 2019 Perşembe",
    "12 Μαρτίου 2019", "Tuesday, 4 June 2019", "04/06/2019", "15 listopada 2016 r.", "ngày 5 tháng 3 năm 2019",
]

PARSE = """
import json, sys
from provsieve.transforms import dateparser_regex
stand_in = dateparser_regex.install() if sys.argv[1] == "table" else None
from htmldate.extractors import _external_date
dates = [str(_external_date(s)) for s in json.loads(sys.argv[2])]
print(json.dumps({"dates": dates, "hits": stand_in and stand_in.hits, "misses": stand_in and stand_in.misses}))
"""


def _parse(mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PARSE, mode, json.dumps(DATE_STRINGS)], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_dates_with_the_table_equal_dates_compiled_and_the_table_covers_every_locale():
    compiled, stored = _parse("compile"), _parse("table")
    assert stored["dates"] == compiled["dates"]
    assert "2016-08-25 00:00:00" in stored["dates"] and stored["dates"][0] == "None"
    # every pattern the ~200 locales needed came from the table (a stale table would compile: rebuild it)
    assert stored["hits"] > 800 and stored["misses"] == 0


def test_every_stored_pattern_is_its_key_compiled():
    table = dateparser_regex._read_table()
    assert table is not None, "the table was built under another regex: python -m provsieve.transforms.dateparser_regex"
    text = "Tuesday 4 June 2019, mardi 4 juin, 4. Juni, 4 de junio, 4 июня, 2019年6月4日, midnight, yesterday"
    for (pattern, flags), stored in table.items():
        fresh = regex.compile(pattern, flags)
        assert stored.pattern == pattern and stored.flags == fresh.flags
    for (pattern, flags), stored in list(table.items())[::20]:
        assert stored.findall(text) == regex.compile(pattern, flags).findall(text)


def test_a_table_from_another_regex_build_is_not_used(tmp_path):
    header = dict(dateparser_regex.regex_build(), regex="0.0")
    path = tmp_path / "t.pickle.gz"
    path.write_bytes(gzip.compress(pickle.dumps((header, pickle.dumps({}))), mtime=0))
    assert dateparser_regex._read_table(path) is None
    assert dateparser_regex._read_table(tmp_path / "absent.pickle.gz") is None


def test_stand_in_answers_stored_patterns_and_compiles_the_rest():
    stored = regex.compile(r"\d+ juin", regex.I)
    stand_in = dateparser_regex.PrecompiledRegex(regex, {(r"\d+ juin", int(regex.I)): stored})
    assert stand_in.compile(r"\d+ juin", regex.I) is stored
    other = stand_in.compile(r"\d+ juin")  # other flags: compiled
    assert other is not stored and other.search("4 juin") and not other.search("4 JUIN")
    assert (stand_in.hits, stand_in.misses) == (1, 1)
    assert stand_in.IGNORECASE == regex.IGNORECASE and stand_in.escape("a.b") == regex.escape("a.b")
