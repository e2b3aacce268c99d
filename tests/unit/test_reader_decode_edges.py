"""Bytes to text lines (:class:`TextSource`): the encoding chosen from the head, binary files refused,
the sniffing head's size, line breaks kept as written, runaway lines refused, progress reported."""

from __future__ import annotations

import io

import pytest

from hrviz.core.errors import InputError
from hrviz.core.reader.decode import HEAD_BYTES, MAX_LINE, LineTooLong, TextSource


def source(data: bytes, on_progress=None) -> TextSource:
    return TextSource(io.BytesIO(data), "x.csv", on_progress)


def refusal(data: bytes) -> str:
    with pytest.raises(InputError) as err:
        source(data)
    return str(err.value)


@pytest.mark.parametrize(
    ("data", "encoding", "first"),
    [
        (b"a,b\n", "utf-8-sig", "a,b\n"),
        (b"\xef\xbb\xbfa,b\n", "utf-8-sig", "a,b\n"),  # the BOM is not part of the first cell
        (b"\xff\xfe" + "a,é\n".encode("utf-16-le"), "utf-16", "a,é\n"),
        (b"\xfe\xff" + "a,é\n".encode("utf-16-be"), "utf-16", "a,é\n"),
        (b"caf\xe9,1\n", "latin-1", "café,1\n"),
        # a 4-byte character cut by the head's edge (3 of its bytes in the head) is still UTF-8
        (b"a" * (HEAD_BYTES - 3) + "😀\n".encode(), "utf-8-sig", "a" * (HEAD_BYTES - 3) + "😀\n"),
        # a latin-1 byte 4 bytes before the edge is not a cut character
        (b"a" * (HEAD_BYTES - 4) + b"\xe9bcd\n", "latin-1", "a" * (HEAD_BYTES - 4) + "ébcd\n"),
    ],
    ids=["ascii", "utf8-bom", "utf16-le", "utf16-be", "latin1", "cut-at-edge", "latin1-near-edge"],
)
def test_the_encoding_is_chosen_from_the_head(data: bytes, encoding: str, first: str) -> None:
    text = source(data)
    assert text.encoding == encoding
    assert text.head[0] == first


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00a,b\n", "binary file, not a CSV text (NUL byte at offset 0)"),
        (b"a,b\n" + b"\x01" * 9, "binary file, not a CSV text (9 control bytes in the first 13 bytes)"),
        (b"\x01" * 102 + b"a" * 9998, "binary file, not a CSV text (102 control bytes in the first 10,100 bytes)"),
    ],
)
def test_a_binary_file_is_refused(data: bytes, message: str) -> None:
    assert refusal(data) == f"x.csv: {message}"


@pytest.mark.parametrize(
    "data",
    [b"a,b\n" + b"\x01" * 8, b"\x01" * 101 + b"a" * 9999],
    ids=["8-in-a-short-head", "1-in-100"],
)
def test_a_few_control_bytes_are_tolerated(data: bytes) -> None:
    # up to 8, or one byte in a hundred of a longer head (tabs, line breaks and form feeds never count)
    assert source(data).encoding == "utf-8-sig"


def test_line_breaks_are_kept_as_written_and_a_last_line_needs_none() -> None:
    text = source(b"a,b\r\n1,2\r3,4\n5,6")
    assert text.head == ["a,b\r\n", "1,2\r", "3,4\n", "5,6"]
    assert list(text.rest()) == []


@pytest.mark.parametrize(
    ("lines", "head"),
    [
        ([b"1\n"] * 1500, 1000),  # the first 1,000 lines...
        ([b"a" * 1023 + b"\n"] * 400, 256),  # ...or 256 KB of them, whichever comes first
        ([b"a" * (4 * HEAD_BYTES - 2) + b"\n"] + [b"1\n"] * 10, 2),  # the line that reaches 256 KB is the last
    ],
    ids=["1000-lines", "256-KB", "one-byte-under"],
)
def test_the_head_is_the_first_1000_lines_or_256_kb(lines: list[bytes], head: int) -> None:
    text = source(b"".join(lines))
    assert len(text.head) == head
    assert len(text.head) + len(list(text.rest())) == len(lines)


@pytest.mark.parametrize("end", ["\n", "\r"])
def test_a_head_line_of_exactly_max_line_characters_with_its_break_is_read(end: str) -> None:
    line = "a" * (MAX_LINE - 1) + end
    text = source(line.encode() + b"1\n")
    assert text.head == [line]  # over 256 KB: the head ends there
    assert list(text.rest()) == ["1\n"]


def test_a_longer_head_line_is_refused_naming_it() -> None:
    data = b"a\nb\n" + b"c" * (MAX_LINE + 1) + b"\n"
    assert refusal(data) == "x.csv, line 3: a line over 1,048,576 bytes long: not a CSV row"


SHORT = b"1\n" * 32_768  # 64 KB of short lines ending on a read's edge


@pytest.mark.parametrize("brk", [b"\n", b"\r"])
def test_a_line_of_exactly_max_line_bytes_after_the_head_is_read(brk: bytes) -> None:
    short = SHORT.replace(b"\n", brk)
    # then a line that starts a read and is followed by one whose break is the first byte of a read
    data = short + b"a" * MAX_LINE + brk + b"b" * 65_535 + brk + b"2" + brk
    text = source(data)
    rest = list(text.rest())
    assert len(text.head) + len(rest) == 32_768 + 3
    assert [len(line) for line in rest[-3:]] == [MAX_LINE + 1, 65_536, 2]


def test_a_line_over_max_line_after_the_head_is_refused_once_a_read_shows_it() -> None:
    # the last break 1 byte before a read's edge, then MAX_LINE more bytes: MAX_LINE + 1 without a break
    data = SHORT[:-2] + b"\na" + b"a" * MAX_LINE + b"\n"
    text = source(data)
    with pytest.raises(LineTooLong):
        list(text.rest())


def test_progress_is_reported_every_64_kb_and_the_total_at_the_end() -> None:
    seen: list[int] = []
    text = source(b"1234567\n" * 25_000, seen.append)  # 200,000 bytes
    list(text.rest())
    text.finish()
    assert seen == [65_536, 131_072, 196_608, 200_000]
