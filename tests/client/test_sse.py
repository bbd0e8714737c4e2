"""The SSE parser against the framing rules the events stream relies on."""

from __future__ import annotations

from conveyor.client.sse import Frame, SSEParser, event_of, parse_lines, seq_of


def test_frames_end_at_blank_lines_and_carry_id_event_and_data() -> None:
    lines = ["id: 1", "event: status", 'data: {"seq": 1, "kind": "status"}', "", "id: 2", "data: x", ""]
    frames = list(parse_lines(lines))
    assert frames == [
        Frame("status", '{"seq": 1, "kind": "status"}', "1"),
        Frame("message", "x", "2"),  # no event: line means the default type
    ]


def test_comments_keepalives_and_unknown_fields_are_ignored() -> None:
    lines = [": keepalive", "", "retry: 1000", "foo: bar", "data: hello", ""]
    assert list(parse_lines(lines)) == [Frame("message", "hello", None)]


def test_multiline_data_is_joined_with_newlines_and_one_space_is_stripped() -> None:
    lines = ["data:  two spaces", "data:none", "data", ""]
    assert list(parse_lines(lines)) == [Frame("message", " two spaces\nnone\n", None)]


def test_an_unterminated_frame_at_the_end_of_the_stream_is_dropped() -> None:
    assert list(parse_lines(["data: partial"])) == []


def test_last_event_id_survives_frames_without_an_id() -> None:
    parser = SSEParser()
    for line in ["id: 7", "data: a", "", "data: b", ""]:
        parser.feed(line)
    assert parser.last_event_id == "7"


def test_event_of_returns_the_json_document_or_keeps_text_as_message() -> None:
    assert event_of(Frame("status", '{"seq": 3, "kind": "status"}', "3")) == {"seq": 3, "kind": "status"}
    assert event_of(Frame("log", "plain text", "4")) == {"kind": "log", "message": "plain text", "seq": 4}


def test_seq_of_prefers_the_frame_id_and_never_goes_backwards() -> None:
    assert seq_of(Frame("x", "", "9"), {}, 3) == 9
    assert seq_of(Frame("x", "", None), {"seq": 5}, 3) == 5
    assert seq_of(Frame("x", "", "2"), {}, 3) == 3
    assert seq_of(Frame("x", "", "junk"), {"seq": "junk"}, 3) == 3
