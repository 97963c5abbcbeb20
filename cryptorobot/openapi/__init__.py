"""OpenAPI 3.0 for every registered service: `document` builds it from the registry,
`serving` serves it (`GET /openapi.json`) with a Swagger UI page (`GET /docs`)."""

from .document import ERROR_RESPONSES, OPENAPI_VERSION, ErrorCode, openapi_spec
from .serving import attach_openapi

__all__ = ["ERROR_RESPONSES", "OPENAPI_VERSION", "ErrorCode", "attach_openapi", "openapi_spec"]
