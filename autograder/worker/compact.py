"""The compact form of a frame: values as tagged binary, no JSON.

Every message between the grader and a worker goes in this form when its values allow it: a callback
round trip (the student's loop calling the grader's function once per step, a thousand times per
test) and a call passing a run's thousand losses used to spend most of their work writing and
parsing JSON, with base64 arrays inside. Here each value is a tag byte and fixed-size fields, a list
of floats is one packed block, and reading builds each value directly. Anything this form does not
carry (a subclass of a number or array, an int beyond 64 bits, an object array, text with lone
surrogates, a frame over the size limit) goes in the JSON form of :mod:`autograder.worker.wire`,
whose reader takes both.

Body: the op (``<B`` length, ASCII), then one value::

    n None   t True   f False   i int (<q)   d float (<d)   x str (<I length, UTF-8)
    l list / u tuple (<I count, then the items)   m dict (<I count, then key and value of each)
    F list of floats (<I count, then <d each)
    s numpy scalar (dtype, its bytes)   a array (dtype, <B ndim, <I per dimension, C-order bytes)
    h an array the reader sent in the current call, by its fingerprint (64 hex characters)
    o an object the writer's caller tagged (tag as an x string, then its value), read by the reader's
      caller: the grader's callbacks and problem functions (``$callback``, ``$function``)

A dtype is written as its ``dtype.str`` (``<B`` length, then ``<f8``, ``|b1``, ``>i4``); numeric kinds
only. Like the JSON form, decoding is the trust boundary: every length is checked against the bytes
that are there, and the frame's limits on depth, values and array elements hold.

This module runs in the worker after student code, so what encoding relies on is bound at import.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np

_INT64 = struct.Struct("<q")
_FLOAT = struct.Struct("<d")
_COUNT = struct.Struct("<I")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NUMERIC_KINDS = frozenset("biuf")

# Bound before any student code runs (see the module's docstring).
_type, _len, _str, _all, _isinstance = type, len, str, all, isinstance
_float, _int, _bool, _list, _tuple, _dict = float, int, bool, list, tuple, dict
_ndarray, _generic = np.ndarray, np.generic
_tobytes, _generic_tobytes = np.ndarray.tobytes, np.generic.tobytes
_frombuffer = np.frombuffer
_pack = struct.pack

ObjectEncoder = Callable[[Any], "tuple[str, Any] | None"]
TagDecoder = Callable[[str, Any, Callable[[Any], Any]], Any]


class NotCompact(Exception):
    """The value holds something this form does not carry; the caller sends the JSON form."""


def encode_body(op: str, data: Any, *, max_depth: int, max_bytes: int, max_array_bytes: int,
                sent: frozenset[str] | None, fingerprint: Callable[[np.ndarray], str], named_size: int,
                encode_object: ObjectEncoder | None = None) -> bytes:
    """The body of a compact frame, or :class:`NotCompact`."""
    name = op.encode("ascii")
    if _len(name) > 64:
        raise NotCompact("op")
    parts: list[bytes] = [bytes((_len(name),)), name]
    _put(data, 0, parts, (max_depth, max_array_bytes, sent, fingerprint, named_size, encode_object))
    body = b"".join(parts)
    if _len(body) > max_bytes:
        raise NotCompact("large")
    return body


_Context = tuple[int, int, "frozenset[str] | None", Callable[[np.ndarray], str], int, "ObjectEncoder | None"]


def _put(value: Any, depth: int, parts: list[bytes], context: _Context) -> None:
    """Append ``value``'s bytes. Module-level functions with the common kinds first: closures made per frame
    and a call per value were most of the cost of a callback's frame."""
    if depth > context[0]:
        raise NotCompact("deep")
    kind = _type(value)
    if kind is _float:
        parts.append(b"d" + _FLOAT.pack(value))
    elif kind is _ndarray:
        _put_array(value, parts, context)
    elif kind is _list:
        if value and _all(_type(item) is _float for item in value):
            parts.append(b"F" + _COUNT.pack(_len(value)) + _pack(f"<{_len(value)}d", *value))
            return
        parts.append(b"l" + _COUNT.pack(_len(value)))
        for item in value:
            _put(item, depth + 1, parts, context)
    elif kind is _int:
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise NotCompact("big int")
        parts.append(b"i" + _INT64.pack(value))
    elif kind is _bool:
        parts.append(b"t" if value else b"f")
    elif value is None:
        parts.append(b"n")
    elif kind is _tuple:
        parts.append(b"u" + _COUNT.pack(_len(value)))
        for item in value:
            _put(item, depth + 1, parts, context)
    elif kind is _dict:
        parts.append(b"m" + _COUNT.pack(_len(value)))
        for key, item in value.items():
            _put(key, depth + 1, parts, context)
            _put(item, depth + 1, parts, context)
    elif kind is _str:
        parts.append(_text_bytes(value))
    elif _isinstance(value, _generic) and kind.__module__ == "numpy":  # np.float64, np.int32, np.bool_
        parts.append(b"s" + dtype_code(value.dtype) + _generic_tobytes(value))
    else:
        tagged = context[5](value) if context[5] is not None else None
        if tagged is None:
            raise NotCompact(kind.__name__)
        parts.append(b"o" + _text_bytes(tagged[0]))
        _put(tagged[1], depth + 1, parts, context)


def _text_bytes(text: str) -> bytes:
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: the JSON form escapes them
        raise NotCompact("text") from None
    return b"x" + _COUNT.pack(_len(raw)) + raw


def _put_array(array: np.ndarray, parts: list[bytes], context: _Context) -> None:
    sent = context[2]
    if sent and array.size >= context[4]:
        digest = context[3](array)
        if digest in sent:
            parts.append(b"h" + digest.encode("ascii"))
            return
    code = dtype_code(array.dtype)
    if array.ndim > 255 or array.nbytes > context[1]:
        raise NotCompact("array")  # the JSON form refuses it with the reason
    # tobytes: C order whatever the layout; a subclass never gets here (exact type above).
    parts.append(b"a" + code + bytes((array.ndim,)) + _pack(f"<{array.ndim}I", *array.shape) + _tobytes(array))


def dtype_code(dtype: np.dtype) -> bytes:
    code = _codes.get(dtype)
    if code is not None:
        return code
    if not is_numeric(dtype):
        raise NotCompact("dtype")  # the JSON form turns object arrays of numbers into numbers, or refuses
    text = dtype.str.encode("ascii")
    code = bytes((_len(text),)) + text
    if _len(_codes) < 64:
        _codes[dtype] = code
    return code


_codes: dict[np.dtype, bytes] = {}  # the dtypes written so far: a handful


class CompactError(ValueError):
    """The body breaks the compact form (the wire turns it into its ProtocolError)."""


def decode_body(body: bytes, *, max_depth: int, max_ndim: int, max_nodes: int, max_elements: int,
                sent: dict[str, np.ndarray] | None, decode_tag: TagDecoder | None = None) -> tuple[str, Any]:
    """``(op, value)`` from a compact body, every length checked against what is there."""
    # [values left, array elements left]: what decoding may still build (arrays referenced by fingerprint
    # count again, as consumers copy each).
    budget = [max_nodes, max_elements]
    try:
        length = body[0]
        op = body[1:1 + length].decode("ascii")
        if _len(op) != length or not op.isidentifier():
            raise CompactError("the frame names no operation")
        value, position = _value(body, 1 + length, 0, budget, (max_depth, max_ndim, sent, decode_tag))
    except (IndexError, struct.error):  # a read past the end: unpack_from and indexing check it
        raise CompactError("the frame ends early") from None
    except UnicodeDecodeError:
        raise CompactError("the frame names no operation") from None
    if position != _len(body):
        raise CompactError("the frame holds bytes after its value")
    return op, value


_Settings = tuple[int, int, "dict[str, np.ndarray] | None", "TagDecoder | None"]


def _value(body: bytes, position: int, depth: int, budget: list[int], settings: _Settings) -> tuple[Any, int]:
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
        dtype, position = _dtype(body, position)
        ndim = body[position]
        if ndim > settings[1]:
            raise CompactError("the frame holds an array with too many dimensions")
        shape = struct.unpack_from(f"<{ndim}I", body, position + 1)
        position += 1 + 4 * ndim
        size = math.prod(shape)
        _spend(budget, size)
        stop = position + size * dtype.itemsize
        if stop > _len(body):
            raise CompactError("the frame ends early")
        try:
            array = _frombuffer(body, dtype=dtype, count=size, offset=position).reshape(shape)
        except ValueError:  # an empty array whose other dimensions overflow numpy's sizes: (0, 2**32-1, 2**32-1)
            raise CompactError("the frame holds an array of an impossible shape") from None
        return array.copy(), stop
    if tag == 0x46:  # F
        (count,) = _COUNT.unpack_from(body, position)
        budget[0] -= count
        if budget[0] < 0:
            raise CompactError("the frame holds more values than the limit")
        return list(struct.unpack_from(f"<{count}d", body, position + 4)), position + 4 + 8 * count
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
    if tag == 0x78:  # x
        return _text(body, position)
    if tag == 0x73:  # s
        dtype, position = _dtype(body, position)
        stop = position + dtype.itemsize
        if stop > _len(body):
            raise CompactError("the frame ends early")
        return _frombuffer(body, dtype=dtype, count=1, offset=position)[0], stop
    if tag == 0x6E:  # n
        return None, position
    if tag == 0x74 or tag == 0x66:  # t, f
        return tag == 0x74, position
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
        _spend(budget, own.size)
        return own.copy(), position + 64
    if tag == 0x6F and settings[3] is not None:  # o
        if body[position] != 0x78:
            raise CompactError("the frame holds a malformed tag")
        name, position = _text(body, position + 1)
        if depth >= settings[0]:
            raise CompactError(f"the frame is nested more than {settings[0]} levels deep")
        inner, position = _value(body, position, depth + 1, budget, settings)
        return settings[3](name, inner, _already_decoded), position  # it raises for a tag it does not allow
    raise CompactError("the frame holds a value of a kind not allowed here")


def _already_decoded(value: Any) -> Any:
    return value


def _spend(budget: list[int], elements: int) -> None:
    budget[1] -= max(elements, 1)
    if budget[1] < 0:
        raise CompactError("the frame holds more array elements than the limit")


def _text(body: bytes, position: int) -> tuple[str, int]:
    (length,) = _COUNT.unpack_from(body, position)
    stop = position + 4 + length
    if stop > _len(body):
        raise CompactError("the frame ends early")
    try:
        return body[position + 4:stop].decode("utf-8"), stop
    except UnicodeDecodeError:
        raise CompactError("the frame holds text that is not UTF-8") from None


def is_numeric(dtype: np.dtype) -> bool:
    """Booleans, signed and unsigned integers and floats: everything a numeric answer needs, nothing that can
    carry code (object arrays) or structure (records, sub-arrays)."""
    return dtype.kind in _NUMERIC_KINDS and dtype.fields is None and dtype.subdtype is None


def numeric_dtype(code: Any) -> np.dtype | None:
    """The numeric dtype a code read from the other side names (``"<f8"``), or None for anything else; both
    forms of a frame read their dtypes through here. Each code is parsed once (a frame holds a handful)."""
    known = _known_dtypes.get(code) if _type(code) is _str else None
    if known is not None:
        return known
    if _type(code) is not _str or _len(code) > 4:
        return None
    try:
        dtype = np.dtype(code)
    except Exception:  # any: np.dtype raises SyntaxError for ",u2", and DeprecationWarning for "a1" under -W error
        return None
    if not is_numeric(dtype):
        return None
    if _len(_known_dtypes) < 64:
        _known_dtypes[code] = dtype
    return dtype


_known_dtypes: dict[str, np.dtype] = {}


def _dtype(body: bytes, position: int) -> tuple[np.dtype, int]:
    length = body[position]
    stop = position + 1 + length
    dtype = numeric_dtype(body[position + 1:stop].decode("ascii", "replace"))
    if dtype is None:
        raise CompactError("the frame holds numbers of an unusable dtype")
    return dtype, stop


_KEY_TYPES = frozenset({type(None), bool, int, float, str})
