"""The compact binary form of callback frames: same values as the JSON form, and refusal of forged bodies."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from autograder.worker import wire
from tests.test_wire import VALUES_OF_EVERY_KIND, receive_raw

COMPACT_VALUES = [*VALUES_OF_EVERY_KIND, None, "text é", -(2**63), 2**63 - 1, np.zeros((0, 3)), np.ones((2, 3, 4)),
                  np.arange(6.0).reshape(2, 3)[:, ::2], np.array([True, False]), np.array(5, dtype=np.int64),
                  {"lr": 0.5, 3: [1, (2.0,)]}, [np.float64(1.0), np.int64(2), np.bool_(False)], (), []]


OP = bytes([len(b"callback_return")]) + b"callback_return"


def compact_frame(body: bytes) -> bytes:
    return struct.pack(">4sII", wire.COMPACT_MAGIC, len(body), 0) + body


def same(got, value) -> bool:
    if type(got) is not type(value):
        return False
    if isinstance(value, np.ndarray | np.generic):
        return got.dtype == value.dtype and np.shape(got) == np.shape(value) and np.array_equal(got, value)
    if isinstance(value, list | tuple):
        return len(got) == len(value) and all(same(g, v) for g, v in zip(got, value, strict=True))
    if isinstance(value, dict):
        return list(got) == list(value) and all(same(got[key], value[key]) for key in value)
    return got == value


@pytest.mark.parametrize("value", COMPACT_VALUES, ids=lambda value: f"{type(value).__name__}-{value!r}"[:40])
def test_a_callback_answer_arrives_as_it_would_in_the_json_form(value):
    frame = wire.encode("callback_return", value)
    _, through_json = wire.decode_frame(wire.encode_json("callback_return", value))
    _, got = wire.decode_frame(frame)
    assert same(got, through_json)  # whichever form the encoder chose, the same value arrives
    if frame.startswith(wire.COMPACT_MAGIC):
        assert same(got, value)


def test_callbacks_of_floats_and_float_arrays_travel_compact():
    w = np.linspace(0.0, 1.0, 7)
    frame = wire.encode("callback", [3, [w, w * 2, 0.1], {"lr": 0.5}])
    assert frame.startswith(wire.COMPACT_MAGIC)
    op, (callback_id, args, kwargs) = wire.decode_frame(frame)
    assert op == "callback" and callback_id == 3 and kwargs == {"lr": 0.5}
    assert np.array_equal(args[0], w) and args[0].flags.writeable and args[2] == 0.1


@pytest.mark.parametrize("value", [np.float32(1.5), np.arange(3, dtype=np.float32), 2**70, np.arange(3.0).view(
    type("Sub", (np.ndarray,), {})), np.arange(4.0).astype(">f8"), "\ud800", type("F", (float,), {})(2.0)],
    ids=["float32-scalar", "float32-array", "big-int", "ndarray-subclass", "big-endian", "lone-surrogate",
         "float-subclass"])
def test_values_the_compact_form_does_not_carry_go_as_json_and_keep_their_meaning(value):
    frame = wire.encode("callback_return", value)
    _, got = wire.decode_frame(frame)
    if isinstance(value, np.ndarray):
        assert type(got) is np.ndarray and np.array_equal(got, value) and got.dtype == value.dtype
    elif isinstance(value, float):
        assert got == value
    else:
        assert same(got, value)


def test_an_array_the_grader_sent_comes_back_by_fingerprint_and_only_then():
    X = np.arange(float(wire.NAMED_ARRAY_SIZE)).reshape(-1, 4)
    digest = wire.fingerprint(X)
    frame = wire.encode("callback", [1, [X], {}], sent=frozenset({digest}))
    assert frame.startswith(wire.COMPACT_MAGIC) and len(frame) < X.nbytes
    _, (_, (got,), _) = wire.decode_frame(frame, sent={digest: X})
    assert np.array_equal(got, X) and got is not X
    with pytest.raises(wire.ProtocolError, match="did not send"):
        wire.decode_frame(frame, sent={})
    with pytest.raises(wire.ProtocolError, match="not allowed here"):
        wire.decode_frame(frame)  # no arrays sent in this direction: the tag is not allowed
    small = X[:4]  # below the size where hashing pays: its bytes, even though the grader sent it
    assert len(wire.encode("callback", [1, [small], {}], sent=frozenset({wire.fingerprint(small)}))) > small.nbytes


FORGED = {
    "no-op": b"\x20" + b"n",
    "op-that-is-not-a-name": b"\x03a b" + b"n",
    "unknown-kind": OP + b"Q",
    "tagged-object-from-a-worker": OP + b"ox" + struct.pack("<I", 9) + b"$callback" + b"i" + b"\x00" * 8,
    "array-ends-early": OP + b"a\x03<f8\x01" + struct.pack("<I", 5) + b"\x00" * 39,
    "array-of-objects": OP + b"a\x03|O8\x01" + struct.pack("<I", 1) + b"\x00" * 8,
    "too-many-dimensions": OP + b"a\x03<f8\x09" + struct.pack("<9I", *[1] * 9) + b"\x00" * 8,
    "huge-shape": OP + b"a\x03<f8\x02" + struct.pack("<2I", 2**32 - 1, 2**32 - 1),
    "float-list-longer-than-frame": OP + b"F" + struct.pack("<I", 1000) + b"\x00" * 16,
    "list-longer-than-frame": OP + b"l" + struct.pack("<I", 2**31),
    "bytes-after-the-value": OP + b"n" + b"n",
    "truncated-float": OP + b"d\x00\x00",
    "not-utf8": OP + b"x" + struct.pack("<I", 2) + b"\xff\xfe",
    "text-longer-than-frame": OP + b"x" + struct.pack("<I", 100) + b"ab",
    "list-as-a-key": OP + b"m" + struct.pack("<I", 1) + b"l" + struct.pack("<I", 0) + b"n",
    "scalar-of-unusable-dtype": OP + b"s\x03|O8" + b"\x00" * 8,
    "scalar-of-a-made-up-dtype": OP + b"s\x03<q9" + b"\x00" * 8,
    "empty": b"",
}


@pytest.mark.parametrize("body", FORGED.values(), ids=FORGED.keys())
def test_forged_compact_frames_are_refused(body):
    with pytest.raises(wire.ProtocolError):
        receive_raw(compact_frame(body))


def test_compact_frames_hold_their_limits():
    deep = OP + (b"l" + struct.pack("<I", 1)) * 40 + b"n"
    with pytest.raises(wire.ProtocolError, match="nested"):
        receive_raw(compact_frame(deep))
    many = OP + b"l" + struct.pack("<I", 2000) + b"n" * 2000
    with pytest.raises(wire.ProtocolError, match="more values"):
        receive_raw(compact_frame(many), limits=wire.Limits(max_nodes=1000))
    big = OP + b"a\x03<f8\x01" + struct.pack("<I", 2000) + b"\x00" * 16000
    with pytest.raises(wire.ProtocolError, match="more array elements"):
        receive_raw(compact_frame(big), limits=wire.Limits(max_elements=1000))
    with pytest.raises(wire.ProtocolError, match="over the limit"):
        receive_raw(struct.pack(">4sII", wire.COMPACT_MAGIC, 2**31, 0), close=False)
    with pytest.raises(wire.ProtocolError, match="marker"):  # a compact frame carries no array payloads
        receive_raw(struct.pack(">4sII", wire.COMPACT_MAGIC, 1, 1) + b"n", close=False)


def test_a_large_answer_goes_as_json_with_its_array_as_a_payload():
    big = np.zeros(2**20)  # 8 MB: over the compact form's size
    frame = wire.encode("callback_return", big)
    assert frame.startswith(wire.MAGIC)
    _, got = wire.decode_frame(frame)
    assert np.array_equal(got, big)


def test_a_run_of_losses_travels_as_one_block_of_floats_bit_for_bit():
    losses = [float(v) for v in np.geomspace(1.0, 1e-12, 1000)] + [float("nan"), float("inf"), -0.0]
    frame = wire.encode("return", {"value": (np.zeros(3), losses)})
    assert frame.startswith(wire.COMPACT_MAGIC) and len(frame) < 8 * len(losses) + 200
    _, got = wire.decode_frame(frame)
    back = got["value"][1]
    assert type(back) is list and all(type(item) is float for item in back)
    assert np.array_equal(np.array(back).view(np.uint64), np.array(losses).view(np.uint64))


def test_a_call_with_the_graders_functions_travels_compact_and_only_the_worker_reads_its_tags():
    handed: list[object] = []

    def encode_object(value):
        if callable(value):
            handed.append(value)
            return "$callback", len(handed)
        return None

    frame = wire.encode("call", {"name": "fit", "args": [np.ones(3), len], "kwargs": {}}, encode_object=encode_object)
    assert frame.startswith(wire.COMPACT_MAGIC) and handed == [len]
    seen = []
    _, data = wire.decode_frame(frame, decode_tag=lambda tag, inner, decode: seen.append((tag, decode(inner))) or tag)
    assert data["args"][1] == "$callback" and seen == [("$callback", 1)]
    with pytest.raises(wire.ProtocolError, match="not allowed here"):
        wire.decode_frame(frame)  # the grader reads a worker's frames without tags: refused
