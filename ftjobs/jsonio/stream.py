"""Reading the records of a large JSON document one at a time, in flat memory.

A document here is what the API and its users save: a JSON array of jobs, the API's list envelope
``{"object": "list", "data": [...], ...}``, a single object, or several of these one after the
other. The standard library's C scanner (``JSONDecoder.raw_decode``) parses each record; this
module only steps over the few structural characters between records.

(ijson did this before; it builds a prefix string for every nesting level, so a 100,000-deep
array took over 20 GB. Here nesting beyond Python's recursion limit is a RecursionError.)
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import IO, Any

_NON_SPACE = re.compile(r"[^ \t\n\r]")
# What may be left at a parse error when the text stops short: nothing, part of a literal, or
# part of a number.
_CUT_TOKEN = re.compile(r"|t|tr|tru|f|fa|fal|fals|n|nu|nul|[-+0-9.eE]+")
CHUNK_CHARS = 1 << 20
# A parse error this close to the end of the text read so far may just be a token cut in two.
_LONGEST_TOKEN_END = 64
# A record larger than this is refused rather than read into memory whole.
MAX_RECORD_CHARS = 64 << 20


def reject_constant(name: str) -> Any:
    """For json's parse_constant: NaN, Infinity and -Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def _expected(what: str, found: str) -> str:
    return f"expected {what}, found {found!r}" if found else f"expected {what}: the text ends"


class JsonStructureError(ValueError):
    """The text is JSON-like but not laid out as a document of records."""


class JsonRecords:
    """The records of one binary stream of JSON text, as (where, value) pairs.

    ``where`` names a record for error messages: ``[3]`` for an array's fourth element,
    ``data[3]`` in a list envelope, ``1`` for the first top-level object. When iteration raises
    (ValueError, including json.JSONDecodeError and UnicodeDecodeError, or RecursionError),
    ``where`` names the record being read.
    """

    def __init__(
        self, stream: IO[bytes] | None, *, constants: bool = False, lists: bool = False
    ) -> None:
        """constants: take NaN and Infinity (what a provider sent is kept); lists: every
        top-level object with a "data" array is a list envelope (a list body from the API),
        even one that also has an "id"."""
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        decoder = (
            json.JSONDecoder() if constants else json.JSONDecoder(parse_constant=reject_constant)
        )
        self._scan = decoder.raw_decode
        self._lists = lists
        self._text = ""
        self._pos = 0
        self._eof = stream is None
        self.where = "1"
        self.documents = 0  # top-level values begun
        # The keys of the last list envelope read, but for its streamed "data" (a "data" here
        # is one that came after the array and replaced it, as json.loads would have it).
        self.envelope: dict[str, Any] | None = None
        # The text of the last value read, exactly as it stands in the input (an event or a
        # checkpoint is archived as the text that came in).
        self.value_text = ""
        # While a top-level object is read key by key, where its text starts: kept in the buffer
        # so that its whole text can be given (unless it turns out to be a list envelope).
        self._keep_from: int | None = None
        # The "has_more" of the last list envelope read: True when the API had more pages.
        self.has_more: bool | None = None

    @classmethod
    def of_text(cls, text: str, *, constants: bool = False, lists: bool = False) -> JsonRecords:
        """The records of a text already in memory (a response body)."""
        records = cls(None, constants=constants, lists=lists)
        records._text = text
        return records

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        while True:
            char = self._next_char()
            if not char:
                return
            self.documents += 1
            document = self.documents
            self.where = str(document)
            if char == "[":
                yield from self._array("")
            elif char == "{":
                yield from self._object(str(document))
            else:
                raise JsonStructureError(f"expected a JSON object or array, found {char!r}")

    # -- structure ---------------------------------------------------------------------------

    def _array(self, label: str) -> Iterator[tuple[str, Any]]:
        self._pos += 1  # [
        index = 0
        if self._next_char() == "]":
            self._pos += 1
            return
        while True:
            self.where = f"{label}[{index}]"
            yield self.where, self._value()
            index += 1
            char = self._next_char()
            self._pos += 1
            if char == "]":
                return
            if char != ",":
                self._pos -= 1
                raise JsonStructureError(_expected("',' or ']' after the record", char))

    def _object(self, label: str) -> Iterator[tuple[str, Any]]:
        """A top-level object: the records of its "data" array when it is a list envelope
        (streamed), else the object itself."""
        self._keep_from = self._pos
        self._pos += 1  # {
        collected: dict[str, Any] = {}
        streamed = False
        if self._next_char() == "}":
            self._pos += 1
            self.value_text = "{}"
            self._keep_from = None
            yield label, collected
            return
        while True:
            char = self._next_char()
            if char != '"':
                raise JsonStructureError(_expected("a key in double quotes", char))
            key = self._value()
            char = self._next_char()
            if char != ":":
                raise JsonStructureError(_expected(f"':' after key {key!r}", char))
            self._pos += 1
            if (
                key == "data"
                and self._next_char() == "["
                and (self._lists or "id" not in collected)
            ):
                streamed = True
                collected.pop("data", None)  # (an earlier "data" that was not an array)
                self._keep_from = None  # an envelope: its records are read one at a time
                yield from self._array("data")
                self.where = label
            else:
                collected[key] = self._value()
            char = self._next_char()
            self._pos += 1
            if char == "}":
                break
            if char != ",":
                self._pos -= 1
                raise JsonStructureError(_expected("',' or '}' in an object", char))
        if streamed:
            self.has_more = collected.get("has_more") is True
            self.envelope = collected
        else:
            assert self._keep_from is not None
            self.value_text = self._text[self._keep_from : self._pos]
            self._keep_from = None
            yield label, collected

    # -- reading -----------------------------------------------------------------------------

    def _value(self) -> Any:
        """The next JSON value, reading on while it runs past the text read so far."""
        self._next_char()  # raw_decode does not skip leading white space
        while True:
            try:
                value, end = self._scan(self._text, self._pos)
            except json.JSONDecodeError as error:
                # Near the end of the text read so far (a literal like "fal" or a number cut in
                # two) or inside a string that runs on: read more and try again; elsewhere the
                # error is real.
                ends_inside = error.msg.startswith("Unterminated string")
                near_end = error.pos >= len(self._text) - _LONGEST_TOKEN_END
                if (ends_inside or near_end) and self._read_more():
                    continue
                if ends_inside or _CUT_TOKEN.fullmatch(error.doc[error.pos :].rstrip()):
                    raise JsonStructureError("the text ends in the middle of a record") from None
                raise
            if end == len(self._text) and isinstance(value, (int, float)) and self._read_more():
                continue  # a number at the end of the text may go on in the next chunk
            self.value_text = self._text[self._pos : end]
            self._pos = end
            return value

    def _next_char(self) -> str:
        """The next character that is not white space ("" at the end), without taking it."""
        while True:
            found = _NON_SPACE.search(self._text, self._pos)
            if found:
                self._pos = found.start()
                return self._text[self._pos]
            self._pos = len(self._text)
            if not self._read_more():
                return ""

    def _read_more(self) -> bool:
        """Append the next chunk to the text; False at the end of the stream."""
        if self._eof or self._stream is None:
            return False
        start = self._pos if self._keep_from is None else self._keep_from
        if len(self._text) - start > MAX_RECORD_CHARS:
            raise JsonStructureError(f"a record is over {MAX_RECORD_CHARS >> 20} MiB")
        data = self._stream.read(CHUNK_CHARS)
        self._eof = not data
        text = self._decoder.decode(data, final=self._eof)
        self._text = self._text[start:] + text
        self._pos -= start
        if self._keep_from is not None:
            self._keep_from = 0
        return bool(data)


# What compact JSON keeps: a string (escapes included), a run of anything but white space and
# quotes, or a quote that opens no string (only in text that is not JSON). findall skips the rest:
# the white space between tokens.
_KEPT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^ \t\n\r"]+|"', re.DOTALL)
_WHITE_SPACE = " \t\n\r"


def compact_json(text: str) -> str:
    """JSON text without the white space between tokens, and nothing else changed: key order
    and number spellings (``240.0``, ``1.805623287509661e-5``) stay as the server wrote them,
    which re-encoding parsed JSON would not keep.

    Import runs this on every job and event it reads, so the common texts take short cuts
    (bench/README.md, "Figures behind the code", has what each saves):
    - no white space at all (an export's line, a compact API object): the text itself;
    - no backslash: the quotes alone split it into what is outside strings (the even pieces)
      and inside them, and the white space goes from the outside pieces, in C (a NUL marks
      where they join, so none may be in the text);
    - else the tokens, joined from findall's pieces rather than re.sub with a group template:
      on Python 3.11, sub expands the template in Python once per string, which made
      compacting several times slower than parsing the event it compacts."""
    text = text.strip(_WHITE_SPACE)
    if " " not in text and "\n" not in text and "\t" not in text and "\r" not in text:
        return text
    parts = text.split('"') if "\\" not in text and "\x00" not in text else []
    if len(parts) % 2:  # (an even number of quotes: each string closes; JSON always)
        outside = "\x00".join(parts[::2])
        spaceless = outside.replace(" ", "").replace("\n", "").replace("\t", "").replace("\r", "")
        if len(spaceless) == len(outside):
            return text  # white space inside strings only
        parts[::2] = spaceless.split("\x00")
        return '"'.join(parts)
    return "".join(_KEPT.findall(text))


# A JSON token: a string, a structural character, or a run of anything else but white space
# (a number, true, false, null); a quote that opens no string, only in text that is not JSON.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],:]|[^ \t\n\r"{}\[\],:]+|"', re.DOTALL)


def reindent_json(text: str, indent: int = 2) -> str:
    """JSON text laid out with indent spaces a level, as json.dumps(indent=...) and
    pydantic-core lay it out (": " after keys, empty objects and arrays as {} and []), without
    parsing it: key order, number spellings and escapes stay as they are in text. What
    `show --json` prints of a job kept as its provider sent it."""
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    depth = 0
    pad = "\n"
    closing = {"{": "}", "[": "]"}
    skip = False
    for index, token in enumerate(tokens):
        if skip:
            skip = False
            continue
        if token == "{" or token == "[":
            if index + 1 < len(tokens) and tokens[index + 1] == closing[token]:
                out.append(token + closing[token])
                skip = True
                continue
            depth += 1
            pad = "\n" + " " * (indent * depth)
            out.append(token + pad)
        elif token == "}" or token == "]":
            depth -= 1
            pad = "\n" + " " * (indent * depth)
            out.append(pad + token)
        elif token == ",":
            out.append("," + pad)
        elif token == ":":
            out.append(": ")
        else:
            out.append(token)
    return "".join(out)


# ---- list bodies: one page of an API list, cut into its items' texts ------------------------
def split_list_body(text: str) -> tuple[dict[str, Any], list[str]]:
    """Parse a list envelope ``{"object": "list", "data": [...], ...}`` and cut its ``data``
    array into the raw texts of its elements (as written, not yet compacted), with the same
    scanner as files (JsonRecords), NaN and Infinity taken as a provider may send them.

    Returns the envelope (parsed, with ``data`` parsed too) and the element texts. Raises
    ``ValueError`` if the text is not one JSON object or its ``data`` is not an array; a
    repeated ``data`` key counts as ``json.loads`` counts it (the last one wins)."""
    records = JsonRecords.of_text(text, constants=True, lists=True)
    values: list[Any] = []
    elements: list[str] = []
    for where, value in records:
        if records.documents > 1:
            raise ValueError("extra data after the list")
        if not where.startswith("data["):
            raise ValueError("no 'data' array")
        if where == "data[0]":  # (a repeated "data" array: the last one wins)
            values, elements = [], []
        values.append(value)
        elements.append(records.value_text)
    envelope = records.envelope
    if records.documents != 1 or envelope is None or "data" in envelope:
        raise ValueError("no 'data' array")
    return {**envelope, "data": values}, elements
