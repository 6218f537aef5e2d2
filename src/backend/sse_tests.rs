use std::collections::VecDeque;

use proptest::prelude::*;

use super::*;

/// Every frame of `chunks`, or the frames before an error and the error.
fn parse_chunks(chunks: &[&[u8]]) -> (Vec<Frame>, Result<(), TooLarge>) {
    let mut parser = Parser::new();
    let mut out = VecDeque::new();
    for chunk in chunks {
        if let Err(e) = parser.feed(chunk, &mut out) {
            return (out.into(), Err(e));
        }
    }
    (out.into(), Ok(()))
}

fn parse(stream: &[u8]) -> Vec<Frame> {
    let (frames, result) = parse_chunks(&[stream]);
    assert_eq!(result, Ok(()));
    frames
}

fn event(name: &str, data: &str) -> Frame {
    Frame::Event(Event {
        event: name.to_owned(),
        data: data.to_owned(),
    })
}

#[test]
fn fields_make_an_event_dispatched_on_a_blank_line() {
    assert_eq!(
        parse(b"event: change\ndata: {\"seq\":1}\nid: 1\n\n"),
        vec![event("change", "{\"seq\":1}")]
    );
    // No event name means "message"; nothing is dispatched before the blank line.
    assert_eq!(parse(b"data: a\n"), vec![]);
    assert_eq!(parse(b"data: a\n\n"), vec![event("message", "a")]);
}

#[test]
fn data_lines_join_with_newlines() {
    assert_eq!(
        parse(b"data: one\ndata:two\ndata\ndata:  four\n\n"),
        vec![event("message", "one\ntwo\n\n four")]
    );
}

#[test]
fn every_line_ending_is_understood() {
    let expected = vec![event("change", "x"), event("resync", "y")];
    for ending in ["\n", "\r", "\r\n"] {
        let stream = [
            "event: change",
            "data: x",
            "",
            "event: resync",
            "data: y",
            "",
        ]
        .iter()
        .map(|line| format!("{line}{ending}"))
        .collect::<String>();
        assert_eq!(parse(stream.as_bytes()), expected, "ending {ending:?}");
    }
    // Mixed in one stream, and LF CR as two endings (an empty line between).
    assert_eq!(
        parse(b"data: a\r\n\rdata: b\n\r"),
        vec![event("message", "a"), event("message", "b")]
    );
}

#[test]
fn a_crlf_split_across_chunks_is_one_line_ending() {
    let (frames, result) = parse_chunks(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]);
    assert_eq!(result, Ok(()));
    assert_eq!(frames, vec![event("message", "a\nb")]);
}

#[test]
fn chunk_boundaries_anywhere_give_the_same_frames() {
    let stream: &[u8] = b"\xEF\xBB\xBFevent: change\r\ndata: {\"t\":\"\xC3\xA9\"}\r\n: keep\r\n\r\ndata: b\rid: 7\r\r:\n\ndata: c\n\n";
    let whole = parse(stream);
    assert_eq!(
        whole,
        vec![
            Frame::Comment,
            event("change", "{\"t\":\"é\"}"),
            event("message", "b"),
            Frame::Comment,
            event("message", "c"),
        ]
    );
    for i in 0..=stream.len() {
        for j in i..=stream.len() {
            let (frames, result) = parse_chunks(&[&stream[..i], &stream[i..j], &stream[j..]]);
            assert_eq!(result, Ok(()));
            assert_eq!(frames, whole, "split at {i} and {j}");
        }
    }
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(parse_chunks(&bytes).0, whole);
}

#[test]
fn comments_and_unknown_fields_are_skipped() {
    assert_eq!(
        parse(b": hello\nfoo: bar\nDATA: no\nEvent: no\ndata: yes\nbar\n\n"),
        vec![Frame::Comment, event("message", "yes")]
    );
    // The keep-alive of an idle server: a comment and a blank line.
    assert_eq!(parse(b":\n\n:\n\n"), vec![Frame::Comment]);
    // A blank line without data dispatches nothing and forgets the event name.
    assert_eq!(
        parse(b"event: change\n\ndata: x\n\n"),
        vec![event("message", "x")]
    );
}

#[test]
fn id_and_retry_are_kept_as_the_rules_say() {
    let mut parser = Parser::new();
    let mut out = VecDeque::new();
    parser
        .feed(b"id: 41\nretry: 3000\ndata: x\n\n", &mut out)
        .unwrap();
    assert_eq!(parser.last_event_id(), "41");
    assert_eq!(parser.retry(), Some(3000));
    // An id with NUL is ignored; a retry that is not all digits too; an empty id clears it.
    parser
        .feed(b"id: 4\x002\nretry: 12a\nretry\n", &mut out)
        .unwrap();
    assert_eq!(parser.last_event_id(), "41");
    assert_eq!(parser.retry(), Some(3000));
    parser.feed(b"id\n", &mut out).unwrap();
    assert_eq!(parser.last_event_id(), "");
}

#[test]
fn only_a_leading_byte_order_mark_is_skipped() {
    assert_eq!(
        parse(b"\xEF\xBB\xBFdata: a\n\n"),
        vec![event("message", "a")]
    );
    // A second one is part of the field name, which is then unknown.
    assert_eq!(parse(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n"), vec![]);
    let (frames, _) = parse_chunks(&[b"\xEF", b"\xBB", b"\xBFdata: a\n\n"]);
    assert_eq!(frames, vec![event("message", "a")]);
}

#[test]
fn a_line_without_end_fails_once_it_passes_the_cap() {
    let mut parser = Parser::new();
    let mut out = VecDeque::new();
    parser.feed(b"data: ", &mut out).unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut fed = 6;
    let error = loop {
        match parser.feed(&chunk, &mut out) {
            Ok(()) => fed += chunk.len(),
            Err(e) => break e,
        }
        assert!(parser.held() <= MAX_EVENT_BYTES);
        assert!(fed <= MAX_EVENT_BYTES, "still reading after {fed} bytes");
    };
    assert_eq!(
        error.to_string(),
        "the live stream sent an event larger than 1 MiB"
    );
    assert!(out.is_empty());
    // The stream is done for; what it held is given back.
    assert_eq!(parser.held(), 0);
    assert_eq!(parser.feed(b"\n\n", &mut out), Err(TooLarge));
}

#[test]
fn a_line_of_exactly_the_cap_is_read() {
    let mut stream = b"data:".to_vec();
    stream.resize(MAX_EVENT_BYTES - 1, b'y');
    stream.extend_from_slice(b"\n\n");
    let frames = parse(&stream);
    assert_eq!(frames.len(), 1);
    let mut stream = b"data:".to_vec();
    stream.resize(MAX_EVENT_BYTES + 1, b'y');
    stream.extend_from_slice(b"\n\n");
    assert_eq!(parse_chunks(&[&stream]).1, Err(TooLarge));
}

#[test]
fn an_event_of_many_short_lines_fails_past_the_cap() {
    let line = format!("data: {}\n", "z".repeat(1000));
    let mut parser = Parser::new();
    let mut out = VecDeque::new();
    let mut lines = 0;
    while parser.feed(line.as_bytes(), &mut out).is_ok() {
        lines += 1;
        assert!(parser.held() <= MAX_EVENT_BYTES);
        assert!(lines <= MAX_EVENT_BYTES / 1000, "still reading");
    }
    assert!(out.is_empty());
    // Events under the cap keep coming as long as each is dispatched.
    let mut stream = Vec::new();
    for _ in 0..3000 {
        stream.extend_from_slice(line.as_bytes());
        stream.extend_from_slice(b"\n");
    }
    assert_eq!(parse(&stream).len(), 3000);
}

#[test]
fn an_endless_comment_is_capped_too() {
    let mut stream = b":".to_vec();
    stream.resize(MAX_EVENT_BYTES + 10, b'-');
    assert_eq!(parse_chunks(&[&stream]).1, Err(TooLarge));
}

#[test]
fn frames_before_an_overflow_in_the_same_chunk_are_kept() {
    let mut stream = b"data: early\n\n".to_vec();
    stream.resize(stream.len() + MAX_EVENT_BYTES + 1, b'q');
    let (frames, result) = parse_chunks(&[&stream]);
    assert_eq!(frames, vec![event("message", "early")]);
    assert_eq!(result, Err(TooLarge));
}

#[test]
fn a_long_line_in_small_chunks_is_read_in_linear_time() {
    // Rescanning the buffered line for each 16-byte chunk would take about
    // 30 billion byte comparisons here; the parser looks at each byte once.
    let mut parser = Parser::new();
    let mut out = VecDeque::new();
    parser.feed(b"data:", &mut out).unwrap();
    let chunk = [b'a'; 16];
    for _ in 0..(MAX_EVENT_BYTES - 16) / 16 {
        parser.feed(&chunk, &mut out).unwrap();
    }
    parser.feed(b"\n\n", &mut out).unwrap();
    assert_eq!(out.len(), 1);
}

/// Builds an event stream from events, in any of the three line endings.
fn stream_of(events: &[(Option<String>, Vec<String>)], ending: &str, comments: bool) -> Vec<u8> {
    let mut s = String::new();
    for (name, data) in events {
        if comments {
            s.push_str(&format!(":ping{ending}"));
        }
        if let Some(name) = name {
            s.push_str(&format!("event: {name}{ending}"));
        }
        for line in data {
            s.push_str(&format!("data: {line}{ending}"));
        }
        s.push_str(ending);
    }
    s.into_bytes()
}

fn field_text() -> impl Strategy<Value = String> {
    // Any text but line endings; a leading space is taken by the field rule.
    "[^\r\n ][^\r\n]{0,40}|"
}

proptest! {
    #![proptest_config(ProptestConfig {
        // A fixed number of cases (256, or PROPTEST_CASES), no files written.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_split_of_a_stream_gives_the_same_events(
        events in prop::collection::vec(
            (prop::option::of("[a-z]{1,10}"), prop::collection::vec(field_text(), 1..4)),
            0..8,
        ),
        ending in prop::sample::select(vec!["\n", "\r", "\r\n"]),
        comments in any::<bool>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let stream = stream_of(&events, ending, comments);
        let expected: Vec<Frame> = events
            .iter()
            .flat_map(|(name, data)| {
                let event = Frame::Event(Event {
                    event: name.clone().unwrap_or_else(|| "message".into()),
                    data: data.join("\n"),
                });
                if comments { vec![Frame::Comment, event] } else { vec![event] }
            })
            .collect();
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        at.sort_unstable();
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut from = 0;
        for to in at {
            chunks.push(&stream[from..to]);
            from = to;
        }
        chunks.push(&stream[from..]);
        let (frames, result) = parse_chunks(&chunks);
        prop_assert_eq!(result, Ok(()));
        prop_assert_eq!(frames, expected);
    }

    #[test]
    fn arbitrary_bytes_never_panic_nor_outgrow_the_cap(
        chunks in prop::collection::vec(
            prop_oneof![
                prop::collection::vec(any::<u8>(), 0..64),
                prop::collection::vec(prop::sample::select(b"data:event:id:retry: \r\n\xEF\xBB\xBFx".to_vec()), 0..64),
                // A long run without a line end, to reach the cap.
                (any::<u8>(), 1usize..400_000).prop_map(|(b, n)| {
                    vec![if b == b'\n' || b == b'\r' { b'x' } else { b }; n]
                }),
            ],
            0..12,
        ),
    ) {
        let mut parser = Parser::new();
        let mut out = VecDeque::new();
        let mut failed = false;
        for chunk in &chunks {
            let result = parser.feed(chunk, &mut out);
            if failed {
                prop_assert_eq!(result, Err(TooLarge));
            }
            failed |= result.is_err();
            prop_assert!(parser.held() <= MAX_EVENT_BYTES);
            let (line, data) = parser.capacity();
            prop_assert!(line <= MAX_EVENT_BYTES && data <= MAX_EVENT_BYTES);
            for frame in out.drain(..) {
                if let Frame::Event(e) = frame {
                    prop_assert!(e.data.len() <= MAX_EVENT_BYTES);
                }
            }
        }
    }
}
