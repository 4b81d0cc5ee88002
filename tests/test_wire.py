"""The wire protocol: round trips, and refusal of everything that is not plain data."""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import threading
import time

import numpy as np
import pytest

from autograder.worker import wire


@pytest.fixture(autouse=True, params=["compact", "json"])
def form(request, monkeypatch):
    """Every round trip here is checked in both forms of a frame: the compact one the encoder prefers, and the
    JSON one it falls back to (values of other kinds, frames over the compact size)."""
    monkeypatch.setattr(wire, "encode", ENCODERS[request.param])
    return request.param


ENCODERS = {"compact": wire.encode, "json": wire.encode_json}


def roundtrip(value, **kwargs):
    frame = wire.encode("op", value)
    read_fd, write_fd = os.pipe()
    channel = wire.Channel(read_fd, write_fd)
    channel.send(frame, time.monotonic() + 5)
    try:
        return channel.receive(time.monotonic() + 5, **kwargs)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def frame_from_parts(document: bytes, arrays: list[bytes] = (), magic: bytes = wire.MAGIC) -> bytes:
    parts = [struct.pack(">4sII", magic, len(document), len(arrays)), document]
    for blob in arrays:
        parts += [struct.pack(">Q", len(blob)), blob]
    return b"".join(parts)


def receive_raw(frame: bytes, limits: wire.Limits = wire.DEFAULT_LIMITS, close: bool = True):
    """Receive ``frame`` as a worker would send it; ``close`` ends the stream after it."""
    read_fd, write_fd = os.pipe()

    def write() -> None:
        with contextlib.suppress(BrokenPipeError):
            os.write(write_fd, frame)
        if close:
            os.close(write_fd)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    channel = wire.Channel(read_fd, os.open(os.devnull, os.O_WRONLY), limits=limits)
    try:
        return channel.receive(time.monotonic() + 5)
    finally:
        os.close(read_fd)
        writer.join(timeout=5)


def test_plain_values_round_trip():
    value = {"a": [1, 2.5, None, True, "text"], "t": (1, (2, 3)), "nan": float("nan"), 3: -float("inf")}
    op, got = roundtrip(value)
    assert op == "op"
    assert got["a"] == [1, 2.5, None, True, "text"]
    assert got["t"] == (1, (2, 3))
    assert np.isnan(got["nan"]) and got[3] == -np.inf


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "uint8", "bool"])
def test_arrays_round_trip_exactly(dtype):
    array = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    _, got = roundtrip([array, array.T])
    assert got[0].dtype == array.dtype and np.array_equal(got[0], array)
    assert np.array_equal(got[1], array.T)


@pytest.mark.parametrize("size", [5, wire.SMALL_ARRAY_SIZE, wire.SMALL_ARRAY_SIZE + 1], ids=["inline", "largest-inline",
                                                                                          "npy"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "uint64", "int8", "bool"])
def test_small_and_large_arrays_round_trip_bit_for_bit(dtype, size):
    rng = np.random.default_rng(0)
    array = rng.normal(scale=1e3, size=size).astype(dtype) if dtype.startswith("float") else \
        rng.integers(0, 2 if dtype == "bool" else 100, size=size).astype(dtype)
    if dtype.startswith("float"):
        array[:3] = [np.nan, -np.inf, -0.0]
    if dtype == "uint64":
        array[0] = np.iinfo(np.uint64).max
    _, got = roundtrip([array, array[:1].reshape(1, 1, 1), array[:0]])
    assert got[0].dtype == array.dtype and got[0].tobytes() == array.tobytes()
    assert got[1].shape == (1, 1, 1) and got[2].shape == (0,)
    inline = b'"$small"' in wire.encode_json("op", array)
    assert inline == (size <= wire.SMALL_ARRAY_SIZE)


@pytest.mark.parametrize("small", [
    ["<f8", [2], "AAAAAAAA8D8="],  # shape and bytes disagree (one float for two)
    ["<f8", [1], [1.0]],  # values instead of bytes
    ["<f8", [1], "not base64!"],  # not base64
    ["|O", [1], "AAAAAAAA8D8="],  # object dtype
    ["V8", [1], "AAAAAAAA8D8="],  # raw bytes
    ["<U2", [1], "AAAAAAAA8D8="],  # text
    ["<f8", [-1], ""],  # negative dimension
    ["<f8", [1] * 9, "AAAAAAAA8D8="],  # too many dimensions
    ["<f8", [300], "AAAAAAAA8D8=" * 300],  # over the inline size
    ["<f8", [16, 17], ""],  # over the inline size in all, though each dimension is not
    ["<f8", [1]],  # missing part
], ids=lambda small: json.dumps(small)[:30])
def test_forged_small_arrays_are_refused(small):
    document = json.dumps({"op": "return", "data": {"$small": small}}).encode()
    with pytest.raises(wire.ProtocolError, match="small array"):
        receive_raw(frame_from_parts(document))


VALUES_OF_EVERY_KIND = [1.5, 7, True, np.float64(1.5), np.float32(0.25), np.int32(7), np.int64(-3), np.bool_(True),
                        np.array(2.0), np.array(4, dtype=np.int16), np.arange(3.0), [1.0, 2.0], (1.0, np.float64(2.0))]


@pytest.mark.parametrize("value", VALUES_OF_EVERY_KIND, ids=lambda value: f"{type(value).__name__}-{value!r}"[:40])
def test_every_kind_of_number_keeps_its_type_dtype_and_shape(value):
    _, got = roundtrip(value)
    assert type(got) is type(value)
    if isinstance(value, np.generic | np.ndarray):
        assert got.dtype == value.dtype and np.shape(got) == np.shape(value) and np.array_equal(got, value)
    elif isinstance(value, tuple):
        assert [type(item) for item in got] == [type(item) for item in value] and got == value
    else:
        assert got == value


def test_many_0d_arrays_travel_inline():
    _, losses = roundtrip([np.array(float(i)) for i in range(1_500)])  # more than max_arrays
    assert [float(loss) for loss in losses] == [float(i) for i in range(1_500)]
    assert all(loss.shape == () for loss in losses)


def test_an_array_referenced_many_times_counts_every_time():
    """One payload referenced K times is decoded once, but consumers copy each reference: the budget counts them."""
    blob = io.BytesIO()
    np.save(blob, np.zeros(1_000_000), allow_pickle=False)
    references = ",".join(['{"$array":0}'] * 20)
    document = ('{"op":"return","data":[' + references + "]}").encode()
    with pytest.raises(wire.ProtocolError, match="more array elements"):
        receive_raw(frame_from_parts(document, [blob.getvalue()]))
    fewer = ('{"op":"return","data":[' + ",".join(['{"$array":0}'] * 10) + "]}").encode()
    _, got = receive_raw(frame_from_parts(fewer, [blob.getvalue()]))
    assert len(got) == 10


def test_a_frame_of_countless_tiny_values_is_refused():
    document = ('{"op":"return","data":[' + ",".join(["[]"] * 1_100_000) + "]}").encode()
    with pytest.raises(wire.ProtocolError, match="more values"):
        receive_raw(frame_from_parts(document), limits=wire.Limits(max_json_bytes=8 * 2**20))


def test_arrays_are_written_without_numpys_save_so_a_notebook_cannot_change_what_is_sent(monkeypatch):
    monkeypatch.setattr(np, "save", lambda *a, **k: (_ for _ in ()).throw(AssertionError("np.save used")))
    monkeypatch.setattr(np, "ascontiguousarray", lambda *a, **k: np.zeros(1))
    array = np.arange(1000.0).reshape(10, 100)[:, ::2]  # not contiguous, above the inline size
    _, got = roundtrip(array)
    assert np.array_equal(got, array) and wire.fingerprint(got) == wire.fingerprint(array)


def test_ndarray_subclass_arrives_as_plain_ndarray():
    class Sneaky(np.ndarray):
        def __eq__(self, other):
            return True

    _, got = roundtrip(np.arange(3.0).view(Sneaky))
    assert type(got) is np.ndarray and not np.array_equal(got, np.zeros(3))


@pytest.mark.parametrize("value", [np.array([object()]), np.array([1.0, "a"], dtype=object), object(), {1, 2},
                                   np.array(["a"])],
                         ids=["object-array", "object-array-with-a-string", "object", "set", "string-array"])
def test_non_plain_values_are_refused_on_encode(value):
    with pytest.raises(wire.EncodeError):
        wire.encode("op", value)


def test_forged_object_array_is_refused_without_unpickling():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    document = json.dumps({"op": "return", "data": {"$array": 0}}).encode()
    with pytest.raises(wire.ProtocolError, match=r"unreadable array|not numeric"):
        receive_raw(frame_from_parts(document, [buffer.getvalue()]))


@pytest.mark.parametrize("document", [
    b'{"op": "x", "data": {"__reduce__": 1}}',
    b'{"op": "x", "data": {"$callback": 1}}',
    b'{"op": "x", "data": {"$function": ["f", []]}}',
    b'{"op": "x", "data": {"$array": 5}}',
    b'{"op": "x"}',
    b'[1, 2]',
    b'\xff\xfe not json',
], ids=["unknown-object", "callback-from-worker", "function-from-worker", "missing-array", "no-data", "not-a-message",
        "not-utf8"])
def test_malformed_or_forbidden_documents_are_refused(document):
    with pytest.raises(wire.ProtocolError):
        receive_raw(frame_from_parts(document))


def test_deep_nesting_is_refused():
    deep = b'{"op": "x", "data": ' + b"[" * 40 + b"]" * 40 + b"}"
    with pytest.raises(wire.ProtocolError, match="nested"):
        receive_raw(frame_from_parts(deep))
    very_deep = b'{"op": "x", "data": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
    with pytest.raises(wire.ProtocolError):
        receive_raw(frame_from_parts(very_deep), limits=wire.Limits(max_json_bytes=1 << 20))


def test_huge_announced_lengths_are_refused_before_reading():
    header = struct.pack(">4sII", wire.MAGIC, 2**31, 0)
    with pytest.raises(wire.ProtocolError, match="over the limit"):
        receive_raw(header, close=False)
    too_many_arrays = struct.pack(">4sII", wire.MAGIC, 2, 10**6) + b"{}"
    with pytest.raises(wire.ProtocolError, match="arrays"):
        receive_raw(too_many_arrays, close=False)
    document = b'{"op": "x", "data": {"$array": 0}}'
    huge_array = struct.pack(">4sII", wire.MAGIC, len(document), 1) + document + struct.pack(">Q", 2**40)
    with pytest.raises(wire.ProtocolError, match="over the limit"):
        receive_raw(huge_array, close=False)


def test_wrong_marker_is_refused():
    with pytest.raises(wire.ProtocolError, match="marker"):
        receive_raw(frame_from_parts(b'{"op": "x", "data": 1}', magic=b"EVIL"))


def test_silence_times_out_and_closing_is_reported():
    read_fd, write_fd = os.pipe()
    channel = wire.Channel(read_fd, write_fd)
    started = time.monotonic()
    with pytest.raises(wire.ChannelTimeout):
        channel.receive(time.monotonic() + 0.2)
    assert time.monotonic() - started < 2
    os.write(write_fd, b"AGW")  # a partial header, then the writer goes away
    os.close(write_fd)
    with pytest.raises(wire.ChannelClosed):
        channel.receive(time.monotonic() + 2)
    os.close(read_fd)


def test_array_over_the_size_limit_is_refused_on_encode():
    with pytest.raises(wire.EncodeError, match="limit"):
        wire.encode("op", np.zeros(1000), limits=wire.Limits(max_array_bytes=1000))


def test_object_arrays_of_numbers_arrive_as_numeric_arrays():
    """A stable sigmoid built with np.frompyfunc returns an object array of floats: it is the numbers it holds."""
    sigmoid = np.frompyfunc(lambda z: 1.0 / (1.0 + np.exp(-z)), 1, 1)
    values = sigmoid(np.linspace(-2.0, 2.0, 6).reshape(2, 3))
    assert values.dtype == object
    _, got = roundtrip(values)
    assert got.dtype == np.float64 and got.shape == (2, 3) and np.allclose(got, values.astype(float))
    _, ints = roundtrip(np.array([1, 2, np.int32(3)], dtype=object))
    _, flags = roundtrip(np.array([True, np.bool_(False)], dtype=object))
    assert ints.dtype == np.int64 and flags.dtype == np.bool_
