"""JSON errors for the API: domain errors, HTTP errors and malformed bodies alike."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import DomainError, ValidationError
from . import bp


def error_response(status: int, code: str, message: str, fields: Mapping[str, str] | None = None) -> Response:
    """The API's one error shape."""
    response = jsonify({"error": {"code": code, "message": message, "fields": dict(fields or {})}})
    response.status_code = status
    return response


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    return error_response(exc.status, exc.code, exc.message, exc.fields)


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a ValidationError saying what is wrong with it."""
    if not request.is_json:
        raise ValidationError({"_": "send a JSON object with Content-Type: application/json"}, "Expected JSON.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError({"_": "the body must be a JSON object"}, "Malformed JSON body.")
    return body


def register_http_errors(app: Flask) -> None:
    """Answer HTTP errors (404, 405, 413, 500…) on /api paths as JSON, elsewhere as usual."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path.startswith(bp.url_prefix + "/") or request.path == bp.url_prefix:
            code = (exc.name or "error").lower().replace(" ", "_")
            response = error_response(exc.code or 500, code, exc.description or exc.name)
            if exc.code == 405 and exc.valid_methods:
                response.headers["Allow"] = ", ".join(exc.valid_methods)
            return response
        return exc
