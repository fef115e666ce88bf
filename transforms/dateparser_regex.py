"""dateparser's per-locale regular expressions, compiled once at build time instead of in every run.

htmldate's last-resort parser (dateparser, no language given) tries a string no locale reads against all
~200 locales, and each locale compiles its word lists into ``regex`` patterns the first time: ~1,000
patterns, 1.7-2.2 s of CPU per worker, paid in every run (:func:`date_evidence_htmldate.warm_up`; 12 of
the 20k bench pages reach dateparser). ``regex`` pickles a pattern *with its compiled code*, so loading
one is ~100x cheaper than compiling it.

:data:`RESOURCE` holds ``{(pattern, flags): compiled pattern}`` for the patterns dateparser's
``languages.dictionary`` and ``languages.locale`` modules compile while htmldate's parser tries every
locale, and every locale's relative-date patterns (compiled when a string is parsed in that locale). :func:`install` puts a thin stand-in for the ``regex`` module into those two modules: its
``compile`` returns the stored pattern when the pattern text and flags are exactly a stored one, and
compiles as before otherwise (a pattern a newer dateparser builds differently is simply compiled). The
table is used only under the ``regex`` version (and compiled-code ``MAGIC``, default version) that built
it, so every pattern it returns is the one ``regex.compile`` would have built. Rebuild after upgrading
dateparser or regex::

    python -m provsieve.transforms.dateparser_regex      # writes transforms/data/dateparser_regex.pickle.gz
"""

from __future__ import annotations

import gzip
import logging
import pickle
import sys
from importlib import resources
from pathlib import Path
from typing import Any, Optional

LOGGER = logging.getLogger(__name__)

PACKAGE = "provsieve.transforms"
RESOURCE = "data/dateparser_regex.pickle.gz"
MODULES = ("dateparser.languages.dictionary", "dateparser.languages.locale")
"""The dateparser modules whose ``regex`` calls go through the stored table (they compile the per-locale patterns)."""

_NO_LOCALE = "qwxz 12 zzqv 2019"  # read by no locale: dateparser tries (and compiles) every one


def regex_build() -> dict[str, Any]:
    """What a stored compiled pattern depends on: the ``regex`` version, its code format, its default version."""
    import regex
    from regex import _regex

    return {"regex": regex.__version__, "magic": _regex.MAGIC, "default_version": int(regex.DEFAULT_VERSION)}


class PrecompiledRegex:
    """Stands in for the ``regex`` module: ``compile`` answers from ``table`` first, everything else is ``regex``'s."""

    def __init__(self, module: Any, table: dict[tuple[str, int], Any]) -> None:
        self._module = module
        self._table = table
        self.hits = 0
        self.misses = 0  # compiled here: the table is stale for this dateparser (rebuild it)

    def compile(self, pattern: Any, flags: int = 0, **kwargs: Any) -> Any:
        if not kwargs and isinstance(pattern, str):
            hit = self._table.get((pattern, int(flags)))
            if hit is not None:
                self.hits += 1
                return hit
        self.misses += 1
        return self._module.compile(pattern, flags, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def _read_table(path: Optional[Path] = None) -> Optional[dict[tuple[str, int], Any]]:
    """The stored patterns, or None when absent or built under another ``regex``."""
    try:
        if path is None:
            raw = resources.files(PACKAGE).joinpath(RESOURCE).read_bytes()
        else:
            raw = path.read_bytes()
        header, payload = pickle.loads(gzip.decompress(raw))
    except (FileNotFoundError, ModuleNotFoundError, OSError, EOFError, pickle.UnpicklingError, ValueError):
        return None
    if header != regex_build():
        LOGGER.info("dateparser pattern table built under %s, running %s: compiling", header, regex_build())
        return None
    return pickle.loads(payload)  # second stage: only under the regex build that wrote the code


_INSTALLED: list[Optional[PrecompiledRegex]] = []  # [] until install() has run in this interpreter


def install(path: Optional[Path] = None) -> Optional[PrecompiledRegex]:
    """Route dateparser's locale patterns through the stored table; None when there is none.

    Once per interpreter (later calls return the first answer: a page's htmldate call may ask). Never
    raises: without the table, dateparser compiles as it always did.
    """
    if _INSTALLED and path is None:
        return _INSTALLED[0]
    stand_in = None
    try:
        import importlib

        modules = [importlib.import_module(name) for name in MODULES]
        current = getattr(modules[0], "re", None)
        if isinstance(current, PrecompiledRegex):
            stand_in = current
        else:
            table = _read_table(path)
            if table is not None and all(hasattr(m, "re") for m in modules):
                stand_in = PrecompiledRegex(modules[0].re, table)
                for module in modules:
                    module.re = stand_in
    except Exception:  # noqa: BLE001 - an optimisation only
        LOGGER.debug("dateparser pattern table not installed", exc_info=True)
    _INSTALLED[:] = [stand_in]
    return stand_in


def record() -> dict[tuple[str, int], Any]:
    """``{(pattern, flags): compiled}`` of what :data:`MODULES` compile while dateparser tries every locale.

    Run in a fresh interpreter (``python -m``): patterns dateparser has already cached are not compiled again.
    """
    import importlib

    import regex
    from htmldate.extractors import external_date_parser

    seen: dict[tuple[str, int], Any] = {}

    class Recorder:
        def compile(self, pattern: Any, flags: int = 0, **kwargs: Any) -> Any:
            compiled = regex.compile(pattern, flags, **kwargs)
            if not kwargs and isinstance(pattern, str):
                seen[(pattern, int(flags))] = compiled
            return compiled

        def __getattr__(self, name: str) -> Any:
            return getattr(regex, name)

    for name in MODULES:
        importlib.import_module(name).re = Recorder()
    try:
        external_date_parser(_NO_LOCALE, "%Y-%m-%d")
        _relative_patterns()
    finally:
        for name in MODULES:
            importlib.import_module(name).re = regex
    return seen


def _relative_patterns() -> None:
    """Build every locale's relative-date patterns (``relative-type-regex``), as parsing a string in it does.

    dateparser compiles them the first time a locale translates a string (~40 ms a locale, then kept): a
    run pays them for each locale its few dateparser strings reach. Build-time only; private dateparser API,
    so a failure here only leaves them out of the table.
    """
    from dateparser.languages.loader import default_loader
    from htmldate.extractors import get_external_parser

    settings = get_external_parser()._settings
    try:
        for locale in default_loader.get_locales():
            for variant in {locale, getattr(locale, "_native", locale)}:
                variant._get_relative_translations(settings=settings)
    except Exception:  # noqa: BLE001 - the table is only smaller
        LOGGER.warning("relative-date patterns not recorded", exc_info=True)


def write(path: Path) -> int:
    """Record the patterns and write the table to ``path``; the number of patterns."""
    table = record()
    payload = pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(pickle.dumps((regex_build(), payload), protocol=pickle.HIGHEST_PROTOCOL),
                                   compresslevel=9, mtime=0))
    return len(table)


def main(argv: Optional[list[str]] = None) -> int:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent / RESOURCE
    n = write(out)
    print(f"{n} dateparser patterns -> {out} ({out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
