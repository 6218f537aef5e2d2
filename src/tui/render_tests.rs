//! Snapshots of the screen rendered into ratatui's `TestBackend`.
//! Review changes with `cargo insta review` (or accept with INSTA_UPDATE=always).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::app::{App, Msg};
use super::fixture::loaded_app;
use super::render;

fn screen(app: &App) -> String {
    let (w, h) = app.size;
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| render::draw(app, f)).unwrap();
    terminal.backend().to_string()
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

#[test]
fn list_detail_and_chat_on_a_wide_terminal() {
    let app = loaded_app(140, 34);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn an_80_by_24_terminal_keeps_the_essentials() {
    let app = loaded_app(80, 24);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn detail_pane_focused_with_a_pending_note() {
    let mut app = loaded_app(140, 40);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Char('n'));
    for c in "Revisar con logística".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn chat_composer_open_with_a_message_being_sent() {
    let mut app = loaded_app(140, 34);
    press(&mut app, KeyCode::Char('m'));
    for c in "Ya está en camino".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    for c in "Algo más?".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn status_filter_picker() {
    let mut app = loaded_app(120, 30);
    press(&mut app, KeyCode::Char('C'));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('j'));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn sorted_by_priority_and_filtered_header() {
    let mut app = loaded_app(140, 30);
    press(&mut app, KeyCode::Char('s'));
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('k'));
    }
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('O'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn help_is_generated_from_the_keymap() {
    let mut app = loaded_app(100, 60);
    press(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn loading_screen_before_the_first_answer() {
    let mut app = App::new(
        super::keymap::Keymap::defaults().unwrap(),
        super::fixture::now(),
        chrono::FixedOffset::east_opt(0).unwrap(),
        1,
    );
    app.update(Msg::Resize(80, 20));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn offline_with_pending_changes_and_a_conflict() {
    use crate::sync::{Connection, SyncEvent, Write};
    let mut app = loaded_app(120, 30);
    app.update(Msg::Sync(SyncEvent::Synced));
    app.now += chrono::Duration::minutes(3);
    app.update(Msg::Sync(SyncEvent::Connection(Connection::Offline {
        reason: "cannot reach the server: connection refused".into(),
    })));
    press(&mut app, KeyCode::Char('p'));
    press(&mut app, KeyCode::Char('G'));
    press(&mut app, KeyCode::Enter);
    let (op, _) = app.tickets.pending_writes().next().unwrap();
    app.update(Msg::Sync(SyncEvent::Stored(op)));
    let base = super::fixture::tickets()[0].clone();
    let mut theirs = base.clone();
    theirs.version = 4;
    theirs.priority = deskterm_api::Priority::High;
    let write = app.tickets.pending_write(op).unwrap().write.clone();
    app.update(Msg::Sync(SyncEvent::Conflict {
        op,
        write: write.clone(),
        base: Some(base),
        theirs,
    }));
    insta::assert_snapshot!("conflict_view", screen(&app));
    press(&mut app, KeyCode::Esc);
    app.update(Msg::Sync(SyncEvent::Connection(Connection::Offline {
        reason: "cannot reach the server: connection refused".into(),
    })));
    app.status.message = None;
    let note = Write::AddNote {
        ticket: 2,
        body: "x".into(),
    };
    app.update(Msg::Sync(SyncEvent::Outbox(vec![
        crate::sync::cache::OutboxEntry {
            op: 9,
            write: note,
            base: None,
            conflict: None,
            attempts: 3,
            last_error: None,
        },
    ])));
    app.status.message = None;
    insta::assert_snapshot!("offline_status_bar", screen(&app));
}

#[test]
fn quit_with_unsent_changes_asks() {
    let mut app = loaded_app(100, 30);
    press(&mut app, KeyCode::Char('a'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('a'));
    press(&mut app, KeyCode::Char('q'));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn new_ticket_form() {
    let mut app = loaded_app(120, 36);
    press(&mut app, KeyCode::Char('N'));
    for c in "Impresora sin tóner".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Tab);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn status_bar_messages_are_cleaned_like_customer_text() {
    use crate::sync::{Connection, SyncEvent};
    let status_line = |app: &App| {
        let (w, h) = app.size;
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| render::draw(app, f)).unwrap();
        let buffer = terminal.backend().buffer();
        (0..w)
            .map(|x| buffer[(x, h - 1)].symbol().to_owned())
            .collect::<String>()
    };
    let mut app = loaded_app(140, 30);
    app.update(Msg::Sync(SyncEvent::Error(
        "\u{1b}]0;pwned\u{7}disk \u{202e}full\u{2028}again \u{9d}tail".into(),
    )));
    let shown = status_line(&app);
    assert!(shown.contains("disk full again tail"), "{shown:?}");
    assert!(
        !shown.contains("pwned") && !shown.contains('\u{202e}'),
        "{shown:?}"
    );

    app.status.message = None;
    app.update(Msg::Sync(SyncEvent::Connection(Connection::Offline {
        reason: "refused by \u{1b}[31mproxy\u{1b}[0m \u{1f44d}\u{1f3fd}".into(),
    })));
    let shown = status_line(&app);
    assert!(shown.contains("refused by proxy \u{1f44d}"), "{shown:?}");
    assert!(
        !shown.contains("[31m") && !shown.contains('\u{1f3fd}'),
        "{shown:?}"
    );
}

#[test]
fn marked_tickets_and_their_count() {
    let mut app = loaded_app(120, 24);
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('c'));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn the_palette_completes_arguments() {
    let mut app = loaded_app(120, 30);
    press(&mut app, KeyCode::Char(':'));
    for c in "assign ".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    insta::assert_snapshot!(screen(&app));
}

fn with_history(width: u16, height: u16) -> App {
    use crate::sync::{ExtraAnswer, SyncEvent};
    let mut app = loaded_app(width, height);
    press(&mut app, KeyCode::Char('H'));
    app.update(Msg::Sync(SyncEvent::Extra(ExtraAnswer::History(
        1,
        Ok(super::fixture::history()),
    ))));
    app
}

fn with_previous_tickets(width: u16, height: u16) -> App {
    use crate::sync::{ExtraAnswer, SyncEvent};
    let mut app = loaded_app(width, height);
    press(&mut app, KeyCode::Char('T'));
    let all = super::fixture::tickets();
    app.update(Msg::Sync(SyncEvent::Extra(ExtraAnswer::ContactTickets(
        1,
        Ok(vec![all[4].clone(), all[0].clone()]),
    ))));
    press(&mut app, KeyCode::Enter);
    app
}

#[test]
fn history_tab_at_80_by_24() {
    insta::assert_snapshot!(screen(&with_history(80, 24)));
}

#[test]
fn history_tab_at_200_by_60() {
    insta::assert_snapshot!(screen(&with_history(200, 60)));
}

#[test]
fn previous_tickets_tab_at_80_by_24() {
    insta::assert_snapshot!(screen(&with_previous_tickets(80, 24)));
}

#[test]
fn previous_tickets_tab_at_200_by_60() {
    insta::assert_snapshot!(screen(&with_previous_tickets(200, 60)));
}

fn form_with_a_refused_reference(width: u16, height: u16) -> App {
    let mut app = loaded_app(width, height);
    press(&mut app, KeyCode::Char('N'));
    for c in "Impresora sin tóner".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Tab);
    for c in "HD-000002".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    app
}

#[test]
fn new_ticket_form_with_a_field_error_at_80_by_24() {
    insta::assert_snapshot!(screen(&form_with_a_refused_reference(80, 24)));
}

#[test]
fn new_ticket_form_with_a_field_error_at_200_by_60() {
    insta::assert_snapshot!(screen(&form_with_a_refused_reference(200, 60)));
}

fn contact_chooser(width: u16, height: u16) -> App {
    let mut app = loaded_app(width, height);
    press(&mut app, KeyCode::Char('@'));
    for _ in 0.."Núria Puig".chars().count() {
        press(&mut app, KeyCode::Backspace);
    }
    press(&mut app, KeyCode::Char('i'));
    app
}

#[test]
fn contact_chooser_at_80_by_24() {
    insta::assert_snapshot!(screen(&contact_chooser(80, 24)));
}

#[test]
fn contact_chooser_at_200_by_60() {
    insta::assert_snapshot!(screen(&contact_chooser(200, 60)));
}

#[test]
fn description_field_at_80_by_24() {
    let mut app = loaded_app(80, 24);
    press(&mut app, KeyCode::Char('d'));
    insta::assert_snapshot!(screen(&app));
}

fn statuses_view(width: u16, height: u16) -> App {
    let mut app = loaded_app(width, height);
    press(&mut app, KeyCode::F(3));
    for c in "Esperando proveedor".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    app
}

#[test]
fn statuses_view_at_80_by_24() {
    insta::assert_snapshot!(screen(&statuses_view(80, 24)));
}

#[test]
fn statuses_view_at_200_by_60() {
    insta::assert_snapshot!(screen(&statuses_view(200, 60)));
}

#[test]
fn statistics_view_at_80_by_24() {
    insta::assert_snapshot!(screen(&super::stats::tests::with_stats(80, 24)));
}

#[test]
fn statistics_view_at_200_by_60() {
    insta::assert_snapshot!(screen(&super::stats::tests::with_stats(200, 60)));
}

fn profile_view(width: u16, height: u16) -> App {
    let mut app = loaded_app(width, height);
    press(&mut app, KeyCode::F(4));
    app
}

#[test]
fn profile_view_at_80_by_24() {
    insta::assert_snapshot!(screen(&profile_view(80, 24)));
}

#[test]
fn profile_view_at_200_by_60() {
    insta::assert_snapshot!(screen(&profile_view(200, 60)));
}

fn escalation_field(width: u16, height: u16) -> App {
    let mut app = loaded_app(width, height);
    press(&mut app, KeyCode::Char('E'));
    for c in "vendor@example.com, jefe@example.org".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)));
    for c in "Needs the vendor's technician".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    app
}

#[test]
fn escalation_field_at_80_by_24() {
    insta::assert_snapshot!(screen(&escalation_field(80, 24)));
}

#[test]
fn escalation_field_at_200_by_60() {
    insta::assert_snapshot!(screen(&escalation_field(200, 60)));
}

fn contact_chooser_with_a_new_customer(width: u16, height: u16) -> App {
    let mut app = loaded_app(width, height);
    press(&mut app, KeyCode::Char('@'));
    for _ in 0.."Núria Puig".chars().count() {
        press(&mut app, KeyCode::Backspace);
    }
    for c in "Marta, +34 600 111 222, marta@example.com".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Down);
    app
}

#[test]
fn contact_chooser_with_a_new_customer_at_80_by_24() {
    insta::assert_snapshot!(screen(&contact_chooser_with_a_new_customer(80, 24)));
}

#[test]
fn contact_chooser_with_a_new_customer_at_200_by_60() {
    insta::assert_snapshot!(screen(&contact_chooser_with_a_new_customer(200, 60)));
}
