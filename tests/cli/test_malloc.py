"""The long-running processes give freed large buffers back to the kernel at once: after a
large block, glibc would otherwise keep every freed buffer below its size in the heap. And their
threads share two heaps, where glibc would give each of them one of its own."""

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


_THREADS = """
import ctypes, sys, threading
from medialib.cli.malloc import give_large_buffers_back

if sys.argv[1] == "fixed":
    assert give_large_buffers_back()
libc = ctypes.CDLL(None)

def work(allocated, go):
    kept = [bytearray(4096) for _ in range(100)]  # past Python's small-object allocator
    allocated.wait()
    go.wait()

allocated, go = threading.Barrier(9), threading.Event()
threads = [threading.Thread(target=work, args=(allocated, go)) for _ in range(8)]
for thread in threads:
    thread.start()
allocated.wait()  # every thread holds its buffers
buffer, size = ctypes.c_char_p(), ctypes.c_size_t()
libc.open_memstream.restype = ctypes.c_void_p
stream = libc.open_memstream(ctypes.byref(buffer), ctypes.byref(size))
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
go.set()
for thread in threads:
    thread.join()
print(buffer.value.decode().count("<heap nr="))
"""


def _heaps(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _THREADS, mode], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_threads_share_two_heaps() -> None:
    assert _heaps("default") > 2  # glibc's own way: a heap for every thread, up to 8 a core
    assert _heaps("fixed") <= 2
