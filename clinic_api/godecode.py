"""JSON text read as Go's encoding/json reads it (the reference decodes every body with it).

- `decode(raw)` is json.Decoder.Decode (kin-openapi's body decoder, Echo's binder): the first JSON
  value is decoded and whatever follows it is ignored; an empty body is `EOF`, a body that ends
  inside a value `unexpected EOF`, a syntax error Go's text with Go's byte offset.
- `decode(raw, whole=True)` is json.Unmarshal: only white space may follow the value.
- Strings as Go decodes them: a lone surrogate escape (`"\\ud800"`) and each invalid UTF-8 byte
  become U+FFFD.
- Numbers: integer literals are Python ints, others floats; an integer literal beyond int64 is read
  as a float (as Go reads it into an interface value) and a literal beyond float64 (`1e400`) as
  an infinite float, which callers refuse (`non_finite`).
- `locate(raw, path)` finds a value's literal and Go's offset of it, for the `offset=` of an
  Unmarshal type error.

The fast path is Python's json module on the decoded text; the Go scanner below runs when it
refuses the text (to find Go's error) and for `locate`.
"""
from __future__ import annotations

import codecs
import json
import math
import re

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def _go_replace(exc: UnicodeError) -> tuple[str, int]:
    # Go replaces each byte of an invalid UTF-8 sequence with U+FFFD.
    assert isinstance(exc, UnicodeDecodeError)
    return "\ufffd" * (exc.end - exc.start), exc.end


codecs.register_error("go-json-replace", _go_replace)


class GoJSONError(Exception):
    """A body Go cannot decode: `text` is Go's err.Error(), `offset` the SyntaxError's Offset
    (None for EOF and unexpected EOF, which are not syntax errors)."""

    def __init__(self, text: str, offset: int | None = None):
        super().__init__(text)
        self.text = text
        self.offset = offset


EOF = "EOF"
UNEXPECTED_EOF = "unexpected EOF"


def _reject_constant(name: str):
    raise ValueError(name)


def _number(text: str):
    if any(ch in text for ch in ".eE"):
        return float(text)
    value = int(text)
    return value if INT64_MIN <= value <= INT64_MAX else float(value)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_number)
_WS = b" \t\r\n"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def decode(raw: bytes, *, whole: bool = False):
    """The first JSON value of `raw` (the whole of it when `whole`), or GoJSONError."""
    text = raw.decode("utf-8", "go-json-replace")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        raise GoJSONError("unexpected end of JSON input" if whole else EOF, len(raw) if whole else None)
    try:
        if text[start] in "-0123456789":
            # Python ends a top-level number where Go sees a syntax error (`1.e5`, `1.`): Go's reading.
            raise ValueError("top-level number")
        value, end = _DECODER.raw_decode(text, start)
        if whole and text[end:].strip(" \t\r\n"):
            raise ValueError("trailing data")
    except (ValueError, RecursionError):
        _Scanner(raw, whole).run()  # raises Go's error
        # Python refused what Go accepts: decode with the scanner's reading.
        value = _Scanner(raw, whole, build=True).run()
    if b"\\u" in raw:
        value = _fix_strings(value)
    return value


def _fix_strings(value):
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_fix_strings(v) for v in value]
    if isinstance(value, dict):
        return {_fix_strings(k): _fix_strings(v) for k, v in value.items()}
    return value


def non_finite(value, path: tuple = ()):
    """The path of the first number beyond float64 (decoded as an infinite float), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = non_finite(item, path + (str(i),))
            if found is not None:
                return found
    elif isinstance(value, dict):
        for key, item in value.items():
            found = non_finite(item, path + (key,))
            if found is not None:
                return found
    return None


def locate(raw: bytes, path) -> tuple[str, int] | None:
    """(Go's name of the value at `path` — `number <literal>`, `string`, `bool`, `object`,
    `array`, `null` — and Go's offset in an Unmarshal type error: the end of a literal, just past
    the bracket of an object or array). Path items are object keys; an array is searched for the
    first element where the rest of the path exists (Go's field paths carry no indexes)."""
    try:
        tree = _Scanner(raw, False, build=True, spans=True).run()
    except GoJSONError:
        return None
    found = _walk(tree, list(path))
    return found


def value_kind(value) -> str:
    """How Go's JSON decoder names a decoded value it could not store in an int or float field
    (`got=` of an Unmarshal type error): `number <literal>` for numbers, else the JSON kind."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {value}"
    names: dict[type, str] = {str: "string", dict: "object", list: "array"}
    return names.get(type(value), "value")


def unmarshal_type_error(expected: str, path, raw: bytes, got: str | None = None) -> str:
    """Echo's text for a value Go could not bind: `Unmarshal type error: expected=<Go type>,
    got=<what the JSON had>, field=<keys joined by dots>, offset=<Go's offset>`. `path` holds the
    object keys and array indexes down to the value; `got` is used when the raw body does not
    show the value (then without an offset)."""
    field = ".".join(str(p) for p in path if not isinstance(p, int))
    found = locate(raw, path) if raw else None
    if found is None:
        return f"Unmarshal type error: expected={expected}, got={got or 'value'}, field={field}"
    return f"Unmarshal type error: expected={expected}, got={found[0]}, field={field}, offset={found[1]}"


def request_type_error(expected: str, field: str, got: str) -> str:
    """unmarshal_type_error for a dotted field of the current request's JSON body (kept by the
    body validator); `got` is what to say when the body does not show the value."""
    from clinic_api.self_verified import raw_body  # noqa: PLC0415 - request context, read lazily

    try:
        raw = raw_body()
    except (KeyError, LookupError, RuntimeError):
        raw = b""
    return unmarshal_type_error(expected, field.split(".") if field else [], raw, got)


def _walk(node, path):
    value, kind, start, end = node
    if not path:
        if kind == "number":
            return f"number {value}", end
        if kind in ("object", "array"):
            return kind, start + 1
        return kind, end
    if kind == "object":
        for key, child in reversed(value):
            if key.lower() == str(path[0]).lower():
                return _walk(child, path[1:])
        return None
    if kind == "array":
        if isinstance(path[0], int):
            return _walk(value[path[0]], path[1:]) if path[0] < len(value) else None
        for child in value:
            found = _walk(child, path)
            if found is not None:
                return found
    return None


# --- Go's scanner --------------------------------------------------------------------------

_GO_ESCAPES = {0x07: "\\a", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x0B: "\\v",
               0x5C: "\\\\"}


def quote_char(c: int) -> str:
    """Go's quoteChar: how a byte is shown in `invalid character ...`."""
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    if c in _GO_ESCAPES:
        return f"'{_GO_ESCAPES[c]}'"
    if c < 0x20 or c == 0x7F:
        return f"'\\x{c:02x}'"
    ch = chr(c)
    return f"'{ch}'" if ch.isprintable() else f"'\\u{c:04x}'"


_PLAIN = re.compile(rb'[^"\\\x00-\x1f]*')
_HEX = b"0123456789abcdefABCDEF"
_DIGITS = b"0123456789"
_LITERALS = {0x74: (b"true", True), 0x66: (b"false", False), 0x6E: (b"null", None)}


class _Scanner:
    """Checks `raw` byte by byte with the states and texts of Go's scanner; with `build`, also
    returns the value (with `spans`, as (value, kind, start, end) nodes, objects as pair lists)."""

    def __init__(self, raw: bytes, whole: bool, build: bool = False, spans: bool = False):
        self.b, self.n, self.whole, self.build, self.spans = raw, len(raw), whole, build, spans

    def run(self):
        i = self._ws(0)
        if i == self.n:
            self._eof()
        node, i = self._value(i)
        if self.whole:
            i = self._ws(i)
            if i < self.n:
                self._bad(i, "after top-level value")
        return node

    # errors
    def _bad(self, i: int, context: str):
        raise GoJSONError(f"invalid character {quote_char(self.b[i])} {context}", i + 1)

    def _eof(self):
        if self.whole:
            raise GoJSONError("unexpected end of JSON input", self.n)
        nonspace = any(c not in _WS for c in self.b)
        raise GoJSONError(UNEXPECTED_EOF if nonspace else EOF)

    def _ws(self, i: int) -> int:
        while i < self.n and self.b[i] in _WS:
            i += 1
        return i

    def _at(self, i: int) -> int:
        if i >= self.n:
            self._eof()
        return self.b[i]

    def _node(self, value, kind, start, end):
        return (value, kind, start, end) if self.spans else value

    # values
    def _value(self, i: int):
        c = self._at(i)
        if c == 0x7B:
            return self._object(i)
        if c == 0x5B:
            return self._array(i)
        if c == 0x22:
            end = self._string(i)
            return self._node(self._text(i, end), "string", i, end), end
        if c == 0x2D or c in _DIGITS:
            end = self._number(i)
            text = self.b[i:end].decode("ascii")
            return self._node(_number(text) if not self.spans else text, "number", i, end), end
        if c in _LITERALS:
            word, value = _LITERALS[c]
            for k in range(1, len(word)):
                if self._at(i + k) != word[k]:
                    self._bad(i + k, f"in literal {word.decode()} (expecting {quote_char(word[k])})")
            kind = "null" if value is None else "bool"
            return self._node(value, kind, i, i + len(word)), i + len(word)
        self._bad(i, "looking for beginning of value")
        raise AssertionError  # unreachable

    def _object(self, start: int):
        pairs: list = []
        i = self._ws(start + 1)
        if self._at(i) == 0x7D:
            return self._node(self._container(pairs, "object"), "object", start, i + 1), i + 1
        while True:
            if self._at(i) != 0x22:
                self._bad(i, "looking for beginning of object key string")
            end = self._string(i)
            key = self._text(i, end) if self.build else None
            i = self._ws(end)
            if self._at(i) != 0x3A:
                self._bad(i, "after object key")
            node, i = self._value(self._ws(i + 1))
            pairs.append((key, node))
            i = self._ws(i)
            c = self._at(i)
            if c == 0x2C:
                i = self._ws(i + 1)
                continue
            if c == 0x7D:
                return self._node(self._container(pairs, "object"), "object", start, i + 1), i + 1
            self._bad(i, "after object key:value pair")

    def _array(self, start: int):
        items: list = []
        i = self._ws(start + 1)
        if self._at(i) == 0x5D:
            return self._node(items, "array", start, i + 1), i + 1
        while True:
            node, i = self._value(self._ws(i))
            items.append(node)
            i = self._ws(i)
            c = self._at(i)
            if c == 0x2C:
                i += 1
                continue
            if c == 0x5D:
                return self._node(items, "array", start, i + 1), i + 1
            self._bad(i, "after array element")

    def _container(self, pairs, kind):
        if self.spans or not self.build:
            return pairs
        return dict(pairs)

    def _string(self, i: int) -> int:
        i += 1
        while True:
            plain = _PLAIN.match(self.b, i)
            i = plain.end() if plain else i
            c = self._at(i)
            if c == 0x22:
                return i + 1
            if c == 0x5C:
                e = self._at(i + 1)
                if e == 0x75:
                    for k in range(2, 6):
                        if self._at(i + k) not in _HEX:
                            self._bad(i + k, "in \\u hexadecimal character escape")
                    i += 6
                elif e in b'"\\/bfnrt':
                    i += 2
                else:
                    self._bad(i + 1, "in string escape code")
            else:
                self._bad(i, "in string literal")

    def _text(self, start: int, end: int):
        if not self.build:
            return None
        return _LONE_SURROGATE.sub("\ufffd", json.loads(self.b[start:end].decode("utf-8", "go-json-replace")))

    def _number(self, i: int) -> int:
        if self.b[i] == 0x2D:
            i += 1
            if self._at(i) not in _DIGITS:
                self._bad(i, "in numeric literal")
        if self.b[i] == 0x30:
            i += 1
        else:
            while i < self.n and self.b[i] in _DIGITS:
                i += 1
        if i < self.n and self.b[i] == 0x2E:
            i += 1
            if self._at(i) not in _DIGITS:
                self._bad(i, "after decimal point in numeric literal")
            while i < self.n and self.b[i] in _DIGITS:
                i += 1
        if i < self.n and self.b[i] in b"eE":
            i += 1
            if self._at(i) in b"+-":
                i += 1
            if self._at(i) not in _DIGITS:
                self._bad(i, "in exponent of numeric literal")
            while i < self.n and self.b[i] in _DIGITS:
                i += 1
        return i
