//! Hostile text end to end: a helpdesk whose every title, name, category,
//! tag, description, note and chat message was written by an attacker
//! (controls, escape sequences, bidi overrides, invisible characters, mark
//! stacks, emoji sequences, wide CJK, 100 KB lines), shown by the real binary
//! in a pseudo-terminal at several widths while an operator scrolls through
//! it. Nothing but the renderer's own sequences may reach the terminal, list
//! columns stay where the header puts them, and the screen after many moves
//! is the screen a fresh draw shows (no cells left over from other tickets).

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::World;
use support::pty::Session;

/// Tickets in the helpdesk (each with its own contact).
const TICKETS: usize = 150;
/// Notes on each ticket.
const NOTES: usize = 6;
/// Chat messages with each contact.
const MESSAGES: usize = 22;
/// Terminal height of every session.
const ROWS: u16 = 40;
/// A line of 100 KB and more.
const LONG_LINE_BYTES: usize = 100 * 1024;

/// SplitMix64: a deterministic corpus from a fixed seed, without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Pieces attackers and unlucky customers send.
const FRAGMENTS: &[&str] = &[
    // C0 and C1 controls, and escape sequences whole and in pieces.
    "\u{0}",
    "\u{7}",
    "\u{8}",
    "\r",
    "\r\n",
    "\n",
    "\t",
    "\u{b}",
    "\u{c}",
    "\u{7f}",
    "\u{1b}",
    "\u{1b}[",
    "\u{1b}[31m",
    "\u{1b}[2J",
    "\u{1b}[H",
    "\u{1b}[10;10H",
    "\u{1b}[?1049l",
    "\u{1b}[6n",
    "\u{1b}]0;owned\u{7}",
    "\u{1b}]0;no end",
    "\u{1b}]8;;http://evil/\u{1b}\\",
    "\u{1b}]52;c;ZXZpbA==\u{7}",
    "\u{1b}P+q544e\u{1b}\\",
    "\u{1b}Pq",
    "\u{1b}_apc",
    "\u{1b}^pm",
    "\u{1b}Xsos",
    "\u{1b}\\",
    "\u{1b}(0",
    "\u{1b}#8",
    "\u{1b}7",
    "\u{1b}c",
    "\u{9b}31m",
    "\u{9b}",
    "\u{9d}0;c1 title\u{9c}",
    "\u{9d}",
    "\u{90}",
    "\u{98}",
    "\u{9e}",
    "\u{9f}",
    "\u{9c}",
    "\u{85}",
    "\u{84}",
    "\u{8d}",
    // Bidi controls and separators.
    "\u{202e}",
    "\u{202d}",
    "\u{202a}",
    "\u{2066}",
    "\u{2067}",
    "\u{2068}",
    "\u{2069}",
    "\u{200e}",
    "\u{200f}",
    "\u{61c}",
    "\u{2028}",
    "\u{2029}",
    // Zero-width and default-ignorable code points.
    "\u{ad}",
    "\u{200b}",
    "\u{200c}",
    "\u{200d}",
    "\u{2060}",
    "\u{2061}",
    "\u{2064}",
    "\u{feff}",
    "\u{180e}",
    "\u{34f}",
    "\u{3164}",
    "\u{115f}",
    "\u{1160}",
    "\u{ffa0}",
    "\u{fff9}",
    "\u{fffa}",
    "\u{fffb}",
    "\u{fe0f}",
    "\u{fe0e}",
    "\u{fe00}",
    "\u{e0100}",
    "\u{e0001}",
    "\u{e0041}",
    "\u{e007f}",
    "\u{17b4}",
    "\u{1bca0}",
    // Emoji sequences.
    "\u{2764}\u{fe0f}",
    "\u{1f44d}\u{1f3fd}",
    "\u{1f44b}\u{1f3ff}",
    "\u{1f3fb}",
    "\u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{200d}\u{1f466}",
    "\u{1f3f3}\u{fe0f}\u{200d}\u{1f308}",
    "\u{1f1ea}\u{1f1f8}",
    "\u{1f1fa}\u{1f1e6}",
    "\u{1f1ef}",
    "1\u{fe0f}\u{20e3}",
    "#\u{fe0f}\u{20e3}",
    "\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}",
    "\u{263a}\u{fe0e}",
    "\u{1f600}",
    "\u{1f4e6}",
    "\u{2705}",
    // Wide CJK, Hangul, odd widths.
    "請幫我查一下訂單",
    "日本語のテキスト",
    "한국어",
    "\u{1100}\u{1161}\u{11a8}",
    "\u{ff76}\u{ff9e}",
    "\u{17d8}",
    "\u{fdd0}",
    "Ｈｅｌｌｏ",
    // Ordinary text.
    "Printer",
    "jam",
    "normal",
    "urgent",
    "Ñandú",
    "café",
    " ",
    "  ",
    "-",
    "|",
    "│",
];

/// A random piece of hostile text.
fn piece(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=5 => rng.pick(FRAGMENTS).to_owned(),
        6 => {
            // A combining stack on a letter.
            let mut s = String::from("Z");
            for _ in 0..rng.below(40) {
                s.push(char::from_u32(0x300 + rng.below(0x70) as u32).unwrap_or('x'));
            }
            s
        }
        _ => {
            // A code point from a troublesome range.
            let ranges: [(u32, u32); 9] = [
                (0x0, 0x20),
                (0x80, 0xa0),
                (0x300, 0x370),
                (0x2000, 0x2070),
                (0xfe00, 0xfe10),
                (0x1f1e6, 0x1f200),
                (0x1f300, 0x1fa00),
                (0xe0000, 0xe0080),
                (0x4e00, 0x9fff),
            ];
            let (lo, hi) = ranges[rng.below(ranges.len())];
            let c = lo + rng.below((hi - lo) as usize) as u32;
            char::from_u32(c).map(String::from).unwrap_or_default()
        }
    }
}

/// A hostile string of at most `max_chars` characters that the server
/// accepts (not blank once trimmed).
fn hostile(rng: &mut Rng, max_chars: usize, one_line: bool) -> String {
    let target = 1 + rng.below(max_chars);
    let mut s = String::new();
    while s.chars().count() < target {
        let p = piece(rng);
        if one_line && p.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
            continue;
        }
        s.push_str(&p);
    }
    let mut s: String = s.trim().chars().take(max_chars).collect();
    if s.trim().is_empty() {
        s.push('x');
    }
    s.trim().to_owned()
}

/// A single line of at least [`LONG_LINE_BYTES`].
fn long_line(rng: &mut Rng) -> String {
    let mut s = String::new();
    while s.len() < LONG_LINE_BYTES {
        s.push_str(&hostile(rng, 200, true));
    }
    s
}

/// The hostile helpdesk, and how many hostile strings it holds.
fn corpus(rng: &mut Rng) -> (Value, usize) {
    let mut strings = 0;
    let mut count = |s: String| {
        strings += 1;
        s
    };
    let contacts: Vec<Value> = (0..TICKETS)
        .map(|_| json!({"name": count(hostile(rng, 200, false)), "phone": null, "email": null, "channel": "web"}))
        .collect();
    let tickets: Vec<Value> = (0..TICKETS)
        .map(|i| {
            let notes: Vec<Value> = (0..NOTES)
                .map(|n| json!({"operator": n % 2, "body": count(hostile(rng, 600, false)), "minutes_ago": 10 + n}))
                .collect();
            let status = ["new", "open"][i % 2];
            let priority = ["low", "normal", "high", "urgent"][i % 4];
            json!({
                "reference": null,
                "title": count(hostile(rng, 200, false)),
                "description": count(hostile(rng, 3000, false)),
                "status": status,
                "priority": priority,
                "category": count(hostile(rng, 64, false)),
                "tags": [count(hostile(rng, 64, false)), count(hostile(rng, 64, false))],
                "important": i % 3 == 0,
                "contact": i,
                "operator": if i % 2 == 0 { Some(i % 2) } else { None },
                "channel": "web",
                "created_minutes_ago": 10_000 + i,
                "updated_minutes_ago": 100 + i,
                "closed_minutes_ago": null,
                "sla_due_in_minutes": if i % 5 == 0 { Some(-30) } else { None },
                "notes": notes,
            })
        })
        .collect();
    let messages: Vec<Value> = (0..TICKETS * MESSAGES)
        .map(|m| {
            let inbound = m % 3 != 0;
            json!({
                "contact": m / MESSAGES, "ticket": m / MESSAGES,
                "direction": if inbound { "inbound" } else { "outbound" },
                "operator": if inbound { None } else { Some(0) },
                "body": count(hostile(rng, 400, false)),
                "minutes_ago": 50 + MESSAGES - m % MESSAGES,
            })
        })
        .collect();
    let data = json!({
        "operators": [
            {"name": "Ana Test", "email": "ana@example.com"},
            {"name": "Bruno Test", "email": "bruno@example.com"}
        ],
        "statuses": [],
        "contacts": contacts,
        "tickets": tickets,
        "messages": messages,
    });
    (data, strings)
}

/// Puts lines of 100 KB where the API's limits would refuse them: in the
/// first tickets' title, description, contact name and a chat message.
async fn add_long_lines(world: &World, rng: &mut Rng) -> usize {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&world.db_path);
    let pool = sqlx::SqlitePool::connect_with(options)
        .await
        .expect("open the server's database");
    let updates = [
        ("UPDATE tickets SET title = ? WHERE id = ?", 2),
        ("UPDATE tickets SET description = ? WHERE id = ?", 1),
        ("UPDATE tickets SET description = ? WHERE id = ?", 3),
        ("UPDATE contacts SET name = ? WHERE id = ?", 4),
        (
            "UPDATE messages SET body = ? WHERE id = (SELECT MAX(id) FROM messages WHERE ticket_id = ?)",
            5,
        ),
    ];
    for (sql, id) in updates {
        let done = sqlx::query(sql)
            .bind(long_line(rng))
            .bind(id)
            .execute(&pool)
            .await
            .expect("write a long line");
        assert_eq!(done.rows_affected(), 1, "{sql} {id}");
    }
    pool.close().await;
    updates.len()
}

/// The cells of the screen, row by row: a blank cell is a space, the second
/// cell of a wide character empty.
fn grid(s: &Session) -> Vec<Vec<String>> {
    let parser = s.screen.lock().unwrap();
    let screen = parser.screen();
    let (rows, cols) = screen.size();
    (0..rows)
        .map(|r| {
            (0..cols)
                .map(|c| match screen.cell(r, c) {
                    Some(cell) if cell.is_wide_continuation() => String::new(),
                    Some(cell) if cell.has_contents() => cell.contents().to_owned(),
                    _ => " ".to_owned(),
                })
                .collect()
        })
        .collect()
}

fn row_text(row: &[String], from: usize) -> String {
    row[from.min(row.len())..].concat()
}

/// Waits for the program to react (up to `react`: an action may change
/// nothing), then for a finished frame followed by quiet, with nothing still
/// loading.
fn settle_after(s: &Session, bytes_before: usize, react: Duration) {
    let start = Instant::now();
    while s.bytes_seen() == bytes_before && start.elapsed() < react {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut last = s.bytes_seen();
    let mut quiet_since = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(25));
        let now = s.bytes_seen();
        if now != last {
            last = now;
            quiet_since = Instant::now();
            continue;
        }
        if quiet_since.elapsed() >= Duration::from_millis(150)
            && frame_finished(&s.output())
            && !s.text().contains("loading")
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the screen never settled:\n{}",
            s.text()
        );
    }
}

/// Whether the last synchronized-output frame has ended.
fn frame_finished(out: &[u8]) -> bool {
    let last = |needle: &[u8]| out.windows(needle.len()).rposition(|w| w == needle);
    match (last(b"\x1b[?2026h"), last(b"\x1b[?2026l")) {
        (Some(begin), Some(end)) => end > begin,
        (None, _) => true,
        (Some(_), None) => false,
    }
}

fn press(s: &mut Session, keys: &str) {
    let before = s.bytes_seen();
    s.keys(keys);
    settle_after(s, before, Duration::from_secs(2));
}

/// Every list row has its columns where the header has them.
fn assert_list_aligned(s: &Session, cols: u16, context: &str) {
    let grid = grid(s);
    let screen = s.text();
    let header = grid
        .iter()
        .position(|r| {
            let t = r.concat();
            t.contains("Reference") && t.contains("Priority")
        })
        .unwrap_or_else(|| panic!("{context}: no list header on screen:\n{screen}"));
    let column = |name: &str| -> Option<usize> {
        let row = &grid[header];
        (0..row.len()).find(|&x| row_text(row, x).starts_with(name))
    };
    let reference = column("Reference").expect("Reference column");
    let status = column("Status").expect("Status column");
    let priority = column("Priority").expect("Priority column");
    let updated = column("Updated");
    let last = usize::from(cols) - 1;
    let mut rows = 0;
    for (y, row) in grid.iter().enumerate().skip(header + 1) {
        if row[0] == "└" {
            break;
        }
        let line = row.concat();
        let fail = |what: &str| -> ! {
            panic!("{context}: list row {y} {what}:\n{line}\nscreen:\n{screen}")
        };
        if row[0] != "│" || row[last] != "│" {
            fail("lost its borders");
        }
        if row[1..last].iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows += 1;
        if !row_text(row, reference).starts_with("HD-") {
            fail("has no reference in the Reference column");
        }
        for x in [reference, status, priority].into_iter().chain(updated) {
            if row[x - 1] != " " {
                fail(&format!(
                    "has {:?} in the gap before column {x}",
                    row[x - 1]
                ));
            }
        }
        if !["New", "Open"]
            .iter()
            .any(|l| row_text(row, status).starts_with(l))
        {
            fail("has no status in the Status column");
        }
        if !["low", "normal", "high", "urgent"]
            .iter()
            .any(|p| row_text(row, priority).starts_with(p))
        {
            fail("has no priority in the Priority column");
        }
        if let Some(x) = updated {
            let time: Vec<char> = row_text(row, x).chars().take(11).collect();
            let shape: String = time
                .iter()
                .map(|c| if c.is_ascii_digit() { '9' } else { *c })
                .collect();
            if shape != "99-99 99:99" {
                fail("has no time in the Updated column");
            }
        }
    }
    assert!(rows > 5, "{context}: only {rows} list rows:\n{screen}");
}

/// The screen as built by incremental updates is the screen a full redraw
/// (forced by a resize there and back) shows.
fn assert_same_as_a_fresh_draw(s: &Session, cols: u16, context: &str) {
    let incremental = grid(s);
    let text = s.text();
    let before = s.bytes_seen();
    // A resize always redraws: wait for it however long it takes.
    s.resize(cols - 1, ROWS);
    settle_after(s, before, Duration::from_secs(60));
    let before = s.bytes_seen();
    s.resize(cols, ROWS);
    settle_after(s, before, Duration::from_secs(60));
    let fresh = grid(s);
    for (y, (a, b)) in incremental.iter().zip(&fresh).enumerate() {
        if let Some(x) = a.iter().zip(b).position(|(a, b)| a != b) {
            panic!(
                "{context}: cell ({x}, {y}) is {:?} after moving, {:?} when drawn afresh\n\
                 row after moving: {}\nrow drawn afresh: {}\nscreen after moving:\n{text}",
                a[x],
                b[x],
                a.concat(),
                b.concat()
            );
        }
    }
}

/// Only the escape sequences ratatui and crossterm emit, and no control
/// character, C1 code point, bidi control or invisible character, reached
/// the terminal.
fn assert_only_renderer_output(out: &[u8], context: &str) {
    const DEC_MODES: [&str; 4] = ["1049", "25", "2004", "2026"];
    let text = std::str::from_utf8(out)
        .unwrap_or_else(|e| panic!("{context}: the output is not UTF-8: {e}"));
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let around = || {
            let start = text.floor_char_boundary(at.saturating_sub(40));
            let end = text.ceil_char_boundary((at + 40).min(text.len()));
            format!("{:?}", &text[start..end])
        };
        match c {
            '\u{1b}' => {
                if chars.next().map(|(_, c)| c) != Some('[') {
                    panic!(
                        "{context}: a non-CSI escape reached the terminal at {at}: {}",
                        around()
                    );
                }
                let mut params = String::new();
                let mut fin = None;
                for (_, p) in chars.by_ref() {
                    if ('\u{20}'..='\u{3f}').contains(&p) {
                        params.push(p);
                    } else {
                        fin = Some(p);
                        break;
                    }
                }
                let ok = match fin {
                    Some('H' | 'm' | 'J' | 'K' | 'A' | 'B' | 'C' | 'D' | 'G') => {
                        params.chars().all(|p| p.is_ascii_digit() || p == ';')
                    }
                    Some('h' | 'l') => params
                        .strip_prefix('?')
                        .is_some_and(|mode| DEC_MODES.contains(&mode)),
                    _ => false,
                };
                assert!(
                    ok,
                    "{context}: CSI {params:?} {fin:?} is not the renderer's, at {at}: {}",
                    around()
                );
            }
            '\r' | '\n' => {}
            c if c.is_control() => {
                panic!(
                    "{context}: control U+{:04X} reached the terminal at {at}: {}",
                    u32::from(c),
                    around()
                )
            }
            '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200b}'..='\u{200f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{2060}'..='\u{2064}'
            | '\u{61c}'
            | '\u{ad}'
            | '\u{34f}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{feff}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{1f3fb}'..='\u{1f3ff}'
            | '\u{1f1e6}'..='\u{1f1ff}'
            | '\u{e0000}'..='\u{e0fff}' => {
                panic!(
                    "{context}: U+{:04X}, which terminals draw differently, reached the terminal at {at}: {}",
                    u32::from(c),
                    around()
                )
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_neither_drives_the_terminal_nor_breaks_the_layout() {
    let mut rng = Rng(0x5eed_da7a_0000_0006);
    let (data, strings) = corpus(&mut rng);
    let world = World::with_data(data).await;
    let strings = strings + add_long_lines(&world, &mut rng).await;
    assert!(strings >= 5_000, "only {strings} hostile strings");

    for cols in [80u16, 132, 200] {
        let context = format!("{cols} columns");
        let data = tempfile::tempdir().expect("temp dir");
        let vars = [
            ("DESKTERM_SERVER_URL", world.url()),
            ("DESKTERM_TOKEN", world.token.clone()),
        ];
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut s = Session::start_sized(data.path(), &vars, cols, ROWS);
        s.wait_for("the hostile tickets", Duration::from_secs(60), |t| {
            t.contains("connected") && t.contains("HD-") && !t.contains("loading")
        });
        settle_after(&s, 0, Duration::ZERO);
        assert_list_aligned(&s, cols, &context);

        // Down the whole list: a step, then a page, comparing with a fresh
        // draw every few pages.
        let pages = TICKETS / 12 + 1;
        for page in 0..pages {
            press(&mut s, "jj");
            assert_list_aligned(&s, cols, &format!("{context}, page {page}, after j"));
            press(&mut s, "\u{1b}[6~");
            assert_list_aligned(&s, cols, &format!("{context}, page {page}"));
            if page % 3 == 1 {
                assert_same_as_a_fresh_draw(&s, cols, &format!("{context}, page {page}"));
            }
        }
        // And back to the top, where the longest lines are.
        press(&mut s, "g");
        press(&mut s, "jjj");
        press(&mut s, "k");
        assert_list_aligned(&s, cols, &format!("{context}, back at the top"));
        assert_same_as_a_fresh_draw(&s, cols, &format!("{context}, back at the top"));

        assert_only_renderer_output(&s.output(), &context);
        s.keys("q");
        let status = s.wait_exit(Duration::from_secs(15));
        assert!(
            status.success(),
            "{context}: deskterm exited with {status:?}"
        );
    }
}
