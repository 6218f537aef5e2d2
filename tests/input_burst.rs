//! Input arriving faster than it is read: a paste without bracketed paste,
//! a burst of keys, and a bracketed paste whose end never comes. The real
//! binary in a pty; what it did is checked through the embedded server's API.

mod support;

use std::time::{Duration, Instant};

use support::Api;
use support::pty::{Session, detail_reference, embedded_api};

/// A session on the demo data with the note popup open on the selected
/// ticket, and that ticket's id.
async fn note_popup(dir: &tempfile::TempDir) -> (Session, Api, Ticket) {
    let mut s = Session::start(dir.path(), &[]);
    let loaded =
        |t: &str| t.contains("connected") && t.contains("tickets") && t.contains("Internal notes");
    let screen = s.wait_for("the demo tickets", Duration::from_secs(60), loaded);
    let reference = detail_reference(&screen).expect("a ticket in the detail pane");
    let api = embedded_api(dir.path());
    let page = api.get(&format!("/tickets?q={reference}&limit=10")).await;
    let id = page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["reference"] == reference.as_str()))
        .and_then(|t| t["id"].as_i64())
        .unwrap_or_else(|| panic!("no ticket {reference}: {page}"));
    let notes = note_count(&api, id).await;
    s.keys("n");
    s.wait_for("the note popup", Duration::from_secs(15), |t| {
        t.contains("Internal note (only operators see it)")
    });
    (s, api, Ticket { id, notes })
}

/// The ticket the note goes to, and how many notes it had before.
struct Ticket {
    id: i64,
    notes: usize,
}

async fn note_count(api: &Api, ticket: i64) -> usize {
    let notes = api.get(&format!("/tickets/{ticket}/notes")).await;
    notes.as_array().expect("a list of notes").len()
}

/// Waits until the ticket has a new note, and returns its body.
async fn new_note(s: &Session, api: &Api, ticket: &Ticket) -> String {
    let start = Instant::now();
    loop {
        let notes = api.get(&format!("/tickets/{}/notes", ticket.id)).await;
        let notes = notes.as_array().expect("a list of notes");
        if notes.len() > ticket.notes {
            assert_eq!(
                notes.len(),
                ticket.notes + 1,
                "more than one note was added"
            );
            let body = notes.last().and_then(|n| n["body"].as_str());
            return body.expect("a note body").to_owned();
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no note was saved; screen:\n{}",
            s.text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// 10 KB of text with no line breaks, different on every line of 64.
fn text_of(len: usize) -> String {
    let alphabet: Vec<char> = ('a'..='z').chain('A'..='Z').chain('0'..='9').collect();
    (0..len)
        .map(|i| alphabet[(i * 7 + i / 64) % alphabet.len()])
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_kb_paste_without_brackets_lands_whole() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut s, api, ticket) = note_popup(&dir).await;
    let text = text_of(10 * 1024);
    // One write: the terminal queue holds all of it at once.
    s.keys(&text);
    // Let it be read before the key that saves it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    s.keys("\r");
    let note = new_note(&s, &api, &ticket).await;
    assert_eq!(note.len(), text.len(), "the note lost or gained characters");
    assert_eq!(note, text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_3000_keys_is_read_to_the_last_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut s, api, ticket) = note_popup(&dir).await;
    // 1,000 times: a letter, a `z`, and a backspace that takes the `z` back;
    // then Enter, in the same write. Every key counts for the result.
    let letters = text_of(1000);
    let burst: String = letters
        .chars()
        .flat_map(|c| [c, 'z', '\u{7f}'])
        .chain(['\r'])
        .collect();
    assert_eq!(burst.len(), 3001);
    s.keys(&burst);
    let note = new_note(&s, &api, &ticket).await;
    assert_eq!(note, letters);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paste_that_never_ends_does_not_swallow_the_keys_after_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut s, api, ticket) = note_popup(&dir).await;
    // The start of a bracketed paste, and no end.
    s.keys("\u{1b}[200~pasted");
    // A pause well past the paste's idle limit, then typing and Enter.
    tokio::time::sleep(Duration::from_secs(4)).await;
    s.keys(" typed");
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.keys("\r");
    let note = new_note(&s, &api, &ticket).await;
    assert_eq!(note, "pasted typed");
}

/// Window size changes come from SIGWINCH now that the keyboard is read
/// directly; the next frame fits the new size.
#[test]
fn a_resized_window_is_redrawn_to_its_new_size() {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = Session::start(dir.path(), &[]);
    s.wait_for("the demo tickets", Duration::from_secs(60), |t| {
        t.contains("connected") && t.contains("tickets")
    });
    s.resize(100, 30);
    // The list's top border ends in its corner at the new right edge.
    s.wait_for("a frame 100 columns wide", Duration::from_secs(15), |t| {
        t.lines()
            .find(|l| l.starts_with("┌ Tickets"))
            .is_some_and(|l| l.chars().count() == 100 && l.ends_with('┐'))
    });
}
