"""The SSE decoder: the same events whatever the chunking, every line ending,
comments, multi-line data, and multi-megabyte lines in linear time."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generation.openrouter.sse import SSEDecoder, SSEError, SSEEvent, iter_events

# Field values never contain line breaks (they cannot, on the wire) and do not
# start with a space (one leading space after the colon is dropped by design).
values = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]),
    max_size=20,
).filter(lambda text: not text.startswith(" "))

event_specs = st.lists(
    st.tuples(
        st.lists(values, min_size=1, max_size=3),  # data lines
        st.none() | values.filter(bool),  # event type
        st.none() | values.filter(lambda text: "\0" not in text),  # id
        st.booleans(),  # a comment before the event
    ),
    max_size=6,
)
newlines = st.sampled_from(["\n", "\r\n", "\r"])


def encode(specs: list, newline: str) -> tuple[bytes, list[SSEEvent]]:
    lines: list[str] = []
    expected: list[SSEEvent] = []
    last_id = None
    for data_lines, event, event_id, comment in specs:
        if comment:
            lines.append(": OPENROUTER PROCESSING")
        if event is not None:
            lines.append(f"event: {event}")
        if event_id is not None:
            lines.append(f"id: {event_id}")
            last_id = event_id
        lines += [f"data: {line}" for line in data_lines]
        lines.append("")
        expected.append(SSEEvent("\n".join(data_lines), event or "message", last_id))
    return (newline.join(lines) + newline).encode(), expected


def decode_in(stream: bytes, cuts: list[int]) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    start = 0
    for cut in [*sorted(set(cuts)), len(stream)]:
        events += decoder.feed(stream[start:cut])
        start = cut
    return events + decoder.close()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=event_specs, newline=newlines, data=st.data())
def test_any_chunking_yields_the_encoded_events(specs, newline, data):
    stream, expected = encode(specs, newline)
    cuts = data.draw(st.lists(st.integers(0, max(len(stream), 1)), max_size=12))
    assert decode_in(stream, cuts) == expected


@settings(max_examples=50, deadline=None)
@given(specs=event_specs, newline=newlines)
def test_byte_by_byte_equals_one_chunk(specs, newline):
    stream, expected = encode(specs, newline)
    assert decode_in(stream, list(range(len(stream)))) == decode_in(stream, []) == expected


def test_crlf_split_between_chunks_is_one_line_end():
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r") == []
    assert decoder.feed(b"\ndata: b\r\n\r\n") == [SSEEvent("a"), SSEEvent("b")]


def test_lone_cr_line_ends():
    assert decode_in(b"data: a\rdata: b\r\r", []) == [SSEEvent("a\nb")]


def test_multibyte_utf8_split_across_chunks():
    stream = "data: café ☕ 画像\n\n".encode()
    cut = stream.index("☕".encode()) + 1  # inside the three-byte sequence
    assert decode_in(stream, [cut, cut + 1]) == [SSEEvent("café ☕ 画像")]


def test_comments_are_counted_not_dispatched():
    decoder = SSEDecoder()
    events = decoder.feed(b": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\ndata: x\n\n")
    assert events == [SSEEvent("x")]
    assert decoder.comments == 2


def test_field_without_space_and_unknown_fields():
    events = decode_in(b"data:no-space\nfoo: bar\nretry: 300\ndata\n\n", [])
    assert events == [SSEEvent("no-space\n", retry=300)]


def test_leading_bom_is_stripped_even_when_split():
    stream = b"\xef\xbb\xbfdata: x\n\n"
    assert decode_in(stream, [1, 2]) == [SSEEvent("x")]


def test_event_without_trailing_blank_line_is_flushed_on_close():
    assert decode_in(b"data: [DONE]\n", []) == [SSEEvent("[DONE]")]
    assert decode_in(b"data: [DONE]", []) == [SSEEvent("[DONE]")]


def test_iter_events_stops_at_done():
    chunks = [b"data: 1\n\n", b"data: [DONE]\n\n", b"data: never\n\n"]
    events = list(iter_events(iter(chunks)))
    assert [event.data for event in events] == ["1", "[DONE]"]
    assert events[-1].is_done


def test_five_megabyte_line_in_small_chunks():
    payload = "A" * (5 * 1024 * 1024)
    stream = f": OPENROUTER PROCESSING\n\ndata: {payload}\n\ndata: [DONE]\n\n".encode()
    chunks = (stream[i : i + 16384] for i in range(0, len(stream), 16384))
    events = list(iter_events(chunks))
    assert len(events) == 2
    assert events[0].data == payload
    assert events[1].is_done


def test_many_cr_only_lines_in_one_chunk():
    stream = b"data: x\r" * 50_000 + b"\r"
    (event,) = decode_in(stream, [])
    assert event.data.count("\n") == 49_999


def test_line_longer_than_the_cap_raises():
    decoder = SSEDecoder(max_line_bytes=1000)
    assert decoder.feed(b"data: " + b"x" * 600) == []
    with pytest.raises(SSEError, match="longer than 1000 bytes"):
        decoder.feed(b"x" * 600)


def test_event_repr_truncates_big_data():
    assert len(repr(SSEEvent("x" * 10_000))) < 200
