"""Starting an aiohttp server on a host and port, the one way every listener does it
(the overlay link, the rehearsal triggers, the Ko-fi webhook)."""

from __future__ import annotations

from aiohttp import web


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """The running server and the port it listens on (the one the OS picked for 0).

    A port that cannot be taken raises the OSError, with nothing left half-started.
    """
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    address = runner.addresses[0]
    return runner, address[1] if isinstance(address, tuple) else port
