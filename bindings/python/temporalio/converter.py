"""Conversion between Python values and Temporal payloads, and between
exceptions and Temporal failures.

Layers, outermost first:

* :py:class:`DataConverter` bundles everything below and is what clients and
  workers are configured with.
* :py:class:`PayloadCodec` transforms already-serialized payloads (for
  example encryption or compression); optional.
* :py:class:`PayloadConverter` turns values into payloads and back.  The
  default is a :py:class:`CompositePayloadConverter` that tries one
  :py:class:`EncodingPayloadConverter` per encoding.
* :py:class:`FailureConverter` turns exceptions into
  :py:class:`temporalio.api.failure.v1.Failure` objects and back.

Protobuf message values are supported when ``google.protobuf`` is installed;
without it those converters never claim a value, so they are skipped.
"""

from __future__ import annotations

import base64
import collections
import collections.abc
import contextvars
import copy
import dataclasses
import importlib
import inspect
import json
import traceback
import types
import typing
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum, IntEnum, IntFlag
from typing import (
    Annotated,
    Any,
    ClassVar,
    Literal,
    NewType,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    overload,
)

import temporalio.api.common.v1
import temporalio.api.failure.v1
import temporalio.common
import temporalio.exceptions
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.failure.v1 import Failure

__all__ = [
    "AdvancedJSONEncoder",
    "BinaryNullPayloadConverter",
    "BinaryPlainPayloadConverter",
    "BinaryProtoPayloadConverter",
    "CompositePayloadConverter",
    "DataConverter",
    "DefaultFailureConverter",
    "DefaultFailureConverterWithEncodedAttributes",
    "DefaultPayloadConverter",
    "EncodingPayloadConverter",
    "FailureConverter",
    "JSONPlainPayloadConverter",
    "JSONProtoPayloadConverter",
    "JSONTypeConverter",
    "JSONTypeConverterUnhandled",
    "PayloadCodec",
    "PayloadConverter",
    "default",
    "value_to_type",
]

_T = TypeVar("_T")
_NoneType = type(None)


# ---------------------------------------------------------------------------
# Optional protobuf support
# ---------------------------------------------------------------------------


def _load_protobuf() -> Any:
    """Namespace of the ``google.protobuf`` modules we use, or ``None``."""
    try:
        return types.SimpleNamespace(
            message=importlib.import_module("google.protobuf.message"),
            json_format=importlib.import_module("google.protobuf.json_format"),
            descriptor_pool=importlib.import_module("google.protobuf.descriptor_pool"),
            message_factory=importlib.import_module("google.protobuf.message_factory"),
            symbol_database=importlib.import_module("google.protobuf.symbol_database"),
        )
    except ImportError:
        return None


_protobuf: Any = _load_protobuf()


def _is_proto_message(value: Any) -> bool:
    return (
        _protobuf is not None
        and isinstance(value, _protobuf.message.Message)
        and getattr(value, "DESCRIPTOR", None) is not None
    )


def _proto_message_class(message_type: str, type_hint: Any) -> Any:
    """Resolve the generated class for a fully-qualified protobuf type name."""
    if _protobuf is None:
        raise RuntimeError(
            f"Cannot decode protobuf message {message_type or '<unknown>'}: "
            "the google.protobuf package is not installed"
        )
    hint_is_message = inspect.isclass(type_hint) and issubclass(
        type_hint, _protobuf.message.Message
    )
    if hint_is_message and (
        not message_type or type_hint.DESCRIPTOR.full_name == message_type
    ):
        return type_hint
    if not message_type:
        raise RuntimeError(
            "Protobuf payload has no 'messageType' metadata and no protobuf "
            "message type hint was given"
        )
    try:
        descriptor = _protobuf.descriptor_pool.Default().FindMessageTypeByName(
            message_type
        )
    except KeyError as err:
        raise RuntimeError(
            f"Unknown protobuf message type {message_type!r}; import the module "
            "that defines it before decoding"
        ) from err
    factory = _protobuf.message_factory
    if hasattr(factory, "GetMessageClass"):
        return factory.GetMessageClass(descriptor)
    return _protobuf.symbol_database.Default().GetSymbol(message_type)


# ---------------------------------------------------------------------------
# Payload converters
# ---------------------------------------------------------------------------


class PayloadConverter(ABC):
    """Converts lists of Python values to lists of payloads and back."""

    default: ClassVar[PayloadConverter]
    """Shared :py:class:`DefaultPayloadConverter` instance."""

    @abstractmethod
    def to_payloads(self, values: Sequence[Any]) -> list[Payload]:
        """Serialize ``values``.

        A :py:class:`temporalio.common.RawValue` must be passed through as
        its payload.

        Raises:
            Exception: When a value cannot be converted.
        """
        raise NotImplementedError

    @abstractmethod
    def from_payloads(
        self,
        payloads: Sequence[Payload],
        type_hints: list[Any] | None = None,
    ) -> list[Any]:
        """Deserialize ``payloads``.

        Args:
            payloads: Payloads to decode.
            type_hints: Target types, one per payload, or ``None`` when unknown.
                A hint of :py:class:`temporalio.common.RawValue` must yield the
                payload wrapped in a ``RawValue``.

        Raises:
            Exception: When a payload cannot be converted.
        """
        raise NotImplementedError

    def to_payloads_wrapper(self, values: Sequence[Any]) -> Payloads:
        """:py:meth:`to_payloads`, wrapped in a :py:class:`Payloads` message."""
        return Payloads(payloads=self.to_payloads(values))

    def from_payloads_wrapper(self, payloads: Payloads | None) -> list[Any]:
        """:py:meth:`from_payloads` for an optional :py:class:`Payloads` message."""
        if payloads is None or not payloads.payloads:
            return []
        return self.from_payloads(payloads.payloads)

    def to_payload(self, value: Any) -> Payload:
        """Serialize a single value."""
        return self.to_payloads([value])[0]

    @overload
    def from_payload(self, payload: Payload) -> Any: ...

    @overload
    def from_payload(self, payload: Payload, type_hint: type[_T]) -> _T: ...

    @overload
    def from_payload(self, payload: Payload, type_hint: Any) -> Any: ...

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        """Deserialize a single payload, optionally to ``type_hint``."""
        hints = None if type_hint is None else [type_hint]
        return self.from_payloads([payload], hints)[0]


class EncodingPayloadConverter(ABC):
    """Converter for one payload encoding, used by
    :py:class:`CompositePayloadConverter`."""

    @property
    @abstractmethod
    def encoding(self) -> str:
        """Value of the ``encoding`` metadata this converter reads and writes."""
        raise NotImplementedError

    @abstractmethod
    def to_payload(self, value: Any) -> Payload | None:
        """Serialize ``value``, or return ``None`` if this converter does not
        handle values of its kind."""
        raise NotImplementedError

    @abstractmethod
    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        """Deserialize a payload whose encoding is :py:attr:`encoding`.

        Raises:
            RuntimeError: The payload bytes are malformed.
            TypeError: The value does not fit ``type_hint``.
        """
        raise NotImplementedError


class CompositePayloadConverter(PayloadConverter):
    """Tries each encoding converter in turn when serializing and picks the
    converter by the payload's ``encoding`` metadata when deserializing.

    Attributes:
        converters: Encoding converters keyed by encoding name (as bytes), in
            the order they are tried.
    """

    converters: Mapping[bytes, EncodingPayloadConverter]

    def __init__(self, *converters: EncodingPayloadConverter) -> None:
        """Create a converter delegating to ``converters`` in order."""
        self.converters = {c.encoding.encode(): c for c in converters}

    def to_payloads(self, values: Sequence[Any]) -> list[Payload]:
        """See base class. Produces exactly one payload per value.

        Raises:
            RuntimeError: No converter accepted a value.
        """
        payloads: list[Payload] = []
        for index, value in enumerate(values):
            if isinstance(value, temporalio.common.RawValue):
                payloads.append(value.payload)
                continue
            payload: Payload | None = None
            for converter in self.converters.values():
                payload = converter.to_payload(value)
                if payload is not None:
                    break
            if payload is None:
                known = ", ".join(c.decode() for c in self.converters)
                raise RuntimeError(
                    f"Value at index {index} of type {type(value).__qualname__} "
                    f"has no known converter (tried: {known})"
                )
            payloads.append(payload)
        return payloads

    def from_payloads(
        self,
        payloads: Sequence[Payload],
        type_hints: list[Any] | None = None,
    ) -> list[Any]:
        """See base class. Produces exactly one value per payload.

        Raises:
            KeyError: A payload has no ``encoding`` metadata, or an encoding
                no converter handles.
            RuntimeError: A payload's bytes could not be decoded.
            TypeError: A decoded value does not fit its type hint.
        """
        hints = type_hints or []
        values: list[Any] = []
        for index, payload in enumerate(payloads):
            hint = hints[index] if index < len(hints) else None
            if hint is temporalio.common.RawValue:
                values.append(temporalio.common.RawValue(payload))
                continue
            encoding_raw = payload.metadata.get("encoding")
            if encoding_raw is None:
                raise KeyError(
                    f"Payload at index {index} has no 'encoding' metadata, so "
                    "no converter can be chosen for it"
                )
            encoding = encoding_raw.decode("utf-8", errors="replace")
            converter = self.converters.get(encoding_raw)
            if converter is None:
                known = ", ".join(c.decode() for c in self.converters)
                raise KeyError(
                    f"Unknown payload encoding {encoding!r} for payload at index "
                    f"{index} (known encodings: {known})"
                )
            try:
                values.append(converter.from_payload(payload, hint))
            except RuntimeError as err:
                raise RuntimeError(
                    f"Payload at index {index} with encoding {encoding} could not "
                    f"be converted: {err}"
                ) from err
            except TypeError as err:
                raise TypeError(
                    f"Payload at index {index} with encoding {encoding} could not "
                    f"be converted to {_describe_hint(hint)}: {err}"
                ) from err
        return values


class BinaryNullPayloadConverter(EncodingPayloadConverter):
    """``binary/null``: encodes ``None`` as a payload with no data."""

    @property
    def encoding(self) -> str:
        """See base class."""
        return "binary/null"

    def to_payload(self, value: Any) -> Payload | None:
        """See base class."""
        if value is None:
            return Payload(metadata={"encoding": b"binary/null"})
        return None

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        """See base class."""
        if payload.data:
            raise RuntimeError(
                f"binary/null payload must have no data, found {len(payload.data)} "
                "byte(s)"
            )
        return None


class BinaryPlainPayloadConverter(EncodingPayloadConverter):
    """``binary/plain``: ``bytes`` values stored as-is."""

    @property
    def encoding(self) -> str:
        """See base class."""
        return "binary/plain"

    def to_payload(self, value: Any) -> Payload | None:
        """See base class."""
        if isinstance(value, bytes):
            return Payload(metadata={"encoding": b"binary/plain"}, data=value)
        return None

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        """See base class."""
        return payload.data


class JSONProtoPayloadConverter(EncodingPayloadConverter):
    """``json/protobuf``: protobuf messages as canonical proto JSON.

    Inactive (never claims a value) when ``google.protobuf`` is missing.
    """

    def __init__(self, ignore_unknown_fields: bool = False) -> None:
        """Create the converter.

        Args:
            ignore_unknown_fields: Skip JSON fields the message does not define
                instead of failing.
        """
        super().__init__()
        self._ignore_unknown_fields = ignore_unknown_fields

    @property
    def encoding(self) -> str:
        """See base class."""
        return "json/protobuf"

    def to_payload(self, value: Any) -> Payload | None:
        """See base class."""
        if not _is_proto_message(value):
            return None
        as_dict = _protobuf.json_format.MessageToDict(value)
        return Payload(
            metadata={
                "encoding": b"json/protobuf",
                "messageType": value.DESCRIPTOR.full_name.encode(),
            },
            data=json.dumps(as_dict, separators=(",", ":"), sort_keys=True).encode(),
        )

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        """See base class."""
        message_type = payload.metadata.get("messageType", b"").decode()
        cls = _proto_message_class(message_type, type_hint)
        try:
            return _protobuf.json_format.Parse(
                payload.data,
                cls(),
                ignore_unknown_fields=self._ignore_unknown_fields,
            )
        except _protobuf.json_format.ParseError as err:
            raise RuntimeError(
                f"Failed parsing json/protobuf payload as {message_type}: {err}"
            ) from err


class BinaryProtoPayloadConverter(EncodingPayloadConverter):
    """``binary/protobuf``: protobuf messages in binary wire format.

    Inactive (never claims a value) when ``google.protobuf`` is missing.
    """

    @property
    def encoding(self) -> str:
        """See base class."""
        return "binary/protobuf"

    def to_payload(self, value: Any) -> Payload | None:
        """See base class."""
        if not _is_proto_message(value):
            return None
        return Payload(
            metadata={
                "encoding": b"binary/protobuf",
                "messageType": value.DESCRIPTOR.full_name.encode(),
            },
            data=value.SerializeToString(),
        )

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        """See base class."""
        message_type = payload.metadata.get("messageType", b"").decode()
        cls = _proto_message_class(message_type, type_hint)
        message = cls()
        try:
            message.ParseFromString(payload.data)
        except _protobuf.message.DecodeError as err:
            raise RuntimeError(
                f"Failed parsing binary/protobuf payload as {message_type}: {err}"
            ) from err
        return message


class AdvancedJSONEncoder(json.JSONEncoder):
    """JSON encoder that also understands common non-JSON Python values.

    Handled beyond the standard types: dataclass instances (as objects),
    enums (their value), ``datetime``/``date``/``time`` (ISO 8601),
    ``timedelta`` (seconds as a number), ``UUID`` and ``Decimal`` (strings),
    objects with ``model_dump()`` (Pydantic v2), ``to_json()`` or ``dict()``
    (Pydantic v1) methods, other mappings (objects), sets (sorted arrays when
    possible) and any other iterable (arrays).
    """

    def default(self, o: Any) -> Any:
        """See :py:meth:`json.JSONEncoder.default`."""
        if isinstance(o, (datetime, date, time)):
            return o.isoformat()
        if isinstance(o, timedelta):
            return o.total_seconds()
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {f.name: getattr(o, f.name) for f in dataclasses.fields(o)}
        if isinstance(o, Enum):
            return o.value
        if isinstance(o, uuid.UUID):
            return str(o)
        if isinstance(o, Decimal):
            return str(o)
        model_dump = getattr(o, "model_dump", None)
        if callable(model_dump):
            try:
                return model_dump(mode="json")
            except TypeError:
                return model_dump()
        to_json = getattr(o, "to_json", None)
        if callable(to_json):
            return to_json()
        as_dict = getattr(o, "dict", None)
        if callable(as_dict):
            return as_dict()
        if isinstance(o, Mapping):
            return dict(o)
        if isinstance(o, (set, frozenset)):
            try:
                return sorted(o)
            except TypeError:
                return list(o)
        if isinstance(o, collections.abc.Iterable):
            return list(o)
        return super().default(o)


JSONTypeConverterUnhandled = NewType("JSONTypeConverterUnhandled", object)
"""Type of :py:attr:`JSONTypeConverter.Unhandled`."""


class JSONTypeConverter(ABC):
    """Hook for turning ``json.loads`` output into a specific type.

    Instances given to :py:class:`JSONPlainPayloadConverter` (or
    :py:func:`value_to_type`) are consulted, in order, before the built-in
    rules, at every nesting level.
    """

    Unhandled: ClassVar[JSONTypeConverterUnhandled] = JSONTypeConverterUnhandled(
        object()
    )
    """Return this from :py:meth:`to_typed_value` to decline a value."""

    @abstractmethod
    def to_typed_value(self, hint: Any, value: Any) -> Any:
        """Convert ``value`` to ``hint`` or return :py:attr:`Unhandled`."""
        raise NotImplementedError


class JSONPlainPayloadConverter(EncodingPayloadConverter):
    """``json/plain``: compact JSON, decoded with the help of type hints.

    Encoding accepts everything :py:class:`AdvancedJSONEncoder` does; decoding
    rebuilds typed values with :py:func:`value_to_type` when a type hint is
    known.
    """

    def __init__(
        self,
        *,
        encoder: type[json.JSONEncoder] | None = AdvancedJSONEncoder,
        decoder: type[json.JSONDecoder] | None = None,
        encoding: str = "json/plain",
        custom_type_converters: Sequence[JSONTypeConverter] = (),
    ) -> None:
        """Create the converter.

        Args:
            encoder: ``json.JSONEncoder`` subclass used for serialization.
            decoder: ``json.JSONDecoder`` subclass used for parsing.
            encoding: Encoding name to write and accept.
            custom_type_converters: Extra typed-decoding hooks.
        """
        super().__init__()
        self._encoder = encoder
        self._decoder = decoder
        self._encoding = encoding
        self._custom_type_converters = tuple(custom_type_converters)

    @property
    def encoding(self) -> str:
        """See base class."""
        return self._encoding

    def to_payload(self, value: Any) -> Payload | None:
        """See base class. Raises ``TypeError`` for unserializable values."""
        data = json.dumps(
            value, cls=self._encoder, separators=(",", ":"), sort_keys=True
        ).encode()
        return Payload(metadata={"encoding": self._encoding.encode()}, data=data)

    def from_payload(self, payload: Payload, type_hint: Any = None) -> Any:
        """See base class."""
        try:
            value = json.loads(payload.data, cls=self._decoder)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise RuntimeError(
                f"Failed parsing {self._encoding} payload data as JSON: {err}"
            ) from err
        if type_hint is not None:
            value = value_to_type(type_hint, value, self._custom_type_converters)
        return value


class DefaultPayloadConverter(CompositePayloadConverter):
    """The standard converter, compatible with the other Temporal SDKs.

    Handles ``None``, ``bytes``, protobuf messages (when protobuf is
    installed) and everything JSON-encodable, tried in that order.
    """

    default_encoding_payload_converters: ClassVar[
        tuple[EncodingPayloadConverter, ...]
    ] = (
        BinaryNullPayloadConverter(),
        BinaryPlainPayloadConverter(),
        JSONProtoPayloadConverter(),
        BinaryProtoPayloadConverter(),
        # JSON accepts (or raises on) anything, so it has to be last.
        JSONPlainPayloadConverter(),
    )

    def __init__(self) -> None:
        """Create the converter from :py:attr:`default_encoding_payload_converters`."""
        super().__init__(*type(self).default_encoding_payload_converters)


# ---------------------------------------------------------------------------
# Typed JSON decoding
# ---------------------------------------------------------------------------


def _describe_hint(hint: Any) -> str:
    if hint is None:
        return "an unspecified type"
    if inspect.isclass(hint) and get_origin(hint) is None:
        return hint.__qualname__
    return repr(hint).replace("typing.", "")


def _describe_value(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _mismatch(expected: str, value: Any) -> TypeError:
    return TypeError(f"Expected {expected}, got {_describe_value(value)}")


def _substitute_typevars(hint: Any, mapping: Mapping[Any, Any]) -> Any:
    """Replace type variables in ``hint`` using ``mapping``."""
    if not mapping:
        return hint
    if isinstance(hint, TypeVar):
        return mapping.get(hint, hint)
    params = getattr(hint, "__parameters__", ())
    if params and get_origin(hint) is not None:
        try:
            return hint[tuple(mapping.get(p, p) for p in params)]
        except TypeError:
            return hint
    return hint


def _typevar_mapping(origin: Any, args: tuple[Any, ...]) -> dict[Any, Any]:
    params = getattr(origin, "__parameters__", ())
    if not args or len(params) != len(args):
        return {}
    return dict(zip(params, args))


def _resolved_hints(cls: Any) -> dict[str, Any]:
    try:
        return get_type_hints(cls)
    except Exception as err:
        raise TypeError(
            f"Could not resolve the type annotations of {_describe_hint(cls)}: {err}"
        ) from err


_SET_ORIGINS: tuple[Any, ...] = (
    set,
    collections.abc.Set,
    collections.abc.MutableSet,
)
_LIST_ORIGINS: tuple[Any, ...] = (
    list,
    collections.abc.Sequence,
    collections.abc.MutableSequence,
    collections.abc.Collection,
    collections.abc.Iterable,
    collections.abc.Container,
    collections.abc.Reversible,
)


def value_to_type(
    hint: Any,
    value: Any,
    custom_converters: Sequence[JSONTypeConverter] = (),
) -> Any:
    """Convert a ``json.loads`` result to the type described by ``hint``.

    Supported hints: ``Any``/``object``, ``None``, ``bool``/``int``/``float``/
    ``str`` (strictly checked; integral floats are accepted for ``int``),
    ``bytes`` (from an array of byte values or a base64 string), ``datetime``/
    ``date``/``time`` (ISO 8601), ``timedelta`` (seconds), ``Decimal``,
    ``UUID``, enums, ``Literal``, ``Optional``/``Union``, ``NewType``,
    ``Annotated``, lists/sequences/sets/deques, tuples (fixed and variadic),
    dicts/mappings (keys are parsed back from their JSON string form),
    ``TypedDict``, dataclasses (recursively, generic ones included; unknown
    keys are ignored) and classes with a ``from_json``, ``model_validate`` or
    ``parse_obj`` class/static method.

    Raises:
        TypeError: ``value`` does not fit ``hint`` or ``hint`` is unsupported.
            The message names the expected and actual types.
    """
    for converter in custom_converters:
        result = converter.to_typed_value(hint, value)
        if result is not JSONTypeConverter.Unhandled:
            return result

    if hint is Any or hint is object or isinstance(hint, TypeVar):
        return value
    if hint is None or hint is _NoneType:
        if value is not None:
            raise _mismatch("null", value)
        return None
    if isinstance(hint, (str, typing.ForwardRef)):
        raise TypeError(
            f"Cannot convert using unresolved forward reference {hint!r}; "
            "resolve type hints (typing.get_type_hints) first"
        )

    origin = get_origin(hint)
    args = get_args(hint)

    if origin is Annotated:
        return value_to_type(hint.__origin__, value, custom_converters)
    supertype = getattr(hint, "__supertype__", None)
    if supertype is not None:  # NewType
        return value_to_type(supertype, value, custom_converters)
    alias_value = getattr(hint, "__value__", None)
    if alias_value is not None and type(hint).__name__ == "TypeAliasType":
        return value_to_type(alias_value, value, custom_converters)

    # Scalars
    if hint is bool:
        if type(value) is not bool:
            raise _mismatch("bool", value)
        return value
    if hint is int:
        if isinstance(value, bool):
            raise _mismatch("int", value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _mismatch("int", value)
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _mismatch("float", value)
    if hint is str:
        if not isinstance(value, str):
            raise _mismatch("str", value)
        return value
    if hint is bytes or hint is bytearray:
        return hint(_to_bytes(value))
    if inspect.isclass(hint) and origin is None:
        scalar = _convert_scalar_class(hint, value)
        if scalar is not _NOT_HANDLED:
            return scalar

    if origin is Literal:
        return _convert_literal(args, value)
    if origin is Union or origin is types.UnionType:
        return _convert_union(hint, args, value, custom_converters)

    target = origin if origin is not None else hint
    if not inspect.isclass(target):
        raise TypeError(f"Unsupported type hint {_describe_hint(hint)}")

    # Classes that know how to build themselves
    for hook in ("from_json", "model_validate", "parse_obj"):
        attr = inspect.getattr_static(target, hook, None)
        if isinstance(attr, (classmethod, staticmethod)):
            return getattr(hint, hook)(value)

    if issubclass(target, Enum):
        return _convert_enum(target, value)

    if issubclass(target, dict) and hasattr(target, "__required_keys__"):
        return _convert_typed_dict(target, args, value, custom_converters)
    if issubclass(target, collections.abc.Mapping):
        return _convert_mapping(hint, target, args, value, custom_converters)

    if dataclasses.is_dataclass(target):
        if isinstance(value, target):
            return value
        return _convert_dataclass(target, args, value, custom_converters)

    if issubclass(target, tuple) and not hasattr(target, "_fields"):
        return _convert_tuple(hint, args, value, custom_converters)
    if issubclass(target, tuple):  # NamedTuple
        return _convert_named_tuple(target, value, custom_converters)

    if (
        target in _LIST_ORIGINS
        or target in _SET_ORIGINS
        or issubclass(target, (list, set, frozenset, collections.deque))
    ):
        return _convert_collection(hint, target, args, value, custom_converters)

    if isinstance(value, target):
        return value
    # Plain subclasses of JSON scalar types, e.g. ``class Tag(str)``.
    for base in (str, int, float):
        if (
            issubclass(target, base)
            and isinstance(value, base)
            and not isinstance(value, bool)
        ):
            return target(value)
    raise TypeError(
        f"Cannot convert {_describe_value(value)} to {_describe_hint(hint)}: the "
        "type is not supported by the JSON converter (make it a dataclass, give "
        "it a from_json classmethod, or add a JSONTypeConverter)"
    )


_NOT_HANDLED: Any = object()


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError as err:
            raise TypeError(
                f"Expected bytes as a base64 string or array of byte values, got "
                f"{_describe_value(value)}"
            ) from err
    if isinstance(value, list):
        try:
            return bytes(value)
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"Expected an array of byte values (0-255), got {_describe_value(value)}"
            ) from err
    raise _mismatch("bytes (array of byte values or base64 string)", value)


def _convert_scalar_class(hint: type, value: Any) -> Any:
    """Conversions for date/time, UUID and Decimal classes."""
    if issubclass(hint, datetime):
        if isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return hint.fromisoformat(value)
            except ValueError as err:
                raise TypeError(
                    f"Expected an ISO 8601 datetime string, got {value!r}"
                ) from err
        raise _mismatch("datetime (ISO 8601 string)", value)
    if issubclass(hint, date):
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return hint.fromisoformat(value)
            except ValueError as err:
                raise TypeError(f"Expected an ISO 8601 date string, got {value!r}") from err
        raise _mismatch("date (ISO 8601 string)", value)
    if issubclass(hint, time):
        if isinstance(value, time):
            return value
        if isinstance(value, str):
            try:
                return hint.fromisoformat(value)
            except ValueError as err:
                raise TypeError(f"Expected an ISO 8601 time string, got {value!r}") from err
        raise _mismatch("time (ISO 8601 string)", value)
    if issubclass(hint, timedelta):
        if isinstance(value, timedelta):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return hint(seconds=value)
        raise _mismatch("timedelta (number of seconds)", value)
    if issubclass(hint, uuid.UUID):
        if isinstance(value, uuid.UUID):
            return value
        if isinstance(value, str):
            try:
                return hint(value)
            except ValueError as err:
                raise TypeError(f"Expected a UUID string, got {value!r}") from err
        raise _mismatch("UUID string", value)
    if issubclass(hint, Decimal):
        if isinstance(value, Decimal):
            return value
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            try:
                return hint(str(value))
            except InvalidOperation as err:
                raise TypeError(f"Expected a decimal number, got {value!r}") from err
        raise _mismatch("decimal (string or number)", value)
    return _NOT_HANDLED


def _literal_matches(arg: Any, value: Any) -> bool:
    # Compare type as well so that True does not match Literal[1] and so on.
    return type(arg) is type(value) and arg == value


def _convert_literal(args: tuple[Any, ...], value: Any) -> Any:
    for arg in args:
        if isinstance(arg, Enum):
            if value is arg:
                return arg
            try:
                if type(arg)(value) is arg:
                    return arg
            except (ValueError, TypeError):
                pass
        elif _literal_matches(arg, value):
            return arg
    allowed = ", ".join(repr(a) for a in args)
    raise TypeError(f"Expected one of the literal values ({allowed}), got {value!r}")


def _convert_union(
    hint: Any,
    args: tuple[Any, ...],
    value: Any,
    custom_converters: Sequence[JSONTypeConverter],
) -> Any:
    if value is None and _NoneType in args:
        return None
    # A member whose type is exactly the JSON value's type wins, so that for
    # example Union[float, int] keeps 3 as an int.
    for arg in args:
        if arg in (bool, int, float, str) and type(value) is arg:
            return value
    problems: list[str] = []
    for arg in args:
        if arg is _NoneType:
            continue
        try:
            return value_to_type(arg, value, custom_converters)
        except Exception as err:
            problems.append(f"{_describe_hint(arg)}: {err}")
    detail = "; ".join(problems)
    raise TypeError(
        f"{_describe_value(value)} does not match any member of "
        f"{_describe_hint(hint)} ({detail})"
    )


def _convert_enum(enum_cls: type[Enum], value: Any) -> Any:
    if isinstance(value, enum_cls):
        return value
    if issubclass(enum_cls, (IntEnum, IntFlag)) and (
        not isinstance(value, int) or isinstance(value, bool)
    ):
        raise TypeError(
            f"Expected an int value for enum {enum_cls.__qualname__}, got "
            f"{_describe_value(value)}"
        )
    if issubclass(enum_cls, str) and not isinstance(value, str):
        raise TypeError(
            f"Expected a str value for enum {enum_cls.__qualname__}, got "
            f"{_describe_value(value)}"
        )
    try:
        return enum_cls(value)
    except (ValueError, TypeError) as err:
        valid = ", ".join(repr(m.value) for m in enum_cls)
        raise TypeError(
            f"{value!r} is not a valid {enum_cls.__qualname__} (valid values: {valid})"
        ) from err


def _convert_key(key_type: Any, key: Any, custom_converters: Sequence[JSONTypeConverter]) -> Any:
    """Convert a mapping key; JSON object keys are always strings, so a key
    of another type is recovered from its JSON text form when needed."""
    if key_type is Any or key_type is object or isinstance(key_type, TypeVar):
        return key
    candidates = [key]
    if isinstance(key, str):
        try:
            candidates.append(json.loads(key))
        except ValueError:
            pass
    first_error: Exception | None = None
    for candidate in candidates:
        try:
            return value_to_type(key_type, candidate, custom_converters)
        except Exception as err:
            first_error = first_error or err
    raise TypeError(
        f"Cannot convert mapping key {key!r} to {_describe_hint(key_type)}: {first_error}"
    )


def _convert_mapping(
    hint: Any,
    target: type,
    args: tuple[Any, ...],
    value: Any,
    custom_converters: Sequence[JSONTypeConverter],
) -> Any:
    if not isinstance(value, collections.abc.Mapping):
        raise _mismatch(f"a JSON object for {_describe_hint(hint)}", value)
    key_type = args[0] if len(args) > 0 else Any
    value_type = args[1] if len(args) > 1 else Any
    result: dict[Any, Any] = {}
    for key, item in value.items():
        new_key = _convert_key(key_type, key, custom_converters)
        try:
            result[new_key] = value_to_type(value_type, item, custom_converters)
        except Exception as err:
            raise TypeError(
                f"Failed converting value for key {key!r} of {_describe_hint(hint)}: "
                f"{err}"
            ) from err
    if target is collections.OrderedDict:
        return collections.OrderedDict(result)
    if (
        inspect.isclass(target)
        and issubclass(target, dict)
        and target is not dict
        and target is not collections.defaultdict
    ):
        try:
            return target(result)
        except Exception:
            return result
    return result


def _convert_typed_dict(
    td: type,
    args: tuple[Any, ...],
    value: Any,
    custom_converters: Sequence[JSONTypeConverter],
) -> Any:
    name = td.__qualname__
    if not isinstance(value, collections.abc.Mapping):
        raise _mismatch(f"a JSON object for TypedDict {name}", value)
    hints = _resolved_hints(td)
    typevars = _typevar_mapping(td, args)
    required: frozenset[str] = getattr(td, "__required_keys__", frozenset())
    missing = sorted(k for k in required if k not in value)
    if missing:
        raise TypeError(
            f"Cannot convert to TypedDict {name}: missing required key(s) "
            + ", ".join(repr(k) for k in missing)
        )
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key in hints:
            key_hint = _substitute_typevars(hints[key], typevars)
            try:
                item = value_to_type(key_hint, item, custom_converters)
            except Exception as err:
                raise TypeError(
                    f"Failed converting key {key!r} of TypedDict {name}: {err}"
                ) from err
        result[key] = item
    return result


def _convert_dataclass(
    cls: type,
    args: tuple[Any, ...],
    value: Any,
    custom_converters: Sequence[JSONTypeConverter],
) -> Any:
    name = cls.__qualname__
    if not isinstance(value, collections.abc.Mapping):
        raise _mismatch(f"a JSON object for dataclass {name}", value)
    hints = _resolved_hints(cls)
    typevars = _typevar_mapping(cls, args)
    kwargs: dict[str, Any] = {}
    missing: list[str] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name in value:
            field_hint = _substitute_typevars(hints.get(f.name, Any), typevars)
            try:
                kwargs[f.name] = value_to_type(
                    field_hint, value[f.name], custom_converters
                )
            except Exception as err:
                raise TypeError(
                    f"Failed converting field {f.name!r} of dataclass {name}: {err}"
                ) from err
        elif (
            f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ):
            missing.append(f.name)
    if missing:
        raise TypeError(
            f"Cannot convert to dataclass {name}: missing required field(s) "
            + ", ".join(repr(m) for m in missing)
        )
    return cls(**kwargs)


def _convert_named_tuple(
    cls: type, value: Any, custom_converters: Sequence[JSONTypeConverter]
) -> Any:
    name = cls.__qualname__
    fields: tuple[str, ...] = getattr(cls, "_fields")
    hints = _resolved_hints(cls)
    if isinstance(value, collections.abc.Mapping):
        items = {k: v for k, v in value.items() if k in fields}
    elif isinstance(value, (list, tuple)):
        if len(value) > len(fields):
            raise TypeError(
                f"Expected at most {len(fields)} items for {name}, got {len(value)}"
            )
        items = dict(zip(fields, value))
    else:
        raise _mismatch(f"a JSON array for {name}", value)
    converted: dict[str, Any] = {}
    for key, item in items.items():
        try:
            converted[key] = value_to_type(hints.get(key, Any), item, custom_converters)
        except Exception as err:
            raise TypeError(f"Failed converting field {key!r} of {name}: {err}") from err
    try:
        return cls(**converted)
    except TypeError as err:
        raise TypeError(f"Cannot convert to {name}: {err}") from err


def _convert_tuple(
    hint: Any,
    args: tuple[Any, ...],
    value: Any,
    custom_converters: Sequence[JSONTypeConverter],
) -> Any:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise _mismatch(f"a JSON array for {_describe_hint(hint)}", value)
    if not args:
        return tuple(value)
    if len(args) == 2 and args[1] is Ellipsis:
        item_types = [args[0]] * len(value)
    elif args == ((),):
        item_types = []
    else:
        item_types = list(args)
    if len(item_types) != len(value):
        raise TypeError(
            f"Expected {len(item_types)} item(s) for {_describe_hint(hint)}, "
            f"got {len(value)}"
        )
    out: list[Any] = []
    for index, (item_type, item) in enumerate(zip(item_types, value)):
        try:
            out.append(value_to_type(item_type, item, custom_converters))
        except Exception as err:
            raise TypeError(
                f"Failed converting index {index} of {_describe_hint(hint)}: {err}"
            ) from err
    return tuple(out)


def _convert_collection(
    hint: Any,
    target: type,
    args: tuple[Any, ...],
    value: Any,
    custom_converters: Sequence[JSONTypeConverter],
) -> Any:
    if isinstance(
        value, (str, bytes, bytearray, collections.abc.Mapping)
    ) or not isinstance(value, (list, tuple, set, frozenset, collections.deque)):
        raise _mismatch(f"a JSON array for {_describe_hint(hint)}", value)
    item_type = args[0] if args else Any
    items: list[Any] = []
    for index, item in enumerate(value):
        try:
            items.append(value_to_type(item_type, item, custom_converters))
        except Exception as err:
            raise TypeError(
                f"Failed converting index {index} of {_describe_hint(hint)}: {err}"
            ) from err
    if target in _SET_ORIGINS:
        return set(items)
    if target in _LIST_ORIGINS:
        return items
    # Concrete containers such as frozenset, deque or list/set subclasses.
    return target(items)


# ---------------------------------------------------------------------------
# Payload codecs
# ---------------------------------------------------------------------------


class PayloadCodec(ABC):
    """Byte-level transformation of payloads, such as encryption or
    compression, applied after conversion and before decoding."""

    @abstractmethod
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Transform outgoing payloads. Do not mutate the input."""
        raise NotImplementedError

    @abstractmethod
    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Reverse :py:meth:`encode`. Do not mutate the input."""
        raise NotImplementedError

    async def encode_wrapper(self, payloads: Payloads) -> None:
        """Encode the contents of ``payloads`` in place."""
        payloads.payloads[:] = await self.encode(list(payloads.payloads))

    async def decode_wrapper(self, payloads: Payloads) -> None:
        """Decode the contents of ``payloads`` in place."""
        payloads.payloads[:] = await self.decode(list(payloads.payloads))

    async def encode_failure(self, failure: Failure) -> None:
        """Encode, in place, every payload inside ``failure`` and its causes."""
        await _apply_to_failure_payloads(failure, self.encode_wrapper)

    async def decode_failure(self, failure: Failure) -> None:
        """Decode, in place, every payload inside ``failure`` and its causes."""
        await _apply_to_failure_payloads(failure, self.decode_wrapper)


async def _apply_to_failure_payloads(
    failure: Failure, callback: Callable[[Payloads], Awaitable[None]]
) -> None:
    current: Failure | None = failure
    while current is not None:
        if current.encoded_attributes is not None:
            wrapper = Payloads(payloads=[current.encoded_attributes])
            await callback(wrapper)
            if len(wrapper.payloads) != 1:
                raise RuntimeError(
                    "Payload codec must return exactly one payload for failure "
                    f"encoded attributes, got {len(wrapper.payloads)}"
                )
            current.encoded_attributes = wrapper.payloads[0]
        containers: list[Payloads | None] = []
        if current.application_failure_info is not None:
            containers.append(current.application_failure_info.details)
        if current.timeout_failure_info is not None:
            containers.append(current.timeout_failure_info.last_heartbeat_details)
        if current.canceled_failure_info is not None:
            containers.append(current.canceled_failure_info.details)
        if current.reset_workflow_failure_info is not None:
            containers.append(current.reset_workflow_failure_info.last_heartbeat_details)
        for container in containers:
            if container is not None and container.payloads:
                await callback(container)
        current = current.cause


# ---------------------------------------------------------------------------
# Failure converters
# ---------------------------------------------------------------------------


class FailureConverter(ABC):
    """Converts exceptions to :py:class:`~temporalio.api.failure.v1.Failure`
    objects and back."""

    default: ClassVar[FailureConverter]
    """Shared :py:class:`DefaultFailureConverter` instance."""

    @abstractmethod
    def to_failure(
        self,
        exception: BaseException,
        payload_converter: PayloadConverter,
        failure: Failure,
    ) -> None:
        """Describe ``exception`` by filling in ``failure`` (in place).

        ``exception`` must not be modified.
        """
        raise NotImplementedError

    @abstractmethod
    def from_failure(
        self, failure: Failure, payload_converter: PayloadConverter
    ) -> BaseException:
        """Build the exception described by ``failure``.

        ``failure`` must not be modified.
        """
        raise NotImplementedError


# Exceptions whose conversion is in progress in the current context; guards
# against endless recursion on cyclic ``__cause__``/``__context__`` chains.
_converting: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "_temporal_failure_converting", default=frozenset()
)


class DefaultFailureConverter(FailureConverter):
    """Standard mapping between :py:mod:`temporalio.exceptions` and failures.

    Exceptions that are not :py:class:`~temporalio.exceptions.FailureError`
    become application failures whose type is the exception's class name.
    """

    def __init__(self, *, encode_common_attributes: bool = False) -> None:
        """Create the converter.

        Args:
            encode_common_attributes: Move each failure's message and stack
                trace into ``encoded_attributes`` (a JSON payload, so that a
                payload codec can encrypt it); the message becomes
                ``"Encoded failure"``.
        """
        super().__init__()
        self._encode_common_attributes = encode_common_attributes

    def to_failure(
        self,
        exception: BaseException,
        payload_converter: PayloadConverter,
        failure: Failure,
    ) -> None:
        """See base class."""
        in_progress = _converting.get()
        token = _converting.set(in_progress | {id(exception)})
        try:
            if isinstance(exception, temporalio.exceptions.FailureError):
                error = exception
            else:
                error = temporalio.exceptions.ApplicationError(
                    str(exception), type=type(exception).__name__
                )
                error.__traceback__ = exception.__traceback__
                error.__cause__ = exception.__cause__
                error.__context__ = exception.__context__
                error.__suppress_context__ = exception.__suppress_context__
            self._fill_failure(error, payload_converter, failure)
        finally:
            _converting.reset(token)
        if self._encode_common_attributes:
            failure.encoded_attributes = payload_converter.to_payloads(
                [{"message": failure.message, "stack_trace": failure.stack_trace}]
            )[0]
            failure.message = "Encoded failure"
            failure.stack_trace = ""

    def _fill_failure(
        self,
        error: temporalio.exceptions.FailureError,
        payload_converter: PayloadConverter,
        failure: Failure,
    ) -> None:
        if error.failure is not None:
            # Decoded earlier: forward the original failure unchanged.
            failure.CopyFrom(error.failure)
            return

        failure.message = error.message
        if error.__traceback__ is not None:
            failure.stack_trace = "".join(traceback.format_tb(error.__traceback__))
        cause = error.__cause__
        if cause is None and not error.__suppress_context__:
            cause = error.__context__
        if cause is not None and id(cause) not in _converting.get():
            failure.cause = Failure()
            self.to_failure(cause, payload_converter, failure.cause)

        if isinstance(error, temporalio.exceptions.ApplicationError):
            failure.set_failure_info(
                temporalio.api.failure.v1.ApplicationFailureInfo(
                    type=error.type or "",
                    non_retryable=error.non_retryable,
                    details=payload_converter.to_payloads_wrapper(error.details)
                    if error.details
                    else None,
                    next_retry_delay=error.next_retry_delay or None,
                    category=int(error.category),
                )
            )
        elif isinstance(error, temporalio.exceptions.TimeoutError):
            failure.set_failure_info(
                temporalio.api.failure.v1.TimeoutFailureInfo(
                    timeout_type=int(error.type or 0),
                    last_heartbeat_details=payload_converter.to_payloads_wrapper(
                        error.last_heartbeat_details
                    )
                    if error.last_heartbeat_details
                    else None,
                )
            )
        elif isinstance(error, temporalio.exceptions.CancelledError):
            failure.set_failure_info(
                temporalio.api.failure.v1.CanceledFailureInfo(
                    details=payload_converter.to_payloads_wrapper(error.details)
                    if error.details
                    else None,
                )
            )
        elif isinstance(error, temporalio.exceptions.TerminatedError):
            failure.set_failure_info(temporalio.api.failure.v1.TerminatedFailureInfo())
        elif isinstance(error, temporalio.exceptions.ServerError):
            failure.set_failure_info(
                temporalio.api.failure.v1.ServerFailureInfo(
                    non_retryable=error.non_retryable
                )
            )
        elif isinstance(error, temporalio.exceptions.ActivityError):
            failure.set_failure_info(
                temporalio.api.failure.v1.ActivityFailureInfo(
                    scheduled_event_id=error.scheduled_event_id,
                    started_event_id=error.started_event_id,
                    identity=error.identity,
                    activity_type=error.activity_type,
                    activity_id=error.activity_id,
                    retry_state=int(error.retry_state or 0),
                )
            )
        elif isinstance(error, temporalio.exceptions.ChildWorkflowError):
            failure.set_failure_info(
                temporalio.api.failure.v1.ChildWorkflowExecutionFailureInfo(
                    namespace=error.namespace,
                    workflow_id=error.workflow_id,
                    run_id=error.run_id,
                    workflow_type=error.workflow_type,
                    initiated_event_id=error.initiated_event_id,
                    started_event_id=error.started_event_id,
                    retry_state=int(error.retry_state or 0),
                )
            )

    def from_failure(
        self, failure: Failure, payload_converter: PayloadConverter
    ) -> BaseException:
        """See base class."""
        if failure.encoded_attributes is not None:
            # Work on a copy so the caller's failure is left untouched.
            encoded = failure.encoded_attributes
            failure = copy.deepcopy(failure)
            try:
                attrs = payload_converter.from_payloads([encoded])[0]
            except Exception:
                attrs = None
            if isinstance(attrs, dict):
                message = attrs.get("message")
                if isinstance(message, str):
                    failure.message = message
                stack_trace = attrs.get("stack_trace")
                if isinstance(stack_trace, str):
                    failure.stack_trace = stack_trace

        err: temporalio.exceptions.FailureError
        if (app := failure.application_failure_info) is not None:
            err = temporalio.exceptions.ApplicationError(
                failure.message or "Application error",
                *payload_converter.from_payloads_wrapper(app.details),
                type=app.type or None,
                non_retryable=app.non_retryable,
                next_retry_delay=app.next_retry_delay or None,
                category=_enum_or(
                    temporalio.exceptions.ApplicationErrorCategory,
                    app.category,
                    temporalio.exceptions.ApplicationErrorCategory.UNSPECIFIED,
                ),
            )
        elif (timeout := failure.timeout_failure_info) is not None:
            err = temporalio.exceptions.TimeoutError(
                failure.message or "Timeout",
                type=_enum_or(temporalio.exceptions.TimeoutType, timeout.timeout_type, None),
                last_heartbeat_details=payload_converter.from_payloads_wrapper(
                    timeout.last_heartbeat_details
                ),
            )
        elif (cancel := failure.canceled_failure_info) is not None:
            err = temporalio.exceptions.CancelledError(
                failure.message or "Cancelled",
                *payload_converter.from_payloads_wrapper(cancel.details),
            )
        elif failure.terminated_failure_info is not None:
            err = temporalio.exceptions.TerminatedError(failure.message or "Terminated")
        elif (server := failure.server_failure_info) is not None:
            err = temporalio.exceptions.ServerError(
                failure.message or "Server error", non_retryable=server.non_retryable
            )
        elif (act := failure.activity_failure_info) is not None:
            err = temporalio.exceptions.ActivityError(
                failure.message or "Activity error",
                scheduled_event_id=act.scheduled_event_id,
                started_event_id=act.started_event_id,
                identity=act.identity,
                activity_type=act.activity_type,
                activity_id=act.activity_id,
                retry_state=_enum_or(temporalio.exceptions.RetryState, act.retry_state, None),
            )
        elif (child := failure.child_workflow_execution_failure_info) is not None:
            err = temporalio.exceptions.ChildWorkflowError(
                failure.message or "Child workflow error",
                namespace=child.namespace,
                workflow_id=child.workflow_id,
                run_id=child.run_id,
                workflow_type=child.workflow_type,
                initiated_event_id=child.initiated_event_id,
                started_event_id=child.started_event_id,
                retry_state=_enum_or(
                    temporalio.exceptions.RetryState, child.retry_state, None
                ),
            )
        else:
            err = temporalio.exceptions.FailureError(failure.message or "Failure error")
        err._failure = failure
        if failure.cause is not None:
            err.__cause__ = self.from_failure(failure.cause, payload_converter)
        return err


_EnumT = TypeVar("_EnumT", bound=Enum)
_DefaultT = TypeVar("_DefaultT")


def _enum_or(
    enum_cls: type[_EnumT], raw: int, fallback: _DefaultT
) -> _EnumT | _DefaultT:
    """Map a proto enum number to ``enum_cls``; 0 or unknown gives ``fallback``."""
    if not raw:
        return fallback
    try:
        return enum_cls(raw)
    except ValueError:
        return fallback


class DefaultFailureConverterWithEncodedAttributes(DefaultFailureConverter):
    """:py:class:`DefaultFailureConverter` with ``encode_common_attributes``
    turned on, so messages and stack traces pass through the payload codec."""

    def __init__(self) -> None:
        """Create the converter."""
        super().__init__(encode_common_attributes=True)


# ---------------------------------------------------------------------------
# Data converter
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DataConverter:
    """Payload converter, optional payload codec and failure converter,
    combined.  Converters are instantiated from their classes on creation."""

    payload_converter_class: type[PayloadConverter] = DefaultPayloadConverter
    """Class instantiated (without arguments) as :py:attr:`payload_converter`."""

    payload_codec: PayloadCodec | None = None
    """Optional codec applied to every payload after conversion."""

    failure_converter_class: type[FailureConverter] = DefaultFailureConverter
    """Class instantiated (without arguments) as :py:attr:`failure_converter`."""

    payload_converter: PayloadConverter = dataclasses.field(
        init=False, compare=False, repr=False
    )
    """Instance of :py:attr:`payload_converter_class`."""

    failure_converter: FailureConverter = dataclasses.field(
        init=False, compare=False, repr=False
    )
    """Instance of :py:attr:`failure_converter_class`."""

    default: ClassVar[DataConverter]
    """Shared instance with all defaults."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "payload_converter", self.payload_converter_class())
        object.__setattr__(self, "failure_converter", self.failure_converter_class())

    async def encode(self, values: Sequence[Any]) -> list[Payload]:
        """Convert ``values`` to payloads, then apply the codec."""
        payloads = self.payload_converter.to_payloads(values)
        if self.payload_codec is not None:
            payloads = await self.payload_codec.encode(payloads)
        return payloads

    async def decode(
        self, payloads: Sequence[Payload], type_hints: list[Any] | None = None
    ) -> list[Any]:
        """Reverse the codec, then convert payloads to values."""
        if self.payload_codec is not None:
            payloads = await self.payload_codec.decode(payloads)
        return self.payload_converter.from_payloads(payloads, type_hints)

    async def encode_wrapper(self, values: Sequence[Any]) -> Payloads:
        """:py:meth:`encode` returning a :py:class:`Payloads` message."""
        return Payloads(payloads=await self.encode(values))

    async def decode_wrapper(
        self, payloads: Payloads | None, type_hints: list[Any] | None = None
    ) -> list[Any]:
        """:py:meth:`decode` for an optional :py:class:`Payloads` message."""
        if payloads is None or not payloads.payloads:
            return []
        return await self.decode(payloads.payloads, type_hints)

    async def encode_failure(self, exception: BaseException, failure: Failure) -> None:
        """Fill ``failure`` from ``exception`` and apply the codec to every
        payload inside it."""
        self.failure_converter.to_failure(exception, self.payload_converter, failure)
        if self.payload_codec is not None:
            await self.payload_codec.encode_failure(failure)

    async def decode_failure(self, failure: Failure) -> BaseException:
        """Build the exception for ``failure`` after reversing the codec.

        The given failure is not modified; the exception's ``failure`` holds a
        decoded copy.
        """
        if self.payload_codec is not None:
            failure = copy.deepcopy(failure)
            await self.payload_codec.decode_failure(failure)
        return self.failure_converter.from_failure(failure, self.payload_converter)


PayloadConverter.default = DefaultPayloadConverter()
FailureConverter.default = DefaultFailureConverter()
DataConverter.default = DataConverter()


def default() -> DataConverter:
    """The shared default :py:class:`DataConverter` (``DataConverter.default``)."""
    return DataConverter.default
