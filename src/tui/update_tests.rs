//! Behaviour of `App::update`, without a terminal or a server.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use deskterm_api::{Priority, SortField, Ticket, TicketPatch};

use super::app::{App, Effect, Modal, Msg, Pane};
use super::fixture::{self, loaded_app};
use crate::sync::{Command, SyncEvent, Write};

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn chars(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| press(app, KeyCode::Char(c)))
        .collect()
}

fn writes(effects: &[Effect]) -> Vec<(u64, Write)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Sync(Command::Write { op, write, .. }) => Some((*op, write.clone())),
            _ => None,
        })
        .collect()
}

fn shown(app: &App, id: i64) -> Ticket {
    app.tickets.shown(id).unwrap()
}

fn selected_id(app: &App) -> i64 {
    app.selected_ticket().map(|t| t.id).unwrap_or(-1)
}

#[test]
fn loading_lists_most_recent_first_and_asks_for_the_first_ticket() {
    let mut app = App::new(
        super::keymap::Keymap::defaults().unwrap(),
        fixture::now(),
        chrono::FixedOffset::east_opt(0).unwrap(),
        1,
    );
    app.update(Msg::Sync(SyncEvent::Meta(fixture::meta())));
    let effects = app.update(Msg::Sync(SyncEvent::Snapshot(fixture::tickets())));
    assert_eq!(app.list.ids(&app.tickets), vec![1, 2, 3, 4, 5]);
    assert_eq!(
        effects,
        vec![Effect::Sync(Command::View {
            ticket: 1,
            contact: 1
        })]
    );
}

#[test]
fn moving_down_selects_and_loads_the_next_ticket() {
    let mut app = loaded_app(120, 40);
    let effects = press(&mut app, KeyCode::Char('j'));
    assert_eq!(selected_id(&app), 2);
    assert_eq!(
        effects,
        vec![Effect::Sync(Command::View {
            ticket: 2,
            contact: 2
        })]
    );
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(selected_id(&app), 5);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(selected_id(&app), 5, "stays on the last row");
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(selected_id(&app), 1);
}

#[test]
fn sort_picks_a_column_and_picking_it_again_reverses() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('s'));
    assert!(matches!(app.modal, Some(Modal::Picker(_))));
    // From "Updated" (the current column) up to "Priority".
    for _ in 0..5 {
        press(&mut app, KeyCode::Char('k'));
    }
    press(&mut app, KeyCode::Enter);
    assert!(app.modal.is_none());
    assert_eq!(app.list.sort.field, SortField::Priority);
    assert!(app.list.sort.descending);
    assert_eq!(app.list.ids(&app.tickets), vec![1, 3, 2, 5, 4]);
    press(&mut app, KeyCode::Char('S'));
    assert_eq!(app.list.ids(&app.tickets), vec![4, 2, 5, 3, 1]);
    // The selection follows its ticket, not its row.
    assert_eq!(selected_id(&app), 1);
}

#[test]
fn status_filter_ticks_several_and_shows_count() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('C'));
    // Rows: new, open, pending, resolved, closed, waiting_parts.
    press(&mut app, KeyCode::Char(' ')); // new
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char(' ')); // open
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.list.ids(&app.tickets), vec![1, 2]);
    assert_eq!(super::render::filter_summary(&app), "status:new,open");
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(app.list.len(), 5);
}

#[test]
fn operator_filter_knows_unassigned() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('O'));
    press(&mut app, KeyCode::Enter); // first row: (unassigned), nothing ticked → that row alone
    assert_eq!(app.list.ids(&app.tickets), vec![2]);
}

#[test]
fn priority_filter_and_search_combine() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('P'));
    press(&mut app, KeyCode::Char('j')); // high
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.list.ids(&app.tickets), vec![3]);
    press(&mut app, KeyCode::Char('x'));
    press(&mut app, KeyCode::Char('/'));
    chars(&mut app, "giulia");
    // The list narrows while typing.
    assert_eq!(app.list.ids(&app.tickets), vec![2, 4]);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.list.query.to_string(), "giulia");
}

#[test]
fn changing_status_shows_at_once_and_sends_a_patch() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Char('j')); // open → pending
    let effects = press(&mut app, KeyCode::Enter);
    let sent = writes(&effects);
    assert_eq!(
        sent,
        vec![(
            1,
            Write::Patch {
                ticket: 1,
                version: 3,
                patch: TicketPatch {
                    status: Some("pending".into()),
                    ..Default::default()
                },
            }
        )]
    );
    assert_eq!(shown(&app, 1).status, "pending");
    assert_eq!(app.tickets.pending_count(), 1);
    // The server confirms with a new version.
    let mut saved = shown(&app, 1).clone();
    saved.version = 4;
    app.update(Msg::Sync(SyncEvent::TicketChanged(saved)));
    app.update(Msg::Sync(SyncEvent::WriteDone(1)));
    assert!(!app.tickets.has_pending());
    assert_eq!(shown(&app, 1).status, "pending");
    assert_eq!(shown(&app, 1).version, 4);
}

#[test]
fn a_pending_change_survives_an_older_update_from_the_feed() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('p'));
    press(&mut app, KeyCode::Char('G')); // low
    press(&mut app, KeyCode::Enter);
    assert_eq!(shown(&app, 1).priority, Priority::Low);
    // Someone else's change to another field arrives before ours is confirmed.
    let mut theirs = fixture::tickets()[0].clone();
    theirs.version = 4;
    theirs.title = "Pedido no recibido (2)".into();
    app.update(Msg::Sync(SyncEvent::TicketChanged(theirs)));
    assert_eq!(
        shown(&app, 1).priority,
        Priority::Low,
        "our edit still shows"
    );
    assert_eq!(shown(&app, 1).title, "Pedido no recibido (2)", "theirs too");
    // A stale copy does not roll anything back.
    let old = fixture::tickets()[0].clone();
    app.update(Msg::Sync(SyncEvent::TicketChanged(old)));
    assert_eq!(shown(&app, 1).title, "Pedido no recibido (2)");
}

#[test]
fn a_refused_write_goes_back_to_the_server_state_and_says_why() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('a'));
    press(&mut app, KeyCode::Char('j')); // ticket 2, unassigned
    let effects = press(&mut app, KeyCode::Char('a'));
    let [(op, _)] = writes(&effects)[..] else {
        panic!("one write expected, got {effects:?}");
    };
    assert_eq!(shown(&app, 2).operator.as_ref().map(|o| o.id), Some(1));
    let refused = writes(&effects)[0].1.clone();
    app.update(Msg::Sync(SyncEvent::WriteFailed {
        op,
        write: refused,
        error: "change not saved: unknown operator".into(),
        fields: Vec::new(),
    }));
    assert_eq!(shown(&app, 2).operator, None, "back to the server's state");
    let (_, message) = app.status.message.clone().unwrap();
    assert!(message.contains("unknown operator"), "{message}");
    assert!(!app.tickets.has_pending());
}

#[test]
fn assigning_to_me_twice_sends_once() {
    let mut app = loaded_app(120, 40);
    // Ticket 1 is already Lucía's.
    assert!(writes(&press(&mut app, KeyCode::Char('a'))).is_empty());
}

#[test]
fn composing_sends_to_the_contact_and_clears_the_composer() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('m'));
    assert_eq!(app.focus, Pane::Chat);
    assert!(app.chat.composing);
    // Letters are text here, not commands: "q" must not quit.
    let typed = chars(&mut app, "qué tal");
    assert!(typed.iter().all(|e| *e != Effect::Exit));
    press(&mut app, KeyCode::Enter);
    let pending: Vec<_> = app.tickets.pending_messages(1).collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].write,
        Write::SendMessage {
            contact: 1,
            ticket: Some(1),
            body: "qué tal".into()
        }
    );
    assert!(app.chat.composer.is_empty());
    // Esc leaves the composer; the pane keeps focus.
    press(&mut app, KeyCode::Esc);
    assert!(!app.chat.composing);
    assert_eq!(app.focus, Pane::Chat);
}

#[test]
fn a_draft_survives_leaving_the_composer() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('m'));
    chars(&mut app, "borrador");
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('m'));
    assert_eq!(app.chat.composer.lines(), ["borrador"]);
}

#[test]
fn notes_are_added_and_empty_ones_refused() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('n'));
    press(&mut app, KeyCode::Enter);
    assert!(!app.tickets.has_pending(), "an empty note is not sent");
    press(&mut app, KeyCode::Char('n'));
    chars(&mut app, "llamar mañana");
    app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)));
    chars(&mut app, "a las 9");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(
        writes(&effects),
        vec![(
            1,
            Write::AddNote {
                ticket: 1,
                body: "llamar mañana\na las 9".into()
            }
        )]
    );
}

#[test]
fn an_empty_title_is_refused_and_the_field_stays_open() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('t'));
    for _ in 0..40 {
        press(&mut app, KeyCode::Backspace);
    }
    let effects = press(&mut app, KeyCode::Enter);
    assert!(writes(&effects).is_empty());
    assert!(matches!(app.modal, Some(Modal::Input(_))));
    chars(&mut app, "Nuevo título");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(writes(&effects).len(), 1);
    assert_eq!(shown(&app, 1).title, "Nuevo título");
}

#[test]
fn a_new_category_is_sent_by_name_and_tab_completes_known_ones() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('e'));
    for _ in 0..10 {
        press(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "spe");
    press(&mut app, KeyCode::Tab);
    let effects = press(&mut app, KeyCode::Enter);
    let [(_, Write::Patch { patch, .. })] = &writes(&effects)[..] else {
        panic!("expected a patch: {effects:?}");
    };
    assert_eq!(patch.category, Some(Some("Spedizioni".into())));
}

#[test]
fn quitting_with_unsent_changes_asks_to_wait_or_keep_them() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Char('G'));
    let effects = press(&mut app, KeyCode::Enter);
    let [(op, _)] = writes(&effects)[..] else {
        panic!("one write expected");
    };
    let effects = press(&mut app, KeyCode::Char('q'));
    assert!(!effects.contains(&Effect::Exit));
    assert!(matches!(
        app.modal,
        Some(Modal::Confirm(super::confirm::Confirm::Quit))
    ));
    // Wait: quits once the write landed.
    assert!(!press(&mut app, KeyCode::Char('w')).contains(&Effect::Exit));
    assert!(app.quitting);
    let effects = app.update(Msg::Sync(SyncEvent::WriteDone(op)));
    assert!(effects.contains(&Effect::Exit));
    // Keep: quits at once (the outbox has them).
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Char('G'));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('q'));
    assert!(press(&mut app, KeyCode::Char('k')).contains(&Effect::Exit));
}

#[test]
fn quitting_with_nothing_pending_exits_at_once() {
    let mut app = loaded_app(120, 40);
    assert_eq!(press(&mut app, KeyCode::Char('q')), vec![Effect::Exit]);
}

#[test]
fn help_opens_and_closes_and_swallows_other_keys() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('?'));
    assert!(matches!(app.modal, Some(Modal::Help { .. })));
    assert!(writes(&press(&mut app, KeyCode::Char('a'))).is_empty());
    press(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none());
}

#[test]
fn live_notes_and_messages_are_added_once() {
    let mut app = loaded_app(120, 40);
    let note = fixture::notes()[0].clone();
    app.update(Msg::Sync(SyncEvent::NoteAdded(note)));
    assert_eq!(app.detail.notes[&1].len(), 2);
    let mut message = fixture::messages()[0].clone();
    message.id = 99;
    app.update(Msg::Sync(SyncEvent::MessageAdded(message.clone())));
    app.update(Msg::Sync(SyncEvent::MessageAdded(message)));
    assert_eq!(
        app.chat.messages[&crate::backend::ConversationKey::Contact(1)].len(),
        4
    );
}

#[test]
fn a_deleted_ticket_leaves_the_list_and_the_selection_moves_on() {
    let mut app = loaded_app(120, 40);
    let effects = app.update(Msg::Sync(SyncEvent::TicketDeleted(1)));
    assert_eq!(app.list.ids(&app.tickets), vec![2, 3, 4, 5]);
    assert_eq!(selected_id(&app), 2);
    assert_eq!(
        effects,
        vec![Effect::Sync(Command::View {
            ticket: 2,
            contact: 2
        })]
    );
}

#[test]
fn the_list_scrolls_to_keep_the_selection_visible() {
    let mut app = loaded_app(120, 12);
    let rows = super::layout::list_rows(120, 12);
    assert!(
        rows < 5,
        "the test needs a list shorter than the tickets ({rows})"
    );
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(app.list.offset(), 5 - rows);
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(app.list.offset(), 0);
}

#[test]
fn pasted_escape_sequences_are_cleaned() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('m'));
    app.update(Msg::Paste("hola\u{1b}[2J mundo".into()));
    assert_eq!(app.chat.composer.lines(), ["hola mundo"]);
}

#[test]
fn quitting_with_a_draft_asks_once_more() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('m'));
    chars(&mut app, "a medio escribir");
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(!app.update(Msg::Key(ctrl_c)).contains(&Effect::Exit));
    assert!(
        app.status
            .message
            .as_ref()
            .is_some_and(|(_, m)| m.contains("draft"))
    );
    assert!(app.update(Msg::Key(ctrl_c)).contains(&Effect::Exit));
}

#[test]
fn a_conflict_is_shown_and_settled_field_by_field() {
    let mut app = loaded_app(120, 40);
    // I set ticket 1 to "pending" and its priority to low…
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Char('j'));
    let effects = press(&mut app, KeyCode::Enter);
    let [(op, write)] = &writes(&effects)[..] else {
        panic!("one write expected");
    };
    let mut both = write.clone();
    if let Write::Patch { patch, .. } = &mut both {
        patch.priority = Some(Priority::Low);
    }
    // …while Marco resolved it and retitled it.
    let base = fixture::tickets()[0].clone();
    let mut theirs = base.clone();
    theirs.version = 4;
    theirs.status = "resolved".into();
    theirs.title = "Pedido entregado".into();
    app.update(Msg::Sync(SyncEvent::TicketChanged(theirs.clone())));
    app.update(Msg::Sync(SyncEvent::Conflict {
        op: *op,
        write: both,
        base: Some(base),
        theirs: theirs.clone(),
    }));
    let Some(Modal::Conflict(view)) = &app.modal else {
        panic!("the conflict view opens");
    };
    assert_eq!(view.rows.len(), 1, "only the status is contested");
    assert_eq!(app.conflict_count(), 1);
    // Theirs for the status; my priority still goes.
    press(&mut app, KeyCode::Char('t'));
    let effects = press(&mut app, KeyCode::Enter);
    let resolved = effects.iter().find_map(|e| match e {
        Effect::Sync(Command::Resolve { op: o, resolution }) if o == op => Some(resolution.clone()),
        _ => None,
    });
    let Some(crate::sync::Resolution::Send(Write::Patch { version, patch, .. })) = resolved else {
        panic!("a resolution is sent: {effects:?}");
    };
    assert_eq!(version, 4);
    assert_eq!(
        patch,
        TicketPatch {
            priority: Some(Priority::Low),
            ..Default::default()
        }
    );
    assert!(app.modal.is_none());
    assert_eq!(app.conflict_count(), 0);
    assert_eq!(shown(&app, 1).status, "resolved");
    assert_eq!(shown(&app, 1).priority, Priority::Low);
}

#[test]
fn a_conflict_can_be_left_for_later_and_reopened() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('t'));
    chars(&mut app, " (2)");
    let effects = press(&mut app, KeyCode::Enter);
    let [(op, write)] = &writes(&effects)[..] else {
        panic!("one write expected");
    };
    let base = fixture::tickets()[0].clone();
    let mut theirs = base.clone();
    theirs.version = 5;
    theirs.title = "Otro título".into();
    app.update(Msg::Sync(SyncEvent::Conflict {
        op: *op,
        write: write.clone(),
        base: Some(base),
        theirs,
    }));
    press(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none());
    assert_eq!(app.conflict_count(), 1, "still waiting");
    press(&mut app, KeyCode::Char('X'));
    assert!(matches!(app.modal, Some(Modal::Conflict(_))));
    // Type a third title.
    press(&mut app, KeyCode::Char('e'));
    for _ in 0..30 {
        press(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "Título acordado");
    press(&mut app, KeyCode::Enter);
    let effects = press(&mut app, KeyCode::Enter);
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Sync(Command::Resolve {
            resolution: crate::sync::Resolution::Send(Write::Patch { patch, .. }),
            ..
        }) if patch.title.as_deref() == Some("Título acordado")
    )));
}

#[test]
fn deleting_asks_first_and_hides_the_ticket_at_once() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('D'));
    assert!(matches!(
        app.modal,
        Some(Modal::Confirm(super::confirm::Confirm::Delete(1)))
    ));
    assert!(writes(&press(&mut app, KeyCode::Char('n'))).is_empty());
    assert_eq!(app.list.len(), 5);
    press(&mut app, KeyCode::Char('D'));
    let effects = press(&mut app, KeyCode::Char('y'));
    assert!(matches!(
        &effects[..],
        [
            Effect::Sync(Command::Write {
                write: Write::Delete {
                    ticket: 1,
                    version: 3
                },
                base: Some(_),
                ..
            }),
            ..
        ]
    ));
    assert_eq!(app.list.ids(&app.tickets), vec![2, 3, 4, 5]);
}

#[test]
fn a_new_ticket_shows_at_once_and_is_replaced_by_the_servers() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('N'));
    assert!(matches!(app.modal, Some(Modal::NewTicket(_))));
    // Nothing typed: refused, the form stays, the title says why.
    assert!(writes(&press(&mut app, KeyCode::Enter)).is_empty());
    let Some(Modal::NewTicket(form)) = &app.modal else {
        panic!("the form stays");
    };
    assert!(
        form.errors
            .contains_key(&super::new_ticket::FormField::Title)
    );
    chars(&mut app, "Nueva incidencia");
    press(&mut app, KeyCode::Tab); // reference: another ticket's is refused on the field
    chars(&mut app, "hd-000002");
    assert!(writes(&press(&mut app, KeyCode::Enter)).is_empty());
    let Some(Modal::NewTicket(form)) = &app.modal else {
        panic!("the form stays");
    };
    assert_eq!(form.field, super::new_ticket::FormField::Reference);
    assert!(form.errors[&super::new_ticket::FormField::Reference].contains("taken"));
    for _ in 0.."hd-000002".len() {
        press(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "VIP-1");
    press(&mut app, KeyCode::Tab); // contact: the selected ticket's, Núria
    press(&mut app, KeyCode::Tab); // priority
    press(&mut app, KeyCode::Up); // normal → high
    press(&mut app, KeyCode::Tab); // status
    press(&mut app, KeyCode::Tab); // operator: me
    press(&mut app, KeyCode::Tab); // important
    press(&mut app, KeyCode::Down); // no → yes
    press(&mut app, KeyCode::Tab); // category
    press(&mut app, KeyCode::Tab); // tags
    chars(&mut app, "urgente, vip, urgente");
    let effects = press(&mut app, KeyCode::Enter);
    let [(op, Write::Create { ticket })] = &writes(&effects)[..] else {
        panic!("a create: {effects:?}");
    };
    assert_eq!(ticket.title, "Nueva incidencia");
    assert_eq!(ticket.contact_id, 1);
    assert_eq!(ticket.priority, Some(Priority::High));
    assert_eq!(ticket.operator_id, Some(1));
    assert_eq!(ticket.reference.as_deref(), Some("VIP-1"));
    assert!(ticket.important);
    assert_eq!(ticket.tags, vec!["urgente".to_owned(), "vip".to_owned()]);
    let temp = super::tickets::temp_id(*op);
    assert!(
        app.list.ids(&app.tickets).contains(&temp),
        "shown before the server answers"
    );
    // The server's answer replaces the provisional one.
    let mut created = fixture::tickets()[0].clone();
    created.id = 77;
    created.title = "Nueva incidencia".into();
    app.update(Msg::Sync(SyncEvent::TicketChanged(created)));
    app.update(Msg::Sync(SyncEvent::WriteDone(*op)));
    assert!(!app.list.ids(&app.tickets).contains(&temp));
    assert!(app.list.ids(&app.tickets).contains(&77));
}

#[test]
fn writes_left_from_last_time_show_as_pending() {
    let mut app = loaded_app(120, 40);
    let entry = crate::sync::cache::OutboxEntry {
        op: 500,
        write: Write::Patch {
            ticket: 2,
            version: 3,
            patch: TicketPatch {
                priority: Some(Priority::Urgent),
                ..Default::default()
            },
        },
        base: None,
        conflict: None,
        attempts: 2,
        last_error: None,
    };
    app.update(Msg::Sync(SyncEvent::Outbox(vec![entry])));
    assert_eq!(shown(&app, 2).priority, Priority::Urgent);
    assert_eq!(app.tickets.pending_count(), 1);
    // New writes are numbered after them.
    press(&mut app, KeyCode::Char('n'));
    chars(&mut app, "x");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(writes(&effects)[0].0 > 500);
}

#[test]
fn a_refused_message_goes_back_into_the_composer() {
    let mut app = loaded_app(120, 40);
    app.update(Msg::Sync(SyncEvent::WriteFailed {
        op: 9,
        write: Write::SendMessage {
            contact: 1,
            ticket: Some(1),
            body: "texto largo".into(),
        },
        error: "message not sent: too long".into(),
        fields: Vec::new(),
    }));
    assert_eq!(app.chat.composer.lines(), ["texto largo"]);
}

#[test]
fn cancelling_a_search_puts_the_list_back() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('/'));
    chars(&mut app, "giulia");
    assert_eq!(app.list.ids(&app.tickets), vec![2, 4]);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.list.len(), 5);
    assert!(app.list.query.terms.is_empty());
}

#[test]
fn the_search_box_takes_the_query_language_and_points_at_mistakes() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('/'));
    for c in "status:open".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let open: Vec<i64> = app.list.ids(&app.tickets);
    assert!(!open.is_empty());
    // A field that does not exist: the list stays, the error points at it.
    for c in " colour".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let before = app.list.ids(&app.tickets);
    for c in ":red".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let error = app.list.query_error.clone().expect("an error");
    assert_eq!(error.span.start, "status:open ".len(), "{error:?}");
    assert_eq!(
        app.list.ids(&app.tickets),
        before,
        "the last good list stays"
    );
    // Enter on a mistake keeps the field open with what was typed.
    press(&mut app, KeyCode::Enter);
    assert!(matches!(app.modal, Some(Modal::Input(_))));
    press(&mut app, KeyCode::Esc);
    assert!(
        app.list.query.terms.is_empty(),
        "cancel puts the old query back"
    );
    assert!(app.list.query_error.is_none());
}

#[test]
fn number_keys_switch_saved_views_and_the_state_is_handed_out_to_keep() {
    let mut app = loaded_app(120, 40);
    app.views = super::views::from_config(&[]).expect("the default views parse");
    assert_eq!(
        app.views
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        ["Mine", "Unassigned", "SLA at risk", "All open"]
    );
    let effects = press(&mut app, KeyCode::Char('2'));
    assert_eq!(app.view_name(), Some("Unassigned"));
    let unassigned: Vec<i64> = app.list.ids(&app.tickets);
    assert!(!unassigned.is_empty());
    for id in &unassigned {
        assert!(shown(&app, *id).operator.is_none());
    }
    let saved = effects.iter().find_map(|e| match e {
        Effect::SaveState(s) => Some(s.clone()),
        _ => None,
    });
    let saved = saved.expect("the new state is handed out to be saved");
    assert_eq!(saved.view.as_deref(), Some("Unassigned"));
    assert_eq!(saved.query, "op:none -macro:closed");
    // A fresh console given that state lists the same tickets.
    let mut again = loaded_app(120, 40);
    again.views = app.views.clone();
    again.restore(&saved);
    assert_eq!(again.list.ids(&again.tickets), unassigned);
    assert_eq!(again.view_name(), Some("Unassigned"));
    // Editing the query leaves the view: the header no longer names it.
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(app.view_name(), None);
}

#[test]
fn a_view_that_does_not_parse_is_named_in_the_error() {
    let bad = crate::config::ViewConfig {
        name: "Broken".into(),
        query: "status:open colour:red".into(),
        sort: None,
    };
    let error = super::views::from_config(&[bad]).expect_err("refused");
    assert!(
        error.contains("Broken") && error.contains("column 13"),
        "{error}"
    );
}

/// The writes of a bulk change, handed over together.
fn bulk(effects: &[Effect]) -> Vec<(u64, Write)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Sync(Command::WriteAll(all)) => Some(
                all.iter()
                    .map(|q| (q.op, q.write.clone()))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .flatten()
        .collect()
}

#[test]
fn marked_tickets_change_together_in_one_handover() {
    let mut app = loaded_app(120, 40);
    let first = selected_id(&app);
    press(&mut app, KeyCode::Char(' ')); // mark, move down
    let second = selected_id(&app);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('V')); // range from the second to here
    let third = selected_id(&app);
    assert_eq!(app.list.marked().len(), 3);
    // The status picker applies to all three; the ones already there are left alone.
    press(&mut app, KeyCode::Char('c'));
    let Some(Modal::Picker(picker)) = &app.modal else {
        panic!("status picker");
    };
    let closed = picker
        .items
        .iter()
        .position(|(_, v)| *v == super::picker::PickValue::Status("closed".into()))
        .expect("a closed status");
    for _ in 0..closed {
        press(&mut app, KeyCode::Char('k'));
    }
    for _ in 0..closed {
        press(&mut app, KeyCode::Char('j'));
    }
    let effects = press(&mut app, KeyCode::Enter);
    assert!(writes(&effects).is_empty(), "not one by one");
    let sent = bulk(&effects);
    let mut ids: Vec<i64> = sent.iter().map(|(_, w)| w.ticket().unwrap_or(-1)).collect();
    ids.sort();
    let mut expected = vec![first, second, third];
    expected.sort();
    assert_eq!(ids, expected);
    for (_, w) in &sent {
        assert!(
            matches!(w, Write::Patch { patch, .. } if patch.status.as_deref() == Some("closed")),
            "{w:?}"
        );
    }
    for id in expected {
        assert_eq!(shown(&app, id).status, "closed", "shown at once");
    }
    assert!(
        app.status
            .message
            .as_ref()
            .is_some_and(|(_, m)| m.contains("on 3 of 3"))
    );
    // Again: nothing left to change, nothing sent.
    let effects = app.update(Msg::Action(super::action::Action::Palette));
    assert!(effects.iter().all(|e| !matches!(e, Effect::Sync(_))));
    let effects = chars(&mut app, "set status closed");
    assert!(bulk(&effects).is_empty());
    let effects = press(&mut app, KeyCode::Enter);
    assert!(bulk(&effects).is_empty() && writes(&effects).is_empty());
    assert!(
        app.status
            .message
            .as_ref()
            .is_some_and(|(_, m)| m.contains("3 already were"))
    );
    // esc unmarks.
    press(&mut app, KeyCode::Esc);
    assert!(app.list.marked().is_empty());
}

#[test]
fn the_palette_runs_a_command_with_an_argument() {
    let mut app = loaded_app(120, 40);
    let id = selected_id(&app);
    press(&mut app, KeyCode::Char(':'));
    assert!(matches!(app.modal, Some(Modal::Palette(_))));
    // A partial phrase completes with tab, then the argument is typed.
    chars(&mut app, "setpri");
    press(&mut app, KeyCode::Tab);
    let Some(Modal::Palette(palette)) = &app.modal else {
        panic!("palette open");
    };
    assert_eq!(palette.typed(), "set priority ");
    chars(&mut app, "lo");
    // Enter on a partial value runs the highlighted completion.
    let effects = press(&mut app, KeyCode::Enter);
    assert!(app.modal.is_none());
    assert_eq!(
        writes(&effects)
            .iter()
            .map(|(_, w)| w.clone())
            .collect::<Vec<_>>(),
        vec![Write::Patch {
            ticket: id,
            version: shown(&app, id).version,
            patch: TicketPatch {
                priority: Some(Priority::Low),
                ..Default::default()
            },
        }]
    );
    // A sort with its direction; a bad argument keeps the palette open and says why.
    press(&mut app, KeyCode::Char(':'));
    chars(&mut app, "sort title asc");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.list.sort.field, SortField::Title);
    assert!(!app.list.sort.descending);
    press(&mut app, KeyCode::Char(':'));
    chars(&mut app, "assign zzz");
    press(&mut app, KeyCode::Enter);
    let Some(Modal::Palette(palette)) = &app.modal else {
        panic!("palette stays open on a mistake");
    };
    assert!(
        palette
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no operator"))
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none());
}

#[test]
fn changing_many_marked_tickets_asks_first() {
    let mut app = loaded_app(120, 40);
    let model = fixture::tickets()[0].clone();
    let many: Vec<Ticket> = (1..=super::ops::ASK_ABOVE as i64 + 5)
        .map(|id| Ticket {
            id,
            reference: format!("HD-{id:06}"),
            status: "open".into(),
            ..model.clone()
        })
        .collect();
    let count = many.len();
    app.update(Msg::Sync(SyncEvent::Snapshot(many)));
    press(&mut app, KeyCode::Char('*'));
    assert_eq!(app.list.marked().len(), count);
    press(&mut app, KeyCode::Char(':'));
    chars(&mut app, "set status pending");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(bulk(&effects).is_empty(), "nothing sent before the answer");
    assert!(matches!(app.modal, Some(Modal::Confirm(_))));
    // No: nothing changes.
    press(&mut app, KeyCode::Char('n'));
    assert!(app.modal.is_none());
    assert_eq!(app.tickets.pending_count(), 0);
    // Yes: all of them, handed over together.
    press(&mut app, KeyCode::Char(':'));
    chars(&mut app, "set status pending");
    press(&mut app, KeyCode::Enter);
    let effects = press(&mut app, KeyCode::Char('y'));
    assert_eq!(bulk(&effects).len(), count);
    assert_eq!(app.tickets.pending_count(), count);
}

fn searches(effects: &[Effect]) -> Vec<deskterm_api::TicketQuery> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Sync(Command::Search(q)) => Some(q.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn beyond_the_sync_scope_a_settled_query_is_also_asked_of_the_server() {
    let mut app = loaded_app(120, 40);
    app.search_server = true;
    // While typing, only the local list follows.
    press(&mut app, KeyCode::Char('/'));
    let typed = chars(&mut app, "status:closed pedido");
    assert!(searches(&typed).is_empty());
    let effects = press(&mut app, KeyCode::Enter);
    let asked = searches(&effects);
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].status.as_deref(), Some("closed"));
    assert_eq!(asked[0].q.as_deref(), Some("pedido"));
    // Once per query.
    assert!(searches(&press(&mut app, KeyCode::Char('j'))).is_empty());
    // What the server found joins the list when the query matches it.
    let mut old = fixture::tickets()[0].clone();
    old.id = 900;
    old.reference = "HD-000900".into();
    old.status = "closed".into();
    app.update(Msg::Sync(SyncEvent::Found {
        query: asked[0].clone(),
        tickets: vec![old],
        total: 1,
    }));
    assert_eq!(app.list.ids(&app.tickets), vec![900]);
    assert!(
        app.status
            .message
            .as_ref()
            .is_some_and(|(_, m)| m.contains("1 older"))
    );
    // A query that only lists tickets in progress asks nothing.
    press(&mut app, KeyCode::Char('/'));
    for _ in 0.."status:closed pedido".len() {
        press(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "macro:in_progress");
    assert!(searches(&press(&mut app, KeyCode::Enter)).is_empty());
}

#[test]
fn every_action_outside_popups_is_handled() {
    use super::action::Action;
    for action in Action::ALL.iter().copied().filter(|a| !a.popup_only()) {
        // A fresh screen each: the action may open a popup.
        let mut app = loaded_app(120, 40);
        app.update(Msg::Action(action));
    }
}

#[test]
fn the_palette_offers_only_what_the_backend_has() {
    let mut app = loaded_app(120, 40);
    assert!(
        app.palette_candidates("compose")
            .iter()
            .any(|c| c.text == "compose")
    );
    app.capabilities = crate::backend::Capabilities {
        chat: false,
        ..crate::backend::Capabilities::FULL
    };
    assert!(
        !app.palette_candidates("compose")
            .iter()
            .any(|c| c.text == "compose")
    );
    press(&mut app, KeyCode::Char(':'));
    chars(&mut app, "compose");
    press(&mut app, KeyCode::Enter);
    assert!(!app.chat.composing, "no chat to write in");
}

#[test]
fn a_change_to_too_many_tickets_is_refused_with_a_reason() {
    let mut app = loaded_app(120, 40);
    let model = fixture::tickets()[0].clone();
    let many: Vec<Ticket> = (1..=super::ops::AT_MOST as i64 + 1)
        .map(|id| Ticket {
            id,
            reference: format!("HD-{id:06}"),
            ..model.clone()
        })
        .collect();
    app.update(Msg::Sync(SyncEvent::Snapshot(many)));
    press(&mut app, KeyCode::Char('*'));
    press(&mut app, KeyCode::Char(':'));
    chars(&mut app, "set priority low");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(bulk(&effects).is_empty() && app.modal.is_none());
    assert!(
        app.status
            .message
            .as_ref()
            .is_some_and(|(_, m)| m.contains("at most"))
    );
}

fn patches(effects: &[Effect]) -> Vec<TicketPatch> {
    writes(effects)
        .into_iter()
        .filter_map(|(_, w)| match w {
            Write::Patch { patch, .. } => Some(patch),
            _ => None,
        })
        .collect()
}

#[test]
fn description_tags_important_and_reference_are_edited_in_place() {
    let mut app = loaded_app(120, 40);
    // The description opens on its text; $EDITOR's text replaces the field's.
    press(&mut app, KeyCode::Char('d'));
    let Some(Modal::Input(input)) = &app.modal else {
        panic!("the description field");
    };
    assert_eq!(input.text.lines().join("\n"), shown(&app, 1).description);
    let effects = app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('e'),
        KeyModifiers::CONTROL,
    )));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Editor(t) if *t == shown(&app, 1).description)),
        "{effects:?}"
    );
    app.update(Msg::Edited(Ok("Línea uno\nLínea dos\n\n".into())));
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(
        patches(&effects)[0].description.as_deref(),
        Some("Línea uno\nLínea dos")
    );
    // An editor that fails leaves the field as it was.
    press(&mut app, KeyCode::Char('d'));
    app.update(Msg::Edited(Err(
        "the editor (vi) ended with exit status: 1".into(),
    )));
    let Some(Modal::Input(input)) = &app.modal else {
        panic!("the field stays open");
    };
    assert_eq!(input.text.lines().join("\n"), "Línea uno\nLínea dos");
    press(&mut app, KeyCode::Esc);

    // Tags: typed with commas, each once.
    press(&mut app, KeyCode::Char('#'));
    for _ in 0..40 {
        press(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "vip, , envío, VIP");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(
        patches(&effects)[0].tags,
        Some(vec!["vip".to_owned(), "envío".to_owned()])
    );

    // Important toggles.
    let was = shown(&app, 1).important;
    let effects = press(&mut app, KeyCode::Char('!'));
    assert_eq!(patches(&effects)[0].important, Some(!was));

    // A reference another ticket has is refused before anything is sent.
    press(&mut app, KeyCode::Char('R'));
    for _ in 0..20 {
        press(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "HD-000003");
    assert!(writes(&press(&mut app, KeyCode::Enter)).is_empty());
    assert!(
        matches!(app.modal, Some(Modal::Input(_))),
        "kept open to fix"
    );
    for _ in 0..20 {
        press(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "VIP-0001");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(patches(&effects)[0].reference.as_deref(), Some("VIP-0001"));
}

#[test]
fn another_customer_is_found_by_typing_and_chosen_with_enter() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('@'));
    for _ in 0..30 {
        press(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "giulia");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(patches(&effects)[0].contact_id, Some(2));
    assert!(app.modal.is_none());
    // Nobody matches: nothing is sent, the chooser stays.
    press(&mut app, KeyCode::Char('@'));
    chars(&mut app, "zzzz");
    assert!(writes(&press(&mut app, KeyCode::Enter)).is_empty());
    assert!(matches!(app.modal, Some(Modal::Contact(_))));
}

#[test]
fn a_new_ticket_the_server_refuses_comes_back_with_the_reason_at_its_field() {
    let mut app = loaded_app(120, 40);
    let ticket = deskterm_api::NewTicket {
        title: "Duplicada".into(),
        description: "texto".into(),
        status: Some("new".into()),
        priority: Some(Priority::High),
        category: None,
        tags: vec!["vip".into()],
        important: true,
        contact_id: 2,
        new_contact: None,
        operator_id: None,
        channel: None,
        reference: Some("R-1".into()),
        sla_due_at: None,
        pending_until: None,
    };
    app.update(Msg::Sync(SyncEvent::WriteFailed {
        op: 7,
        write: Write::Create {
            ticket: ticket.clone(),
        },
        error: "new ticket: the reference \"R-1\" is taken".into(),
        fields: vec![("reference".into(), "the reference \"R-1\" is taken".into())],
    }));
    let Some(Modal::NewTicket(form)) = &app.modal else {
        panic!("the form is back");
    };
    use super::new_ticket::FormField;
    assert_eq!(form.field, FormField::Reference);
    assert!(form.errors[&FormField::Reference].contains("taken"));
    assert_eq!(form.title.lines().join(""), "Duplicada");
    assert_eq!(form.contact.chosen().map(|c| c.id), Some(2));
    assert!(form.important);
    assert_eq!(form.tags.lines().join(""), "vip");
}

#[test]
fn a_custom_status_is_added_from_the_statuses_view() {
    use deskterm_api::{MacroStatus, NewStatus, StatusDef};
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::F(3));
    assert!(matches!(app.modal, Some(Modal::Statuses(_))));
    // No label: nothing is asked.
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    chars(&mut app, "Esperando proveedor");
    press(&mut app, KeyCode::Tab); // in progress → closed
    press(&mut app, KeyCode::Tab); // → in progress again
    press(&mut app, KeyCode::Tab); // → closed
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Sync(Command::AddStatus(NewStatus {
            key: None,
            label: "Esperando proveedor".into(),
            macro_status: MacroStatus::Closed,
        }))]
    );
    // Enter again while it is being added asks nothing more.
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    // Refused (an agent): the reason shows in the view, the label stays.
    app.update(Msg::Sync(SyncEvent::StatusAdded(Err(
        "forbidden: adding a status needs the admin role".into(),
    ))));
    let Some(Modal::Statuses(view)) = &app.modal else {
        panic!("the view stays");
    };
    assert!(view.error.as_deref().unwrap_or_default().contains("admin"));
    assert_eq!(view.label.lines().join(""), "Esperando proveedor");
    // Added: the field empties, and the new statuses arrive with the meta.
    press(&mut app, KeyCode::Enter);
    app.update(Msg::Sync(SyncEvent::StatusAdded(Ok(StatusDef {
        key: "esperando_proveedor".into(),
        label: "Esperando proveedor".into(),
        macro_status: MacroStatus::Closed,
        builtin: false,
    }))));
    let Some(Modal::Statuses(view)) = &app.modal else {
        panic!("the view stays");
    };
    assert!(view.error.is_none() && view.label.is_empty());
}

#[test]
fn an_escalation_is_typed_as_addresses_then_a_note_and_queued() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('E'));
    assert!(
        matches!(&app.modal, Some(Modal::Input(i)) if i.kind == super::prompt::InputKind::Escalate)
    );
    // A mistyped address keeps the field open with what was typed.
    chars(&mut app, "vendor@example.com, jefe");
    assert!(writes(&press(&mut app, KeyCode::Enter)).is_empty());
    assert!(matches!(app.modal, Some(Modal::Input(_))));
    assert!(
        app.status
            .message
            .as_ref()
            .is_some_and(|(_, m)| m.contains("“jefe” is not an e-mail address")),
        "{:?}",
        app.status.message
    );
    chars(&mut app, "@example.org");
    app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT)));
    chars(&mut app, "Necesita al proveedor");
    let sent = writes(&press(&mut app, KeyCode::Enter));
    assert_eq!(
        sent.iter().map(|(_, w)| w.clone()).collect::<Vec<_>>(),
        vec![Write::Escalate {
            ticket: 1,
            to: vec!["vendor@example.com".into(), "jefe@example.org".into()],
            note: Some("Necesita al proveedor".into()),
        }]
    );
    assert!(app.modal.is_none());
    // Refused by the server: the field comes back as it was sent.
    let (op, write) = sent[0].clone();
    app.update(Msg::Sync(SyncEvent::WriteFailed {
        op,
        write,
        error: "escalation not sent: invalid".into(),
        fields: vec![("to".into(), "not an e-mail address".into())],
    }));
    let Some(Modal::Input(input)) = &app.modal else {
        panic!("the escalation comes back");
    };
    assert_eq!(
        input.text.lines().join("\n"),
        "vendor@example.com, jefe@example.org\nNecesita al proveedor"
    );
}

#[test]
fn escalation_addresses_are_checked_before_sending() {
    use super::prompt::parse_escalation;
    assert_eq!(
        parse_escalation("a@example.com; <b@example.org>  A@EXAMPLE.COM\n\n note \n").unwrap(),
        (
            vec!["a@example.com".to_owned(), "b@example.org".to_owned()],
            Some("note".to_owned())
        )
    );
    assert_eq!(
        parse_escalation("a@example.com").unwrap().1,
        None,
        "no note is no note"
    );
    for bad in [
        "",
        "\nonly a note",
        "a@",
        "@example.com",
        "a@localhost",
        "a@example.",
    ] {
        assert!(parse_escalation(bad).is_err(), "{bad:?}");
    }
    let many = (0..21)
        .map(|i| format!("p{i}@example.com"))
        .collect::<Vec<_>>()
        .join(",");
    assert!(parse_escalation(&many).is_err());
}

#[test]
fn the_profile_switches_ticket_e_mails_through_the_outbox() {
    let mut app = loaded_app(120, 40);
    assert!(app.me.as_ref().unwrap().receive_ticket_emails);
    press(&mut app, KeyCode::F(4));
    assert!(matches!(app.modal, Some(Modal::Profile)));
    let sent = writes(&press(&mut app, KeyCode::Char(' ')));
    assert_eq!(
        sent.iter().map(|(_, w)| w.clone()).collect::<Vec<_>>(),
        vec![Write::SetProfile {
            receive_ticket_emails: false
        }]
    );
    assert!(!app.me.as_ref().unwrap().receive_ticket_emails);
    // Refused for good: the switch shows what the server still has.
    let (op, write) = sent[0].clone();
    app.update(Msg::Sync(SyncEvent::WriteFailed {
        op,
        write,
        error: "profile not saved: forbidden".into(),
        fields: vec![],
    }));
    assert!(app.me.as_ref().unwrap().receive_ticket_emails);
    press(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none());
}

#[test]
fn without_e_mail_the_backend_offers_no_escalation_or_profile() {
    let mut app = loaded_app(120, 40);
    app.update(Msg::Sync(SyncEvent::Capabilities(
        crate::backend::Capabilities::MINIMAL,
    )));
    press(&mut app, KeyCode::Char('E'));
    press(&mut app, KeyCode::F(4));
    assert!(app.modal.is_none());
}

#[test]
fn waiting_until_a_time_is_typed_as_a_span_or_a_date_and_patched() {
    use super::prompt::parse_until;
    let now = fixture::now();
    let utc = chrono::FixedOffset::east_opt(0).unwrap();
    let madrid = chrono::FixedOffset::east_opt(3600).unwrap();
    assert_eq!(parse_until("", now, utc), Ok(None));
    assert_eq!(
        parse_until("4h", now, utc),
        Ok(Some(now + chrono::Duration::hours(4)))
    );
    assert_eq!(
        parse_until(" 2d ", now, utc),
        Ok(Some(now + chrono::Duration::days(2)))
    );
    let later = now + chrono::Duration::days(40);
    let date = later.format("%Y-%m-%d").to_string();
    let at_nine = parse_until(&format!("{date} 09:00"), now, madrid)
        .unwrap()
        .unwrap();
    assert_eq!(
        at_nine.format("%H:%M").to_string(),
        "08:00",
        "09:00 in UTC+1"
    );
    assert_eq!(parse_until(&date, now, madrid), Ok(Some(at_nine)));
    for bad in [
        "mañana",
        "0h",
        "-2d",
        "2w",
        "2020-01-01 09:00",
        "2026-13-01",
    ] {
        assert!(parse_until(bad, now, utc).is_err(), "{bad:?}");
    }

    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('U'));
    chars(&mut app, "2d");
    let sent = writes(&press(&mut app, KeyCode::Enter));
    let until = app.now + chrono::Duration::days(2);
    assert!(
        matches!(
            &sent[..],
            [(_, Write::Patch { ticket: 1, patch, .. })] if patch.pending_until == Some(Some(until))
        ),
        "{sent:?}"
    );
    assert_eq!(shown(&app, 1).pending_until, Some(until));
}

#[test]
fn a_new_customer_is_typed_as_name_phone_and_e_mail() {
    use super::contact::typed_contact;
    let c = typed_contact(" Eva Ruiz , eva@example.com, +34 600 111 222").unwrap();
    assert_eq!(c.name, "Eva Ruiz");
    assert_eq!(c.email.as_deref(), Some("eva@example.com"));
    assert_eq!(c.phone.as_deref(), Some("+34 600 111 222"));
    assert_eq!(typed_contact("Leo").unwrap().phone, None);
    for bad in [
        "",
        " , eva@example.com",
        "Eva, eva@",
        "Eva, mañana",
        "Eva, a@b.c, d@e.f",
    ] {
        assert!(typed_contact(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn a_ticket_is_given_a_new_customer_only_when_that_row_is_chosen() {
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('@'));
    for _ in 0..30 {
        press(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "Eva Ruiz, +34 600 111 222");
    // Typing alone chooses nobody.
    assert!(writes(&press(&mut app, KeyCode::Enter)).is_empty());
    assert!(matches!(app.modal, Some(Modal::Contact(_))));
    press(&mut app, KeyCode::Down);
    let sent = writes(&press(&mut app, KeyCode::Enter));
    let [(_, Write::Patch { patch, .. })] = &sent[..] else {
        panic!("one patch: {sent:?}");
    };
    let new = patch.new_contact.as_ref().expect("a new customer");
    assert_eq!(new.name, "Eva Ruiz");
    assert_eq!(new.phone.as_deref(), Some("+34 600 111 222"));
    assert_eq!(patch.contact_id, None);
    // Until the server answers, the ticket shows the typed customer.
    assert_eq!(shown(&app, 1).contact.name, "Eva Ruiz");
}

#[test]
fn a_new_ticket_can_be_for_a_new_customer() {
    use super::new_ticket::FormField;
    let mut app = loaded_app(120, 40);
    press(&mut app, KeyCode::Char('N'));
    chars(&mut app, "Pedido nuevo");
    let Some(Modal::NewTicket(form)) = &mut app.modal else {
        panic!("the form");
    };
    form.field = FormField::Contact;
    for _ in 0..30 {
        press(&mut app, KeyCode::Backspace);
    }
    chars(&mut app, "Ada Nueva, ada@example.org");
    press(&mut app, KeyCode::Down);
    let sent = writes(&press(&mut app, KeyCode::Enter));
    let [(_, Write::Create { ticket })] = &sent[..] else {
        panic!("one create: {sent:?}");
    };
    assert_eq!(ticket.contact_id, 0);
    let new = ticket.new_contact.as_ref().expect("a new customer");
    assert_eq!(
        (new.name.as_str(), new.email.as_deref()),
        ("Ada Nueva", Some("ada@example.org"))
    );
    // Refused: the form comes back with the customer as typed, chosen.
    let (op, write) = sent[0].clone();
    app.update(Msg::Sync(SyncEvent::WriteFailed {
        op,
        write,
        error: "new ticket: invalid".into(),
        fields: vec![("new_contact.email".into(), "not an e-mail address".into())],
    }));
    let Some(Modal::NewTicket(form)) = &app.modal else {
        panic!("the form is back");
    };
    assert_eq!(form.field, FormField::Contact);
    assert_eq!(
        form.contact
            .new_contact()
            .and_then(Result::ok)
            .map(|c| c.name),
        Some("Ada Nueva".to_owned())
    );
}
