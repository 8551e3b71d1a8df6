"""Bridges blocking engines (llama.cpp, Piper, XTTS) into asyncio streams.

Each engine iterates in its own daemon thread and hands items to the event loop, so
the loop never blocks; when the consumer stops early the thread is told to stop at
the next item instead of finishing a whole answer nobody will hear.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = 0, 1, 2


async def stream_from_thread(
    make_iter: Callable[[threading.Event], Iterator[T]],
    *,
    lock: threading.Lock | None = None,
    name: str = "vtbot-worker",
) -> AsyncIterator[T]:
    """Yield what ``make_iter(stop_event)`` produces in a worker thread.

    ``lock`` serialises access to a non-thread-safe engine: a cancelled stream's
    thread finishes its current step before the next stream may start.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[int, object]] = asyncio.Queue()
    stop = threading.Event()

    def post(kind: int, value: object) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
        except RuntimeError:  # loop closed: nobody is listening any more
            stop.set()

    def work() -> None:
        try:
            if lock is not None:
                lock.acquire()
            try:
                for item in make_iter(stop):
                    if stop.is_set():
                        break
                    post(_ITEM, item)
            finally:
                if lock is not None:
                    lock.release()
        except BaseException as e:  # noqa: BLE001 - handed to the consumer, not lost
            post(_ERROR, e)
        else:
            post(_END, None)

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            kind, value = await queue.get()
            if kind == _ITEM:
                yield value  # type: ignore[misc]
            elif kind == _ERROR:
                raise value  # type: ignore[misc]
            else:
                return
    finally:
        stop.set()
