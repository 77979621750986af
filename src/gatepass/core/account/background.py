"""Work a request starts but does not wait for: sending a link by mail.

A reset request answers before anything that depends on the address runs (finding the user,
storing a link, talking to the mail server), so the answer's timing says nothing about whether
the address is known. The tasks are kept here so that shutdown and tests can wait for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("gatepass.account")


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The work records its own outcome; this is what it did not expect.
            log.error("background work failed: %s", type(task.exception()).__name__)

    async def drain(self) -> None:
        """Wait until every task started so far has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
