"""The compact form of a frame: numbers and small containers as tagged binary, no JSON.

A callback round trip (the student's loop calling the grader's function once per step, a thousand
times per test) used to spend most of its work writing and parsing JSON with base64 arrays inside.
This form writes the same values as a tag byte and fixed-size fields, and reading it builds each
value directly. It is used where :func:`encode` accepts the whole value; anything else (another
dtype, a subclass, an object the caller tags) goes in the JSON form of :mod:`autograder.worker.wire`,
whose reader takes both.

Body: one byte for the op (``OPS``), then one value::

    n None   t True   f False   i int (<q)   d float (<d)   x str (<I length, UTF-8)
    l list / u tuple (<I count, then the items)   m dict (<I count, then key and value of each)
    s numpy scalar (dtype byte, its bytes)   a array (dtype byte, <B ndim, <I per dimension, C-order bytes)
    h an array the reader sent in the current call, by its fingerprint (64 hex characters)

Dtype bytes: ``d`` float64, ``q`` int64, ``?`` bool (little-endian: the worker and the grader run on the
same machine). Like the JSON form, decoding is the trust boundary: every length is checked against the
bytes that are there, and the frame's limits on depth, values and array elements hold.

This module runs in the worker after student code, so what encoding relies on is bound at import.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

# Ops that travel in this form: the ones a callback round trip sends (the rest stay JSON, being rare).
OPS = {"callback": b"c", "callback_return": b"r"}
_OP_NAMES = {code[0]: name for name, code in OPS.items()}

_DTYPES = {np.dtype("<f8"): b"d", np.dtype("<i8"): b"q", np.dtype("|b1"): b"?"}
_DTYPE_OF_CODE = {code[0]: dtype for dtype, code in _DTYPES.items()}
_INT64 = struct.Struct("<q")
_FLOAT = struct.Struct("<d")
_COUNT = struct.Struct("<I")
_NDIM = struct.Struct("<B")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Bound before any student code runs (see the module's docstring).
_type, _len, _str, _bytes = type, len, str, bytes
_float, _int, _bool, _list, _tuple, _dict = float, int, bool, list, tuple, dict
_ndarray = np.ndarray
_generic_types = {np.float64: b"d", np.int64: b"q", np.bool_: b"?"}
_tobytes, _generic_tobytes = np.ndarray.tobytes, np.generic.tobytes
_frombuffer = np.frombuffer


class NotCompact(Exception):
    """The value holds something this form does not carry; the caller sends the JSON form."""


def encode_body(op: str, data: Any, *, max_depth: int, max_array_bytes: int,
                sent: frozenset[str] | None, fingerprint: Callable[[np.ndarray], str], named_size: int) -> bytes:
    """The body of a compact frame, or :class:`NotCompact`."""
    code = OPS.get(op)
    if code is None:
        raise NotCompact(op)
    parts: list[bytes] = [code]

    def put(value: Any, depth: int) -> None:
        if depth > max_depth:
            raise NotCompact("deep")
        kind = _type(value)
        if kind is _float:
            parts.append(b"d" + _FLOAT.pack(value))
        elif kind is _bool:
            parts.append(b"t" if value else b"f")
        elif kind is _int:
            if not _INT64_MIN <= value <= _INT64_MAX:
                raise NotCompact("big int")
            parts.append(b"i" + _INT64.pack(value))
        elif value is None:
            parts.append(b"n")
        elif kind is _ndarray:
            dtype_code = _DTYPES.get(value.dtype)
            if dtype_code is None or value.ndim > 255:
                raise NotCompact("dtype")
            if sent and value.size >= named_size:
                digest = fingerprint(value)
                if digest in sent:
                    parts.append(b"h" + digest.encode("ascii"))
                    return
            raw = _tobytes(value)  # C order whatever the layout
            if _len(raw) > max_array_bytes:
                raise NotCompact("large")
            parts.append(b"a" + dtype_code + _NDIM.pack(value.ndim)
                         + b"".join(_COUNT.pack(n) for n in value.shape) + raw)
        elif kind in _generic_types:
            parts.append(b"s" + _generic_types[kind] + _generic_tobytes(value))
        elif kind is _list or kind is _tuple:
            parts.append((b"l" if kind is _list else b"u") + _COUNT.pack(_len(value)))
            for item in value:
                put(item, depth + 1)
        elif kind is _dict:
            parts.append(b"m" + _COUNT.pack(_len(value)))
            for key, item in value.items():
                put(key, depth + 1)
                put(item, depth + 1)
        elif kind is _str:
            try:
                text = value.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates: the JSON form escapes them
                raise NotCompact("text") from None
            parts.append(b"x" + _COUNT.pack(_len(text)) + text)
        else:
            raise NotCompact(kind.__name__)

    put(data, 0)
    return b"".join(parts)


class CompactError(ValueError):
    """The body breaks the compact form (the wire turns it into its ProtocolError)."""


def decode_body(body: bytes, *, max_depth: int, max_ndim: int, max_nodes: int, max_elements: int,
                sent: dict[str, np.ndarray] | None) -> tuple[str, Any]:
    """``(op, value)`` from a compact body, every length checked against what is there."""
    if not body or body[0] not in _OP_NAMES:
        raise CompactError("the frame names no known operation")
    # [values left, array elements left]: what decoding may still build (arrays referenced by fingerprint
    # count again, as consumers copy each).
    budget = [max_nodes, max_elements]
    try:
        value, position = _value(body, 1, 0, budget, (max_depth, max_ndim, sent))
    except (IndexError, struct.error):  # a read past the end: unpack_from and indexing check it
        raise CompactError("the frame ends early") from None
    if position != _len(body):
        raise CompactError("the frame holds bytes after its value")
    return _OP_NAMES[body[0]], value


def _value(body: bytes, position: int, depth: int, budget: list[int],
           settings: tuple[int, int, dict[str, np.ndarray] | None]) -> tuple[Any, int]:
    """The value at ``position`` and the position after it. One function with the common kinds first: a
    callback's frame holds a handful of values, and a call per value is most of the cost of reading it."""
    budget[0] -= 1
    if budget[0] < 0:
        raise CompactError("the frame holds more values than the limit")
    tag = body[position]
    position += 1
    if tag == 0x64:  # d
        return _FLOAT.unpack_from(body, position)[0], position + 8
    if tag == 0x61:  # a
        dtype = _DTYPE_OF_CODE.get(body[position])
        ndim = body[position + 1]
        if dtype is None or ndim > settings[1]:
            raise CompactError("the frame holds an array of an unusable dtype or shape")
        shape = struct.unpack_from(_SHAPES[ndim], body, position + 2)
        position += 2 + 4 * ndim
        size = math.prod(shape)
        budget[1] -= max(size, 1)
        if budget[1] < 0:
            raise CompactError("the frame holds more array elements than the limit")
        stop = position + size * dtype.itemsize
        if stop > _len(body):
            raise CompactError("the frame ends early")
        return _frombuffer(body, dtype=dtype, count=size, offset=position).reshape(shape).copy(), stop
    if tag == 0x6C or tag == 0x75:  # l, u
        (count,) = _COUNT.unpack_from(body, position)
        position += 4
        if count > _len(body) - position:  # each item takes at least a byte
            raise CompactError("the frame ends early")
        if depth >= settings[0]:
            raise CompactError(f"the frame is nested more than {settings[0]} levels deep")
        items = []
        for _ in range(count):
            item, position = _value(body, position, depth + 1, budget, settings)
            items.append(item)
        return (items if tag == 0x6C else tuple(items)), position
    if tag == 0x69:  # i
        return _INT64.unpack_from(body, position)[0], position + 8
    if tag == 0x73:  # s
        dtype = _DTYPE_OF_CODE.get(body[position])
        if dtype is None:
            raise CompactError("the frame holds a numpy scalar of an unusable dtype")
        stop = position + 1 + dtype.itemsize
        if stop > _len(body):
            raise CompactError("the frame ends early")
        return _frombuffer(body, dtype=dtype, count=1, offset=position + 1)[0], stop
    if tag == 0x6E:  # n
        return None, position
    if tag == 0x74 or tag == 0x66:  # t, f
        return tag == 0x74, position
    if tag == 0x78:  # x
        (length,) = _COUNT.unpack_from(body, position)
        stop = position + 4 + length
        if stop > _len(body):
            raise CompactError("the frame ends early")
        try:
            return body[position + 4:stop].decode("utf-8"), stop
        except UnicodeDecodeError:
            raise CompactError("the frame holds text that is not UTF-8") from None
    if tag == 0x6D:  # m
        (count,) = _COUNT.unpack_from(body, position)
        position += 4
        if count > _len(body) - position:
            raise CompactError("the frame ends early")
        if depth >= settings[0]:
            raise CompactError(f"the frame is nested more than {settings[0]} levels deep")
        pairs = {}
        for _ in range(count):
            key, position = _value(body, position, depth + 1, budget, settings)
            if _type(key) not in _KEY_TYPES:
                raise CompactError("the frame holds a malformed dict")
            pairs[key], position = _value(body, position, depth + 1, budget, settings)
        return pairs, position
    if tag == 0x68 and settings[2] is not None:  # h
        own = settings[2].get(body[position:position + 64].decode("ascii", "replace"))
        if own is None:
            raise CompactError("the frame refers to an array this call did not send")
        budget[1] -= max(own.size, 1)
        if budget[1] < 0:
            raise CompactError("the frame holds more array elements than the limit")
        return own.copy(), position + 64
    raise CompactError("the frame holds a value of an unknown kind")


_SHAPES = [f"<{ndim}I" for ndim in range(256)]
_KEY_TYPES = frozenset({type(None), bool, int, float, str})
