"""Hostile frames against the grader's decoder: mutated and forged compact bodies must decode to plain data
within the limits, or be refused with ProtocolError; nothing else may come out of the trust boundary.

Everything is seeded: a failure names its seed and input, and reruns the same way.
"""

from __future__ import annotations

import io
import json
import random
import re
import struct
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import pytest

from autograder.grader.alarms import raise_after
from autograder.worker import wire
from tests.test_wire import VALUES_OF_EVERY_KIND, receive_raw

M32 = 2**32 - 1
SMALL = wire.Limits(max_json_bytes=4096, max_depth=4, max_ndim=3, max_nodes=60, max_elements=100)
# The same, with room for more values than array elements: 101 empty arrays reach the element limit first.
ROOMY_NODES = wire.Limits(max_json_bytes=16384, max_depth=4, max_ndim=3, max_nodes=1000, max_elements=100)
NUMERIC_KINDS = frozenset("biuf")
# A decoded value costs at most this many bytes of Python objects per byte of frame (an empty list is 5 bytes
# of frame and a 56-byte list plus its slot; measured worst case about 16), plus the array elements it holds.
BYTES_PER_FRAME_BYTE = 20
BYTES_PER_ELEMENT = 16  # the widest numeric dtype (<f16)
MEMORY_SLACK = 512 * 1024

SEED_VALUES: list[Any] = [
    *VALUES_OF_EVERY_KIND, None, False, 0, -(2**63), 2**63 - 1, 0.0, float("nan"), -float("inf"), "", "text é ✓",
    [], (), {}, [0.5] * 9, [1, 2.5, None, "x"], (1.0, (2.0, (3.0,))), {"lr": 0.5, 3: [1, (2.0,)], None: True},
    np.float64(-0.0), np.int8(-5), np.uint16(9), np.float16(1.5), np.bool_(False), np.uint64(2**64 - 1),
    np.array(3.5), np.array(True), np.zeros(0), np.zeros((0, 3)), np.zeros((2, 0, 4), dtype=np.int32),
    np.arange(12.0).reshape(3, 4), np.arange(24, dtype=np.int64).reshape(2, 3, 4), np.arange(5, dtype=np.uint8),
    np.array([True, False, True]), np.arange(6, dtype=np.float32), np.arange(4, dtype=np.int16)[::-1],
    np.ones((2, 2, 2, 2)), [np.arange(3.0), {"w": np.eye(2)}, (np.int32(1), [np.float64(2.0)])],
    {"nested": [[[[[1.0]]]]]}, [[1.0, 2.0], [3.0, 4.0]],
]


# ------------------------------------------------------------------------------------------------ helpers
def compact_frame(body: bytes) -> bytes:
    return struct.pack(">4sII", wire.COMPACT_MAGIC, len(body), 0) + body


OP = bytes([len(b"callback_return")]) + b"callback_return"


def seed_frames() -> list[bytes]:
    frames = [wire.encode("callback_return", value) for value in SEED_VALUES]
    assert sum(frame.startswith(wire.COMPACT_MAGIC) for frame in frames) >= len(frames) - 3  # the form under attack
    return frames


def check_plain(value: Any, limits: wire.Limits) -> None:
    """``value`` holds only plain data, and no more of it than ``limits`` allow (counted as decoding spends)."""
    spent = {"nodes": 0, "elements": 0}

    def walk(item: Any, depth: int) -> None:
        spent["nodes"] += 1
        kind = type(item)
        if item is None or kind in (bool, int, float, str):
            return
        if kind is np.ndarray:
            assert item.dtype.kind in NUMERIC_KINDS and item.dtype.fields is None, item.dtype
            assert item.ndim <= limits.max_ndim
            spent["elements"] += max(item.size, 1)
            return
        if isinstance(item, np.generic):
            assert kind.__module__ == "numpy" and item.dtype.kind in NUMERIC_KINDS, kind
            return
        assert kind in (list, tuple, dict), f"not plain data: {kind!r}"
        assert depth < limits.max_depth, "nested deeper than the limit"
        if kind is dict:
            for key, inner in item.items():
                assert type(key) in (type(None), bool, int, float, str), f"dict key {type(key)!r}"
                spent["nodes"] += 1
                walk(inner, depth + 1)
        else:
            for inner in item:
                walk(inner, depth + 1)

    walk(value, 0)
    # The JSON form counts a tuple's or dict's tag as a value of its own; the compact form counts less.
    assert spent["nodes"] <= limits.max_nodes, spent
    assert spent["elements"] <= limits.max_elements, spent


class Hang(Exception):
    pass


def time_limit(seconds: float) -> AbstractContextManager[None]:
    """Fail instead of hanging (a decoder loop a forged count could make endless)."""
    return raise_after(seconds, lambda: Hang(f"decoding took more than {seconds} s"))


def decode_hostile(frame: bytes, limits: wire.Limits, *, measure: bool = False,
                   sent: dict[str, np.ndarray] | None = None) -> Any:
    """Decode as the grader does (no decode_tag; sent=None but in a call's answer); return the value or the
    ProtocolError. Any other exception fails the test with the frame that caused it."""
    if measure:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
    try:
        # Warnings as errors: a warning on the way (a deprecated dtype code) must not escape as an exception
        # where the grader runs with -W error.
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _, value = wire.decode_frame(frame, limits=limits, sent=sent)
    except wire.ProtocolError as error:
        value = error
    except Exception as error:  # the point: report which input got through
        pytest.fail(f"{type(error).__name__}: {error} for frame {frame[:200]!r} (length {len(frame)})")
    if measure:
        peak = tracemalloc.get_traced_memory()[1] - base
        bound = BYTES_PER_FRAME_BYTE * len(frame) + BYTES_PER_ELEMENT * limits.max_elements + MEMORY_SLACK
        assert peak <= bound, f"decoding built {peak:,} bytes from a frame of {len(frame):,}: {frame[:200]!r}"
    if not isinstance(value, wire.ProtocolError):
        check_plain(value, limits)
    return value


@pytest.fixture
def traced_memory() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------------------------------------- mutations
FORGED_COUNTS = [0, 1, 2, 3, 7, 255, 256, 65535, 2**20, 2**31 - 1, 2**31, M32 - 1, M32]
DTYPE_CODES = [b"<f8", b"<i8", b"|b1", b"|u1", b"<f4", b"<i2", b">f8", b"<f2", b"<f16", b"|O8", b"<M8", b"<m8",
               b"<c16", b"V8", b"<U4", b"S3", b"O", b"a1", b"|S0", b"<c8", b"i,i", b"(2)i", b"f8,", b"", b"<", b"\xff8"]
TAGS = b"ntfidxlumFsaho" + bytes([0, 255])


def forge_count(body: bytearray, rng: random.Random) -> None:
    at = rng.randrange(len(body))
    body[at:at + 4] = struct.pack("<I", rng.choice([*FORGED_COUNTS, len(body), len(body) - at, rng.getrandbits(32)]))


def forge_array_header(body: bytearray, rng: random.Random) -> None:
    """Rewrite the dtype, ndim or shape of an array or numpy scalar found in the body."""
    starts = [i for i in range(len(body) - 1) if body[i] in b"as" and 1 <= body[i + 1] <= 4]
    if not starts:
        forge_count(body, rng)
        return
    at = rng.choice(starts)
    code_end = at + 2 + body[at + 1]
    choice = rng.randrange(4)
    if choice == 0:  # another dtype code, keeping or not the length byte honest
        code = rng.choice(DTYPE_CODES)
        length = len(code) if rng.random() < 0.8 else rng.randrange(256)
        body[at + 1:code_end] = bytes([length]) + code
    elif choice == 1 and body[at] == ord("a") and code_end < len(body):  # ndim
        body[code_end] = rng.choice([0, 1, 2, 3, 4, 8, 9, 32, 255])
    elif body[at] == ord("a") and code_end < len(body):  # the shape: huge, zero, product past 2**64
        ndim = rng.choice([body[code_end], 1, 2, 3, 8])
        dims = [rng.choice([0, 1, 2, 3, 65536, 2**31, M32]) for _ in range(ndim)]
        old_ndim = body[code_end]
        body[code_end:code_end + 1 + 4 * old_ndim] = bytes([ndim]) + struct.pack(f"<{ndim}I", *dims)
    else:
        body[at] = rng.choice(TAGS)


def mutate(body: bytes, rng: random.Random) -> bytes:
    mutated = bytearray(body)
    for _ in range(rng.choice([1, 1, 1, 2, 3, 8])):
        if not mutated:
            mutated.append(rng.randrange(256))
        action = rng.randrange(9)
        at = rng.randrange(len(mutated))
        if action == 0:
            mutated[at] ^= 1 << rng.randrange(8)
        elif action == 1:
            mutated[at] = rng.randrange(256)
        elif action == 2:
            mutated.insert(at, rng.choice([rng.randrange(256), *TAGS]))
        elif action == 3:
            del mutated[at:at + rng.choice([1, 1, 2, 4, 8])]
        elif action == 4:
            del mutated[rng.randrange(len(mutated) + 1):]
        elif action == 5:
            forge_count(mutated, rng)
        elif action == 6:
            forge_array_header(mutated, rng)
        elif action == 7:  # a piece of the body again: repeated values, counts that now point elsewhere
            piece = mutated[at:at + rng.randrange(1, 32)]
            mutated[at:at] = piece * rng.choice([1, 2, 16])
        else:
            mutated[at] = rng.choice(TAGS)
    return bytes(mutated)


def mutated_frames(seed: int, count: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    frames = seed_frames()
    for _ in range(count):
        frame = rng.choice(frames)
        if rng.random() < 0.85:  # the body changed, the header honest about its length: the decoder's work
            yield compact_frame(mutate(frame[12:], rng)) if frame.startswith(wire.COMPACT_MAGIC) else mutate(frame, rng)
        else:  # the whole frame, header included
            yield mutate(frame, rng)


# ------------------------------------------------------------------------------------------- the property
def test_the_seed_frames_decode_to_what_was_sent():
    for value, frame in zip(SEED_VALUES, seed_frames(), strict=True):
        got = decode_hostile(frame, wire.DEFAULT_LIMITS)
        assert not isinstance(got, wire.ProtocolError), (value, got)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mutated_compact_frames_decode_to_plain_data_or_protocol_error(seed):
    outcomes = {"value": 0, "refused": 0}
    with time_limit(20):
        for frame in mutated_frames(seed, 6000):
            got = decode_hostile(frame, wire.DEFAULT_LIMITS)
            outcomes["refused" if isinstance(got, wire.ProtocolError) else "value"] += 1
    # The mutations reach both outcomes: a fuzzer refused at the first byte every time tests nothing.
    assert outcomes["value"] > 300 and outcomes["refused"] > 1500, outcomes


@pytest.mark.parametrize("seed", [4, 5])
def test_mutated_frames_stay_within_small_limits(seed):
    """Small limits make every bound bite: check_plain counts nodes, elements, depth and ndim of what came out."""
    refused_for_limits = 0
    with time_limit(20):
        for frame in mutated_frames(seed, 5000):
            got = decode_hostile(frame, SMALL)
            refused_for_limits += isinstance(got, wire.ProtocolError) and "limit" in str(got)
    assert refused_for_limits > 50


def test_decoding_mutated_frames_builds_memory_bounded_by_the_frame_and_the_limits(traced_memory):
    with time_limit(20):
        for index, frame in enumerate(mutated_frames(6, 1500)):
            decode_hostile(frame, SMALL if index % 2 else wire.DEFAULT_LIMITS, measure=True)


# ---------------------------------------------------------------------------------------- hostile bodies
def array_body(code: bytes, shape: tuple[int, ...], data: bytes = b"", ndim: int | None = None) -> bytes:
    ndim = len(shape) if ndim is None else ndim
    return b"a" + bytes([len(code)]) + code + bytes([ndim]) + struct.pack(f"<{len(shape)}I", *shape) + data


def list_body(items: list[bytes], tag: bytes = b"l") -> bytes:
    return tag + struct.pack("<I", len(items)) + b"".join(items)


def nested(depth: int, tag: bytes) -> bytes:
    inner = b"n"
    for _ in range(depth):
        inner = tag + struct.pack("<I", 1) + (b"n" if tag == b"m" else b"") + inner
    return inner


def text(raw: bytes) -> bytes:
    return b"x" + struct.pack("<I", len(raw)) + raw


HOSTILE_DTYPES = [b"|O8", b"<M8", b"<m8", b"<c16", b"<c8", b"V8", b"<U4", b"S3", b"O", b"a1", b"|S0", b"i,i", b"(2)i",
                  b"f8,", b"<T", b"?", b"", b"\xff\xfe", b"<f8\x00", b"e", b"<f8<f8"]

HOSTILE_BODIES: dict[str, bytes] = {
    "empty": b"",
    "op only": OP,
    "op too long": bytes([255]) + b"a" * 10,
    "op not ascii": bytes([2]) + "é".encode(),
    "op not a name": bytes([3]) + b"a b" + b"n",
    "trailing bytes": OP + b"nn",
    "deep lists": OP + nested(5000, b"l"),
    "deep tuples": OP + nested(5000, b"u"),
    "deep dicts": OP + nested(5000, b"m"),
    "list count 2**32-1": OP + b"l" + struct.pack("<I", M32) + b"n" * 64,
    "dict count 2**32-1": OP + b"m" + struct.pack("<I", M32) + b"nn" * 32,
    "floats count 2**32-1": OP + b"F" + struct.pack("<I", M32) + b"\0" * 64,
    "floats count just under the node limit": OP + b"F" + struct.pack("<I", 999_990) + b"\0" * 64,
    "text length 2**32-1": OP + b"x" + struct.pack("<I", M32) + b"abc",
    "text not utf-8": OP + text(b"\xff\xfe"),
    "surrogate in utf-8": OP + text(b"\xed\xa0\x80"),
    "dict key a list": OP + b"m" + struct.pack("<I", 1) + list_body([]) + b"n",
    "dict key an array": OP + b"m" + struct.pack("<I", 1) + array_body(b"<f8", ()) + b"\0" * 8 + b"n",
    "dims product past 2**64": OP + array_body(b"<f8", (M32,) * 8),
    "dims product past 2**64 bool": OP + array_body(b"|b1", (M32, M32, M32)),
    "empty with huge dims": OP + array_body(b"<f8", (0, M32, M32)),
    "huge dims then empty": OP + array_body(b"<f8", (M32, M32, 0)),
    "empty with 2**31 dims": OP + array_body(b"<f16", (0, 2**31, 2**31)),
    "ndim 255, shape short": OP + array_body(b"<f8", (1, 1), ndim=255),
    "ndim 9": OP + array_body(b"<f8", (1,) * 9, b"\0" * 8),
    "shape larger than bytes": OP + array_body(b"<f8", (1000,), b"\0" * 16),
    "shape smaller than bytes": OP + array_body(b"<f8", (1,), b"\0" * 16),
    "many empty arrays": OP + list_body([array_body(b"<f8", (0,))] * 5000),
    "0-d arrays past the small limits": OP + list_body([array_body(b"|u1", (), b"\1")] * 150),
    "tag o from a worker": OP + b"o" + text(b"$callback") + b"i" + struct.pack("<q", 0),
    "tag o without its name": OP + b"o" + b"n",
    "tag h from a worker": OP + b"h" + b"0" * 64,
    "tag h truncated": OP + b"h" + b"ab",
    "tag zero": OP + b"\0",
    "scalar truncated": OP + b"s\x03<f8\0\0",
    "dtype length past the end": OP + b"s\xff<f8",
    "float truncated": OP + b"d\0\0",
    "int truncated": OP + b"i\0",
}
for code in HOSTILE_DTYPES:
    HOSTILE_BODIES[f"array of dtype {code!r}"] = OP + array_body(code, (2,), b"\0" * 32)
    HOSTILE_BODIES[f"scalar of dtype {code!r}"] = OP + b"s" + bytes([len(code)]) + code + b"\0" * 16


def refusing(body: bytes, limits: wire.Limits = wire.DEFAULT_LIMITS) -> wire.ProtocolError | Any:
    return decode_hostile(compact_frame(body), limits, measure=True)


@pytest.mark.parametrize("name", list(HOSTILE_BODIES))
def test_hostile_bodies_are_refused_or_plain(name, traced_memory):
    with time_limit(10):
        refusing(HOSTILE_BODIES[name])
        refusing(HOSTILE_BODIES[name], SMALL)


@pytest.mark.parametrize("name", [name for name in HOSTILE_BODIES if name not in {
    "many empty arrays", "0-d arrays past the small limits"}])
def test_every_forged_body_here_is_refused(name):
    """The forged bodies above (all but 50,000 empty arrays, within the default limits) break the form or a
    limit: each is refused, not half-read."""
    assert isinstance(refusing(HOSTILE_BODIES[name]), wire.ProtocolError)


@pytest.mark.parametrize("code", [b">f8", b"<f2", b"|u1", b"<i2", b"<f16"])
def test_numeric_dtypes_of_any_byte_order_and_width_come_through_as_numbers(code):
    dtype = np.dtype(code.decode())
    got = refusing(OP + array_body(code, (2,), b"\1" * 2 * dtype.itemsize))
    assert type(got) is np.ndarray and got.dtype == dtype and got.shape == (2,)


@pytest.mark.parametrize(("body", "limit"), [
    (OP + nested(ROOMY_NODES.max_depth + 1, b"l"), "levels deep"),
    (OP + list_body([b"n"] * ROOMY_NODES.max_nodes), "values"),
    (OP + b"F" + struct.pack("<I", 1000) + b"\0" * 8000, "values"),
    (OP + array_body(b"<f8", (101,), b"\0" * 8 * 101), "elements"),
    (OP + list_body([array_body(b"<f8", (0,))] * 101), "elements"),  # each empty array counts one
    (OP + array_body(b"<f8", (1,) * (ROOMY_NODES.max_ndim + 1), b"\0" * 8), "dimensions"),
], ids=["depth", "nodes", "nodes-in-floats", "elements", "elements-of-empty-arrays", "ndim"])
def test_each_limit_is_enforced_on_compact_bodies(body, limit):
    got = refusing(body, ROOMY_NODES)
    assert isinstance(got, wire.ProtocolError) and limit in str(got), got
    # one step below each limit, the same kind of body is read
    for below in (OP + nested(4, b"l"), OP + list_body([b"n"] * 999), OP + b"F" + struct.pack("<I", 999) + b"\0" * 7992,
                  OP + array_body(b"<f8", (100,), b"\0" * 800), OP + list_body([array_body(b"<f8", (0,))] * 100),
                  OP + array_body(b"<f8", (1, 1, 1), b"\0" * 8)):
        assert not isinstance(refusing(below, ROOMY_NODES), wire.ProtocolError)


def test_a_body_over_the_byte_limit_is_refused_before_it_is_read():
    body = OP + list_body([b"n"] * SMALL.max_json_bytes)
    got = refusing(body, SMALL)
    assert isinstance(got, wire.ProtocolError) and "over the limit" in str(got)


def test_hostile_bytes_through_a_channel_end_in_protocol_error():
    rng = random.Random(7)
    warnings.simplefilter("error")  # reset by pytest after the test
    for frame in [*(compact_frame(body) for body in list(HOSTILE_BODIES.values())[:12]),
                  *mutated_frames(8, 20), b"AGC1\0\0\0\x05", b""]:
        try:
            _, value = receive_raw(frame + bytes(rng.randrange(256) for _ in range(rng.randrange(3))))
        except wire.ProtocolError:
            continue
        check_plain(value, wire.DEFAULT_LIMITS)


# ------------------------------------------------------------------------------------- found by this file
@pytest.mark.parametrize("shape", [(0, M32, M32), (M32, M32, 0), (0, M32, M32, M32, M32, M32, M32, M32)])
def test_regression_an_empty_compact_array_with_dimensions_past_numpys_sizes_is_refused(shape):
    # numpy's reshape raised ValueError ("array is too big") out of the decoder for these.
    got = refusing(OP + array_body(b"<f8", shape))
    assert isinstance(got, wire.ProtocolError) and "impossible shape" in str(got)


def test_regression_an_empty_npy_array_with_dimensions_past_numpys_sizes_is_refused():
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (0,999999999999,999999999999,), }"
    padded = header + " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    blob = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(padded)) + padded.encode("latin1")
    document = json.dumps({"op": "callback_return", "data": {"$array": 0}}).encode()
    frame = struct.pack(">4sII", wire.MAGIC, len(document), 1) + document + struct.pack(">Q", len(blob)) + blob
    got = decode_hostile(frame, wire.DEFAULT_LIMITS)
    assert isinstance(got, wire.ProtocolError) and "impossible shape" in str(got)


@pytest.mark.parametrize(("code", "make_frame"), [
    (code, make) for code in ("a1", ",u2", "f8,") for make in (
        lambda code: compact_frame(OP + b"s" + bytes([len(code)]) + code.encode() + b"\0\0"),
        lambda code: compact_frame(OP + array_body(code.encode(), (1,), b"\0\0")),
        lambda code: json_frame({"$scalar": [code, "AAA="]}),
        lambda code: json_frame({"$small": [code, [1], "AAA="]}),
    )], ids=lambda item: item if isinstance(item, str) else "")
def test_regression_a_dtype_code_numpy_chokes_on_is_refused(code: str, make_frame: Callable[[str], bytes]):
    # np.dtype(",u2") raised SyntaxError out of the decoder, and np.dtype("a1") a DeprecationWarning under -W error.
    got = decode_hostile(make_frame(code), wire.DEFAULT_LIMITS)
    assert isinstance(got, wire.ProtocolError) and "dtype" in str(got)


def json_frame(data: Any) -> bytes:
    document = json.dumps({"op": "callback_return", "data": data}).encode()
    return struct.pack(">4sII", wire.MAGIC, len(document), 0) + document


@pytest.mark.parametrize("shape", [(10**8,), (2**31,), (4 * 10**10,), (2**20, 2**20)])
def test_regression_a_npy_header_claiming_gigabytes_is_refused_without_reserving_them(shape, traced_memory):
    # np.load allocated the declared shape before reading: a 4 KB frame had it reserve 16 GB for (2**31,).
    header = f"{{'descr': '<f8', 'fortran_order': True, 'shape': {shape}, }}"  # not the writer's own form
    padded = header + " " * (64 - (10 + len(header) + 1) % 64) + "\n"
    blob = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(padded)) + padded.encode("latin1") + b"\0" * 4096
    got = decode_hostile(npy_frame(blob), wire.DEFAULT_LIMITS, measure=True)
    assert isinstance(got, wire.ProtocolError) and "disagree" in str(got)


def npy_frame(*blobs: bytes) -> bytes:
    document = json.dumps({"op": "callback_return", "data": [{"$array": i} for i in range(len(blobs))]}).encode()
    parts = [struct.pack(">4sII", wire.MAGIC, len(document), len(blobs)), document]
    for blob in blobs:
        parts += [struct.pack(">Q", len(blob)), blob]
    return b"".join(parts)


def test_a_foreign_npy_array_that_matches_its_header_still_arrives():
    buffer = io.BytesIO()
    np.save(buffer, np.asfortranarray(np.arange(12.0).reshape(3, 4)), allow_pickle=False)  # np.load reads this one
    _, (got,) = wire.decode_frame(npy_frame(buffer.getvalue()))
    assert np.array_equal(got, np.arange(12.0).reshape(3, 4))


def test_mutated_npy_payloads_decode_to_plain_data_or_protocol_error_in_bounded_memory(traced_memory):
    """The JSON form's arrays: this module's own .npy form and numpy's (read by np.load), with mutated headers."""
    rng = random.Random(9)
    blobs = []
    for array in (np.arange(300.0), np.ones((20, 30), dtype=np.int32), np.zeros((0, 5)), np.array(2.5),
                  np.asfortranarray(np.ones((17, 19)))):
        blobs.append(wire._npy_bytes(np.ascontiguousarray(array)))
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        blobs.append(buffer.getvalue())
    headers = [b"(0, 999999999999, 999999999999)", b"(2147483648,)", b"(-1,)", b"(300,)", b"()", b"(1,)*9",
               b"'<f8'", b"'|O'", b"'<c16'", b"True", b"False", b"[('a', '<f8')]"]
    outcomes = {"value": 0, "refused": 0}
    with time_limit(20):
        for _ in range(1500):
            blob = bytearray(rng.choice(blobs))
            if rng.random() < 0.5:  # rewrite a field of the header, keeping its length field honest or not
                end = blob.index(b"\n")
                text = bytes(blob[10:end])
                field = rng.choice([rb"\(.*?\)", rb"'[<>|][a-z][0-9]+'", rb"True|False"])
                text = re.sub(field, lambda _: rng.choice(headers), text, count=1)
                blob[10:end] = text
                if rng.random() < 0.7:
                    blob[8:10] = struct.pack("<H", len(text) + 1)  # the header through its newline
            mutated = mutate(bytes(blob), rng) if rng.random() < 0.5 else bytes(blob)
            got = decode_hostile(npy_frame(mutated), SMALL if rng.random() < 0.3 else wire.DEFAULT_LIMITS, measure=True)
            outcomes["refused" if isinstance(got, wire.ProtocolError) else "value"] += 1
    assert outcomes["value"] > 100 and outcomes["refused"] > 500, outcomes


def test_mutated_references_to_the_calls_own_arrays_stay_within_the_limits():
    """A call's answer may name the grader's arrays (tag h, as session.call allows with sent=...): each reference
    is a copy of the grader's own array, counted against the element limit every time."""
    data = np.arange(float(wire.NAMED_ARRAY_SIZE))
    named = {wire.fingerprint(data): data}
    limits = wire.Limits(max_elements=5 * data.size)
    frames = [wire.encode("return", value, sent=frozenset(named)) for value in (
        data, [data, 1.0], (data, {"w": data}), [data] * 5, [data] * 6)]
    assert all(frame.count(b"h") >= 1 and len(frame) < 2000 for frame in frames)  # by name, not by value
    assert isinstance(decode_hostile(frames[-1], limits, sent=named), wire.ProtocolError)  # six copies: past it
    got = decode_hostile(frames[3], limits, sent=named)
    assert all(np.array_equal(item, data) and item is not data for item in got)
    rng = random.Random(10)
    with time_limit(20):
        for _ in range(2000):
            frame = rng.choice(frames)
            decode_hostile(compact_frame(mutate(frame[12:], rng)), limits, sent=named)
