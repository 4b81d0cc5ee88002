"""The wire protocol between the grader and a worker: plain data only.

A frame is a fixed header, a JSON document and a list of ``.npy`` payloads::

    b"AGW1" | u32 json_length | u32 array_count | json | (u64 length | npy bytes) * array_count

The JSON document is ``{"op": <str>, "data": <value>}``. Values are JSON scalars and lists; JSON
objects are reserved for tags, so nothing a worker sends can be mistaken for anything else:

* ``{"$array": i}``   the i-th ``.npy`` payload (numeric dtypes only, read with ``allow_pickle=False``);
* ``{"$small": [dtype, shape, base64]}``  an array of at most ``SMALL_ARRAY_SIZE`` numbers, inline: its
  raw bytes in base64 (callbacks send thousands of tiny arrays; a ``.npy`` header or a list of float
  reprs costs more to write and read than the numbers themselves). A 0-d array has the shape ``[]``;
* ``{"$scalar": [dtype, base64]}``  a numpy scalar (``np.float64(0.5)``), which stays one: code on the
  other side may use its ``.ndim`` or ``.dtype`` as it would on its own numbers;
* ``{"$tuple": [...]}`` and ``{"$dict": [[key, value], ...]}``
* extra tags that one side allows the other to send (the grader sends ``$callback`` and ``$function``
  to a worker; a worker may send no extra tags at all).

Values keep their types across: Python ``float``/``int``/``bool``, numpy scalars, 0-d and other
arrays, lists and tuples. Everything read from a worker passes through :func:`decode` with
:class:`Limits`, which is the trust boundary: a hostile worker can make a frame fail to decode, never
make the grader run its code, and never make it build more than the limits allow (arrays referenced
many times count every time, as the grader's consumers copy each reference).

This module also runs in the worker, after student code has had every chance to reassign module
attributes (``np.save``, ``np.ascontiguousarray``, ``builtins.isinstance``): what encoding relies on
is bound here, at import, before any student cell ran, and arrays are written with ``ndarray``'s own
methods (immutable, like every attribute of a built-in type).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import math
import os
import re
import select
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograder.worker import compact

MAGIC = b"AGW1"
COMPACT_MAGIC = b"AGC1"  # a frame in the binary form of autograder.worker.compact (no arrays after it)
_HEADER = struct.Struct(">4sII")
_ARRAY_LENGTH = struct.Struct(">Q")
SMALL_ARRAY_SIZE = 256  # arrays up to this many entries travel inline, as base64 of their bytes
# Arrays of at least this many entries that the other side sent in the current call go back by name (their
# fingerprint): below it, hashing costs more than sending the bytes in the compact form (measured: 1,000
# numbers 28 us by value, 31 us by name; 100,000 numbers 2.5 ms by value, 0.6 ms by name).
NAMED_ARRAY_SIZE = 1 << 15

# Bound before any student code runs (see the module's docstring).
_ndarray, _generic = np.ndarray, np.generic
_tobytes = np.ndarray.tobytes
_array, _dtype = np.array, np.dtype
_b64encode, _b64decode = base64.b64encode, base64.b64decode
_sha256 = hashlib.sha256
_dumps = json.dumps
_isinstance, _type, _len, _list, _tuple, _dict = isinstance, type, len, list, tuple, dict
_int, _float, _bool, _str = int, float, bool, str
_np_bool, _np_integer, _np_floating = np.bool_, np.integer, np.floating

TagDecoder = compact.TagDecoder  # both forms of a frame hand tags to and from their callers the same way
ObjectEncoder = compact.ObjectEncoder


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
    """Bounds on what one frame may hold and on what decoding it may build."""

    max_json_bytes: int = 4 * 2**20
    max_arrays: int = 1024
    max_array_bytes: int = 64 * 2**20
    max_frame_bytes: int = 128 * 2**20
    max_depth: int = 32
    max_ndim: int = 8
    max_nodes: int = 1_000_000  # JSON values (numbers, lists, tags) in one frame
    # Array elements in one decoded frame, counting each reference to a payload again: consumers copy
    # each one (as float64: 16 M elements is 128 MB).
    max_elements: int = 16 * 2**20


DEFAULT_LIMITS = Limits()


def fingerprint(array: np.ndarray) -> str:
    """A digest of an array's dtype, shape and contents: equal exactly when the array is unchanged.
    The worker sends it for each array argument after a call; the grader compares it with its own."""
    digest = _sha256(_str(array.dtype.str).encode() + _str(array.shape).encode())
    digest.update(_tobytes(array))
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------- encode
def encode(op: str, data: Any, *, encode_object: ObjectEncoder | None = None,
           limits: Limits = DEFAULT_LIMITS, sent: frozenset[str] | None = None) -> bytes:
    """Serialise one message into a frame: in the compact binary form (:mod:`autograder.worker.compact`)
    when its values allow it, else in the JSON form (:func:`encode_json`).

    ``encode_object`` may turn extra types into ``(tag, value)``; the value is encoded in turn.
    ``sent`` holds the fingerprints of the arrays the other side sent in the current call: an array (of at
    least ``NAMED_ARRAY_SIZE`` entries) with one of them travels by its fingerprint.
    """
    try:
        body = compact.encode_body(op, data, max_depth=limits.max_depth, max_bytes=limits.max_json_bytes,
                                   max_array_bytes=limits.max_array_bytes, sent=sent, fingerprint=fingerprint,
                                   named_size=NAMED_ARRAY_SIZE, encode_object=encode_object)
    except compact.NotCompact:  # another kind of value, or over the compact form's size
        return encode_json(op, data, encode_object=encode_object, limits=limits, sent=sent)
    return _HEADER.pack(COMPACT_MAGIC, _len(body), 0) + body


def encode_json(op: str, data: Any, *, encode_object: ObjectEncoder | None = None,
                limits: Limits = DEFAULT_LIMITS, sent: frozenset[str] | None = None) -> bytes:
    """Serialise one message into a frame of the JSON form (what :func:`encode` falls back to)."""
    arrays: list[bytes] = []
    document = {"op": op, "data": _to_json(data, arrays, 0, encode_object, limits, sent)}
    text = _dumps(document, separators=(",", ":"), allow_nan=True).encode("utf-8")
    if _len(text) > limits.max_json_bytes:
        raise EncodeError(f"the message is {_len(text):,} bytes of JSON, over the {limits.max_json_bytes:,} limit")
    parts = [_HEADER.pack(MAGIC, _len(text), _len(arrays)), text]
    for blob in arrays:
        parts.append(_ARRAY_LENGTH.pack(_len(blob)))
        parts.append(blob)
    return b"".join(parts)


def _to_json(value: Any, arrays: list[bytes], depth: int, encode_object: ObjectEncoder | None,
             limits: Limits, sent: frozenset[str] | None = None) -> Any:
    if depth > limits.max_depth:
        raise EncodeError(f"the value is nested more than {limits.max_depth} levels deep")
    kind = _type(value)
    if value is None or kind is _bool or kind is _str or kind is _int or kind is _float:
        return value
    if _isinstance(value, _generic):
        if not compact.is_numeric(value.dtype):
            raise EncodeError(f"a numpy value of dtype {value.dtype} cannot be sent; use numbers")
        return {"$scalar": [value.dtype.str, _b64encode(_tobytes(_array(value))).decode("ascii")]}
    if _isinstance(value, _ndarray):
        if value.dtype.kind == "O":
            value = _numbers_from_objects(value)
        if not compact.is_numeric(value.dtype):
            raise EncodeError(f"an array of dtype {value.dtype} cannot be sent; use numbers")
        if value.ndim > limits.max_ndim:
            raise EncodeError(f"an array with more than {limits.max_ndim} dimensions cannot be sent")
        if sent and value.size >= NAMED_ARRAY_SIZE:
            # The grader's own data handed back (X in grad(W, X, y)): its fingerprint instead of its bytes.
            digest = fingerprint(value)
            if digest in sent:
                return {"$sent": digest}
        # tobytes gives the elements in C order whatever the memory layout, and drops subclasses.
        if value.size <= SMALL_ARRAY_SIZE:
            # Inline: a .npy header costs more to write and parse than a few numbers, and callbacks
            # send thousands of tiny arrays. Raw bytes keep every bit (NaN payloads included).
            return {"$small": [value.dtype.str, _list(value.shape), _b64encode(_tobytes(value)).decode("ascii")]}
        return {"$array": _add_array(value, arrays, limits)}
    if _isinstance(value, _int | _float):  # subclasses: keep the number, drop the behaviour
        return _int(value) if _isinstance(value, _int) else _float(value)
    if _isinstance(value, _str):
        return _str(value)
    nested = depth + 1
    if _isinstance(value, _list):
        return [_to_json(item, arrays, nested, encode_object, limits, sent) for item in value]
    if _isinstance(value, _tuple):
        return {"$tuple": [_to_json(item, arrays, nested, encode_object, limits, sent) for item in value]}
    if _isinstance(value, _dict):
        return {"$dict": [[_to_json(k, arrays, nested, encode_object, limits, sent),
                           _to_json(v, arrays, nested, encode_object, limits, sent)] for k, v in value.items()]}
    if encode_object is not None:
        tagged = encode_object(value)
        if tagged is not None:
            tag, inner = tagged
            return {tag: _to_json(inner, arrays, nested, encode_object, limits, sent)}
    raise EncodeError(f"a value of type {kind.__name__} cannot be sent as plain data")


def _numbers_from_objects(array: np.ndarray) -> np.ndarray:
    """An object array whose entries are all real numbers (np.frompyfunc makes these) as the numeric array
    it stands for: bool, int64 or float64. Anything else in it (strings, objects) cannot be sent."""
    items = array.ravel().tolist()
    kinds = set()
    for item in items:
        if _isinstance(item, _bool | _np_bool):
            kinds.add("b")
        elif _isinstance(item, _int | _np_integer):
            kinds.add("i")
        elif _isinstance(item, _float | _np_floating):
            kinds.add("f")
        else:
            raise EncodeError(f"an array of dtype object holding a {_type(item).__name__} cannot be sent; use numbers")
    dtype = "bool" if kinds == {"b"} else "int64" if kinds <= {"i", "b"} and "i" in kinds else "float64"
    return _array(items, dtype=dtype).reshape(array.shape)


def _add_array(array: np.ndarray, arrays: list[bytes], limits: Limits) -> int:
    if _len(arrays) >= limits.max_arrays:
        raise EncodeError(f"the message holds more than {limits.max_arrays} arrays")
    blob = _npy_bytes(array)
    if _len(blob) > limits.max_array_bytes:
        raise EncodeError(f"an array of {_len(blob):,} bytes is over the {limits.max_array_bytes:,} limit")
    arrays.append(blob)
    return _len(arrays) - 1


def _npy_bytes(array: np.ndarray) -> bytes:
    """The ``.npy`` format (version 1.0) written directly, in C order: no ``np.save``, whose helpers are
    module attributes student code could have replaced."""
    shape = "(" + "".join(f"{_int(n)}," for n in array.shape) + ")"
    header = f"{{'descr': {array.dtype.str!r}, 'fortran_order': False, 'shape': {shape}, }}"
    padding = 64 - (10 + _len(header) + 1) % 64
    header_bytes = (header + " " * padding + "\n").encode("latin1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", _len(header_bytes)) + header_bytes + _tobytes(array)


# --------------------------------------------------------------------------------------------- decode
def decode(text: bytes, arrays: list[bytes], *, decode_tag: TagDecoder | None = None,
           limits: Limits = DEFAULT_LIMITS, sent: dict[str, np.ndarray] | None = None,
           magic: bytes = MAGIC) -> tuple[str, Any]:
    """Turn a frame's parts back into ``(op, data)``; raise :class:`ProtocolError` on anything odd.

    ``sent`` (the grader's, by fingerprint: the arrays it sent in the current call) allows ``$sent``
    tags: each becomes a copy of this side's own array, never anything the other side made.
    ``magic``: the frame's marker; a compact frame's ``text`` is its binary body.
    """
    if magic == COMPACT_MAGIC:
        try:
            return compact.decode_body(text, max_depth=limits.max_depth, max_ndim=limits.max_ndim,
                                       max_nodes=limits.max_nodes, max_elements=limits.max_elements, sent=sent,
                                       decode_tag=decode_tag)
        except compact.CompactError as error:
            raise ProtocolError(str(error)) from None
    try:
        document = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ProtocolError(f"the frame is not valid JSON ({type(error).__name__})") from None
    if not (isinstance(document, dict) and set(document) == {"op", "data"}
            and isinstance(document["op"], str)):
        raise ProtocolError("the frame is not a message of the form {op, data}")
    loaded: dict[int, np.ndarray] = {}
    # What decoding may still build; counted inline (a function call per JSON value was a fifth of the cost).
    nodes, elements = limits.max_nodes, limits.max_elements
    max_depth = limits.max_depth

    def too_many(what: str) -> ProtocolError:
        return ProtocolError(f"the frame holds more {what} than the limit")

    def spend_elements(array: np.ndarray) -> np.ndarray:
        nonlocal elements
        elements -= max(array.size, 1)
        if elements < 0:
            raise too_many("array elements (each reference to an array counted)")
        return array

    def array_at(index: Any) -> np.ndarray:
        if type(index) is not int or not 0 <= index < len(arrays):
            raise ProtocolError("the frame refers to an array it does not hold")
        if index not in loaded:
            loaded[index] = _load_array(arrays[index], limits)
        return spend_elements(loaded[index])

    def from_json(value: Any, depth: int) -> Any:
        nonlocal nodes
        if depth > max_depth:
            raise ProtocolError(f"the frame is nested more than {max_depth} levels deep")
        nodes -= 1
        if nodes < 0:
            raise too_many("values")
        kind = type(value)  # json.loads makes exactly these types, never subclasses
        if kind in _JSON_SCALARS:
            return value
        if kind is list:
            return [from_json(item, depth + 1) for item in value]
        if not (kind is dict and len(value) == 1):
            raise ProtocolError("the frame holds an object that is not a known tag")
        ((tag, inner),) = value.items()
        if tag == "$small":
            return spend_elements(_small_array(inner, limits))
        if tag == "$array":
            return array_at(inner)
        if tag == "$scalar":
            return _scalar(inner)
        if tag == "$sent" and sent is not None:
            own = sent.get(inner) if type(inner) is str else None
            if own is None:
                raise ProtocolError("the frame refers to an array this call did not send")
            return spend_elements(own).copy()
        if tag == "$tuple" and type(inner) is list:
            return tuple([from_json(item, depth + 1) for item in inner])
        if tag == "$dict" and type(inner) is list:
            pairs = [from_json(pair, depth + 1) for pair in inner]
            for pair in pairs:
                if not (type(pair) is list and len(pair) == 2 and type(pair[0]) in _JSON_SCALARS):
                    raise ProtocolError("the frame holds a malformed dict")
            return {key: item for key, item in pairs}
        if decode_tag is not None:
            return decode_tag(tag, inner, lambda v: from_json(v, depth + 1))
        raise ProtocolError(f"the frame holds a tag {tag[:40]!r} that is not allowed here")

    return document["op"], from_json(document["data"], 0)


_JSON_SCALARS = frozenset({type(None), bool, int, float, str})
def _numeric_dtype(code: Any, what: str) -> np.dtype:
    dtype = compact.numeric_dtype(code)
    if dtype is None:
        raise ProtocolError(f"the frame holds {what} of an unusable dtype {str(code)[:8]!r}")
    return dtype


def _raw_bytes(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise ProtocolError(f"the frame holds a malformed {what}")
    try:
        # Strict: only the alphabet, padding only at the end (what b64encode writes); b64decode with
        # validate=True checked the same with a regular expression, at several times the cost.
        return binascii.a2b_base64(text, strict_mode=True)
    except (ValueError, binascii.Error):
        raise ProtocolError(f"the frame holds {what} whose bytes are not base64") from None


def _small_array(inner: Any, limits: Limits) -> np.ndarray:
    """Rebuild an inlined array, checking every part: dtype, shape and bytes come from the worker."""
    if not (isinstance(inner, list) and len(inner) == 3 and isinstance(inner[1], list)):
        raise ProtocolError("the frame holds a malformed small array")
    code, shape, text = inner
    if len(shape) > limits.max_ndim:
        raise ProtocolError("the frame holds a small array with a malformed shape")
    size = 1
    for n in shape:
        if not (type(n) is int and 0 <= n <= SMALL_ARRAY_SIZE):
            raise ProtocolError("the frame holds a small array with a malformed shape")
        size *= n
    if size > SMALL_ARRAY_SIZE:
        raise ProtocolError("the frame holds a small array with a malformed shape")
    dtype = _numeric_dtype(code, "a small array")
    raw = _raw_bytes(text, "a small array")
    if len(raw) != size * dtype.itemsize:
        raise ProtocolError("the frame holds a small array whose shape and bytes disagree")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()  # a writable array of its own


def _scalar(inner: Any) -> np.generic:
    if not (isinstance(inner, list) and len(inner) == 2):
        raise ProtocolError("the frame holds a malformed numpy scalar")
    dtype = _numeric_dtype(inner[0], "a numpy scalar")
    raw = _raw_bytes(inner[1], "a numpy scalar")
    if len(raw) != dtype.itemsize:
        raise ProtocolError("the frame holds a numpy scalar whose dtype and bytes disagree")
    return np.frombuffer(raw, dtype=dtype)[0]


# The header _npy_bytes writes, exactly: read without np.load, which took some 130 us per array (a
# callback that passes an array of the grader's data paid it every time). Any other header goes to np.load.
_OWN_NPY_HEADER = re.compile(rb"\{'descr': '([<>|=][a-z][0-9]{1,2})', 'fortran_order': False, "
                             rb"'shape': \(((?:[0-9]{1,12},){0,8})\), \} *\n")
_NPY_PREFIX = b"\x93NUMPY\x01\x00"


def _load_array(blob: bytes, limits: Limits) -> np.ndarray:
    own = _own_npy(blob, limits)
    if own is not None:
        return own
    try:
        fits = _npy_bytes_match_header(blob)
        array = np.load(io.BytesIO(blob), allow_pickle=False) if fits else None
    except Exception as error:  # numpy raises several types for malformed headers
        raise ProtocolError(f"the frame holds an unreadable array ({type(error).__name__})") from None
    if array is None:
        raise ProtocolError("the frame holds an unreadable array: its header's shape and its bytes disagree")
    if not isinstance(array, np.ndarray) or not compact.is_numeric(array.dtype):
        raise ProtocolError("the frame holds an array that is not numeric")
    if array.ndim > limits.max_ndim:
        raise ProtocolError(f"the frame holds an array with more than {limits.max_ndim} dimensions")
    return array


def _npy_bytes_match_header(blob: bytes) -> bool:
    """Whether a ``.npy`` blob holds exactly the bytes its header declares. Checked before np.load, which
    allocates the declared shape before reading a byte: a header of a hundred bytes claiming ``(2**31,)`` made
    it reserve 16 GB (and try 320 GB for ``(4 * 10**10,)``) before it found the data missing."""
    stream = io.BytesIO(blob)
    version = np.lib.format.read_magic(stream)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    shape, _, dtype = read_header(stream)
    return math.prod(shape) * dtype.itemsize == _len(blob) - stream.tell()


def _own_npy(blob: bytes, limits: Limits) -> np.ndarray | None:
    """An array in the exact form this module writes, checked part by part; None for any other form."""
    if not blob.startswith(_NPY_PREFIX) or _len(blob) < 10:
        return None
    (header_length,) = struct.unpack("<H", blob[8:10])
    found = _OWN_NPY_HEADER.fullmatch(blob, 10, 10 + header_length)
    if found is None:
        return None
    dtype = _numeric_dtype(found.group(1).decode("ascii"), "an array")
    shape = tuple(_int(n) for n in found.group(2).split(b",") if n)
    if _len(shape) > limits.max_ndim:
        raise ProtocolError(f"the frame holds an array with more than {limits.max_ndim} dimensions")
    data = memoryview(blob)[10 + header_length:]
    if _len(data) != math.prod(shape) * dtype.itemsize:
        raise ProtocolError("the frame holds an array whose shape and bytes disagree")
    try:
        array = np.frombuffer(data, dtype=dtype).reshape(shape)
    except ValueError:  # an empty array whose other dimensions overflow numpy's sizes: (0, 10**11, 10**11)
        raise ProtocolError("the frame holds an array of an impossible shape") from None
    return array.copy()  # writable, as np.load's would be


def _read_frame(read_exactly: Callable[[int], bytes], limits: Limits) -> tuple[bytes, bytes, list[bytes]]:
    """A frame's marker, JSON text (or compact body) and array payloads, read piece by piece, each length
    checked before it is read."""
    magic, json_length, array_count = _HEADER.unpack(read_exactly(_HEADER.size))
    if magic != MAGIC and not (magic == COMPACT_MAGIC and array_count == 0):
        raise ProtocolError("the frame does not start with the protocol's marker")
    if json_length > limits.max_json_bytes:
        raise ProtocolError(f"the frame announces {json_length:,} bytes of JSON, over the limit")
    if array_count > limits.max_arrays:
        raise ProtocolError(f"the frame announces {array_count:,} arrays, over the limit")
    text = read_exactly(json_length)
    total = json_length
    arrays = []
    for _ in range(array_count):
        (length,) = _ARRAY_LENGTH.unpack(read_exactly(_ARRAY_LENGTH.size))
        total += length
        if length > limits.max_array_bytes or total > limits.max_frame_bytes:
            raise ProtocolError(f"the frame announces an array of {length:,} bytes, over the limit")
        arrays.append(read_exactly(length))
    return magic, text, arrays


def decode_frame(frame: bytes, *, decode_tag: TagDecoder | None = None, limits: Limits = DEFAULT_LIMITS,
                 sent: dict[str, np.ndarray] | None = None) -> tuple[str, Any]:
    """Decode one whole frame held in memory (what a channel does with the bytes it reads)."""
    view = memoryview(frame)
    position = 0

    def read_exactly(count: int) -> bytes:
        nonlocal position
        if position + count > len(view):
            raise ProtocolError("the frame ends early")
        piece = bytes(view[position:position + count])
        position += count
        return piece

    magic, text, arrays = _read_frame(read_exactly, limits)
    return decode(text, arrays, decode_tag=decode_tag, limits=limits, sent=sent, magic=magic)


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
        self.nonblocking = nonblocking
        if nonblocking:
            os.set_blocking(read_fd, False)
            os.set_blocking(write_fd, False)

    def send(self, frame: bytes, deadline: float | None = None) -> None:
        # Write first and wait only when the pipe is full: a callback's small frame fits at once, and
        # a select() before every write was a system call per frame for nothing.
        view = memoryview(frame)
        while view:
            if not self.nonblocking and deadline is not None:  # a blocking write would not stop in time
                self._wait(self.write_fd, writable=True, deadline=deadline)
            try:
                written = os.write(self.write_fd, view)
            except BlockingIOError:
                self._wait(self.write_fd, writable=True, deadline=deadline)
                continue
            except OSError as error:  # BrokenPipeError included
                raise ChannelClosed("the other side closed the channel") from error
            view = view[written:]

    def receive(self, deadline: float | None = None, *, decode_tag: TagDecoder | None = None,
                sent: dict[str, np.ndarray] | None = None) -> tuple[str, Any]:
        magic, text, arrays = _read_frame(lambda count: self._read_exactly(count, deadline), self.limits)
        return decode(text, arrays, decode_tag=decode_tag, limits=self.limits, sent=sent, magic=magic)

    def _read_exactly(self, count: int, deadline: float | None) -> bytes:
        while len(self._buffer) < count:
            if self.nonblocking or deadline is not None:  # the worker's blocking reads just wait
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
