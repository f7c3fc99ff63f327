"""Unit tests for temporalio.converter and the payload/failure API mirrors."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import os
import pickle
import subprocess
import sys
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from typing import (
    Any,
    Generic,
    Literal,
    NamedTuple,
    NewType,
    Optional,
    TypedDict,
    TypeVar,
    Union,
)

import pytest

import temporalio.converter as converter_mod
from temporalio.api.common.v1 import GrpcStatus, Payload, Payloads, ProtoAny
from temporalio.api.failure.v1 import (
    ApplicationFailureInfo,
    Failure,
    TimeoutFailureInfo,
)
from temporalio.common import RawValue, RetryPolicy
from temporalio.converter import (
    AdvancedJSONEncoder,
    BinaryNullPayloadConverter,
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
    PayloadCodec,
    PayloadConverter,
    value_to_type,
)
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ApplicationErrorCategory,
    CancelledError,
    ChildWorkflowError,
    FailureError,
    RetryState,
    ServerError,
    TerminatedError,
    TimeoutError,
    TimeoutType,
)

# ---------------------------------------------------------------------------
# Sample types
# ---------------------------------------------------------------------------


class Color(Enum):
    RED = "red"
    GREEN = "green"


class Level(IntEnum):
    LOW = 1
    HIGH = 2


class Mode(StrEnum):
    FAST = "fast"
    SLOW = "slow"


@dataclass
class Address:
    street: str
    zip_code: Optional[str] = None


@dataclass
class Person:
    name: str
    age: int
    addresses: list[Address] = field(default_factory=list)
    tags: dict[str, int] = field(default_factory=dict)
    color: Optional[Color] = None
    born: Optional[datetime] = None
    id: Optional[uuid.UUID] = None


@dataclass
class Node:
    value: int
    children: list[Node] = field(default_factory=list)


T = TypeVar("T")


@dataclass
class Box(Generic[T]):
    item: T
    more: list[T] = field(default_factory=list)


class Movie(TypedDict):
    title: str
    year: int


class Point(NamedTuple):
    x: int
    y: int = 0


UserId = NewType("UserId", int)


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents

    def to_json(self) -> Any:
        return {"cents": self.cents}

    @classmethod
    def from_json(cls, value: Any) -> Money:
        return cls(value["cents"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and other.cents == self.cents


class FakeModel:
    """Pydantic-v2-like duck type."""

    def __init__(self, a: int) -> None:
        self.a = a

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        return {"a": self.a, "mode": mode}

    @classmethod
    def model_validate(cls, value: Any) -> FakeModel:
        return cls(value["a"])


PC = DefaultPayloadConverter()


def roundtrip(value: Any, hint: Any = None) -> Any:
    payload = PC.to_payload(value)
    return PC.from_payload(payload, hint)


def json_payload(data: bytes | str) -> Payload:
    raw = data.encode() if isinstance(data, str) else data
    return Payload(metadata={"encoding": b"json/plain"}, data=raw)


# ---------------------------------------------------------------------------
# Payload mirror
# ---------------------------------------------------------------------------


class TestPayloadMirror:
    def test_codec_style_construction_and_access(self) -> None:
        p = Payload(metadata={"encoding": b"binary/encrypted"}, data=b"xyz")
        assert p.metadata["encoding"] == b"binary/encrypted"
        assert p.data == b"xyz"
        assert p == Payload(metadata={"encoding": b"binary/encrypted"}, data=b"xyz")
        assert p != Payload(metadata={"encoding": b"binary/plain"}, data=b"xyz")

    def test_defaults_are_not_shared(self) -> None:
        a = Payload()
        b = Payload()
        a.metadata["k"] = b"v"
        assert b.metadata == {}

    def test_metadata_is_copied(self) -> None:
        md = {"encoding": b"a"}
        p = Payload(metadata=md)
        md["encoding"] = b"b"
        assert p.metadata["encoding"] == b"a"

    def test_type_checks(self) -> None:
        with pytest.raises(TypeError, match="must be bytes"):
            Payload(metadata={"encoding": "json/plain"})  # type: ignore[dict-item]
        with pytest.raises(TypeError, match="Payload.data must be bytes"):
            Payload(data="text")  # type: ignore[arg-type]

    def test_wire_roundtrip(self) -> None:
        p = Payload(metadata={"encoding": b"json/plain", "x": b""}, data=b'"hi"')
        raw = p.SerializeToString()
        assert Payload.FromString(raw) == p
        assert p.ByteSize() == len(raw)
        assert p.ByteSize() >= len(p.data) + len(b"json/plain")
        empty = Payload()
        assert empty.SerializeToString() == b""
        assert Payload.FromString(b"") == empty

    def test_wire_format_matches_protobuf_encoding(self) -> None:
        # Hand-computed protobuf encoding of
        # Payload{metadata: {"encoding": "binary/plain"}, data: "ab"}.
        p = Payload(metadata={"encoding": b"binary/plain"}, data=b"ab")
        entry = b"\x0a\x08encoding" + b"\x12\x0cbinary/plain"
        expected = b"\x0a" + bytes([len(entry)]) + entry + b"\x12\x02ab"
        assert p.SerializeToString() == expected

    def test_unknown_fields_survive(self) -> None:
        p = Payload(metadata={"encoding": b"x"}, data=b"d")
        extra = b"\x1a\x02\x08\x05"  # field 3 (external_payloads) {size_bytes: 5}
        parsed = Payload.FromString(p.SerializeToString() + extra)
        assert parsed == p
        assert parsed.SerializeToString().endswith(extra)

    def test_truncated_input_rejected(self) -> None:
        raw = Payload(data=b"abcdef").SerializeToString()
        with pytest.raises(ValueError):
            Payload.FromString(raw[:-2])

    def test_copy_from_and_payloads(self) -> None:
        src = Payload(metadata={"encoding": b"a"}, data=b"1")
        dst = Payload()
        dst.CopyFrom(src)
        assert dst == src
        dst.metadata["encoding"] = b"changed"
        assert src.metadata["encoding"] == b"a"
        ps = Payloads(payloads=[src, dst])
        assert Payloads.FromString(ps.SerializeToString()) == ps

    def test_grpc_status_roundtrip(self) -> None:
        status = GrpcStatus(
            code=5,
            message="not found",
            details=[ProtoAny(type_url="type.googleapis.com/x.Y", value=b"\x01")],
        )
        parsed = GrpcStatus.FromString(status.SerializeToString())
        assert parsed == status
        assert parsed.details[0].type_name == "x.Y"
        assert GrpcStatus.FromString(GrpcStatus(code=-1).SerializeToString()).code == -1

    def test_raw_value_pickles(self) -> None:
        raw = RawValue(Payload(metadata={"encoding": b"json/plain"}, data=b"1"))
        assert pickle.loads(pickle.dumps(raw)) == raw


# ---------------------------------------------------------------------------
# Encoding payload converters
# ---------------------------------------------------------------------------


class TestEncodings:
    def test_none(self) -> None:
        p = PC.to_payload(None)
        assert p.metadata == {"encoding": b"binary/null"}
        assert p.data == b""
        assert PC.from_payload(p) is None

    def test_binary_null_rejects_data(self) -> None:
        p = Payload(metadata={"encoding": b"binary/null"}, data=b"x")
        with pytest.raises(RuntimeError, match="binary/null"):
            PC.from_payload(p)

    def test_bytes(self) -> None:
        p = PC.to_payload(b"\x00\xff")
        assert p.metadata["encoding"] == b"binary/plain"
        assert p.data == b"\x00\xff"
        assert PC.from_payload(p) == b"\x00\xff"

    def test_json_is_compact_and_sorted(self) -> None:
        p = PC.to_payload({"b": 1, "a": [1, 2], "c": "x y"})
        assert p.metadata["encoding"] == b"json/plain"
        assert p.data == b'{"a":[1,2],"b":1,"c":"x y"}'

    @pytest.mark.parametrize(
        "value", [1, 1.5, "text", True, [1, "a", None], {"k": {"n": [1]}}, ""]
    )
    def test_json_roundtrip_untyped(self, value: Any) -> None:
        assert roundtrip(value) == value

    def test_raw_value_passthrough(self) -> None:
        inner = Payload(metadata={"encoding": b"my/custom"}, data=b"zzz")
        assert PC.to_payloads([RawValue(inner)]) == [inner]
        out = PC.from_payloads([inner], [RawValue])
        assert out == [RawValue(inner)]

    def test_multiple_values_and_hints(self) -> None:
        payloads = PC.to_payloads([1, "two", None, b"3"])
        assert [p.metadata["encoding"] for p in payloads] == [
            b"json/plain",
            b"json/plain",
            b"binary/null",
            b"binary/plain",
        ]
        assert PC.from_payloads(payloads, [int, str, Optional[int], bytes]) == [
            1,
            "two",
            None,
            b"3",
        ]
        # Fewer hints than payloads: the rest are decoded untyped.
        assert PC.from_payloads(payloads, [int]) == [1, "two", None, b"3"]

    def test_wrappers(self) -> None:
        wrapped = PC.to_payloads_wrapper(["a", 2])
        assert isinstance(wrapped, Payloads)
        assert PC.from_payloads_wrapper(wrapped) == ["a", 2]
        assert PC.from_payloads_wrapper(None) == []
        assert PC.from_payloads_wrapper(Payloads()) == []

    def test_default_singletons(self) -> None:
        assert isinstance(PayloadConverter.default, DefaultPayloadConverter)
        assert DataConverter.default is converter_mod.default()
        assert list(PC.converters) == [
            b"binary/null",
            b"binary/plain",
            b"json/protobuf",
            b"binary/protobuf",
            b"json/plain",
        ]


class TestDecodeErrors:
    def test_unknown_encoding(self) -> None:
        p = Payload(metadata={"encoding": b"binary/encrypted"}, data=b"x")
        with pytest.raises(KeyError) as info:
            PC.from_payloads([PC.to_payload(1), p])
        text = str(info.value)
        assert "binary/encrypted" in text
        assert "index 1" in text
        assert "json/plain" in text  # lists the known encodings

    def test_missing_encoding_metadata(self) -> None:
        with pytest.raises(KeyError, match="no 'encoding' metadata"):
            PC.from_payload(Payload(data=b"1"))

    def test_malformed_json(self) -> None:
        with pytest.raises(RuntimeError, match="index 0.*json/plain") as info:
            PC.from_payload(json_payload(b"{not json"))
        assert isinstance(info.value.__cause__, RuntimeError)
        assert isinstance(info.value.__cause__.__cause__, json.JSONDecodeError)

    def test_empty_json_data(self) -> None:
        with pytest.raises(RuntimeError, match="JSON"):
            PC.from_payload(json_payload(b""))

    def test_invalid_utf8_json(self) -> None:
        with pytest.raises(RuntimeError):
            PC.from_payload(json_payload(b'"\xff\xfe"'))

    def test_wrong_type_message_names_both_types(self) -> None:
        with pytest.raises(TypeError) as info:
            PC.from_payload(json_payload('"abc"'), int)
        text = str(info.value)
        assert "int" in text and "str" in text and "'abc'" in text

    def test_nested_error_has_path(self) -> None:
        data = {"name": "x", "age": 3, "addresses": [{"street": 5}]}
        with pytest.raises(TypeError) as info:
            PC.from_payload(json_payload(json.dumps(data)), Person)
        text = str(info.value)
        assert "'addresses'" in text
        assert "index 0" in text
        assert "'street'" in text
        assert "Expected str, got int 5" in text

    def test_no_converter_for_value(self) -> None:
        composite = CompositePayloadConverter(BinaryNullPayloadConverter())
        with pytest.raises(RuntimeError, match="index 0 of type int has no known"):
            composite.to_payloads([5])

    def test_unserializable_value(self) -> None:
        with pytest.raises(TypeError, match="not JSON serializable"):
            PC.to_payload(object())


# ---------------------------------------------------------------------------
# Typed decoding
# ---------------------------------------------------------------------------


class TestTypedDecoding:
    def test_nested_dataclasses(self) -> None:
        person = Person(
            name="Ada",
            age=36,
            addresses=[Address("Main St", "12345"), Address("Side St")],
            tags={"a": 1},
            color=Color.GREEN,
            born=datetime(1815, 12, 10, 8, 30, tzinfo=timezone.utc),
            id=uuid.UUID(int=42),
        )
        payload = PC.to_payload(person)
        decoded = json.loads(payload.data)
        assert decoded["color"] == "green"
        assert decoded["born"] == "1815-12-10T08:30:00+00:00"
        assert decoded["id"] == str(uuid.UUID(int=42))
        assert PC.from_payload(payload, Person) == person
        # Without a hint, the plain JSON structure comes back.
        assert PC.from_payload(payload)["addresses"][1] == {
            "street": "Side St",
            "zip_code": None,
        }

    def test_recursive_dataclass(self) -> None:
        tree = Node(1, [Node(2), Node(3, [Node(4)])])
        assert roundtrip(tree, Node) == tree

    def test_dataclass_unknown_keys_ignored_and_defaults_used(self) -> None:
        value = value_to_type(Person, {"name": "x", "age": 1, "extra": True})
        assert value == Person(name="x", age=1)

    def test_dataclass_missing_required_field(self) -> None:
        with pytest.raises(TypeError, match="missing required field.*'age'"):
            value_to_type(Person, {"name": "x"})

    def test_dataclass_needs_object(self) -> None:
        with pytest.raises(TypeError, match="JSON object for dataclass Person"):
            value_to_type(Person, [1, 2])

    def test_generic_dataclass(self) -> None:
        assert value_to_type(Box[int], {"item": 1, "more": [2, 3]}) == Box(1, [2, 3])
        assert value_to_type(Box[Address], {"item": {"street": "s"}}) == Box(
            Address("s")
        )
        with pytest.raises(TypeError, match="'item'"):
            value_to_type(Box[int], {"item": "x"})

    def test_optional(self) -> None:
        assert value_to_type(Optional[int], None) is None
        assert value_to_type(Optional[int], 4) == 4
        assert value_to_type(int | None, 4) == 4
        with pytest.raises(TypeError, match="does not match any member"):
            value_to_type(Optional[int], "x")

    def test_union_prefers_exact_primitive(self) -> None:
        assert type(value_to_type(Union[float, int], 3)) is int
        assert type(value_to_type(Union[float, int], 3.5)) is float
        assert value_to_type(Union[int, Address], {"street": "s"}) == Address("s")
        assert value_to_type(Union[str, list[int]], [1]) == [1]

    def test_primitives_are_strict(self) -> None:
        assert value_to_type(int, 5) == 5
        assert value_to_type(int, 5.0) == 5
        assert value_to_type(float, 5) == 5.0
        assert value_to_type(bool, False) is False
        assert value_to_type(str, "s") == "s"
        for hint, bad in [
            (int, True),
            (int, 1.5),
            (int, "1"),
            (float, "1.0"),
            (float, False),
            (bool, 1),
            (str, 1),
            (type(None), 0),
        ]:
            with pytest.raises(TypeError, match="Expected"):
                value_to_type(hint, bad)

    def test_any_and_object(self) -> None:
        for hint in (Any, object):
            assert value_to_type(hint, {"a": [1]}) == {"a": [1]}

    def test_enums(self) -> None:
        assert roundtrip(Color.RED, Color) is Color.RED
        assert roundtrip(Level.HIGH, Level) is Level.HIGH
        assert PC.to_payload(Level.HIGH).data == b"2"
        assert roundtrip(Mode.SLOW, Mode) is Mode.SLOW
        assert PC.to_payload(Mode.SLOW).data == b'"slow"'
        with pytest.raises(TypeError, match="not a valid Color.*'red', 'green'"):
            value_to_type(Color, "blue")
        with pytest.raises(TypeError, match="int value for enum Level"):
            value_to_type(Level, "1")
        with pytest.raises(TypeError, match="str value for enum Mode"):
            value_to_type(Mode, 1)

    def test_literal(self) -> None:
        hint = Literal["a", "b", 1]
        assert value_to_type(hint, "a") == "a"
        assert value_to_type(hint, 1) == 1
        with pytest.raises(TypeError, match="literal values"):
            value_to_type(hint, "c")
        with pytest.raises(TypeError):
            value_to_type(hint, True)  # True == 1 but is not the literal 1
        assert value_to_type(Literal[Color.RED], "red") is Color.RED

    def test_datetimes_and_uuid(self) -> None:
        dt = datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=timezone.utc)
        assert roundtrip(dt, datetime) == dt
        assert value_to_type(datetime, "2024-02-29T23:59:59Z") == dt.replace(
            microsecond=0
        )
        assert roundtrip(date(2020, 1, 2), date) == date(2020, 1, 2)
        assert roundtrip(timedelta(minutes=2, milliseconds=5), timedelta) == timedelta(
            minutes=2, milliseconds=5
        )
        u = uuid.uuid4()
        assert roundtrip(u, uuid.UUID) == u
        assert roundtrip(Decimal("1.10"), Decimal) == Decimal("1.10")
        with pytest.raises(TypeError, match="ISO 8601 datetime"):
            value_to_type(datetime, "yesterday")
        with pytest.raises(TypeError, match="UUID"):
            value_to_type(uuid.UUID, "not-a-uuid")
        with pytest.raises(TypeError, match="datetime"):
            value_to_type(datetime, 12345)

    def test_collections(self) -> None:
        assert value_to_type(list[int], [1, 2]) == [1, 2]
        assert value_to_type(Sequence[str], ["a"]) == ["a"]
        assert value_to_type(set[int], [1, 2, 2]) == {1, 2}
        assert value_to_type(frozenset[int], [1]) == frozenset({1})
        assert value_to_type(deque[int], [1, 2]) == deque([1, 2])
        assert value_to_type(tuple[int, str], [1, "a"]) == (1, "a")
        assert value_to_type(tuple[int, ...], [1, 2, 3]) == (1, 2, 3)
        assert value_to_type(list, [1, "a"]) == [1, "a"]
        assert roundtrip({3, 1, 2}) == [1, 2, 3]  # sets encode as sorted arrays
        with pytest.raises(TypeError, match="Expected 2 item"):
            value_to_type(tuple[int, str], [1, "a", 3])
        with pytest.raises(TypeError, match="JSON array"):
            value_to_type(list[str], "abc")

    def test_mappings_recover_key_types(self) -> None:
        assert roundtrip({1: "a", 2: "b"}, dict[int, str]) == {1: "a", 2: "b"}
        assert roundtrip({1.5: 1}, dict[float, int]) == {1.5: 1}
        assert roundtrip({True: 1}, dict[bool, int]) == {True: 1}
        assert roundtrip({Level.LOW: "x"}, dict[Level, str]) == {Level.LOW: "x"}
        assert roundtrip({"red": 1}, dict[Color, int]) == {Color.RED: 1}
        assert value_to_type(Mapping[str, list[int]], {"a": [1]}) == {"a": [1]}
        key = uuid.UUID(int=7)
        assert value_to_type(dict[uuid.UUID, int], {str(key): 1}) == {key: 1}
        with pytest.raises(TypeError, match="mapping key 'x'"):
            value_to_type(dict[int, str], {"x": "a"})
        with pytest.raises(TypeError, match="key 'a'"):
            value_to_type(dict[str, int], {"a": "b"})
        with pytest.raises(TypeError, match="JSON object"):
            value_to_type(dict[str, int], [1])

    def test_typed_dict(self) -> None:
        movie: Movie = {"title": "Alien", "year": 1979}
        assert roundtrip(movie, Movie) == movie
        with pytest.raises(TypeError, match="missing required key.*'year'"):
            value_to_type(Movie, {"title": "x"})
        with pytest.raises(TypeError, match="key 'year'"):
            value_to_type(Movie, {"title": "x", "year": "1979"})

    def test_named_tuple(self) -> None:
        assert roundtrip(Point(1, 2), Point) == Point(1, 2)
        assert value_to_type(Point, [5]) == Point(5, 0)

    def test_new_type(self) -> None:
        assert value_to_type(UserId, 5) == 5
        with pytest.raises(TypeError):
            value_to_type(UserId, "5")

    def test_scalar_subclass_and_existing_instances(self) -> None:
        class Tag(str):
            pass

        tag = value_to_type(Tag, "v1")
        assert type(tag) is Tag and tag == "v1"
        addr = Address("s")
        assert value_to_type(Address, addr) is addr

    def test_bytes_inside_json(self) -> None:
        assert roundtrip([b"ab"], list[bytes]) == [b"ab"]
        # Other SDKs send bytes in JSON as base64 strings.
        assert value_to_type(bytes, "YWI=") == b"ab"

    def test_custom_class_hooks(self) -> None:
        payload = PC.to_payload(Money(250))
        assert payload.data == b'{"cents":250}'
        assert PC.from_payload(payload, Money) == Money(250)
        model_payload = PC.to_payload(FakeModel(3))
        assert json.loads(model_payload.data) == {"a": 3, "mode": "json"}
        assert PC.from_payload(model_payload, FakeModel).a == 3

    def test_unsupported_hint(self) -> None:
        class Plain:
            pass

        with pytest.raises(TypeError, match="not supported by the JSON converter"):
            value_to_type(Plain, {"a": 1})

    def test_unresolved_forward_reference(self) -> None:
        with pytest.raises(TypeError, match="forward reference"):
            value_to_type("Person", {})

    def test_custom_type_converter(self) -> None:
        class Upper(JSONTypeConverter):
            def to_typed_value(self, hint: Any, value: Any) -> Any:
                if hint is str and isinstance(value, str):
                    return value.upper()
                return JSONTypeConverter.Unhandled

        conv = JSONPlainPayloadConverter(custom_type_converters=[Upper()])
        payload = conv.to_payload({"street": "main"})
        assert payload is not None
        assert conv.from_payload(payload, Address) == Address("MAIN")
        assert conv.from_payload(conv.to_payload(1) or Payload(), int) == 1

    def test_advanced_encoder_directly(self) -> None:
        text = json.dumps({"when": date(2020, 1, 1), "ids": frozenset({2, 1})}, cls=AdvancedJSONEncoder)
        assert json.loads(text) == {"when": "2020-01-01", "ids": [1, 2]}


# ---------------------------------------------------------------------------
# Protobuf converters
# ---------------------------------------------------------------------------


class TestProtobuf:
    def test_without_protobuf_values_fall_through(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(converter_mod, "_protobuf", None)
        assert converter_mod.JSONProtoPayloadConverter().to_payload({"a": 1}) is None
        assert converter_mod.BinaryProtoPayloadConverter().to_payload(b"") is None
        p = Payload(
            metadata={"encoding": b"json/protobuf", "messageType": b"foo.Bar"},
            data=b"{}",
        )
        with pytest.raises(RuntimeError, match="google.protobuf package is not installed"):
            PC.from_payload(p)

    def test_json_and_binary_proto_roundtrip(self) -> None:
        pytest.importorskip("google.protobuf")
        duration_pb2: Any = importlib.import_module("google.protobuf.duration_pb2")
        struct_pb2: Any = importlib.import_module("google.protobuf.struct_pb2")

        msg = struct_pb2.Struct()
        msg.update({"b": 1, "a": "x"})
        p = PC.to_payload(msg)
        assert p.metadata["encoding"] == b"json/protobuf"
        assert p.metadata["messageType"] == b"google.protobuf.Struct"
        assert p.data == b'{"a":"x","b":1.0}'
        assert PC.from_payload(p) == msg

        binary = converter_mod.BinaryProtoPayloadConverter()
        dur = duration_pb2.Duration(seconds=5)
        bp = binary.to_payload(dur)
        assert bp is not None and bp.metadata["encoding"] == b"binary/protobuf"
        assert PC.from_payload(bp) == dur
        assert PC.from_payload(bp, duration_pb2.Duration) == dur

    def test_unknown_proto_type(self) -> None:
        pytest.importorskip("google.protobuf")
        p = Payload(
            metadata={"encoding": b"json/protobuf", "messageType": b"no.such.Type"},
            data=b"{}",
        )
        with pytest.raises(RuntimeError, match="Unknown protobuf message type"):
            PC.from_payload(p)


# ---------------------------------------------------------------------------
# Codecs and DataConverter
# ---------------------------------------------------------------------------


class XorCodec(PayloadCodec):
    """Encrypts the whole serialized payload, like the official samples."""

    def __init__(self) -> None:
        self.encoded = 0
        self.decoded = 0

    @staticmethod
    def _xor(data: bytes) -> bytes:
        return bytes(b ^ 0x5A for b in data)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        self.encoded += len(payloads)
        return [
            Payload(
                metadata={"encoding": b"binary/xor"},
                data=self._xor(p.SerializeToString()),
            )
            for p in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding") != b"binary/xor":
                out.append(p)
                continue
            self.decoded += 1
            out.append(Payload.FromString(self._xor(p.data)))
        return out


class TestDataConverter:
    def test_without_codec(self) -> None:
        dc = DataConverter()
        payloads = asyncio.run(dc.encode([Address("s", "z"), 3]))
        assert asyncio.run(dc.decode(payloads, [Address, int])) == [
            Address("s", "z"),
            3,
        ]

    def test_codec_applied_both_ways(self) -> None:
        codec = XorCodec()
        dc = DataConverter(payload_codec=codec)
        payloads = asyncio.run(dc.encode(["secret", None]))
        assert all(p.metadata["encoding"] == b"binary/xor" for p in payloads)
        assert b"secret" not in payloads[0].data
        assert codec.encoded == 2
        assert asyncio.run(dc.decode(payloads, [str, type(None)])) == ["secret", None]
        assert codec.decoded == 2
        wrapper = asyncio.run(dc.encode_wrapper([1]))
        assert asyncio.run(dc.decode_wrapper(wrapper)) == [1]
        assert asyncio.run(dc.decode_wrapper(None)) == []

    def test_undecoded_codec_payload_is_clear_error(self) -> None:
        payloads = asyncio.run(DataConverter(payload_codec=XorCodec()).encode([1]))
        with pytest.raises(KeyError, match="binary/xor"):
            asyncio.run(DataConverter().decode(payloads))

    def test_converters_instantiated(self) -> None:
        dc = DataConverter(failure_converter_class=DefaultFailureConverterWithEncodedAttributes)
        assert isinstance(dc.payload_converter, DefaultPayloadConverter)
        assert isinstance(dc.failure_converter, DefaultFailureConverterWithEncodedAttributes)
        assert DataConverter() == DataConverter()
        with pytest.raises(dataclasses.FrozenInstanceError):
            dc.payload_codec = None  # type: ignore[misc]

    def test_failure_codec_applied_recursively(self) -> None:
        codec = XorCodec()
        dc = DataConverter(
            payload_codec=codec,
            failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
        )
        try:
            try:
                raise ApplicationError("inner secret", {"card": "1234"}, type="Inner")
            except ApplicationError as inner:
                raise TimeoutError(
                    "outer secret", type=TimeoutType.HEARTBEAT, last_heartbeat_details=[7]
                ) from inner
        except TimeoutError as err:
            failure = Failure()
            asyncio.run(dc.encode_failure(err, failure))

        assert failure.message == "Encoded failure"
        assert failure.encoded_attributes is not None
        assert failure.encoded_attributes.metadata["encoding"] == b"binary/xor"
        assert failure.timeout_failure_info is not None
        hb = failure.timeout_failure_info.last_heartbeat_details
        assert hb is not None and hb.payloads[0].metadata["encoding"] == b"binary/xor"
        assert failure.cause is not None
        assert failure.cause.message == "Encoded failure"
        assert failure.cause.application_failure_info is not None
        details = failure.cause.application_failure_info.details
        assert details is not None
        assert details.payloads[0].metadata["encoding"] == b"binary/xor"
        assert b"1234" not in details.payloads[0].data

        snapshot = Failure()
        snapshot.CopyFrom(failure)
        decoded = asyncio.run(dc.decode_failure(failure))
        assert failure == snapshot  # input left untouched
        assert isinstance(decoded, TimeoutError)
        assert decoded.message == "outer secret"
        assert decoded.type is TimeoutType.HEARTBEAT
        assert list(decoded.last_heartbeat_details) == [7]
        assert isinstance(decoded.cause, ApplicationError)
        assert decoded.cause.message == "inner secret"
        assert decoded.cause.type == "Inner"
        assert list(decoded.cause.details) == [{"card": "1234"}]
        assert decoded.failure is not None
        assert "test_converter.py" in decoded.failure.stack_trace


# ---------------------------------------------------------------------------
# Failure conversion
# ---------------------------------------------------------------------------


def to_failure(exc: BaseException, fc: DefaultFailureConverter | None = None) -> Failure:
    failure = Failure()
    (fc or DefaultFailureConverter()).to_failure(exc, PC, failure)
    return failure


def from_failure(failure: Failure) -> BaseException:
    return DefaultFailureConverter().from_failure(failure, PC)


def raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


class TestFailureConversion:
    def test_application_error_to_failure(self) -> None:
        err = raised(
            ApplicationError(
                "boom",
                "detail",
                {"n": 1},
                type="MyError",
                non_retryable=True,
                next_retry_delay=timedelta(seconds=3),
                category=ApplicationErrorCategory.BENIGN,
            )
        )
        failure = to_failure(err)
        assert failure.message == "boom"
        assert "raise exc" in failure.stack_trace
        assert failure.WhichOneof("failure_info") == "application_failure_info"
        info = failure.application_failure_info
        assert info is not None
        assert info.type == "MyError"
        assert info.non_retryable is True
        assert info.next_retry_delay == timedelta(seconds=3)
        assert info.category == 1
        assert info.details is not None
        assert [p.data for p in info.details.payloads] == [b'"detail"', b'{"n":1}']

    def test_application_error_from_failure(self) -> None:
        failure = Failure(
            message="bad",
            application_failure_info=ApplicationFailureInfo(
                type="Kind",
                non_retryable=True,
                details=PC.to_payloads_wrapper([1, "x"]),
                next_retry_delay=timedelta(seconds=2),
                category=1,
            ),
        )
        err = from_failure(failure)
        assert isinstance(err, ApplicationError)
        assert err.message == "bad"
        assert str(err) == "Kind: bad"
        assert err.type == "Kind"
        assert err.non_retryable
        assert list(err.details) == [1, "x"]
        assert err.next_retry_delay == timedelta(seconds=2)
        assert err.category is ApplicationErrorCategory.BENIGN
        assert err.failure is failure

    def test_unknown_exception_becomes_application_error(self) -> None:
        failure = to_failure(raised(ValueError("not good")))
        info = failure.application_failure_info
        assert info is not None
        assert info.type == "ValueError"
        assert failure.message == "not good"
        assert "raise exc" in failure.stack_trace
        err = from_failure(failure)
        assert isinstance(err, ApplicationError)
        assert err.type == "ValueError"
        assert not err.non_retryable

    def test_cause_chain_both_ways(self) -> None:
        try:
            try:
                try:
                    raise KeyError("root")
                except KeyError as e1:
                    raise ApplicationError("middle", type="Mid") from e1
            except ApplicationError as e2:
                raise RuntimeError("top") from e2
        except RuntimeError as e3:
            top = e3
        failure = to_failure(top)
        assert failure.message == "top"
        assert failure.cause is not None and failure.cause.message == "middle"
        assert failure.cause.cause is not None
        root_info = failure.cause.cause.application_failure_info
        assert root_info is not None and root_info.type == "KeyError"
        assert failure.cause.cause.cause is None

        err = from_failure(failure)
        assert isinstance(err, ApplicationError) and err.type == "RuntimeError"
        mid = err.__cause__
        assert isinstance(mid, ApplicationError) and mid.type == "Mid"
        assert err.cause is mid
        root = mid.__cause__
        assert isinstance(root, ApplicationError) and root.type == "KeyError"
        assert root.__cause__ is None

    def test_implicit_context_used_unless_suppressed(self) -> None:
        try:
            try:
                raise ValueError("first")
            except ValueError:
                raise ApplicationError("second")
        except ApplicationError as err:
            with_context = err
        failure = to_failure(with_context)
        assert failure.cause is not None and failure.cause.message == "first"

        try:
            try:
                raise ValueError("first")
            except ValueError:
                raise ApplicationError("second") from None
        except ApplicationError as err:
            suppressed = err
        assert to_failure(suppressed).cause is None

    def test_cyclic_cause_chain_terminates(self) -> None:
        a = ApplicationError("a")
        b = ApplicationError("b")
        a.__cause__ = b
        b.__cause__ = a
        failure = to_failure(a)
        assert failure.cause is not None and failure.cause.message == "b"
        assert failure.cause.cause is None

    def test_all_failure_kinds_roundtrip(self) -> None:
        errors: list[FailureError] = [
            CancelledError("stop", "why"),
            TerminatedError("ended"),
            ServerError("srv", non_retryable=True),
            TimeoutError("slow", type=TimeoutType.START_TO_CLOSE, last_heartbeat_details=[]),
            ActivityError(
                "act",
                scheduled_event_id=5,
                started_event_id=6,
                identity="worker-1",
                activity_type="DoThing",
                activity_id="a1",
                retry_state=RetryState.MAXIMUM_ATTEMPTS_REACHED,
            ),
            ChildWorkflowError(
                "child",
                namespace="default",
                workflow_id="wf",
                run_id="run",
                workflow_type="ChildWf",
                initiated_event_id=9,
                started_event_id=10,
                retry_state=RetryState.NON_RETRYABLE_FAILURE,
            ),
        ]
        for original in errors:
            failure = to_failure(original)
            back = from_failure(failure)
            assert type(back) is type(original)
            assert isinstance(back, FailureError)
            assert back.message == original.message
        cancel = from_failure(to_failure(CancelledError("stop", "why")))
        assert isinstance(cancel, CancelledError) and list(cancel.details) == ["why"]
        server = from_failure(to_failure(ServerError("srv", non_retryable=True)))
        assert isinstance(server, ServerError) and server.non_retryable
        act_failure = to_failure(errors[4])
        assert act_failure.activity_failure_info is not None
        assert act_failure.activity_failure_info.activity_type == "DoThing"
        assert act_failure.activity_failure_info.retry_state == 4
        act = from_failure(act_failure)
        assert isinstance(act, ActivityError)
        assert (act.scheduled_event_id, act.started_event_id) == (5, 6)
        assert (act.identity, act.activity_type, act.activity_id) == (
            "worker-1",
            "DoThing",
            "a1",
        )
        assert act.retry_state is RetryState.MAXIMUM_ATTEMPTS_REACHED
        child = from_failure(to_failure(errors[5]))
        assert isinstance(child, ChildWorkflowError)
        assert (child.namespace, child.workflow_id, child.run_id) == ("default", "wf", "run")
        assert (child.workflow_type, child.initiated_event_id, child.started_event_id) == (
            "ChildWf",
            9,
            10,
        )
        assert child.retry_state is RetryState.NON_RETRYABLE_FAILURE

    def test_defaults_for_empty_failures(self) -> None:
        err = from_failure(Failure())
        assert type(err) is FailureError and err.message == "Failure error"
        timeout = from_failure(Failure(timeout_failure_info=TimeoutFailureInfo()))
        assert isinstance(timeout, TimeoutError)
        assert timeout.message == "Timeout" and timeout.type is None
        assert list(timeout.last_heartbeat_details) == []
        app = from_failure(Failure(application_failure_info=ApplicationFailureInfo()))
        assert isinstance(app, ApplicationError)
        assert app.type is None and app.next_retry_delay is None
        assert list(app.details) == []

    def test_unknown_enum_numbers_do_not_crash(self) -> None:
        failure = Failure(timeout_failure_info=TimeoutFailureInfo(timeout_type=99))
        err = from_failure(failure)
        assert isinstance(err, TimeoutError) and err.type is None

    def test_decoded_error_reuses_original_failure(self) -> None:
        failure = Failure(
            message="orig",
            source="GoSDK",
            stack_trace="go stack",
            application_failure_info=ApplicationFailureInfo(type="GoErr"),
        )
        err = from_failure(failure)
        again = to_failure(err)
        assert again == failure
        assert again is not failure

    def test_wrapping_decoded_error_keeps_it_as_cause(self) -> None:
        inner = from_failure(Failure(message="remote", server_failure_info=None))
        try:
            raise ApplicationError("wrapper") from inner
        except ApplicationError as err:
            outer = err
        failure = to_failure(outer)
        assert failure.cause is not None and failure.cause.message == "remote"

    def test_encoded_attributes(self) -> None:
        fc = DefaultFailureConverter(encode_common_attributes=True)
        failure = to_failure(raised(ApplicationError("hidden", type="T")), fc)
        assert failure.message == "Encoded failure"
        assert failure.stack_trace == ""
        assert failure.encoded_attributes is not None
        attrs = json.loads(failure.encoded_attributes.data)
        assert attrs["message"] == "hidden"
        assert "raise exc" in attrs["stack_trace"]
        err = from_failure(failure)
        assert isinstance(err, ApplicationError) and err.message == "hidden"
        assert err.failure is not None and "raise exc" in err.failure.stack_trace
        # The original (encoded) failure is not modified by decoding.
        assert failure.message == "Encoded failure"

    def test_reencoding_decoded_error_does_not_leak_message(self) -> None:
        fc = DefaultFailureConverter(encode_common_attributes=True)
        failure = to_failure(ApplicationError("secret"), fc)
        decoded = fc.from_failure(failure, PC)
        again = to_failure(decoded, fc)
        assert again.message == "Encoded failure"
        assert again.encoded_attributes is not None
        assert json.loads(again.encoded_attributes.data)["message"] == "secret"

    def test_bad_encoded_attributes_are_ignored(self) -> None:
        failure = Failure(
            message="plain",
            encoded_attributes=Payload(metadata={"encoding": b"weird"}, data=b"?"),
        )
        err = from_failure(failure)
        assert isinstance(err, FailureError) and err.message == "plain"

    def test_failure_mirror_helpers(self) -> None:
        f = Failure(message="m")
        assert f.WhichOneof("failure_info") is None
        assert not f.HasField("cause")
        f.set_failure_info(ApplicationFailureInfo(type="x"))
        assert f.WhichOneof("failure_info") == "application_failure_info"
        assert isinstance(f.failure_info, ApplicationFailureInfo)
        f.set_failure_info(TimeoutFailureInfo(timeout_type=1))
        assert f.application_failure_info is None
        assert f.HasField("timeout_failure_info")
        with pytest.raises(ValueError):
            f.HasField("message")
        copy_ = Failure()
        copy_.CopyFrom(f)
        assert copy_ == f and copy_.timeout_failure_info is not f.timeout_failure_info


def test_retry_policy_validation() -> None:
    RetryPolicy()._validate()
    RetryPolicy(maximum_attempts=1, backoff_coefficient=0.5)._validate()
    cases = [
        (RetryPolicy(initial_interval=timedelta(seconds=-1)), "initial_interval"),
        (RetryPolicy(backoff_coefficient=0.5), "backoff_coefficient"),
        (RetryPolicy(maximum_interval=timedelta(seconds=-1)), "maximum_interval"),
        (
            RetryPolicy(
                initial_interval=timedelta(seconds=10),
                maximum_interval=timedelta(seconds=5),
            ),
            "less than initial_interval",
        ),
        (RetryPolicy(maximum_attempts=-1), "maximum_attempts"),
        (RetryPolicy(non_retryable_error_types="ValueError"), "single string"),
    ]
    for policy, text in cases:
        with pytest.raises(ValueError, match=text):
            policy._validate()


def test_modules_do_not_need_the_c_extension() -> None:
    code = (
        "import sys\n"
        "sys.modules['temporalio._tw'] = None  # make any import of it fail\n"
        "import temporalio.converter, temporalio.exceptions, temporalio.common\n"
        "import temporalio.api.common.v1, temporalio.api.failure.v1\n"
        "print('ok')\n"
    )
    import temporalio

    root = os.path.dirname(os.path.dirname(os.path.abspath(temporalio.__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
