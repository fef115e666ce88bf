"""The command line's exit: the interpreter's last garbage collection is spared the objects alive at exit."""

import subprocess
import sys
import textwrap


def test_objects_alive_at_exit_are_frozen_before_the_final_collection():
    # An exit handler registered before the CLI is imported runs after the CLI's (atexit is last in, first out).
    script = textwrap.dedent("""
        import atexit, gc
        atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count()))
        import provsieve.pipeline.cli
        print("frozen before exit:", gc.get_freeze_count())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    lines = dict(line.split(": ") for line in out.splitlines() if ": " in line)
    assert int(lines["frozen before exit"]) == 0
    assert int(lines["frozen at exit"]) > 10_000  # every module, class and function imported
