"""The client's resources, written once, async; `scripts/unasync.py` writes _sync/ from them.

Why generate the sync client rather than run this one through a blocking
portal (an event loop in a thread, as anyio's `start_blocking_portal` offers):
sync code then runs no event loop thread at all, so a traceback shows the
caller's own frames and not a hop between threads, and the sync client works
where no loop may run (inside another framework's loop, a forked worker, a
signal handler). The generated code is plain `def` code calling httpx.Client.
encode/httpcore does the same for the same reasons. Edit these files, run the
script, and `make lint` (`unasync.py --check`) catches a _sync/ left behind.
"""
