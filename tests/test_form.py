"""Forms: Go's request_test.go form cases (our own tables), the multipart parser fed whole
and byte by byte, the limits, and forms over a real server from async and plain def
handlers."""

from __future__ import annotations

import asyncio
import io
import os
import re
import tempfile
from typing import Any

import httpx
import pytest

from nethttp import Header, MaxBytesError, ProtocolError, Request, httptest, max_bytes_reader
from nethttp._errors import FormError, MissingBoundary, MissingFile, NotMultipart
from nethttp._form import (
    DEFAULT_MAX_MEMORY,
    MAX_FORM_SIZE,
    FormBuilder,
    parse_media_type,
    parse_query,
)
from nethttp._form.multipart import MultipartParser


def new(method: str, target: str, body: bytes | str | None = None, ctype: str = "") -> Request:
    req = httptest.new_request(method, target, body)
    if ctype:
        req.header.set("Content-Type", ctype)
    return req


def run(aw: Any) -> Any:
    async def main() -> Any:
        return await aw

    return asyncio.run(main())


URLENCODED = "application/x-www-form-urlencoded; param=value"

# Go's request_test.go multipart message, with CRLF line ends.
BOUNDARY = "MyBoundary"
MESSAGE = (
    "\n--MyBoundary\n"
    'Content-Disposition: form-data; name="filea"; filename="filea.txt"\n'
    "Content-Type: text/plain\n\n"
    "This is a test file.\n"
    "--MyBoundary\n"
    'Content-Disposition: form-data; name="fileb"; filename="fileb.txt"\n'
    "Content-Type: text/plain\n\n"
    "Another test file.\n"
    "--MyBoundary\n"
    'Content-Disposition: form-data; name="texta"\n\n'
    "foo\n"
    "--MyBoundary\n"
    'Content-Disposition: form-data; name="textb"\n\n'
    "bar\n"
    "--MyBoundary--\n"
).replace("\n", "\r\n")
MULTIPART = f'multipart/form-data; boundary="{BOUNDARY}"'


def multipart_request(target: str = "/") -> Request:
    return new("POST", target, MESSAGE, MULTIPART)


# -- url-encoded forms -----------------------------------------------------------------------


def test_query() -> None:
    req = new("GET", "http://www.google.com/search?q=foo&q=bar")
    run(req.parse_form())
    assert req.form_value("q") == "foo"
    assert req.form == {"q": ["foo", "bar"]}


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "GET"])
def test_parse_form_semicolon_separator(method: str) -> None:
    # Go issue 25192: ParseForm fails but still parses the rest of the query.
    req = new(method, "http://www.google.com/search?q=foo;q=bar&a=1", "q")
    with pytest.raises(FormError, match="invalid semicolon separator in query") as info:
        run(req.parse_form())
    assert info.value.status == 400
    assert req.form == {"a": ["1"]}


def test_parse_form_query() -> None:
    req = new(
        "POST",
        "http://www.google.com/search?q=foo&q=bar&both=x&prio=1&orphan=nope&empty=not",
        "z=post&both=y&prio=2&=nokey&orphan&empty=&",
        URLENCODED,
    )
    run(req.parse_form())
    assert req.form_value("q") == "foo"
    assert req.form_value("z") == "post"
    assert req.post_form is not None and "q" not in req.post_form
    assert req.post_form_value("z") == "post"
    assert req.form is not None
    assert req.form["q"] == ["foo", "bar"]
    assert req.form["both"] == ["y", "x"]  # body values first
    assert req.form_value("prio") == "2"
    assert req.form["orphan"] == ["", "nope"]
    assert req.form["empty"] == ["", "not"]
    assert req.form[""] == ["nokey"]


@pytest.mark.parametrize(
    ("method", "want"), [("POST", "bar"), ("PATCH", "bar"), ("PUT", "bar"), ("FOO", "")]
)
def test_parse_form_query_methods(method: str, want: str) -> None:
    req = new(method, "http://www.google.com/search", "foo=bar", URLENCODED)
    run(req.parse_form())
    assert req.form_value("foo") == want


@pytest.mark.parametrize(
    ("ctype", "error"),
    [
        ("text/plain", None),
        ("", None),  # empty is application/octet-stream (RFC 9110 §8.3)
        ("text/plain; boundary=", "mime: invalid media parameter"),
        ("application/unknown", None),
        ("/plain", "mime: no media type"),
        ("text/", "mime: expected token after slash"),
        ("text plain", "mime: expected slash after first token"),
        ("text/plain x", "mime: unexpected content after media subtype"),
    ],
)
def test_parse_form_unknown_content_type(ctype: str, error: str | None) -> None:
    req = new("POST", "/", "body", ctype)
    if error is None:
        run(req.parse_form())
    else:
        with pytest.raises(FormError, match=error):
            run(req.parse_form())
    assert req.post_form == {}


def test_parse_form_invalid_param_still_reads_the_form() -> None:
    # Go keeps the media type when only a parameter is bad, so the body is read.
    req = new("POST", "/", "a=1", "application/x-www-form-urlencoded; =bad")
    with pytest.raises(FormError, match="invalid media parameter"):
        run(req.parse_form())
    assert req.post_form == {"a": ["1"]}


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_parse_form_initializes_on_error(method: str) -> None:
    req = new(method, "/search?q=%zz", None)
    with pytest.raises(FormError, match='invalid URL escape "%zz"'):
        run(req.parse_form())
    assert req.form == {}
    assert req.post_form == {}


def test_parse_form_is_idempotent_and_reads_once() -> None:
    req = new("POST", "/?a=1", "b=2", URLENCODED)
    run(req.parse_form())
    run(req.parse_form())
    assert req.form == {"b": ["2"], "a": ["1"]}


@pytest.mark.parametrize(
    ("query", "values", "error"),
    [
        ("a=1&b=2&a=3", {"a": ["1", "3"], "b": ["2"]}, None),
        ("a+b=c+d&e=%20%2B%3D", {"a b": ["c d"], "e": [" +="]}, None),
        ("a=%zz&b=1&%x=2", {"b": ["1"]}, 'invalid URL escape "%zz"'),
        ("&&a&=b&", {"a": [""], "": ["b"]}, None),
        ("x=%E2%82%AC&y=%FF", {"x": ["€"], "y": ["\ufffd"]}, None),  # UTF-8, replaced if bad
        ("a=1;b=2&c=3", {"c": ["3"]}, "invalid semicolon"),
        ("a=%zz;&c=3", {"c": ["3"]}, "invalid semicolon"),  # Go: the semicolon error wins
        ("&" * 10000, {}, "exceeded limit"),
    ],
)
def test_parse_query(query: str, values: dict[str, list[str]], error: str | None) -> None:
    got, err = parse_query(query)
    assert got == values
    assert (err is None) if error is None else (err is not None and error in str(err))


def test_post_too_large() -> None:
    req = new("POST", "/?q=1", b"a=" + b"x" * MAX_FORM_SIZE, URLENCODED)
    with pytest.raises(FormError, match="http: POST too large") as info:
        run(req.parse_form())
    assert info.value.status == 413
    assert isinstance(info.value, ProtocolError)
    assert req.post_form == {}
    assert req.form == {"q": ["1"]}


def test_body_limit_replaces_the_10_mib_cap() -> None:
    big = b"a=" + b"x" * MAX_FORM_SIZE  # over the cap, under the handler's own limit
    req = new("POST", "/", big, URLENCODED)
    max_bytes_reader(None, req.body, 11 << 20)
    run(req.parse_form())
    assert req.form_value("a") == "x" * MAX_FORM_SIZE
    small = new("POST", "/", b"a=12345", URLENCODED)
    max_bytes_reader(None, small.body, 4)
    with pytest.raises(MaxBytesError):
        run(small.parse_form())
    assert small.post_form == {}


def test_async_accessors_need_a_parse() -> None:
    with pytest.raises(RuntimeError, match=r"await r.parse_multipart_form\(\) first"):
        multipart_request().form_file("filea")
    req = new("POST", "/?a=1", "b=2", URLENCODED)
    with pytest.raises(RuntimeError, match=r"await r.parse_form\(\)"):
        req.form_value("a")
    with pytest.raises(RuntimeError, match=r"await r.parse_form\(\)"):
        req.post_form_value("a")
    with pytest.raises(NotMultipart):  # what Go's FormFile says of a url-encoded body
        run(req.parse_multipart_form())
    assert req.form_value("b") == "2"  # the failed multipart parse still parsed the form
    with pytest.raises(NotMultipart):
        req.form_file("f")


# -- media types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "media", "params", "error"),
    [
        ("form-data; name=foo", "form-data", {"name": "foo"}, None),
        (' form-data ; name="foo bar" ', "form-data", {"name": "foo bar"}, None),
        ('attachment; filename="f\\"o\\\\o"', "attachment", {"filename": 'f"o\\o'}, None),
        ("Text/HTML; Charset=UTF-8; ", "text/html", {"charset": "UTF-8"}, None),
        ("message/external-body; access-type=URL; URL*0=\"ftp://\"; URL*1=\"cs.utk.edu/pub\"",
         "message/external-body", {"access-type": "URL", "url": "ftp://cs.utk.edu/pub"}, None),
        ("attachment; filename*=UTF-8''%e2%82%ac%20rates", "attachment",
         {"filename": "€ rates"}, None),
        ("attachment; filename*0*=UTF-8''a%20; filename*1=b", "attachment",
         {"filename": "a b"}, None),
        ("form-data; name=a; name=b", "", {}, "mime: duplicate parameter name"),
        ("form-data; name", "form-data", {}, "mime: invalid media parameter"),
        ('form-data; name="unterminated', "form-data", {}, "mime: invalid media parameter"),
        ("", "", {}, "mime: no media type"),
    ],
)  # fmt: skip
def test_parse_media_type(
    value: str, media: str, params: dict[str, str], error: str | None
) -> None:
    assert parse_media_type(value) == (media, params, error)


# -- multipart: Go's cases -------------------------------------------------------------------


def test_parse_multipart_form_populates_post_form() -> None:
    # Go issue 9305; note the bare LF line ends, which Go accepts (and so do we).
    body = (
        '--xxx\nContent-Disposition: form-data; name="field1"\n\nvalue1\n'
        '--xxx\nContent-Disposition: form-data; name="field2"\n\nvalue2\n'
        '--xxx\nContent-Disposition: form-data; name="file"; filename="file"\n'
        "Content-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n"
        "binary data\n--xxx--\n"
    )
    req = new("POST", "/", body, "multipart/form-data; boundary=xxx")
    req.form = {"language": ["Go"], "name": ["gopher"], "skill": ["go-ing"],
                "field2": ["initial-value2"]}  # fmt: skip
    run(req.parse_multipart_form(10000))
    assert req.form == {
        "language": ["Go"], "name": ["gopher"], "skill": ["go-ing"],
        "field1": ["value1"], "field2": ["initial-value2", "value2"],
    }  # fmt: skip
    assert req.post_form == {"field1": ["value1"], "field2": ["value2"]}
    f, fh = req.form_file("file")
    assert (f.read(), fh.filename, fh.size) == (b"binary data", "file", 11)


def test_parse_multipart_form_errors() -> None:
    req = new("POST", "/", b"", 'multipart/form-data; boundary="foo123"')
    with pytest.raises(FormError, match="multipart: NextPart: EOF"):
        run(req.parse_multipart_form(25))
    assert req.multipart_form is None
    req.header.set("Content-Type", "text/plain")
    with pytest.raises(NotMultipart):
        run(req.parse_multipart_form(25))
    for ctype, exc in [
        ("", NotMultipart),
        ("multipart/mixed; boundary=x", NotMultipart),  # only form-data is a form
        ("multipart/form-data", MissingBoundary),
        ("multipart/form-data; boundary=", NotMultipart),  # an invalid parameter
    ]:
        with pytest.raises(exc):
            run(new("POST", "/", b"x", ctype).parse_multipart_form())
    with pytest.raises(FormError, match="boundary is empty"):
        run(new("POST", "/", b"x", 'multipart/form-data; boundary=""').parse_multipart_form())


def test_parse_multipart_form_filename() -> None:
    # Go issue 45789: only the last element of the path is kept.
    body = (
        '--xxx\r\nContent-Disposition: form-data; name="file"; filename="../usr/foobar.txt/"\r\n'
        "Content-Type: text/plain\r\n\r\n\r\n--xxx--\r\n"
    )
    req = new("POST", "/", body, "multipart/form-data; boundary=xxx")
    run(req.parse_multipart_form())
    _, fh = req.form_file("file")
    assert fh.filename == "foobar.txt"
    assert fh.size == 0


def check_test_message(req: Request, all_in_memory: bool) -> None:
    assert req.form_value("texta") == "foo"
    assert req.form_value("textb") == "bar"
    assert req.form_value("missing") == ""
    fa, ha = req.form_file("filea")
    fb, hb = req.form_file("fileb")
    with fa, fb:
        assert (ha.filename, fa.read()) == ("filea.txt", b"This is a test file.")
        assert (hb.filename, fb.read()) == ("fileb.txt", b"Another test file.")
        assert not ha.on_disk and isinstance(fa, io.BytesIO)
        assert hb.on_disk is not all_in_memory
    with pytest.raises(MissingFile, match="http: no such file"):
        req.form_file("missing")


def test_multipart_request() -> None:
    # 25 bytes of memory: filea (20) stays in memory, fileb (18) goes to disk.
    req = multipart_request()
    run(req.parse_multipart_form(25))
    check_test_message(req, all_in_memory=False)
    run(req.parse_multipart_form(25))  # a second call changes nothing
    check_test_message(req, all_in_memory=False)
    assert req.post_form == {"texta": ["foo"], "textb": ["bar"]}


def test_parse_multipart_form_semicolon_separator() -> None:
    req = multipart_request("/?q=foo;q=bar")
    with pytest.raises(FormError, match="semicolon"):
        run(req.parse_multipart_form(25))
    check_test_message(req, all_in_memory=False)


def sync_form_handler(w: Any, r: Request) -> None:
    # A plain def handler: FormValue and FormFile parse implicitly, as in Go.
    assert r.form is None
    text = r.form_value("texta")
    assert r.form is not None and r.multipart_form is not None
    f, fh = r.form_file("fileb")
    with f:
        data = f.read()
    with pytest.raises(MissingFile):
        r.form_file("missing")
    w.write(f"{text} {fh.filename} {data.decode()} {fh.on_disk}".encode())


def test_multipart_request_auto_in_a_def_handler() -> None:
    rec = httptest.serve(sync_form_handler, multipart_request())
    assert rec.body == b"foo fileb.txt Another test file. False"  # 32 MiB: all in memory


def test_explicit_parse_in_a_def_handler() -> None:
    def handler(w: Any, r: Request) -> None:
        r.parse_multipart_form(25)  # no await: it blocks the handler's thread
        _, fh = r.form_file("fileb")
        w.write(b"disk" if fh.on_disk else b"memory")

    assert httptest.serve(handler, multipart_request()).body == b"disk"


def test_form_value_in_a_def_handler_ignores_errors() -> None:
    def handler(w: Any, r: Request) -> None:
        w.write(f"[{r.form_value('a')}][{r.post_form_value('a')}]".encode())
        with pytest.raises(FormError):
            r.form_file("f")  # FormFile does report the error

    req = new("POST", "/?a=q", "a=body", URLENCODED)
    assert httptest.serve(handler, req).body == b"[body][body]"
    broken = new("POST", "/?a=q&b=%zz", b"no boundary", "multipart/form-data; boundary=x")
    assert httptest.serve(handler, broken).body == b"[q][]"


# -- multipart: the parser, fed whole and in pieces ------------------------------------------


class Recorder:
    """A PartSink that writes down what it is told."""

    def __init__(self) -> None:
        self.parts: list[tuple[dict[str, list[str]], bytes]] = []

    def header_budget(self) -> tuple[int, int]:
        return 1 << 20, 100

    def start_part(self, header: Header) -> None:
        self.parts.append((dict(header.items()), b""))

    def part_data(self, data: bytes) -> None:
        h, body = self.parts[-1]
        self.parts[-1] = (h, body + data)

    def end_part(self) -> None:
        pass


def parse_parts(
    data: bytes, boundary: str, step: int = 0
) -> list[tuple[dict[str, list[str]], bytes]]:
    sink = Recorder()
    p = MultipartParser(boundary, sink)
    pieces = [data] if not step else [data[i : i + step] for i in range(0, len(data), step)]
    for piece in pieces:
        if not p.done:
            p.feed(piece)
    if not p.done:
        p.close()
    return sink.parts


CD = "Content-Disposition"
PARSER_CASES = [
    # preamble, transport padding after the boundary, an epilogue
    (
        b"preamble\r\nmore\r\n--b  \r\nA: 1\r\n\r\nx\r\n--b\t\r\n\r\n\r\n--b-- \r\nepilogue",
        [({"A": ["1"]}, b"x"), ({}, b"")],
    ),
    # data that looks like a boundary but is not one
    (
        b"--b\r\n\r\n--bX\r\n--b-\r\nb--b\r\n--bb\r\n--b--",
        [({}, b"--bX\r\n--b-\r\nb--b\r\n--bb")],
    ),
    # an empty part whose data ends at a boundary without a newline, and a CRLF in data
    (
        b"--b\r\nA: 1\r\n\r\n--b\r\n\r\nline\r\n\r\n--b--\r\n",
        [({"A": ["1"]}, b""), ({}, b"line\r\n")],
    ),
    # bare LF everywhere, a folded header line, header keys canonicalised
    (b"--b\ncontent-TYPE: a\n  b\n\nv\n--b--\n", [({"Content-Type": ["a b"]}, b"v")]),
    # a header block cut short by the end is Go's io.EOF: the end of the form
    (b"--b\r\nA: 1", []),
    (b"--b\r\n\r\nx\r\n--b\r\n", [({}, b"x")]),
    # a key with a space is kept as sent
    (b"--b\r\nBad Key: v\r\n\r\nd\r\n--b--", [({"Bad Key": ["v"]}, b"d")]),
    # quoted-printable is decoded and its header dropped
    (
        b"--b\r\nContent-Transfer-Encoding: Quoted-Printable\r\n\r\nK=C3=A9=\r\nt=3D1\r\n--b--",
        [({}, "Két=1".encode())],
    ),
]  # fmt: skip


@pytest.mark.parametrize("step", [0, 1, 2, 3, 7])
@pytest.mark.parametrize(("data", "parts"), PARSER_CASES)
def test_multipart_parser(data: bytes, parts: list[Any], step: int) -> None:
    assert parse_parts(data, "b", step) == parts


# Expected results were taken from Go 1.27's mime/multipart on the same inputs.
@pytest.mark.parametrize("step", [0, 1])
@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", "multipart: NextPart: EOF"),
        (b"--b\r\n\r\nno end", "unexpected EOF"),
        (b"--b\r\nbad header\r\n\r\n", 'malformed MIME header: missing colon: "bad header"'),
        (b"--b\r\n folded first\r\n\r\n", 'malformed MIME header initial line: " folded first"'),
        (b"--b\r\nBad\x01Key: v\r\n\r\n", "malformed MIME header line"),
        (b"--b\r\nKey: a\x00b\r\n\r\n", "malformed MIME header line"),
        (b"--b\r\nBad Key: v\r\n\r\n", "unexpected EOF"),  # the key is accepted
        (b"--b\r\n\r\nx\r\n--b zz\r\n", r'expecting a new Part; got line "--b zz\r\n"'),
        (b"--b\r\n\r\nx\r\n--b--x\r\n", r'expecting a new Part; got line "--b--x\r\n"'),
        (b"--b\r\n\r\nx\r\n--b\r\n\r\n\r\n--bz\r\n", "unexpected EOF"),
        (b"--b\r\n\r\n--b\r\n\r\n--b\n\r\n", r'unexpected line in Next(): "--b\n"'),
        (b"x" * 5000, "bufio: buffer full"),
    ],
)
def test_multipart_parser_errors(data: bytes, error: str, step: int) -> None:
    with pytest.raises(FormError, match=re.escape(error)):
        parse_parts(data, "b", step)


def test_multipart_parser_after_parts() -> None:
    body = b"--b\r\n\r\nx\r\n--b\r\n\r\n--b\r\n\r\n--b--"
    assert parse_parts(body, "b") == [({}, b"x"), ({}, b""), ({}, b"")]
    assert parse_parts(body + b"\r\n", "b", 1) == [({}, b"x"), ({}, b""), ({}, b"")]


def test_large_parts_stream_with_flat_memory() -> None:
    payload = os.urandom(300_000)
    body = b"--q\r\nContent-Disposition: form-data; name=f; filename=a.bin\r\n\r\n"
    body += payload + b"\r\n--q--\r\n"
    builder = FormBuilder(1000)
    p = MultipartParser("q", builder)
    for i in range(0, len(body), 65536):
        p.feed(body[i : i + 65536])
        assert len(p._buf) < 65536 + 64  # only a possible delimiter is held back
    form = builder.finish()
    fh = form.file["f"][0]
    assert fh.on_disk and fh.size == len(payload)
    with fh.open() as f:
        assert f.read() == payload
        f.seek(-10, io.SEEK_END)
        assert f.read() == payload[-10:]
    form.remove_all()
    with pytest.raises(ValueError, match="removed"):
        fh.open()


# -- multipart: Go's ReadForm limits ---------------------------------------------------------


def parts(*items: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, data in items:
        fn = f'; filename="{filename}"' if filename else ""
        out += f'--z\r\n{CD}: form-data; name="{name}"{fn}\r\n\r\n'.encode() + data + b"\r\n"
    return out + b"--z--\r\n"


def parse_form_body(body: bytes, max_memory: int = DEFAULT_MAX_MEMORY) -> Request:
    req = new("POST", "/", body, "multipart/form-data; boundary=z")
    run(req.parse_multipart_form(max_memory))
    return req


def test_too_many_parts() -> None:
    ok = parse_form_body(parts(*[("v", None, b"1")] * 1000))
    assert ok.form is not None and len(ok.form["v"]) == 1000
    with pytest.raises(FormError, match="multipart: message too large") as info:
        parse_form_body(parts(*[("v", None, b"1")] * 1001))
    assert info.value.status == 413


def test_values_over_max_memory_plus_10_mib() -> None:
    big = b"x" * (10 << 20)
    with pytest.raises(FormError, match="message too large"):
        parse_form_body(parts(("v", None, big)), max_memory=0)
    req = parse_form_body(parts(("v", None, big)), max_memory=1024)
    assert req.form_value("v") == big.decode()


def test_files_spill_to_one_anonymous_temporary_file() -> None:
    before = set(os.listdir(tempfile.gettempdir()))
    req = parse_form_body(
        parts(("a", "a.txt", b"A" * 100), ("b", "b.txt", b"B" * 100), ("c", "c.txt", b"C" * 10)),
        max_memory=50,
    )
    assert set(os.listdir(tempfile.gettempdir())) == before  # nothing named on disk
    form = req.multipart_form
    assert form is not None
    got = {n: (fh.on_disk, fh.open().read()) for n, [fh] in form.file.items()}
    assert got == {"a": (True, b"A" * 100), "b": (True, b"B" * 100), "c": (False, b"C" * 10)}
    f, _ = req.form_file("b")
    form.remove_all()
    assert f.read() == b"B" * 100  # an open file outlives remove_all, as on Unix in Go
    f.close()


def test_skipped_parts_and_clone() -> None:
    body = (
        b'--z\r\nContent-Disposition: attachment; name="n"\r\n\r\nskipped\r\n'
        b"--z\r\n\r\nno disposition\r\n"
        b'--z\r\nContent-Disposition: form-data; name="kept"\r\n\r\nyes\r\n--z--'
    )
    req = parse_form_body(body)
    assert req.form == {"kept": ["yes"]}
    clone = req.clone(req.context())
    assert clone.form == req.form
    assert clone.form is not None and req.form is not None
    clone.form["kept"].append("more")
    assert req.form == {"kept": ["yes"]}


# -- over a real server ----------------------------------------------------------------------


async def upload(w: Any, r: Request) -> None:
    await r.parse_multipart_form(64)
    f, fh = r.form_file("doc")
    with f:
        size = len(f.read())
    title, lang = r.form_value("title"), r.form_value("lang")
    await w.write(f"{title} {lang} {fh.filename} {size} {fh.on_disk}".encode())


def test_multipart_upload_over_a_real_server(serve: Any) -> None:
    srv = serve(upload)
    resp = httpx.post(
        srv.url + "/?lang=fr",
        data={"title": "Ünïcode"},
        files={"doc": ("report.pdf", b"%PDF" + b"\0" * 100_000, "application/pdf")},
    )
    assert resp.status_code == 200
    assert resp.text == "Ünïcode fr report.pdf 100004 True"


async def echo_form(w: Any, r: Request) -> None:
    await r.parse_form()
    await w.write(repr(sorted(r.form.items() if r.form else [])).encode())


def test_urlencoded_over_a_real_server(serve: Any) -> None:
    srv = serve(echo_form)
    resp = httpx.post(srv.url + "/?a=q", data={"a": "b", "c": "d e"})
    assert resp.text == "[('a', ['b', 'q']), ('c', ['d e'])]"
    chunked = httpx.post(
        srv.url + "/",
        content=iter([b"x=1&", b"y=2"]),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert chunked.text == "[('x', ['1']), ('y', ['2'])]"


def test_form_errors_escaping_a_handler_are_400_and_413(serve: Any) -> None:
    srv = serve(echo_form)
    bad = httpx.get(srv.url + "/?a=%zz")
    assert bad.status_code == 400
    big = httpx.post(
        srv.url + "/",
        content=b"a=" + b"x" * (MAX_FORM_SIZE + 10),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert big.status_code == 413


def test_def_handler_forms_over_a_real_server(serve: Any) -> None:
    srv = serve(sync_form_handler)
    resp = httpx.post(
        srv.url + "/",
        content=MESSAGE.encode(),
        headers={"Content-Type": MULTIPART},
    )
    assert resp.text == "foo fileb.txt Another test file. False"


def test_error_helper_with_form_status(serve: Any) -> None:
    from nethttp import error

    async def handler(w: Any, r: Request) -> None:
        try:
            await r.parse_multipart_form()
        except FormError as exc:
            await error(w, str(exc), exc.status)
            return
        await w.write(b"ok")

    srv = serve(handler)
    resp = httpx.post(srv.url + "/", content=b"a=1", headers={"Content-Type": "text/plain"})
    assert (resp.status_code, resp.text) == (
        400,
        "request Content-Type isn't multipart/form-data\n",
    )
