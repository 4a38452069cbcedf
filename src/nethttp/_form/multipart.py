"""Multipart bodies: Go's ``mime/multipart`` framing, and the files of a parsed form.

``MultipartParser`` is Go's ``multipart.Reader`` turned into a push parser: bytes in
(``feed``, then ``close`` at the body's end), part events out to a ``PartSink``; it holds
back at most a delimiter's length of data, so memory stays flat whatever the part sizes.
The sink that keeps Go's ``ReadForm`` accounting is ``_form.FormBuilder``.

Spilled files share one anonymous temporary file per form (``SpillFile``, Go's
``combineFiles``): it has no name on disk, so nothing is left behind even if nobody calls
``remove_all()``; its space is freed when the form and every file opened from it are
closed or collected. Writes to it happen on the event loop: they land in the page cache
(tens of microseconds per 64 KiB), cheaper than a thread hop per chunk.

Part headers are decoded as UTF-8 with replacement characters; Go keeps bytes.
"""

from __future__ import annotations

import binascii
import io
import json
import os
import re
import tempfile
from typing import Any, BinaryIO, Final, Protocol

from .._errors import FormError
from .._header import Header, canonical_header_key, valid_field_name

_MAX_LINE: Final = 4096  # Go reads boundary lines through a 4 KiB bufio.Reader
_RUNAWAY_LINE: Final = 65536


def too_large() -> FormError:
    """Go's ErrMessageTooLarge, answered with 413."""
    return FormError("multipart: message too large", 413)


def go_quote(b: bytes | str) -> str:
    """Go's %q, near enough: a double-quoted, escaped rendering for error messages."""
    return json.dumps(b.decode("latin-1") if isinstance(b, bytes) else b)


def to_bytes(s: str) -> bytes:
    """``s`` as bytes: latin-1 for text that came off the wire (it was decoded so), else UTF-8."""
    try:
        return s.encode("latin-1")
    except UnicodeEncodeError:
        return s.encode()


# -- the multipart form (Go's multipart.Form and FileHeader) ----------------------------------


class _Section(io.RawIOBase):
    """A read-only window on a spill file, through its own descriptor (Go's SectionReader)."""

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self._fd = fd
        self._off = offset
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = min(len(b), self._size - self._pos)
        if n <= 0:
            return 0
        data = os.pread(self._fd, n, self._off + self._pos)
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


class SpillFile:
    """An anonymous temporary file, held by a bare descriptor.

    It has no name on disk; closing it (``remove_all``), or collecting the form, frees it,
    and readers opened from it keep their own descriptors.
    """

    __slots__ = ("fd",)

    def __init__(self) -> None:
        with tempfile.TemporaryFile(prefix="multipart-") as f:
            self.fd = os.dup(f.fileno())

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self.fd < 0

    def write(self, data: bytes) -> None:
        """Append ``data``."""
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        """Release the descriptor (the file goes when no reader holds it either)."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __del__(self) -> None:
        self.close()


class FileHeader:
    """A file part of a multipart form: ``filename``, ``header``, ``size`` and ``open()``."""

    __slots__ = ("_content", "_offset", "_spill", "filename", "header", "size")

    def __init__(self, filename: str, header: Header) -> None:
        self.filename = filename
        self.header = header
        self.size = 0
        self._content: bytes | None = None
        self._spill: SpillFile | None = None
        self._offset = 0

    @property
    def on_disk(self) -> bool:
        """Whether the content went to the temporary file (it was over ``max_memory``)."""
        return self._content is None

    def open(self) -> BinaryIO:
        """Return a new seekable binary reader of the content; close it when done."""
        if self._content is not None:
            return io.BytesIO(self._content)
        spill = self._spill
        if spill is None or spill.closed:
            raise ValueError("http: the form's files were removed (remove_all)")
        section = _Section(os.dup(spill.fd), self._offset, self.size)
        return io.BufferedReader(section)

    def __repr__(self) -> str:
        return f"<FileHeader {self.filename!r} {self.size} bytes>"


class MultipartForm:
    """A parsed multipart form (Go's ``multipart.Form``): ``value`` and ``file`` by name."""

    __slots__ = ("_spill", "file", "value")

    def __init__(self) -> None:
        self.value: dict[str, list[str]] = {}
        self.file: dict[str, list[FileHeader]] = {}
        self._spill: SpillFile | None = None

    def remove_all(self) -> None:
        """Release the temporary file; files already opened stay readable until closed."""
        if self._spill is not None:
            self._spill.close()


# -- multipart framing (Go's multipart.Reader as a push parser) -------------------------------


class PartSink(Protocol):
    """Where ``MultipartParser`` sends what it finds."""

    def header_budget(self) -> tuple[int, int]:
        """Bytes and fields the next part's header block may use."""
        ...

    def start_part(self, header: Header) -> None:
        """A part begins (its data follows)."""
        ...

    def part_data(self, data: bytes) -> None:
        """The next piece of the current part's data."""
        ...

    def end_part(self) -> None:
        """The current part is complete."""
        ...


_LINE, _HEADERS, _BODY, _DONE = range(4)
_BAD_VALUE_BYTE: Final = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # controls but tab


def _valid_key(k: bytes) -> bool:
    # Go's canonicalMIMEHeaderKey: token bytes, and spaces (such a key is kept as sent).
    return bool(k) and valid_field_name(k.replace(b" ", b"x").decode("latin-1"))


class MultipartParser:
    """Split a multipart body into parts: ``feed`` bytes, then ``close`` at the body's end.

    Go's rules: a preamble is skipped; the line ending (CRLF, or bare LF) is the one of the
    first boundary line; whitespace may follow a boundary; a part's data ends just before
    CRLF--boundary; ``quoted-printable`` parts are decoded. Errors raise ``FormError``.
    """

    def __init__(self, boundary: str, sink: PartSink) -> None:
        if not boundary:
            raise FormError("multipart: boundary is empty")
        b = to_bytes(boundary)
        self._nl = b"\r\n"
        self._nl_dash = b"\r\n--" + b
        self._dash = b"--" + b
        self._dash_dash = b"--" + b + b"--"
        self._sink = sink
        self._buf = bytearray()
        self._state = _LINE
        self._eof = False
        self._parts = 0
        self._expect_part = False
        self._emitted = 0  # data bytes of the current part so far
        self._qp: _QPDecoder | None = None
        self._fields: list[tuple[bytes, bytes]] = []
        self._hdr_mem = 0
        self._hdr_count = 0

    @property
    def done(self) -> bool:
        """True once the final boundary was read."""
        return self._state == _DONE

    def feed(self, data: bytes) -> None:
        """Add body bytes and process what they complete."""
        self._buf += data
        self._run()

    def close(self) -> None:
        """The body ended: finish, or raise if the form is incomplete."""
        self._eof = True
        self._run()

    def _run(self) -> None:
        step = {_LINE: self._line, _HEADERS: self._headers, _BODY: self._body}
        while self._state != _DONE and step[self._state]():
            pass

    def _line(self) -> bool:
        buf = self._buf
        i = buf.find(b"\n")
        if i < 0 and not self._eof:
            if len(buf) >= _MAX_LINE:
                raise FormError("multipart: NextPart: bufio: buffer full")
            return False
        if i < 0:
            line = bytes(buf)
            buf.clear()
            if self._is_final(line):
                self._state = _DONE
                return True
            raise FormError("multipart: NextPart: EOF")
        if i >= _MAX_LINE:
            raise FormError("multipart: NextPart: bufio: buffer full")
        line = bytes(buf[: i + 1])
        del buf[: i + 1]
        if self._is_delimiter(line):
            self._parts += 1
            self._expect_part = False
            self._state = _HEADERS
            self._hdr_mem, self._hdr_count = self._sink.header_budget()
            self._fields = []
            return True
        if self._is_final(line):
            self._state = _DONE
        elif self._expect_part:
            raise FormError(f"multipart: expecting a new Part; got line {go_quote(line)}")
        elif self._parts and line == self._nl:
            self._expect_part = True
        elif self._parts:
            raise FormError(f"multipart: unexpected line in Next(): {go_quote(line)}")
        return True  # a preamble line, skipped

    def _is_final(self, line: bytes) -> bool:
        if not line.startswith(self._dash_dash):
            return False
        rest = line[len(self._dash_dash) :].lstrip(b" \t")
        return not rest or rest == self._nl

    def _is_delimiter(self, line: bytes) -> bool:
        if not line.startswith(self._dash):
            return False
        rest = line[len(self._dash) :].lstrip(b" \t")
        if not self._parts and rest == b"\n":
            # The first boundary line ends in a bare LF: so will every line.
            self._nl = b"\n"
            self._nl_dash = self._nl_dash[1:]
        return rest == self._nl

    def _headers(self) -> bool:
        buf = self._buf
        while True:
            i = buf.find(b"\n")
            if i < 0:
                if self._eof:
                    # Go's textproto reports a header block cut short as io.EOF, which
                    # ReadForm takes for the end of the form: the part is dropped.
                    self._state = _DONE
                    return True
                if len(buf) > self._hdr_mem:
                    raise too_large()
                return False
            line = bytes(buf[:i]).removesuffix(b"\r")
            del buf[: i + 1]
            if not line:
                self._start_part()
                return True
            self._header_line(line)

    def _header_line(self, line: bytes) -> None:
        # Go's textproto.readMIMEHeader, with its memory and field-count accounting.
        if line[:1] in (b" ", b"\t"):
            if not self._fields:
                raise FormError(f"malformed MIME header initial line: {go_quote(line)}")
            k, v = self._fields[-1]
            extra = line.strip(b" \t")
            self._fields[-1] = (k, v + b" " + extra)
            self._hdr_mem -= len(extra) + 1
        else:
            k, colon, v = line.partition(b":")
            if not colon:
                raise FormError(f"malformed MIME header: missing colon: {go_quote(line)}")
            if not _valid_key(k) or _BAD_VALUE_BYTE.search(v):
                raise FormError(f"malformed MIME header line: {go_quote(line)}")
            self._hdr_count -= 1
            if self._hdr_count < 0:
                raise too_large()
            v = v.strip(b" \t")
            if all(f[0].lower() != k.lower() for f in self._fields):
                self._hdr_mem -= len(k) + 200
            self._hdr_mem -= len(v)
            self._fields.append((k, v))
        if self._hdr_mem < 0:
            raise too_large()

    def _start_part(self) -> None:
        header = Header()
        for k, v in self._fields:
            header.add(canonical_header_key(k.decode("latin-1")), v.decode("utf-8", "replace"))
        self._qp = None
        if header.get("Content-Transfer-Encoding").lower() == "quoted-printable":
            header.delete("Content-Transfer-Encoding")
            self._qp = _QPDecoder()
        self._emitted = 0
        self._state = _BODY
        self._sink.start_part(header)

    def _body(self) -> bool:
        n, end = self._scan()
        if n:
            data = bytes(self._buf[:n])
            del self._buf[:n]
            self._emitted += n
            self._sink.part_data(self._qp.feed(data) if self._qp else data)
        if end:
            if self._qp is not None:
                self._sink.part_data(self._qp.flush())
            self._sink.end_part()
            self._state = _LINE
            return True
        if n:
            return True
        if self._eof:
            raise FormError("unexpected EOF")
        return False

    def _scan(self) -> tuple[int, bool]:
        """Go's scanUntilBoundary: how many bytes are data, and whether the part ends there."""
        buf, dash, nl_dash = self._buf, self._dash, self._nl_dash
        if self._emitted == 0:
            # A part may be empty: its data ends before a boundary with no newline.
            if buf.startswith(dash):
                m = self._match_after(0, len(dash))
                return (len(dash), False) if m < 0 else (0, m > 0)
            if dash.startswith(buf):
                return 0, False
        i = buf.find(nl_dash)
        if i >= 0:
            m = self._match_after(i, len(nl_dash))
            return (i + len(nl_dash), False) if m < 0 else (i, m > 0)
        if nl_dash.startswith(buf):
            return 0, False
        # Hold back a tail that could be the start of a delimiter.
        i = buf.rfind(nl_dash[:1])
        if i >= 0 and nl_dash.startswith(buf[i:]):
            return i, False
        return len(buf), False

    def _match_after(self, start: int, plen: int) -> int:
        """+1: a delimiter; -1: only data that looks like one; 0: more bytes are needed."""
        buf = self._buf
        end = start + plen
        if len(buf) == end:
            return 1 if self._eof else 0
        c = buf[end]
        if c in b" \t\r\n":
            return 1
        if c == 0x2D:  # "-": the final boundary "--boundary--", or data
            if len(buf) == end + 1:
                return -1 if self._eof else 0
            if buf[end + 1] == 0x2D:
                return 1
        return -1


class _QPDecoder:
    """Quoted-printable, decoded a whole line at a time so no escape is ever cut in two."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> bytes:
        data = self._pending + data
        cut = data.rfind(b"\n") + 1
        if not cut and len(data) > _RUNAWAY_LINE:
            cut = len(data) - 3  # a runaway line: keep only what could be half an escape
        self._pending = data[cut:]
        return binascii.a2b_qp(data[:cut])

    def flush(self) -> bytes:
        data, self._pending = self._pending, b""
        return binascii.a2b_qp(data)
