"""The long-running processes give freed large buffers back to the kernel at once: after a
large block, glibc would otherwise keep every freed buffer below its size in the heap."""

from __future__ import annotations

import subprocess
import sys

_PROGRAM = """
import sys
from medialib.cli.malloc import give_large_buffers_back

def resident_kb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 // 1024

if sys.argv[1] == "fixed":
    assert give_large_buffers_back()
block = bytearray(1024 * 1024)  # a large download's block: by default the threshold rises to it
del block
before = resident_kb()
bodies = [bytearray(200 * 1024) for _ in range(100)]  # 20 MB of image bodies
later = [bytearray(100) for _ in range(1000)]  # allocated after them, so the heap cannot shrink
del bodies
print(resident_kb() - before)
"""


def _kept_kb(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, mode], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_freed_buffers_are_given_back_with_the_fixed_threshold() -> None:
    assert _kept_kb("default") > 10_000  # what glibc does on its own: the 20 MB stay
    assert _kept_kb("fixed") < 2_000
