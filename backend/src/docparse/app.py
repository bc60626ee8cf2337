"""create_app(): wires settings, the queue, the SAQ monitor, routes and error handling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from litestar_saq import SAQConfig, SAQPlugin

from docparse.api.auth import (
    MONITOR_PATH,
    ApiKeys,
    OperatorKeys,
    monitor_login,
    monitor_slash,
    require_operator,
)
from docparse.api.controllers import HealthController, JobController, JobListController, UploadController
from docparse.api.metrics import MetricsController
from docparse.api.problems import EXCEPTION_HANDLERS
from docparse.jobs.orchestrator import Orchestrator
from docparse.jobs.queue import ApiQueue
from docparse.jobs.service import JobService
from docparse.logs import configure_logging
from docparse.settings import Settings, get_settings
from docparse.storage import open_storage


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings)
    queue = ApiQueue(settings)
    # The API sees the jobs layer through the Orchestrator only; the queue is shared with SAQ's monitor.
    jobs: Orchestrator = JobService(queue, settings, open_storage(settings))
    operators = OperatorKeys(settings.admin_key_list)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await jobs.startup()
        try:
            yield
        finally:
            await jobs.close()

    def provide_jobs(state: State) -> Orchestrator:
        jobs: Orchestrator = state.jobs
        return jobs

    def provide_owner(request: Request[Any, Any, Any]) -> str:
        owner: str = request.state.owner  # set by the require_key guard
        return owner

    async def bind_log_context(request: Request[Any, Any, Any]) -> None:
        """Every log line of a request about a job carries its job_id. (Async: Litestar runs a plain function in
        a worker thread, which cost a quarter of a status request.)"""
        structlog.contextvars.clear_contextvars()
        if job_id := request.path_params.get("job_id"):
            structlog.contextvars.bind_contextvars(job_id=str(job_id))

    saq = SAQPlugin(
        SAQConfig(
            queue_instances={settings.queue_name: queue},
            web_enabled=True,
            web_path=MONITOR_PATH,
            web_guards=[require_operator],  # an operator's tool: it sees and controls every tenant's jobs
            use_server_lifespan=False,
        )
    )
    handlers: list[Any] = [UploadController, JobListController, JobController, HealthController, MetricsController]
    if (settings.frontend_dir / "index.html").is_file():
        handlers.append(
            create_static_files_router(
                path="/", directories=[settings.frontend_dir], html_mode=True, include_in_schema=False, name="ui"
            )
        )
    return Litestar(
        route_handlers=handlers,
        dependencies={
            "jobs": Provide(provide_jobs, sync_to_thread=False),
            "owner": Provide(provide_owner, sync_to_thread=False),
        },
        before_request=bind_log_context,
        middleware=[monitor_slash, DefineMiddleware(monitor_login, operators=operators)],
        exception_handlers=EXCEPTION_HANDLERS,
        plugins=[saq],
        lifespan=[lifespan],
        state=State(
            {"jobs": jobs, "settings": settings, "api_keys": ApiKeys(settings.api_key_list), "admin_keys": operators}
        ),
        openapi_config=OpenAPIConfig(title="docparse", version="0.1.0", path="/schema"),
        logging_config=None,
    )
