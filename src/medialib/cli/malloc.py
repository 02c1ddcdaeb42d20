"""glibc's allocator, told to give large buffers back: for the long-running processes.

By default glibc raises its mmap threshold to the size of the largest block freed so far (up to
32 MB). After one 1 MB download block, every buffer under 1 MB (a 100 KB image's body, say) is
carved from the heap, and the heap, split up among threads, is rarely handed back: a worker
grew by about 5 MB more than it needed to (bench/memory.py). A fixed threshold keeps buffers
from 128 KB up in their own mappings, returned to the kernel when they are freed.
"""

from __future__ import annotations

import ctypes

_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h; setting it also stops the raising
THRESHOLD = 128 * 1024


def give_large_buffers_back() -> bool:
    """Fix the mmap threshold; False where the C library is not glibc (nothing to tell)."""
    libc = ctypes.CDLL(None)  # the C library Python runs on (as tasks/processes.py does)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, THRESHOLD))
