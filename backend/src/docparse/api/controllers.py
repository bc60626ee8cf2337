"""HTTP controllers: upload, job status and results, health. Each handler calls the Orchestrator (jobs layer)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import msgspec
import structlog
from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage, Stream

from docparse import tessdata
from docparse.api.auth import owner_of, require_key
from docparse.api.i18n import ACCEPT_LANGUAGE, LANG, localize_status, status_message
from docparse.api.openapi import UploadOperation, with_success_media
from docparse.api.problems import problem_responses
from docparse.api.schemas import (
    Health,
    JobList,
    OcrConfig,
    ParseFlags,
    Readiness,
    ResultEnvelope,
    RetryRequest,
    ServerConfig,
    UploadAccepted,
)
from docparse.api.upload import receive_upload, small_body
from docparse.errors import InvalidRequest, JobNotFound
from docparse.filetypes import SUPPORTED_TYPES
from docparse.jobs.idempotency import IdempotentReply, check_same, fingerprint
from docparse.jobs.orchestrator import Orchestrator, StoredUpload
from docparse.jobs.state import JobState
from docparse.jobs.status import JobStatus
from docparse.jobs.webhooks import Deliveries, parse_default_urls
from docparse.messages import Lang, Msg, localize, render
from docparse.pageranges import validate_page_spec
from docparse.results import DocumentInfo, Page
from docparse.settings import Settings

OCR_MODES = ("auto", "always", "never")

_encode = msgspec.json.Encoder().encode


def _ocr_options(fields: dict[str, str], settings: Settings) -> dict[str, str]:
    """The `ocr` and `ocr_languages` form fields, checked against what this server's Tesseract reads."""
    mode = (fields.get("ocr") or "").strip().lower() or "auto"
    if mode not in OCR_MODES:
        raise InvalidRequest(Msg("options.ocr"))
    languages = (fields.get("ocr_languages") or "").strip() or settings.ocr_languages
    if not tessdata.valid_languages(languages):
        raise InvalidRequest(Msg("options.ocr_languages"))
    installed = tessdata.installed_languages()
    missing = tessdata.missing_languages(languages)
    # Where OCR is not installed at all, pages that need it say so in a notice (ocr_unavailable) instead.
    if mode != "never" and installed and missing:
        raise InvalidRequest(Msg("options.ocr_missing", missing=", ".join(missing), installed=", ".join(installed)))
    return {"ocr": mode, "ocr_languages": languages}


def _parse_flags(raw: str | None) -> dict[str, bool]:
    if not raw or not raw.strip():
        return msgspec.structs.asdict(ParseFlags())
    try:
        if raw.lstrip().startswith("{"):
            flags = msgspec.json.decode(raw, type=ParseFlags)
        else:
            names = [n.strip() for n in raw.split(",") if n.strip()]
            flags = msgspec.convert(dict.fromkeys(names, True), ParseFlags)
    except msgspec.ValidationError as exc:
        raise InvalidRequest(Msg("options.invalid", reason=str(exc))) from None
    except msgspec.DecodeError:
        raise InvalidRequest(Msg("options.not_json")) from None
    return msgspec.structs.asdict(flags)


class UploadController(Controller):
    path = "/upload"
    tags = ["jobs"]
    guards = [require_key]
    dependencies = {"lang": LANG}
    parameters = ACCEPT_LANGUAGE

    @post(
        status_code=202,
        operation_id="uploadDocument",
        request_max_body_size=None,
        summary="Upload a document and queue it for parsing",
        operation_class=UploadOperation,
        responses=problem_responses(400, 409, 413, 415, 422, 429),
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        jobs: Orchestrator,
        owner: str,
        lang: Lang,
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                description="Makes a retried upload safe: the same key (per API key, for "
                "DOCPARSE_IDEMPOTENCY_HOURS) returns the first upload's 202 instead of creating a job; with another "
                "file or other options it is a 422 (`idempotency_key_reused`).",
                max_length=255,
            ),
        ] = None,
    ) -> Response[UploadAccepted]:
        """Multipart form: `file` (required), `password`, `pages` (e.g. `1-3,7`), `options` (`tables,markdown`),
        `ocr` (`auto`, `always`, `never`), `ocr_languages` (e.g. `kor+eng`), `callback_url` (where the job's
        status is POSTed when it ends, signed per Standard Webhooks), `reuse` (`true` by default: a file this API
        key had parsed with the same options gets a copy of that result at once; `false` parses it again).
        429 with Retry-After when DOCPARSE_MAX_QUEUED jobs already wait (checked before the job is queued, and
        before the body is read unless its Content-Length says it is small)."""
        idempotency_key = (idempotency_key or "").strip() or None
        if not small_body(request):  # a small one is read first: the room is checked with the job's record
            await jobs.check_room()
        job_id = str(uuid.uuid4())
        structlog.contextvars.bind_contextvars(job_id=job_id)
        if idempotency_key is not None:
            first = await jobs.claim_idempotency(owner, idempotency_key, job_id)
            if first is not None:
                return await _replay(request, jobs, first)
        sink = jobs.open_upload(job_id)
        try:
            received = await receive_upload(request, sink, jobs.settings.max_upload_bytes)
            options, callback_url = _job_options(received.fields, jobs.settings, owner)
            if callback_url:
                await jobs.check_callback(callback_url)
            reused = await jobs.submit(
                StoredUpload(job_id, received.filename, received.file_type, received.size, received.sha256),
                password=received.fields.get("password") or None,
                options=options,
                owner=owner,
                callback_url=callback_url,
                reuse=_flag(received.fields.get("reuse"), "reuse", default=True),
            )
        except BaseException:
            await sink.discard()  # nothing half-accepted is left behind
            if idempotency_key is not None:
                await jobs.finish_idempotency(owner, idempotency_key, job_id, None)
            raise
        location = f"/jobs/{job_id}"
        body = UploadAccepted(
            status="accepted",
            job_id=job_id,
            filename=received.filename,
            file_type=received.file_type,
            message=render(Msg("upload.reused" if reused else "upload.accepted"), lang),
            size=received.size,
            status_url=location,
            result_url=f"{location}/result",
            events_url=f"{location}/events",
            reused_from=reused,
        )
        if idempotency_key is not None:
            answer = IdempotentReply(
                fingerprint=fingerprint(received.sha256, {**options, "callback_url": callback_url}),
                job_id=job_id,
                body=msgspec.json.encode(body),
            )
            await jobs.finish_idempotency(owner, idempotency_key, job_id, answer)
        return Response(body, status_code=202, headers={"Location": location})


class _Discard:
    """An upload sink that keeps nothing (a replayed upload is read only to check it is the same)."""

    async def write(self, data: bytes) -> None:
        pass

    async def close(self) -> None:
        pass

    async def discard(self) -> None:
        pass


async def _replay(request: Request[Any, Any, Any], jobs: Orchestrator, first: IdempotentReply) -> Response[Any]:
    """The first upload's 202 for a request that repeats it; IdempotencyKeyReused if it sends something else."""
    received = await receive_upload(request, _Discard(), jobs.settings.max_upload_bytes)
    options, callback_url = _job_options(received.fields, jobs.settings, "")
    check_same(first, fingerprint(received.sha256, {**options, "callback_url": callback_url}))
    location = f"/jobs/{first.job_id}"
    return Response(
        first.body,
        status_code=202,
        media_type="application/json",
        headers={"Location": location, "Idempotent-Replayed": "true"},
    )


def _job_options(fields: dict[str, str], settings: Settings, owner: str) -> tuple[dict[str, Any], str | None]:
    """The parse options of an upload's form, and its callback URL (or the API key's default one)."""
    pages = fields.get("pages", "").strip() or None
    validate_page_spec(pages)
    options = {**_parse_flags(fields.get("options")), **_ocr_options(fields, settings), "pages": pages}
    callback_url = fields.get("callback_url", "").strip() or _default_callbacks(settings.webhook_key_urls).get(owner)
    if callback_url is not None and len(callback_url) > 2048:
        raise InvalidRequest("callback_url: at most 2048 characters.")
    return options, callback_url


@functools.cache
def _default_callbacks(raw: str) -> dict[str, str]:
    """DOCPARSE_WEBHOOK_KEY_URLS by owner id (an API key's jobs belong to its owner id)."""
    return {owner_of(key): url for key, url in parse_default_urls(raw).items()}


def _flag(raw: str | None, name: str, *, default: bool) -> bool:
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise InvalidRequest(f"{name}: true or false, not {raw!r}.")


class JobController(Controller):
    path = "/jobs/{job_id:uuid}"
    tags = ["jobs"]
    guards = [require_key]
    dependencies = {"lang": LANG}
    parameters = ACCEPT_LANGUAGE

    @get(operation_id="getJob", summary="Status and progress of a job", responses=problem_responses(404))
    async def status(self, job_id: FromPath[uuid.UUID], jobs: Orchestrator, owner: str, lang: Lang) -> JobStatus:
        return localize_status(await jobs.status(str(job_id), owner), lang)

    @get(
        "/result",
        operation_id="getJobResult",
        summary="The parse result of a completed job",
        responses={
            200: ResponseSpec(ResultEnvelope, description="The result", generate_examples=False),
            **problem_responses(400, 404, 409),
        },
        operation_class=with_success_media("text/plain", "text/markdown"),
    )
    async def result(
        self,
        job_id: FromPath[uuid.UUID],
        jobs: Orchestrator,
        owner: str,
        lang: Lang,
        format: FromQuery[Literal["json", "text", "markdown"]] = "json",
        pages: FromQuery[str | None] = None,
    ) -> Stream:
        """`format=json` streams `{"job_id","result":{"document","pages","failed_pages"}}`; `text` and `markdown`
        join the pages (a form feed separates pages in text; pages parsed without the `markdown` option give their
        plain text; `failed_pages` give their messages in the caller's language). `pages=1-5,9` selects pages, and
        also works while the job runs: it returns the pages parsed so far. Without `pages`, the result is only
        available once the job has completed (409 before)."""
        key = str(job_id)
        pages = (pages or "").strip() or None
        validate_page_spec(pages)
        if pages is None:
            await jobs.completed_status(key, owner)
        else:
            await jobs.status(key, owner)
            await jobs.document_json(key)  # 409 until the document is opened
        if format == "json":
            failed = [
                {**page, "message": localize(page["code"], page["message"], lang)}
                for page in await jobs.failed_pages_json(key)
            ]
            chunks = _json_result(jobs, key, pages, failed)
            return Stream(chunks, media_type="application/json")
        field = "markdown" if format == "markdown" else "text"
        media = "text/markdown" if format == "markdown" else "text/plain"  # Litestar adds the charset
        return Stream(_text_result(jobs, key, pages, field), media_type=media)

    @post(
        "/cancel",
        status_code=202,
        operation_id="cancelJob",
        summary="Cancel a queued or processing job",
        responses=problem_responses(404, 409),
    )
    async def cancel(self, job_id: FromPath[uuid.UUID], jobs: Orchestrator, owner: str, lang: Lang) -> JobStatus:
        """A queued job is cancelled at once; a processing one stops within a page (its parse process is
        killed) and ends `cancelled` with the pages done so far. 409 for a finished job."""
        return localize_status(await jobs.cancel(str(job_id), owner), lang)

    @post(
        "/retry",
        status_code=202,
        operation_id="retryJob",
        summary="Run a failed or cancelled job again",
        responses=problem_responses(400, 404, 409),
    )
    async def retry(
        self,
        job_id: FromPath[uuid.UUID],
        jobs: Orchestrator,
        owner: str,
        lang: Lang,
        data: JSONBody[RetryRequest | None] = None,
    ) -> JobStatus:
        """Re-runs the same stored file under the same job id (its URLs stay valid); `attempts` keeps counting.
        Send `{"password": "..."}` to retry an encrypted document with its password."""
        status = await jobs.retry(str(job_id), password=data.password if data else None, owner=owner)
        return localize_status(status, lang)

    @delete(
        status_code=204,
        operation_id="deleteJob",
        summary="Delete a job, its file and its results",
        responses=problem_responses(404),
    )
    async def remove(self, job_id: FromPath[uuid.UUID], jobs: Orchestrator, owner: str) -> None:
        """A running job is cancelled first. Nothing of the job is left in Redis or in storage."""
        await jobs.delete(str(job_id), owner=owner)

    @get(
        "/events",
        operation_id="getJobEvents",
        summary="Server-Sent Events: the job's status on every change",
        media_type="text/event-stream",
        responses=problem_responses(404),
    )
    async def events(
        self,
        job_id: FromPath[uuid.UUID],
        jobs: Orchestrator,
        owner: str,
        lang: Lang,
        last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
    ) -> ServerSentEvent:
        """Each event (type `status`) carries the status object; the stream ends after a terminal status. A
        client reconnecting with `Last-Event-ID` gets the current status only if it changed. 503 with Retry-After
        while DOCPARSE_MAX_EVENT_STREAMS streams are open in this API process."""
        key = str(job_id)
        statuses = jobs.watch(key)  # 503 when too many streams are open
        await jobs.status(key, owner)  # 404 before the stream starts

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            async for status in statuses:
                event_id = f"{status.status}:{status.attempts}:{status.pages_done}:{len(status.failed_pages)}"
                if status.chunks is not None:  # the same pages, but another chunk started or ended
                    event_id += f":{status.chunks.done}/{status.chunks.running}"
                if event_id == last_event_id:
                    continue
                data = _encode(localize_status(status, lang)).decode()  # in the language of the opening request
                yield ServerSentEventMessage(data=data, event="status", id=event_id)

        return ServerSentEvent(stream(), retry_duration=2000, headers={"Cache-Control": "no-cache"})

    @get(
        "/deliveries",
        operation_id="getJobDeliveries",
        summary="Webhook deliveries of the job's endings, with every try",
        responses=problem_responses(404),
    )
    async def deliveries(self, job_id: FromPath[uuid.UUID], jobs: Orchestrator, owner: str) -> Deliveries:
        """One delivery per ending (a retried job that ends again is delivered again), each with its tries:
        when, the receiver's status code or the error, and when the next try is due. `state` is `pending`,
        `delivered` or `failed` (given up after DOCPARSE_WEBHOOK_RETRY_HOURS, or refused)."""
        return await jobs.deliveries(str(job_id), owner)

    @get(
        "/document",
        operation_id="getJobDocument",
        summary="Document information (available once the document is opened)",
        media_type="application/json",
        responses={
            200: ResponseSpec(DocumentInfo, description="The document", generate_examples=False),
            **problem_responses(404, 409),
        },
    )
    async def document(self, job_id: FromPath[uuid.UUID], jobs: Orchestrator, owner: str) -> Response[bytes]:
        await jobs.status(str(job_id), owner)
        return Response(await jobs.document_json(str(job_id)), media_type="application/json")

    @get(
        "/pages/{number:int}",
        operation_id="getJobPage",
        summary="One parsed page, readable as soon as it is parsed",
        media_type="application/json",
        responses={200: ResponseSpec(Page, description="The page", generate_examples=False), **problem_responses(404)},
    )
    async def page(
        self, job_id: FromPath[uuid.UUID], number: FromPath[int], jobs: Orchestrator, owner: str, lang: Lang
    ) -> Response[bytes]:
        status = await jobs.status(str(job_id), owner)
        data = await jobs.page_json(str(job_id), number)
        if data is None:
            if number in status.failed_pages:
                raise JobNotFound(Msg("page.failed", page=number))
            raise JobNotFound(Msg("page.not_available", page=number, status=status_message(status)))
        return Response(data, media_type="application/json")

    @get(
        "/pages/{number:int}/image",
        operation_id="getJobPageImage",
        summary="A picture of one page (PNG), for drawing the parsed boxes over",
        media_type="image/png",
        responses=problem_responses(404, 409, 422),
    )
    async def page_image(
        self,
        job_id: FromPath[uuid.UUID],
        number: FromPath[int],
        jobs: Orchestrator,
        owner: str,
        width: Annotated[int, QueryParameter(ge=1, le=10_000)] = 800,
    ) -> Response[bytes]:
        """Rendered once per width (rounded up to a multiple of 100, at most 3000 px; narrower for a page so
        tall that the picture would pass DOCPARSE_RENDER_MAX_PIXELS) and cached with the results. The
        X-Image-Width and X-Image-Height headers give its size; box coordinates scale by (picture width / page
        width)."""
        data = await jobs.page_image(str(job_id), number, width, owner)
        # a PNG starts with its IHDR chunk: width and height at bytes 16-24, big-endian
        size = {"X-Image-Width": str(int.from_bytes(data[16:20])), "X-Image-Height": str(int.from_bytes(data[20:24]))}
        return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=86400", **size})


async def _json_result(
    jobs: Orchestrator, job_id: str, pages: str | None, failed: list[dict[str, Any]]
) -> AsyncIterator[bytes]:
    yield b'{"job_id":"' + job_id.encode() + b'","result":{"document":' + await jobs.document_json(job_id)
    yield b',"pages":['
    first = True
    async for _, data in jobs.stored_pages(job_id, pages):
        yield data if first else b"," + data
        first = False
    yield b'],"failed_pages":' + msgspec.json.encode(failed) + b"}}"


class _PageText(msgspec.Struct):
    text: str = ""
    markdown: str | None = None


_decode_text = msgspec.json.Decoder(_PageText)


async def _text_result(jobs: Orchestrator, job_id: str, pages: str | None, field: str) -> AsyncIterator[bytes]:
    first = True
    async for _, data in jobs.stored_pages(job_id, pages):
        page = _decode_text.decode(data)
        text = page.markdown if field == "markdown" and page.markdown is not None else page.text
        yield (b"" if first else b"\n\f\n") + text.encode()
        first = False


class JobListController(Controller):
    path = "/jobs"
    tags = ["jobs"]
    guards = [require_key]
    dependencies = {"lang": LANG}
    parameters = ACCEPT_LANGUAGE

    @get(operation_id="listJobs", summary="History of jobs, newest first", responses=problem_responses(400))
    async def list_jobs(
        self,
        jobs: Orchestrator,
        owner: str,
        lang: Lang,
        status: FromQuery[JobState | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> JobList:
        """`status` filters; pass `next_cursor` back as `cursor` for the next page (`null` on the last one).
        Finished jobs stay listed until their retention ends (`expires_at`)."""
        found, next_cursor = await jobs.list_jobs(status=status, limit=limit, cursor=cursor, owner=owner)
        return JobList(jobs=[localize_status(status, lang) for status in found], next_cursor=next_cursor)


class HealthController(Controller):
    tags = ["health"]

    @get(
        "/config",
        operation_id="getConfig",
        summary="Limits and options the server applies, for clients to check before uploading",
    )
    async def config(self, jobs: Orchestrator) -> ServerConfig:
        s = jobs.settings
        return ServerConfig(
            max_upload_bytes=s.max_upload_bytes,
            max_pages=s.max_pages,
            page_timeout=s.page_timeout,
            result_ttl=s.result_ttl,
            supported_types=list(SUPPORTED_TYPES),
            api_key_required=bool(s.api_key_list),
            webhooks=bool(s.webhook_secret),
            ocr=OcrConfig(
                available=tessdata.engine_installed() and bool(tessdata.installed_languages()),
                languages=tessdata.installed_languages(),
                default_languages=s.ocr_languages,
                page_timeout=s.ocr_page_timeout,
            ),
        )

    @get("/health", operation_id="health", summary="Liveness: the API process answers")
    async def health(self) -> Health:
        return Health(status="ok")

    @get(
        "/ready",
        operation_id="ready",
        summary="Readiness: Redis reachable and at least one worker alive",
        responses={503: ResponseSpec(Readiness, description="Not ready, with the reason", generate_examples=False)},
    )
    async def ready(self, jobs: Orchestrator) -> Response[Readiness]:
        info = await jobs.ready()
        return Response(Readiness(**info), status_code=200 if info["ready"] else 503)
