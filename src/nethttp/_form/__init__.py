"""Forms: Go's ``ParseForm``, ``ParseMultipartForm``, ``FormValue`` and ``FormFile``.

The rules are Go's: query values always; body values only for POST, PUT and PATCH with
``application/x-www-form-urlencoded``, placed before the query's in ``form``; a 10 MiB cap
on such a body unless a body limit is already set (``max_bytes_reader`` or the server's
``max_body_bytes``), which then rules. Multipart bodies are split by ``_form.multipart`` and
collected by ``FormBuilder`` with ``ReadForm``'s accounting: file parts kept in memory up
to ``max_memory`` and spilled past it, non-file values allowed ``max_memory`` + 10 MiB,
at most 1000 parts and 10000 part header fields. Media types are parsed as
``mime.ParseMediaType`` does, RFC 2231 continuations included.

One engine, two drivers. The parsing logic is written once as generators that ask for
body bytes (``data = yield n``) and never touch I/O; ``_drive_async`` feeds them from
``await body.read(n)`` for async handlers, ``_drive_blocking`` from a blocking ``read``
for plain ``def`` handlers (``BlockingBody``), whose forms therefore parse without
``await`` and, as in Go, implicitly on the first ``form_value``.

Values are decoded as UTF-8 with replacement characters, as ``urllib.parse`` does; Go
keeps the raw bytes.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Awaitable, Generator
from typing import Any, BinaryIO, Final, Protocol
from urllib.parse import unquote_to_bytes

from .._errors import FormError, MissingBoundary, MissingFile, NetHTTPError, NotMultipart
from .._header import Header
from .multipart import (
    FileHeader,
    MultipartForm,
    MultipartParser,
    SpillFile,
    go_quote,
    to_bytes,
    too_large,
)

DEFAULT_MAX_MEMORY: Final = 32 << 20  # Go's defaultMaxMemory, for the implicit parse
MAX_FORM_SIZE: Final = 10 << 20  # url-encoded body cap when no body limit is set
MAX_QUERY_PARAMS: Final = 10000  # Go's urlmaxqueryparams default
_CHUNK: Final = 65536
MAX_PARTS: Final = 1000  # Go's multipartmaxparts default
MAX_PART_HEADERS: Final = 10000  # Go's multipartmaxheaders default
_VALUE_RESERVE: Final = 10 << 20  # memory for non-file values on top of max_memory
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})

Steps = Generator[int, bytes, None]  # yields how many bytes it wants, is sent what was read


# -- media types (Go's mime.ParseMediaType) --------------------------------------------------

_TSPECIALS: Final = frozenset('()<>@,;:\\"/[]?=')


def _is_token_char(c: str) -> bool:
    return " " < c < "\x7f" and c not in _TSPECIALS


def _consume_token(v: str) -> tuple[str, str]:
    for i, c in enumerate(v):
        if not _is_token_char(c):
            return v[:i], v[i:]
    return v, ""


def _consume_value(v: str) -> tuple[str, str]:
    if not v or v[0] != '"':
        return _consume_token(v)
    out: list[str] = []
    i = 1
    while i < len(v):
        c = v[i]
        if c == '"':
            return "".join(out), v[i + 1 :]
        if c == "\\" and i + 1 < len(v) and v[i + 1] in _TSPECIALS:
            out.append(v[i + 1])
            i += 2
            continue
        if c in "\r\n":
            return "", v
        out.append(c)
        i += 1
    return "", v  # no closing quote


def _consume_param(v: str) -> tuple[str, str, str]:
    rest = v.lstrip()
    if not rest.startswith(";"):
        return "", "", v
    param, rest = _consume_token(rest[1:].lstrip())
    if not param:
        return "", "", v
    rest = rest.lstrip()
    if not rest.startswith("="):
        return "", "", v
    rest = rest[1:].lstrip()
    value, rest2 = _consume_value(rest)
    if not value and rest2 == rest:
        return "", "", v
    return param.lower(), value, rest2


def _check_media_type(s: str) -> str | None:
    typ, rest = _consume_token(s)
    if not typ:
        return "mime: no media type"
    if not rest:
        return None
    if rest[0] != "/":
        return "mime: expected slash after first token"
    sub, rest = _consume_token(rest[1:])
    if not sub:
        return "mime: expected token after slash"
    return "mime: unexpected content after media subtype" if rest else None


def _percent_unescape(s: str) -> str | None:
    if re.search(r"%(?![0-9A-Fa-f]{2})", s):
        return None
    return unquote_to_bytes(to_bytes(s)).decode("utf-8", "replace")


def _decode_2231(v: str) -> str | None:
    charset, sep1, v = v.partition("'")
    _, sep2, value = v.partition("'")
    if not (sep1 and sep2) or charset.lower() not in ("us-ascii", "utf-8"):
        return None
    return _percent_unescape(value)


def _join_continuations(key: str, pieces: dict[str, str]) -> str | None:
    # RFC 2231 §3-4: name*=charset''value, or name*0, name*1*, ... in order.
    if key + "*" in pieces:
        return _decode_2231(pieces[key + "*"])
    out: list[str] = []
    n = 0
    while True:
        plain = f"{key}*{n}"
        if plain in pieces:
            out.append(pieces[plain])
        elif plain + "*" in pieces:
            v = pieces[plain + "*"]
            decoded = _decode_2231(v) if n == 0 else _percent_unescape(v)
            out.append(decoded or "")
        else:
            break
        n += 1
    return "".join(out) if n else None


def parse_media_type(v: str) -> tuple[str, dict[str, str], str | None]:
    """Go's ``mime.ParseMediaType``: (type, params, error message or None).

    As in Go, an invalid parameter still returns the media type (with no parameters).
    """
    base = v.partition(";")[0]
    media = base.strip().lower()
    err = _check_media_type(media)
    if err is not None:
        return "", {}, err
    params: dict[str, str] = {}
    continuation: dict[str, dict[str, str]] = {}
    v = v[len(base) :]
    while v:
        v = v.lstrip()
        if not v:
            break
        key, value, rest = _consume_param(v)
        if not key:
            if rest.strip() == ";":
                break
            return media, {}, "mime: invalid media parameter"
        pmap = params
        if "*" in key:
            pmap = continuation.setdefault(key.partition("*")[0], {})
        if pmap.get(key, value) != value:
            return "", {}, "mime: duplicate parameter name"
        pmap[key] = value
        v = rest
    for key, pieces in continuation.items():
        joined = _join_continuations(key, pieces)
        if joined is not None:
            params[key] = joined
    return media, params, None


# -- url-encoded values (Go's url.ParseQuery) ------------------------------------------------

_BAD_ESCAPE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _query_unescape(s: str) -> str:
    if "%" not in s and "+" not in s:
        return s
    m = _BAD_ESCAPE.search(s)
    if m is not None:
        raise FormError(f"invalid URL escape {go_quote(s[m.start() : m.start() + 3])}")
    return unquote_to_bytes(to_bytes(s.replace("+", " "))).decode("utf-8", "replace")


def parse_query(query: str) -> tuple[dict[str, list[str]], FormError | None]:
    """Go's ``url.ParseQuery``: the values it could read, and the first error (or None)."""
    values: dict[str, list[str]] = {}
    err: FormError | None = None
    if query.count("&") + 1 > MAX_QUERY_PARAMS:
        return values, FormError("number of URL query parameters exceeded limit")
    for pair in query.split("&"):
        if ";" in pair:
            # Go 1.17 stopped splitting on ';' (golang.org/issue/25192); the pair is dropped.
            err = FormError("invalid semicolon separator in query")
            continue
        if not pair:
            continue
        key, _, value = pair.partition("=")
        try:
            key, value = _query_unescape(key), _query_unescape(value)
        except FormError as e:
            err = err or e
            continue
        values.setdefault(key, []).append(value)
    return values, err


# -- ReadForm: Go's accounting on top of the framing ------------------------------------------


def _base_name(name: str) -> str:
    # Go's filepath.Base on Unix: the last element, trailing slashes ignored.
    stripped = name.rstrip("/")
    if not stripped:
        return "/"
    return stripped.rpartition("/")[2]


def _mime_header_size(h: Header) -> int:
    return 400 + sum(len(k) + 200 + sum(len(v) for v in vs) for k, vs in h.items())


class FormBuilder:
    """Collects parts into a ``MultipartForm`` with Go's ReadForm limits (a ``PartSink``)."""

    def __init__(self, max_memory: int) -> None:
        max_memory = max(max_memory, 0)
        self.form = MultipartForm()
        self._file_mem = max_memory  # file bytes that may stay in memory
        self._mem = max_memory + _VALUE_RESERVE  # everything in memory, values included
        self._parts_left = MAX_PARTS
        self._headers_left = MAX_PART_HEADERS
        self._name = ""
        self._file: FileHeader | None = None
        self._chunks: list[bytes] = []
        self._size = 0
        self._on_disk = False
        self._spill_off = 0

    def header_budget(self) -> tuple[int, int]:
        return self._mem, self._headers_left

    def start_part(self, header: Header) -> None:
        if self._parts_left <= 0:
            raise too_large()
        self._parts_left -= 1
        disposition, params, err = parse_media_type(header.get("Content-Disposition"))
        if err is not None:
            params = {}
        self._name = params.get("name", "") if disposition == "form-data" else ""
        self._chunks = []
        self._size = 0
        self._on_disk = False
        self._file = None
        if not self._name:
            return  # not a form field: its data is skipped
        self._mem -= len(self._name) + 200
        filename = params.get("filename", "")
        if filename:
            self._mem -= _mime_header_size(header) + 200 + 100
            self._headers_left -= sum(len(vs) for _, vs in header.items())
            self._file = FileHeader(_base_name(filename), header)
        if self._mem < 0:
            raise too_large()

    def part_data(self, data: bytes) -> None:
        if not self._name or not data:
            return
        self._size += len(data)
        if self._file is None:
            if self._size > self._mem:
                raise too_large()
            self._chunks.append(data)
        elif self._on_disk:
            self._spill().write(data)
        elif self._size > self._file_mem:
            spill = self._spill()
            for chunk in self._chunks:
                spill.write(chunk)
            spill.write(data)
            self._chunks = []
            self._on_disk = True
        else:
            self._chunks.append(data)

    def _spill(self) -> SpillFile:
        spill = self.form._spill
        if spill is None:
            spill = self.form._spill = SpillFile()
        return spill

    def end_part(self) -> None:
        name, fh = self._name, self._file
        if not name:
            return
        if fh is None:
            self._mem -= self._size
            value = b"".join(self._chunks).decode("utf-8", "replace")
            self.form.value.setdefault(name, []).append(value)
            return
        fh.size = self._size
        if self._on_disk:
            fh._spill = self.form._spill
            fh._offset = self._spill_off
            self._spill_off += self._size
        else:
            fh._content = b"".join(self._chunks)
            self._file_mem -= self._size
            self._mem -= self._size
        self.form.file.setdefault(name, []).append(fh)

    def finish(self) -> MultipartForm:
        """The form, once the parser reached the final boundary."""
        return self.form


# -- Request's form state, and the steps of ParseForm / ParseMultipartForm ---------------------


class FormState:
    """The parsed forms of one request (Go's ``Form``, ``PostForm``, ``MultipartForm``)."""

    __slots__ = ("form", "multipart_form", "post_form")

    def __init__(self) -> None:
        self.form: dict[str, list[str]] | None = None
        self.post_form: dict[str, list[str]] | None = None
        self.multipart_form: MultipartForm | None = None

    def clone(self) -> FormState:
        """A copy whose value lists can change without touching these (Go's Clone)."""
        st = FormState()
        if self.form is not None:
            st.form = {k: list(vs) for k, vs in self.form.items()}
        if self.post_form is not None:
            st.post_form = {k: list(vs) for k, vs in self.post_form.items()}
        st.multipart_form = self.multipart_form
        return st


class _Query(Protocol):
    @property
    def raw_query(self) -> str: ...


class FormRequest(Protocol):
    """What form parsing needs from a request."""

    @property
    def method(self) -> str: ...

    @property
    def header(self) -> Header: ...

    @property
    def url(self) -> _Query: ...

    @property
    def body(self) -> Any: ...


def _body_limited(body: Any) -> bool:
    # A body limit already set (max_bytes_reader, max_body_bytes) replaces the 10 MiB cap.
    inner = getattr(body, "_body", body)  # a BlockingBody wraps the Body that has the limit
    limit = getattr(inner, "limit", -1)
    return isinstance(limit, int) and limit >= 0


def _read_post_form(r: FormRequest) -> Generator[int, bytes, tuple[dict[str, list[str]], Any]]:
    ct = r.header.get("Content-Type") or "application/octet-stream"  # RFC 9110 §8.3
    media, _, err = parse_media_type(ct)
    perr = FormError(err) if err is not None else None
    if media != "application/x-www-form-urlencoded":
        return {}, perr  # multipart bodies are read by parse_multipart_form
    cap = -1 if _body_limited(r.body) else MAX_FORM_SIZE
    parts: list[bytes] = []
    size = 0
    while cap < 0 or size <= cap:
        data = yield _CHUNK if cap < 0 else min(_CHUNK, cap + 1 - size)
        if not data:
            break
        parts.append(data)
        size += len(data)
    if 0 <= cap < size:
        raise FormError("http: POST too large", 413)
    values, qerr = parse_query(b"".join(parts).decode("latin-1"))
    return values, perr or qerr


def parse_form_steps(r: FormRequest, st: FormState) -> Steps:
    """Go's ParseForm; ``form`` and ``post_form`` are set even when it raises."""
    err: BaseException | None = None
    if st.post_form is None:
        post: dict[str, list[str]] = {}
        if r.method in _BODY_METHODS:
            try:
                post, err = yield from _read_post_form(r)
            except Exception as exc:  # a read error: the forms are still initialised
                err = exc
        st.post_form = post
    if st.form is None:
        form = {k: list(vs) for k, vs in st.post_form.items()}
        query, qerr = parse_query(r.url.raw_query)
        for k, vs in query.items():
            form.setdefault(k, []).extend(vs)  # body values first, as in Go
        st.form = form
        err = err or qerr
    if err is not None:
        raise err


def multipart_boundary(r: FormRequest) -> str:
    """The boundary of a ``multipart/form-data`` request; NotMultipart or MissingBoundary."""
    ct = r.header.get("Content-Type")
    media, params, err = parse_media_type(ct) if ct else ("", {}, None)
    if err is not None or media != "multipart/form-data":
        raise NotMultipart()
    if "boundary" not in params:
        raise MissingBoundary()
    return params["boundary"]


def parse_multipart_form_steps(r: FormRequest, st: FormState, max_memory: int) -> Steps:
    """Go's ParseMultipartForm: once parsed, later calls do nothing."""
    parse_err: FormError | None = None
    if st.form is None:
        try:
            yield from parse_form_steps(r, st)
        except FormError as exc:  # kept for the end, as Go does
            parse_err = exc
    if st.multipart_form is not None:
        return
    builder = FormBuilder(max_memory)
    parser = MultipartParser(multipart_boundary(r), builder)
    try:
        while not parser.done:
            data = yield _CHUNK
            if data:
                parser.feed(data)
            else:
                parser.close()
    except BaseException:
        builder.form.remove_all()
        raise
    form = builder.finish()
    if st.form is None:
        st.form = {}
    if st.post_form is None:
        st.post_form = {}
    for k, vs in form.value.items():
        st.form.setdefault(k, []).extend(vs)
        st.post_form.setdefault(k, []).extend(vs)
    st.multipart_form = form
    if parse_err is not None:
        raise parse_err


# -- drivers ---------------------------------------------------------------------------------


class _Done:
    """An awaitable that is already finished: what a blocking parse returns."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # makes this a generator


DONE: Final = _Done()


def is_blocking(body: Any) -> bool:
    """Whether ``body`` reads without ``await`` (a plain def handler's ``BlockingBody``)."""
    return not inspect.iscoroutinefunction(getattr(body, "read", None))


async def _drive_async(body: Any, steps: Steps) -> None:
    try:
        n = next(steps)
        while True:
            try:
                data = await body.read(n)
            except Exception as exc:
                n = steps.throw(exc)
            else:
                n = steps.send(data)
    except StopIteration:
        return


def _drive_blocking(body: Any, steps: Steps) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # no loop in this thread: blocking is allowed
    else:
        steps.close()
        raise RuntimeError("a blocking request body read on the event loop: use an async body")
    try:
        n = next(steps)
        while True:
            try:
                data = body.read(n)
            except Exception as exc:
                n = steps.throw(exc)
            else:
                n = steps.send(data)
    except StopIteration:
        return


def run_steps(body: Any, steps: Steps) -> Awaitable[None]:
    """Run parsing ``steps`` against ``body``: now (blocking body), or when awaited."""
    if is_blocking(body):
        _drive_blocking(body, steps)
        return DONE
    return _drive_async(body, steps)


# -- accessors: Go's FormValue, PostFormValue, FormFile ----------------------------------------

_NOT_PARSED: Final = (
    "the form is not parsed: await r.parse_form() or r.parse_multipart_form() first "
    "(only plain def handlers parse it implicitly, as Go does)"
)
_NO_FILES: Final = (
    "the multipart form is not parsed: await r.parse_multipart_form() first "
    "(only plain def handlers parse it implicitly, as Go does)"
)


def _implicit_parse(r: FormRequest, st: FormState, quiet: bool) -> None:
    if not is_blocking(r.body):
        raise RuntimeError(_NOT_PARSED)
    try:
        _drive_blocking(r.body, parse_multipart_form_steps(r, st, DEFAULT_MAX_MEMORY))
    except (NetHTTPError, OSError):
        if not quiet:
            raise


def form_value(r: FormRequest, st: FormState, key: str) -> str:
    """The first value of ``key`` in the form (body, then query, then multipart)."""
    if st.form is None:
        _implicit_parse(r, st, quiet=True)
    vs = st.form.get(key) if st.form else None
    return vs[0] if vs else ""


def post_form_value(r: FormRequest, st: FormState, key: str) -> str:
    """The first value of ``key`` in the body's form (the query is ignored)."""
    if st.post_form is None:
        _implicit_parse(r, st, quiet=True)
    vs = st.post_form.get(key) if st.post_form else None
    return vs[0] if vs else ""


def form_file(r: FormRequest, st: FormState, key: str) -> tuple[BinaryIO, FileHeader]:
    """The first file sent as ``key``: an open reader and its ``FileHeader``."""
    if st.multipart_form is None:
        if not is_blocking(r.body):
            multipart_boundary(r)  # a request that is not multipart gets Go's error
            raise RuntimeError(_NO_FILES)
        _implicit_parse(r, st, quiet=False)
    fhs = st.multipart_form.file.get(key) if st.multipart_form else None
    if not fhs:
        raise MissingFile()
    return fhs[0].open(), fhs[0]
