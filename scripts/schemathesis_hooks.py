"""schemathesis hooks for Pannier (SCHEMATHESIS_HOOKS=schemathesis_hooks): tus request bodies
(`application/offset+octet-stream`) are raw bytes, sent like `application/octet-stream`."""
import schemathesis
from schemathesis.transport.requests import binary_serializer


@schemathesis.serializer("application/offset+octet-stream")
def tus_bytes(ctx, value):
    return binary_serializer(ctx, value)
