"""Parsing a large file in a helper process while this one builds the records.

Reading a 200,000-entry camt.053 splits about evenly between parsing (libxml2 building elements,
Python walking each entry's leaves) and building canonical records (amounts, dates, identities,
pydantic validation). On a machine with two cores the two halves overlap: a forked child runs
the reader's parsing generator and sends what it yields, in pickled batches, through a pipe;
the parent turns them into records as they come.

- Order and errors are the same as in one process: the child's exception (a
  :class:`~erp_recovery.errors.ParseError` with its file and line) is sent after the items that
  came before it and raised here at that point of the stream.
- Memory stays bounded: the pipe blocks the child when this process is behind, so at most a few
  batches are in flight.
- The child is stopped and reaped when the consumer stops early (generator closed, exception);
  it ignores SIGINT and takes SIGTERM's default action (no handler inherited from the parent).
  A child that dies without an answer is a :class:`~erp_recovery.errors.FatalError`.
- Only where ``fork`` exists, with more than one CPU, from a single-threaded, non-daemon process
  (:func:`available`); elsewhere the reader parses in its own process.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from erp_recovery.errors import FatalError, ParseError

#: Items per pickled batch: large enough to make pickling cheap, small enough to keep memory flat.
BATCH = 256

_DONE = "done"
_ERROR = "error"
_CRASH = "crash"


def available() -> bool:
    """Whether a helper process can be used here."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and (os.cpu_count() or 1) > 1
        and threading.active_count() == 1
        and not multiprocessing.current_process().daemon
    )


def run(produce: Callable[[], Iterator[tuple[Any, ...]]], *, file: str) -> Iterator[tuple[Any, ...]]:
    """The items of ``produce()``, made in a forked child process."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_produce, args=(produce, sender), name=f"parse {file}", daemon=True)
    child.start()
    sender.close()
    try:
        while True:
            try:
                batch = receiver.recv()
            except EOFError:
                child.join(timeout=10)
                raise FatalError(
                    f"{file}: the process parsing it stopped without an answer "
                    f"(exit code {child.exitcode}); nothing of the file was lost, read it again"
                ) from None
            for item in batch:
                what = item[0]
                if what == _DONE:
                    return
                if what == _ERROR:
                    error_type, reason, error_file, line, column, element = item[1:]
                    raise error_type(reason, file=error_file, line=line, column=column, element=element)
                if what == _CRASH:
                    raise item[1]
                yield item
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()


def _produce(produce: Callable[[], Iterator[tuple[Any, ...]]], sender: Connection) -> None:
    """Child process: send ``produce()``'s items in batches, then how it ended."""
    # The parent decides when this process stops (it terminates it when its reader is closed):
    # no handler inherited from it (a CLI's "stop after this batch") runs here.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    batch: list[tuple[Any, ...]] = []
    try:
        for item in produce():
            batch.append(item)
            if len(batch) >= BATCH:
                sender.send(batch)
                batch = []
        batch.append((_DONE,))
    except ParseError as exc:
        batch.append((_ERROR, type(exc), exc.reason, exc.file, exc.line, exc.column, exc.element))
    except Exception as exc:  # sent to the parent, which raises it where the stream stopped
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        batch.append((_CRASH, exc))
    try:
        sender.send(batch)
    except (BrokenPipeError, OSError):
        pass  # the parent stopped reading
    finally:
        sender.close()
