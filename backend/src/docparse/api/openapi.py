"""OpenAPI details Litestar cannot infer: the streamed upload's form, and answers in several media types."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

_TEXT = Schema(type=OpenAPIType.STRING)


@dataclass
class UploadOperation(Operation):
    """POST /upload reads its multipart body as a stream, so the form is described here."""

    def __post_init__(self) -> None:
        form = Schema(
            type=OpenAPIType.OBJECT,
            required=["file"],
            properties={
                "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="the document"),
                "password": Schema(type=OpenAPIType.STRING, description="for an encrypted PDF"),
                "pages": Schema(type=OpenAPIType.STRING, description="pages to parse, e.g. 1-3,7,10-"),
                "options": Schema(type=OpenAPIType.STRING, description="tables,markdown (or a JSON object)"),
                "ocr": Schema(
                    type=OpenAPIType.STRING,
                    enum=["auto", "always", "never"],
                    description="when to read pages with OCR: auto (pages without a text layer, the default), "
                    "always, never",
                ),
                "ocr_languages": Schema(
                    type=OpenAPIType.STRING,
                    description="Tesseract languages joined by +, e.g. kor+eng (default: the server's)",
                ),
                "callback_url": Schema(
                    type=OpenAPIType.STRING,
                    format=OpenAPIFormat.URI,
                    max_length=2048,
                    description="where the job's status is POSTed when it ends (Standard Webhooks signatures)",
                ),
                "reuse": Schema(
                    type=OpenAPIType.STRING,
                    enum=["true", "false"],
                    description="true (default): a file this API key had parsed with the same options gets a copy "
                    "of that result at once; false: parse it again",
                ),
            },
        )
        self.request_body = RequestBody(content={"multipart/form-data": OpenAPIMediaType(schema=form)}, required=True)


def with_success_media(*media_types: str) -> type[Operation]:
    """An Operation whose success answer may also come as `media_types` (plain strings)."""

    @dataclass
    class MultiMediaOperation(Operation):
        def __post_init__(self) -> None:
            for code, response in (self.responses or {}).items():
                if code.startswith("2") and isinstance(response, OpenAPIResponse) and response.content is not None:
                    for media in media_types:
                        response.content.setdefault(media, OpenAPIMediaType(schema=_TEXT))

    return MultiMediaOperation
