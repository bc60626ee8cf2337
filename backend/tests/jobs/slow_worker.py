"""A real worker process whose parse process is the misbehaving one (see misbehaving_child.py)."""

from __future__ import annotations

import asyncio

from docparse.jobs.worker import build_worker
from docparse.logs import configure_logging
from docparse.settings import Settings
from tests.jobs.test_runner import MISBEHAVING


async def main() -> None:
    settings = Settings()
    configure_logging(settings)
    worker = build_worker(settings, child_command=MISBEHAVING)
    await worker.queue.connect()
    try:
        await worker.start()
    finally:
        await worker.queue.disconnect()


if __name__ == "__main__":
    asyncio.run(main())
