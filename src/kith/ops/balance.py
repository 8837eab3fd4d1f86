"""Several server processes on one listening socket, balanced by least connections (ADR 0025).

uvicorn's workers share a socket and each accepts whenever it is idle, so a burst of connections (16 keep-alive
clients, or a proxy opening its upstream pool) lands mostly on one process and one core waits. Here every process
runs its own accept loop and accepts only while it holds no more open connections than the least busy process
(counts in shared memory); a busier one steps aside for a millisecond. Connections, once accepted, are served by
uvicorn's own protocol exactly as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from typing import Any

import uvicorn

STARTUP_FAILURE = 3


class _Acceptor:
    """What uvicorn's shutdown expects of a server: close() stops accepting, wait_closed() waits for it."""

    def __init__(self, task: asyncio.Task[None]) -> None:
        self.task = task

    def close(self) -> None:
        self.task.cancel()

    async def wait_closed(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class BalancedServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, sock: socket.socket, counts: Any, index: int) -> None:
        super().__init__(config)
        self.sock = sock
        self.counts = counts
        self.index = index

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        super().run(sockets=[self.sock])

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            sys.exit(STARTUP_FAILURE)
        config = self.config

        def create_protocol(_loop: asyncio.AbstractEventLoop | None = None) -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=_loop)

        loop = asyncio.get_running_loop()
        self.sock.setblocking(False)
        self.servers = [_Acceptor(loop.create_task(self._accept(loop, create_protocol)))]  # type: ignore[list-item]
        self.started = True

    def _mine(self) -> int:
        mine = len(self.server_state.connections)
        self.counts[self.index] = mine
        return mine

    async def _accept(self, loop: asyncio.AbstractEventLoop, create_protocol: Any) -> None:
        refresher = loop.create_task(self._refresh())
        try:
            while True:
                mine = self._mine()
                if len(self.counts) > 1 and mine > min(self.counts[:]):
                    await asyncio.sleep(0.001)  # a less busy process takes this one
                    continue
                try:
                    conn, _addr = await loop.sock_accept(self.sock)
                except OSError:  # the peer gave up meanwhile (ECONNABORTED …): next
                    continue
                conn.setblocking(False)
                await loop.connect_accepted_socket(create_protocol, conn)
        finally:
            refresher.cancel()

    async def _refresh(self) -> None:
        """Keep this process's count current while its accept loop waits (connections close meanwhile)."""
        while True:
            await asyncio.sleep(0.05)
            self._mine()
