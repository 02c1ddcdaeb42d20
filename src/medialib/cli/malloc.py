"""glibc's allocator, told to give large buffers back and to keep few heaps: for the long-running
processes.

By default glibc raises its mmap threshold to the size of the largest block freed so far (up to
32 MB). After one 1 MB download block, every buffer under 1 MB (a 100 KB image's body, say) is
carved from the heap, and the heap, split up among threads, is rarely handed back: a worker
grew by about 5 MB more than it needed to (bench/memory.py). A fixed threshold keeps buffers
from 128 KB up in their own mappings, returned to the kernel when they are freed.

And by default glibc gives threads heaps of their own ("arenas", up to eight a core) so that
they never wait for each other's allocations. A worker runs a dozen threads (the event loop's
pool decoding pictures, one per SQLite connection, the writer), and each heap kept the peak of
what its thread once held: 10 of them at about 1 MB each at a worker's peak. Two heaps serve
them as well here (the GIL serialises most allocations anyway): the peak fell by some 5 MB.
"""

from __future__ import annotations

import ctypes

_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h; setting it also stops the raising
_M_ARENA_MAX = -8
THRESHOLD = 128 * 1024
ARENAS = 2


def give_large_buffers_back() -> bool:
    """Fix the mmap threshold and the number of heaps (before any thread starts); False where
    the C library is not glibc (nothing to tell)."""
    libc = ctypes.CDLL(None)  # the C library Python runs on (as tasks/processes.py does)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(_M_ARENA_MAX, ARENAS))
