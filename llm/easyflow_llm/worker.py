"""Generation off the event loop: one worker thread, a bounded FIFO queue.

A CPU model is fastest one completion at a time (torch already uses every core),
so requests wait their turn; past ``max_queue`` waiting ones a request is refused
at once (``Overloaded``) instead of waiting past every client's timeout.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import torch

from easyflow_llm.generation import (
    Completion,
    GenerationError,
    GenerationRequest,
    generate,
)
from easyflow_llm.model import LocalModel


class Overloaded(GenerationError):
    status = 503
    code = "overloaded"


class GenerationQueue:
    def __init__(self, model: LocalModel, max_queue: int = 8, threads: int = 0) -> None:
        self.model = model
        self.max_queue = max_queue
        # torch's thread count is set again in the worker: OpenMP keeps it per thread.
        self._executor = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="gen",
            initializer=torch.set_num_threads if threads else None,
            initargs=(threads,) if threads else (),
        )
        self._lock = threading.Lock()
        self._pending = 0

    @property
    def pending(self) -> int:
        return self._pending

    async def complete(self, request: GenerationRequest) -> Completion:
        with self._lock:
            if self._pending >= self.max_queue:
                raise Overloaded(f"{self._pending} completions are already waiting")
            self._pending += 1
        future = self._executor.submit(generate, self.model, request)
        future.add_done_callback(self._done)
        return await asyncio.wrap_future(future)

    def _done(self, _: Future[Completion]) -> None:
        with self._lock:
            self._pending -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
