//! The terminal user interface: keys → [`action::Action`] → [`app::App::update`]
//! → [`app::Effect`]s, and a frame drawn only when something changed.

pub mod action;
pub mod app;
mod chat;
pub mod command;
mod confirm;
mod contact;
mod detail;
mod editor;
mod extras;
mod features;
pub mod help;
mod input;
pub mod keymap;
pub mod layout;
mod list;
pub mod list_model;
mod new_ticket;
pub mod notify;
mod ops;
mod palette;
mod picker;
mod popup;
mod profile;
mod prompt;
pub mod render;
mod resolve;
mod stats;
mod statuses;
pub mod terminal;
mod theme;
pub mod tickets;
pub mod views;
mod wrap;
mod writes;

use std::time::Duration;

use crossterm::event::Event;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use app::{App, Effect, Msg};
use input::Keyboard;
use terminal::TerminalGuard;

use crate::store::worker::Worker;
use crate::sync::{Command, Connection, SyncEvent, SyncHandle};

/// Bursts of events are drawn at most once per this interval. A key is
/// often answered in two frames (the list, then the detail of the ticket
/// now selected, read from the cache): the second waits out this interval,
/// so it is most of a key's time to its last byte.
const FRAME_INTERVAL: Duration = Duration::from_millis(4);
/// How long a change waits to be drawn while the list's new sort or filter
/// is being worked out, so that a typed search character and the list it
/// leaves reach the screen in one frame; a slower answer is drawn when it
/// comes, after the change itself.
const ANSWER_WAIT: Duration = Duration::from_millis(16);
/// How long quitting waits for the engine to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How often the status bar's "last sync" is redrawn while the link is down.
const OFFLINE_TICK: Duration = Duration::from_secs(1);

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The operator quit.
    Quit,
    /// SIGTERM or SIGHUP.
    Signal,
}

/// Runs the interface until the operator quits or a signal arrives.
/// `state_file` keeps the list's view, sort and query for the next start.
pub async fn run(
    mut app: App,
    mut sync: SyncHandle,
    state_file: Option<std::path::PathBuf>,
) -> anyhow::Result<Ending> {
    let mut guard = TerminalGuard::enter()?;
    let size = guard.terminal.size()?;
    app.update(Msg::Resize(size.width, size.height));
    let mut keys = Keyboard::open()?;
    // New sorts and filters are worked out off this thread; answers come back here.
    let (answer_tx, mut answers) = tokio::sync::mpsc::unbounded_channel();
    let worker = Worker::start(app.tickets.store().clone(), move |answer| {
        let _ = answer_tx.send(answer);
    })?;
    app.list.use_worker(worker);
    let mut resized = signal(SignalKind::window_change())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    // In raw mode ctrl-c is a key; a SIGINT can still come from `kill -INT`.
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut dirty = true;
    let mut last_frame = Instant::now() - FRAME_INTERVAL;
    // When the oldest change not drawn yet was made.
    let mut changed_at = Instant::now();

    let ending = loop {
        let mut due = last_frame + FRAME_INTERVAL;
        if app.list.busy() {
            due = due.max(changed_at + ANSWER_WAIT);
        }
        if dirty && Instant::now() >= due {
            app.now = chrono::Utc::now();
            last_frame = Instant::now();
            draw(&mut guard, &app)?;
            dirty = false;
        }
        // Idle means idle: without pending changes nothing wakes this loop but input.
        let msg = tokio::select! {
            event = keys.next() => match event {
                Some(Ok(event)) => input_msg(event),
                Some(Err(e)) => return Err(anyhow::anyhow!("reading the terminal failed: {e}")),
                None => break Ending::Signal,
            },
            _ = resized.recv() => match crossterm::terminal::size() {
                Ok((w, h)) => Some(Msg::Resize(w, h)),
                Err(e) => {
                    tracing::warn!("cannot read the terminal's new size: {e}");
                    None
                }
            },
            Some(answer) = answers.recv() => Some(Msg::View(answer)),
            event = sync.events.recv() => match event {
                Some(event) => Some(Msg::Sync(event)),
                None => anyhow::bail!("the sync engine stopped unexpectedly"),
            },
            _ = sigterm.recv() => break Ending::Signal,
            _ = sighup.recv() => break Ending::Signal,
            _ = sigint.recv() => break Ending::Signal,
            _ = tokio::time::sleep_until(due), if dirty => None,
            // Only while the link is down does the clock matter ("last sync 2m ago"):
            // a connected, idle console does not wake up at all.
            _ = tokio::time::sleep(OFFLINE_TICK), if !matches!(app.status.connection, Connection::Connected) => {
                dirty = true;
                None
            }
        };
        let Some(msg) = msg else { continue };
        let mut effects = app.update(msg);
        // Take whatever else is already queued before drawing: one frame per burst.
        // Keys after a quit are left unread, as they were before.
        while !effects.iter().any(|e| matches!(e, Effect::Exit))
            && let Some(msg) = keys.ready().and_then(input_msg)
        {
            effects.extend(app.update(msg));
        }
        while let Ok(event) = sync.events.try_recv() {
            effects.extend(app.update(Msg::Sync(event)));
        }
        if !dirty {
            changed_at = Instant::now();
        }
        dirty = true;
        for effect in &effects {
            if let Effect::Notify(text) = effect {
                let bytes = app.notify.bytes(text);
                if let Err(e) = guard.terminal.backend_mut().writer_mut().send_now(&bytes) {
                    tracing::warn!("a notification was not shown: {e}");
                }
            }
        }
        let (edits, effects): (Vec<Effect>, Vec<Effect>) = effects
            .into_iter()
            .partition(|e| matches!(e, Effect::Editor(_)));
        if carry_out(effects, &sync, state_file.as_deref()) {
            break Ending::Quit;
        }
        let mut quit = false;
        for edit in edits {
            if let Effect::Editor(text) = edit {
                let result = editor::edit(&mut guard, &mut keys, &text);
                let effects = app.update(Msg::Edited(result));
                quit |= carry_out(effects, &sync, state_file.as_deref());
            }
        }
        if quit {
            break Ending::Quit;
        }
    };
    drop(guard);
    stop_engine(&mut sync).await;
    Ok(ending)
}

/// The message for a key or a paste.
fn input_msg(event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) => Some(Msg::Key(key)),
        Event::Paste(text) => Some(Msg::Paste(text)),
        _ => None,
    }
}

/// Hands effects to the engine; true when the interface should exit.
fn carry_out(
    effects: Vec<Effect>,
    sync: &SyncHandle,
    state_file: Option<&std::path::Path>,
) -> bool {
    let mut exit = false;
    for effect in effects {
        match effect {
            Effect::Sync(command) => {
                if sync.commands.send(command).is_err() {
                    tracing::error!("the sync engine is gone");
                }
            }
            Effect::Exit => exit = true,
            // Run by the loop, which owns the terminal.
            Effect::Editor(_) | Effect::Notify(_) => {}
            Effect::SaveState(state) => {
                if let Some(path) = state_file
                    && let Err(e) = views::save_state(path, &state)
                {
                    tracing::warn!("list state not saved to {}: {e}", path.display());
                }
            }
        }
    }
    exit
}

/// Lets the engine finish the writes under way, within a grace period.
async fn stop_engine(sync: &mut SyncHandle) {
    let _ = sync.commands.send(Command::Shutdown);
    let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(event) = sync.events.recv().await {
            if event == SyncEvent::Stopped {
                break;
            }
        }
    })
    .await;
    if finished.is_err() {
        tracing::warn!("the sync engine did not stop in time");
        sync.abort();
    }
}

/// Draws one frame; it reaches the terminal in one synchronized update,
/// and only when it changes something.
fn draw(guard: &mut TerminalGuard, app: &App) -> anyhow::Result<()> {
    guard.terminal.draw(|frame| render::draw(app, frame))?;
    guard.terminal.backend_mut().writer_mut().commit()?;
    Ok(())
}

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod render_tests;
#[cfg(test)]
mod update_tests;
