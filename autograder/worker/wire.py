"""The wire protocol between the grader and a worker: plain data only.

A frame is a fixed header, a JSON document and a list of ``.npy`` payloads::

    b"AGW1" | u32 json_length | u32 array_count | json | (u64 length | npy bytes) * array_count

The JSON document is ``{"op": <str>, "data": <value>}``. Values are JSON scalars and lists; JSON
objects are reserved for tags, so nothing a worker sends can be mistaken for anything else:

* ``{"$array": i}``   the i-th ``.npy`` payload (numeric dtypes only, read with ``allow_pickle=False``);
  0-d arrays travel as plain numbers
* ``{"$small": [dtype, shape, base64]}``  an array of at most ``SMALL_ARRAY_SIZE`` numbers, inline: its
  raw bytes in base64 (callbacks send thousands of tiny arrays; a ``.npy`` header or a list of float
  reprs costs more to write and read than the numbers themselves)
* ``{"$tuple": [...]}`` and ``{"$dict": [[key, value], ...]}``
* extra tags that one side allows the other to send (the grader sends ``$callback`` and ``$function``
  to a worker; a worker may send no extra tags at all).

Everything read from a worker passes through :func:`decode` with :class:`Limits`, which is the trust
boundary: a hostile worker can make a frame fail to decode, never make the grader run its code.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import os
import select
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MAGIC = b"AGW1"
_HEADER = struct.Struct(">4sII")
_ARRAY_LENGTH = struct.Struct(">Q")
# Booleans, signed and unsigned integers and floats: everything a numeric answer needs, nothing that
# can carry code (object arrays) or structure (records).
_NUMERIC_KINDS = frozenset("biuf")
SMALL_ARRAY_SIZE = 256  # arrays up to this many entries travel inline, as base64 of their bytes

TagDecoder = Callable[[str, Any, Callable[[Any], Any]], Any]
ObjectEncoder = Callable[[Any], "tuple[str, Any] | None"]


class ProtocolError(Exception):
    """A frame broke the protocol: malformed, too large, too deep or of a forbidden type."""


class EncodeError(ProtocolError):
    """A value cannot be expressed as plain data (for example a custom object or an object array)."""


class ChannelClosed(ProtocolError):
    """The other side closed its end of the channel (for a worker: it exited or was killed)."""


class ChannelTimeout(ProtocolError):
    """The other side did not complete a frame before the deadline."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one frame may hold; the grader applies them to everything a worker sends."""

    max_json_bytes: int = 8 * 2**20
    max_arrays: int = 1024
    max_array_bytes: int = 64 * 2**20
    max_frame_bytes: int = 128 * 2**20
    max_depth: int = 32
    max_ndim: int = 8


DEFAULT_LIMITS = Limits()


# --------------------------------------------------------------------------------------------- encode
def encode(op: str, data: Any, *, encode_object: ObjectEncoder | None = None,
           limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Serialise one message into a frame.

    ``encode_object`` may turn extra types into ``(tag, value)``; the value is encoded in turn.
    """
    arrays: list[bytes] = []
    document = {"op": op, "data": _to_json(data, arrays, 0, encode_object, limits)}
    text = json.dumps(document, separators=(",", ":"), allow_nan=True).encode("utf-8")
    if len(text) > limits.max_json_bytes:
        raise EncodeError(f"the message is {len(text):,} bytes of JSON, over the {limits.max_json_bytes:,} limit")
    parts = [_HEADER.pack(MAGIC, len(text), len(arrays)), text]
    for blob in arrays:
        parts.append(_ARRAY_LENGTH.pack(len(blob)))
        parts.append(blob)
    return b"".join(parts)


def _to_json(value: Any, arrays: list[bytes], depth: int, encode_object: ObjectEncoder | None,
             limits: Limits) -> Any:
    if depth > limits.max_depth:
        raise EncodeError(f"the value is nested more than {limits.max_depth} levels deep")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int) and type(value) is int:
        return value
    if isinstance(value, float) and type(value) is float:
        return value
    if isinstance(value, np.generic):
        return _to_json(value.item() if value.dtype.kind in "biuf" else np.asarray(value),
                        arrays, depth, encode_object, limits)
    if isinstance(value, np.ndarray):
        if value.ndim == 0 and value.dtype.kind in _NUMERIC_KINDS:
            # A 0-d array is a number: sending it as one keeps a list of 10,000 losses one frame.
            return _to_json(value.item(), arrays, depth, encode_object, limits)
        plain = np.asarray(value)  # drops ndarray subclasses and their overridden methods
        if plain.size <= SMALL_ARRAY_SIZE and plain.dtype.kind in _NUMERIC_KINDS and plain.ndim <= limits.max_ndim:
            # Inline: a .npy header costs more to write and parse than a few numbers, and callbacks
            # send thousands of tiny arrays. Raw bytes keep every bit (NaN payloads included).
            return {"$small": [plain.dtype.str, list(plain.shape),
                               base64.b64encode(np.ascontiguousarray(plain).tobytes()).decode("ascii")]}
        return {"$array": _add_array(plain, arrays, limits)}
    if isinstance(value, int | float):  # subclasses: keep the number, drop the behaviour
        return int(value) if isinstance(value, int) else float(value)
    nested = depth + 1
    if isinstance(value, list):
        return [_to_json(item, arrays, nested, encode_object, limits) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [_to_json(item, arrays, nested, encode_object, limits) for item in value]}
    if isinstance(value, dict):
        return {"$dict": [[_to_json(k, arrays, nested, encode_object, limits),
                           _to_json(v, arrays, nested, encode_object, limits)] for k, v in value.items()]}
    if encode_object is not None:
        tagged = encode_object(value)
        if tagged is not None:
            tag, inner = tagged
            return {tag: _to_json(inner, arrays, nested, encode_object, limits)}
    raise EncodeError(f"a value of type {type(value).__name__} cannot be sent as plain data")


def _add_array(plain: np.ndarray, arrays: list[bytes], limits: Limits) -> int:
    if plain.dtype.kind not in _NUMERIC_KINDS:
        raise EncodeError(f"an array of dtype {plain.dtype} cannot be sent; use numbers")
    if len(arrays) >= limits.max_arrays:
        raise EncodeError(f"the message holds more than {limits.max_arrays} arrays")
    buffer = io.BytesIO()
    np.save(buffer, plain, allow_pickle=False)
    blob = buffer.getvalue()
    if len(blob) > limits.max_array_bytes:
        raise EncodeError(f"an array of {len(blob):,} bytes is over the {limits.max_array_bytes:,} limit")
    arrays.append(blob)
    return len(arrays) - 1


# --------------------------------------------------------------------------------------------- decode
def decode(text: bytes, arrays: list[bytes], *, decode_tag: TagDecoder | None = None,
           limits: Limits = DEFAULT_LIMITS) -> tuple[str, Any]:
    """Turn a frame's parts back into ``(op, data)``; raise :class:`ProtocolError` on anything odd."""
    try:
        document = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ProtocolError(f"the frame is not valid JSON ({type(error).__name__})") from None
    if not (isinstance(document, dict) and set(document) == {"op", "data"}
            and isinstance(document["op"], str)):
        raise ProtocolError("the frame is not a message of the form {op, data}")
    loaded: dict[int, np.ndarray] = {}

    def array_at(index: Any) -> np.ndarray:
        if type(index) is not int or not 0 <= index < len(arrays):
            raise ProtocolError("the frame refers to an array it does not hold")
        if index not in loaded:
            loaded[index] = _load_array(arrays[index], limits)
        return loaded[index]

    def from_json(value: Any, depth: int) -> Any:
        if depth > limits.max_depth:
            raise ProtocolError(f"the frame is nested more than {limits.max_depth} levels deep")
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, list):
            return [from_json(item, depth + 1) for item in value]
        if not (isinstance(value, dict) and len(value) == 1):
            raise ProtocolError("the frame holds an object that is not a known tag")
        ((tag, inner),) = value.items()
        if tag == "$array":
            return array_at(inner)
        if tag == "$small":
            return _small_array(inner, limits)
        if tag == "$tuple" and isinstance(inner, list):
            return tuple(from_json(item, depth + 1) for item in inner)
        if tag == "$dict" and isinstance(inner, list):
            pairs = [from_json(pair, depth + 1) for pair in inner]
            if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str | int | float | bool | None)
                       for p in pairs):
                raise ProtocolError("the frame holds a malformed dict")
            return {key: item for key, item in pairs}
        if decode_tag is not None:
            return decode_tag(tag, inner, lambda v: from_json(v, depth + 1))
        raise ProtocolError(f"the frame holds a tag {tag[:40]!r} that is not allowed here")

    return document["op"], from_json(document["data"], 0)


def _small_array(inner: Any, limits: Limits) -> np.ndarray:
    """Rebuild an inlined array, checking every part: dtype, shape and bytes come from the worker."""
    if not (isinstance(inner, list) and len(inner) == 3 and isinstance(inner[0], str) and len(inner[0]) <= 4
            and isinstance(inner[1], list) and isinstance(inner[2], str)):
        raise ProtocolError("the frame holds a malformed small array")
    code, shape, text = inner
    if not (len(shape) <= limits.max_ndim and all(type(n) is int and 0 <= n <= SMALL_ARRAY_SIZE for n in shape)
            and math.prod(shape) <= SMALL_ARRAY_SIZE):
        raise ProtocolError("the frame holds a small array with a malformed shape")
    try:
        dtype = np.dtype(code)
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind not in _NUMERIC_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(f"the frame holds a small array of an unusable dtype {code[:8]!r}")
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise ProtocolError("the frame holds a small array whose bytes are not base64") from None
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise ProtocolError("the frame holds a small array whose shape and bytes disagree")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()  # a writable array of its own


def _load_array(blob: bytes, limits: Limits) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(blob), allow_pickle=False)
    except Exception as error:  # numpy raises several types for malformed headers
        raise ProtocolError(f"the frame holds an unreadable array ({type(error).__name__})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in _NUMERIC_KINDS:
        raise ProtocolError("the frame holds an array that is not numeric")
    if array.ndim > limits.max_ndim:
        raise ProtocolError(f"the frame holds an array with more than {limits.max_ndim} dimensions")
    return array


# -------------------------------------------------------------------------------------------- channel
class Channel:
    """Frames over a pair of pipe file descriptors, with deadlines on every read and write.

    Deadlines matter on the grader's side: a worker stuck in a loop neither reads nor writes, and
    the grader must notice instead of blocking forever. ``deadline`` is a ``time.monotonic()`` value
    or ``None`` for no limit (used on the worker's side, which the grader kills if needed).
    """

    def __init__(self, read_fd: int, write_fd: int, *, limits: Limits = DEFAULT_LIMITS,
                 nonblocking: bool = True) -> None:
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.limits = limits
        self._buffer = bytearray()
        if nonblocking:
            os.set_blocking(read_fd, False)
            os.set_blocking(write_fd, False)

    def send(self, frame: bytes, deadline: float | None = None) -> None:
        view = memoryview(frame)
        while view:
            self._wait(self.write_fd, writable=True, deadline=deadline)
            try:
                written = os.write(self.write_fd, view)
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError) as error:
                raise ChannelClosed("the other side closed the channel") from error
            view = view[written:]

    def receive(self, deadline: float | None = None, *, decode_tag: TagDecoder | None = None
                ) -> tuple[str, Any]:
        magic, json_length, array_count = _HEADER.unpack(self._read_exactly(_HEADER.size, deadline))
        if magic != MAGIC:
            raise ProtocolError("the frame does not start with the protocol's marker")
        if json_length > self.limits.max_json_bytes:
            raise ProtocolError(f"the frame announces {json_length:,} bytes of JSON, over the limit")
        if array_count > self.limits.max_arrays:
            raise ProtocolError(f"the frame announces {array_count:,} arrays, over the limit")
        text = self._read_exactly(json_length, deadline)
        total = json_length
        arrays = []
        for _ in range(array_count):
            (length,) = _ARRAY_LENGTH.unpack(self._read_exactly(_ARRAY_LENGTH.size, deadline))
            total += length
            if length > self.limits.max_array_bytes or total > self.limits.max_frame_bytes:
                raise ProtocolError(f"the frame announces an array of {length:,} bytes, over the limit")
            arrays.append(self._read_exactly(length, deadline))
        return decode(text, arrays, decode_tag=decode_tag, limits=self.limits)

    def _read_exactly(self, count: int, deadline: float | None) -> bytes:
        while len(self._buffer) < count:
            self._wait(self.read_fd, writable=False, deadline=deadline)
            try:
                chunk = os.read(self.read_fd, max(count - len(self._buffer), 1 << 16))
            except BlockingIOError:
                continue
            if not chunk:
                raise ChannelClosed("the other side closed the channel")
            self._buffer += chunk
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    @staticmethod
    def _wait(fd: int, *, writable: bool, deadline: float | None) -> None:
        timeout = None if deadline is None else deadline - time.monotonic()
        if timeout is not None and timeout <= 0:
            raise ChannelTimeout("the other side did not answer in time")
        ready = select.select([], [fd], [], timeout) if writable else select.select([fd], [], [], timeout)
        if not any(ready):
            raise ChannelTimeout("the other side did not answer in time")
