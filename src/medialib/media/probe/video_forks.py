"""The video prober's fork server: `python -m medialib.media.probe.video_forks FD`.

It loads FFmpeg (through PyAV) once, then waits on the Unix socket FD for requests from the
process that started it: a JSON message (the video, where its poster goes, the limits) with the
writing end of a pipe attached. For each it forks a child that probes the video and answers on
that pipe (`video_child.run`), and says it forked with the child's pid. A prober so starts in a
millisecond instead of the 150 a fresh Python with FFmpeg takes. This process never reads a
video itself and has no threads, so forking it is safe. It ends when the socket does (its
parent is gone).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import traceback

from medialib.media.probe import video_child

MAX_REQUEST = 64 * 1024


def main(fd: int) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
    requests = socket.socket(fileno=fd)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(requests, MAX_REQUEST, 1)
        except OSError:
            return
        if not message:
            return  # the socket's other end is closed: the worker is gone
        if not fds:
            continue
        child = os.fork()
        if child == 0:
            _child(requests, message, fds[0])
        os.close(fds[0])
        requests.send(str(child).encode())  # forked: the request is in a child's hands


def _child(requests: socket.socket, message: bytes, answer: int) -> None:
    code = 0
    try:
        requests.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        request = json.loads(message)
        video_child.run(request["path"], request["poster"], request["limits"], answer)
    except BaseException:
        traceback.print_exc()
        code = 70
    finally:
        os._exit(code)  # never back into the fork server's loop


if __name__ == "__main__":
    main(int(sys.argv[1]))
