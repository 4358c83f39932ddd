"""Schemathesis hooks for Natter: every error answer is the error envelope.

Loaded by run.sh through SCHEMATHESIS_HOOKS. The check fails any 4xx/5xx whose
body is not JSON `{"error": {"code": <known code>, "message": <string>}}`.
"""

import json

import schemathesis

CODES = {
    "invalid",
    "unauthenticated",
    "forbidden",
    "not_found",
    "conflict",
    "too_large",
    "rate_limited",
    "internal",
}


@schemathesis.check
def error_envelope(ctx, response, case):
    if response.status_code < 400:
        return None
    ctype = response.headers.get("content-type", [""])
    ctype = ctype[0] if isinstance(ctype, list) else ctype
    if not ctype.startswith("application/json"):
        raise AssertionError(
            f"{response.status_code} with Content-Type {ctype!r}, not the JSON error envelope"
        )
    try:
        body = json.loads(response.content or b"null")
    except ValueError as e:
        raise AssertionError(f"{response.status_code} body is not JSON: {e}") from e
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict) or not isinstance(err.get("message"), str):
        raise AssertionError(f"{response.status_code} body is not {{error: {{code, message}}}}: {body!r}")
    if err.get("code") not in CODES:
        raise AssertionError(f"unknown error code {err.get('code')!r}")
    return None
