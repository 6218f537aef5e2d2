//! Editing a text in the operator's own editor (`$VISUAL`, else `$EDITOR`,
//! else `vi`): the console gives the terminal back, the editor runs on a
//! private temporary file, and the console takes the terminal again.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::input::Keyboard;
use super::terminal::TerminalGuard;

/// The editor the operator chose.
fn editor() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|e| e.trim().to_owned())
        .find(|e| !e.is_empty())
        .unwrap_or_else(|| "vi".to_owned())
}

/// A private temporary file holding `text` (mode 0600, created anew).
fn write_temp(text: &str) -> std::io::Result<PathBuf> {
    let path = std::env::temp_dir().join(format!("deskterm-{}.md", uuid::Uuid::new_v4()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    file.write_all(text.as_bytes())?;
    if !text.is_empty() && !text.ends_with('\n') {
        file.write_all(b"\n")?;
    }
    Ok(path)
}

fn read_back(path: &Path) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    // An editor may leave a final newline; a broken byte is not worth losing the text.
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.strip_suffix('\n').unwrap_or(&text).to_owned())
}

/// Runs the editor on `text` and gives back what it saved, or why not. The
/// terminal is the editor's meanwhile: the console neither draws nor reads
/// keys until it ends.
pub fn edit(guard: &mut TerminalGuard, keys: &mut Keyboard, text: &str) -> Result<String, String> {
    let path = write_temp(text).map_err(|e| format!("cannot write a file for the editor: {e}"))?;
    let result = run_editor(guard, keys, &path);
    let edited = result.and_then(|()| {
        read_back(&path).map_err(|e| format!("cannot read back what the editor saved: {e}"))
    });
    if let Err(e) = std::fs::remove_file(&path) {
        tracing::warn!("the editor's file {} stays: {e}", path.display());
    }
    edited
}

fn run_editor(guard: &mut TerminalGuard, keys: &mut Keyboard, path: &Path) -> Result<(), String> {
    keys.pause().map_err(|e| format!("{e:#}"))?;
    guard.suspend();
    let editor = editor();
    // Through the shell, so `EDITOR="code --wait"` works as it does for git.
    // The interface waits here: it has nothing to show or read meanwhile,
    // and the sync engine goes on in its own tasks.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path)
        .status();
    let resumed = guard.resume();
    keys.resume();
    resumed.map_err(|e| format!("{e:#}"))?;
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("the editor ({editor}) ended with {s}")),
        Err(e) => Err(format!("cannot start the editor ({editor}): {e}")),
    }
}
