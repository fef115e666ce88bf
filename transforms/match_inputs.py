"""Input globs to file paths, with nothing lost: files that match but cannot be listed are kept.

Beam's local filesystem lists a directory and silently drops every entry it
cannot ``stat`` (a dangling symlink, a file that vanished after listing). Such
an entry still matches the user's glob; dropping it would make an input vanish
without a word. :func:`match_pattern` returns it too, so the reader tries to
open it and reports it as an ``unreadable_file`` row (and the summary and
manifest name it). Remote filesystems list objects that exist, so only local
patterns need the extra look.
"""

from __future__ import annotations

import os
import re
from typing import Iterator, NamedTuple, Optional

import apache_beam as beam
from apache_beam.io.filesystem import FileSystem
from apache_beam.io.filesystems import FileSystems

_GLOB_PREFIX = re.compile(r"^[^[*?]*")


class MatchedFile(NamedTuple):
    path: str
    size: Optional[int]
    """Bytes, or None for a file that matches but cannot be listed (it will be reported unreadable)."""
    mtime: Optional[float] = None
    """Last modification time (seconds) where the filesystem reports one."""


def _unlistable_local(pattern: str, listed: set[str]) -> list[str]:
    """Local paths that match ``pattern`` the way Beam matches it but that Beam's listing dropped."""
    if FileSystems.get_scheme(pattern) not in (None, "file"):
        return []
    local = pattern[len("file://"):] if pattern.startswith("file://") else pattern
    if local.endswith("/"):
        local += "*"
    prefix = _GLOB_PREFIX.match(local).group(0)
    if prefix == local:
        return [local] if os.path.lexists(local) and local not in listed and not os.path.exists(local) else []
    root = prefix if prefix.endswith("/") else os.path.dirname(prefix) or "."
    regex = re.compile(FileSystem.translate_pattern(local))
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            if path not in listed and regex.match(path) and not os.path.exists(path):
                found.append(path)
    return sorted(found)


def match_pattern(pattern: str) -> list[MatchedFile]:
    """Every file ``pattern`` matches, listable or not, in path order."""
    metadata = FileSystems.match([pattern])[0].metadata_list
    files = [MatchedFile(m.path, m.size_in_bytes, getattr(m, "last_updated_in_seconds", None)) for m in metadata]
    files += [MatchedFile(path, None) for path in _unlistable_local(pattern, {m.path for m in metadata})]
    return sorted(files)


def glob_escape(path: str) -> str:
    """``path`` as a glob that matches only itself (Beam's FileSystems.match uses fnmatch patterns)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


def absolute_input(pattern: str) -> str:
    """A local relative glob made absolute (the working directory glob-escaped); any other pattern as given.

    Every row's ``source_uri`` is then the file's full path: ``provsieve verify``
    re-reads it from any directory, and the ``doc_id`` (a hash of it) does not
    depend on where the run was started from. Workers of a distributed runner
    do not share the driver's working directory either.
    """
    if FileSystems.get_scheme(pattern) is not None or os.path.isabs(pattern):
        return pattern
    joined = os.path.normpath(os.path.join(glob_escape(os.getcwd()), pattern))
    return joined + "/" if pattern.endswith("/") else joined


def expand_inputs(patterns: list[str]) -> list[str]:
    """Check every glob matches something, before the run starts.

    Raises ``FileNotFoundError`` naming the patterns that match nothing.
    """
    empty = [pattern for pattern in patterns if not match_pattern(pattern)]
    if empty:
        raise FileNotFoundError("no input files match: " + ", ".join(repr(p) for p in empty))
    return patterns


def _paths(pattern: str) -> Iterator[str]:
    for matched in match_pattern(pattern):
        yield matched.path


class MatchInputs(beam.PTransform):
    """Globs -> distinct file paths (``fileio.MatchAll``'s job, keeping the files it cannot list)."""

    def expand(self, patterns):
        return (
            patterns
            | "Match" >> beam.FlatMap(_paths)
            | "Dedupe paths" >> beam.Distinct()
        )
