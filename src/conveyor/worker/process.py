"""`isolation="process"`: a handler in a child process the worker can kill.

A thread cannot be stopped from outside; a process can. The child runs the
handler with a Context whose channel is a pipe; the parent forwards the
child's reports to the store and the worker's requests (cancel, pause) to
the child, and terminates it on kill, on timeout, or when the execution is
no longer ours. The child never touches the database.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import socket
import subprocess
import sys
import traceback
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from conveyor.core.model import ErrorInfo
from conveyor.core.outcomes import Ending, Outcome
from conveyor.worker.context import CancelRequested, Context, ExecutionFacts, PauseRequested

if TYPE_CHECKING:
    from conveyor.worker.runner import Running, Worker

POLL_SECONDS = 0.05


class PipeChannel:
    """The child's side: reports go up the pipe; requests come down it."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._request: str | None = None

    def report_progress(self, finished: int | None, total: int | None) -> None:
        self._conn.send(("progress", finished, total))

    def report_message(self, text: str, level: str, kind: str) -> None:
        self._conn.send(("message", text, level, kind))

    def save_state(self, state: dict[str, Any]) -> None:
        self._conn.send(("state", state))

    def requested(self) -> str | None:
        while self._conn.poll():
            self._request = self._conn.recv()
        return self._request


def _resolve(module: str, qualname: str) -> Any:
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def child_main(fd: int) -> None:
    """Entry point of the child (`python -m conveyor.worker.process FD`)."""
    conn = Connection(fd)
    module, qualname, params_model, facts = conn.recv()
    _run_handler(conn, _resolve(module, qualname), params_model, facts)


def _run_handler(conn: Connection, func: Any, params_model: Any, facts: ExecutionFacts) -> None:
    ctx = Context(facts, PipeChannel(conn))
    tail = (ctx.finished_operations, ctx.total_operations)
    try:
        params = params_model.model_validate(facts.parameters) if params_model else dict(facts.parameters)
        result = asyncio.run(func(ctx, params)) if inspect.iscoroutinefunction(func) else func(ctx, params)
        tail = (ctx.finished_operations, ctx.total_operations)
        conn.send(("ok", result, *tail, ctx.state))
    except CancelRequested:
        conn.send(("cancelled",))
    except PauseRequested:
        conn.send(("paused", ctx.finished_operations, ctx.total_operations, ctx.state))
    except BaseException as exc:
        conn.send(("error", type(exc).__name__, str(exc), traceback.format_exc(), ctx.state))
    finally:
        conn.close()


def run_in_child(worker: Worker, run: Running, facts: ExecutionFacts) -> Outcome:
    from conveyor.worker.runner import InlineChannel, _timeout_error

    assert run.workflow is not None
    func = run.workflow.func
    if func.__module__ == "__main__" or "<locals>" in func.__qualname__:
        raise RuntimeError(
            f"workflow {facts.workflow!r} uses isolation='process', so its function must be importable "
            f"by module path; {func.__module__}.{func.__qualname__} is not"
        )
    # A fresh interpreter, not fork (unsafe with threads) nor multiprocessing's spawn (which
    # re-runs the parent's __main__): the child imports only the workflow's own module.
    ours, theirs = socket.socketpair()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "conveyor.worker.process", str(theirs.fileno())],
        pass_fds=(theirs.fileno(),), env=env,
    )  # fmt: skip
    theirs.close()
    parent = Connection(ours.detach())
    parent.send((func.__module__, func.__qualname__, run.workflow.params_model, facts))
    relay = InlineChannel(worker, run)
    sent: str | None = None
    try:
        while True:
            if run.timed_out:
                return Outcome.failed(_timeout_error(run))
            if run.lost or run.request == "kill":
                return Outcome(Ending.CANCELLED)
            request = relay.requested()
            if request is not None and request != sent:
                parent.send(request)
                sent = request
            if not parent.poll(POLL_SECONDS):
                if proc.poll() is not None and not parent.poll():
                    break
                continue
            try:
                msg = parent.recv()
            except EOFError:
                break
            outcome = _relay(relay, msg)
            if outcome is not None:
                return outcome
        code = proc.wait(timeout=5)
        return Outcome.failed(ErrorInfo("ProcessDied", f"the workflow's process exited with code {code}"))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=5)
        parent.close()


def _relay(relay: Any, msg: tuple[Any, ...]) -> Outcome | None:
    """Forward one report from the child; return the outcome when the child is done."""
    kind = msg[0]
    if kind == "progress":
        relay.report_progress(msg[1], msg[2])
    elif kind == "message":
        relay.report_message(msg[1], msg[2], msg[3])
    elif kind == "state":
        relay.save_state(msg[1])
    elif kind == "ok":
        _, result, finished, total, state = msg
        return Outcome(Ending.SUCCEEDED, result=result, state=state, finished_operations=finished,
                       total_operations=total)  # fmt: skip
    elif kind == "cancelled":
        return Outcome(Ending.CANCELLED)
    elif kind == "paused":
        _, finished, total, state = msg
        return Outcome(Ending.PAUSED, state=state, finished_operations=finished, total_operations=total)
    elif kind == "error":
        _, type_name, message, tb, state = msg
        return Outcome.failed(ErrorInfo(type_name, message, tb), state=state)
    return None


if __name__ == "__main__":
    child_main(int(sys.argv[1]))
