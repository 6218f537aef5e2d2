//! Files and directories only their owner may read.
//!
//! deskterm runs on jump hosts shared by many operators: its databases hold
//! every ticket and chat, its logs and credentials sign in. Whatever the umask,
//! what it creates is `0600` (files) or `0700` (directories), and what it
//! reopens loses any group or world access it had.

use std::fmt;
use std::fs::{File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of the files deskterm creates.
pub const FILE_MODE: u32 = 0o600;
/// Mode of the directories deskterm creates.
pub const DIR_MODE: u32 = 0o700;
/// Permission bits that let someone other than the owner in.
const OTHERS: u32 = 0o077;

/// A file or directory whose group or world access was taken away, or could not be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tightened {
    /// The file or directory.
    pub path: PathBuf,
    /// Its permission bits before.
    pub from: u32,
    /// Its permission bits after, or why they could not change.
    pub outcome: Result<u32, String>,
}

impl fmt::Display for Tightened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(to) => write!(
                f,
                "{} was open to other users (mode {:04o}); its mode is now {to:04o}",
                self.path.display(),
                self.from
            ),
            Err(e) => write!(
                f,
                "{} is open to other users (mode {:04o}) and its mode cannot be changed: {e}",
                self.path.display(),
                self.from
            ),
        }
    }
}

/// Creates `dir` and any missing parents with mode `0700`. Directories that
/// already exist are left as they are: they may be the user's, not ours.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir(parent)?;
    }
    match std::fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        Ok(()) => {}
        // Created meanwhile by someone else: it is not ours to change.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(e),
    }
    // The umask may have taken bits away, never added them; set the mode exactly.
    std::fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))
}

/// Creates deskterm's own directory `dir` (and missing parents) with mode
/// `0700`, or takes group and world access away from it if it exists.
pub fn own_dir(dir: &Path) -> io::Result<Option<Tightened>> {
    create_dir(dir)?;
    tighten(dir)
}

/// Opens `path` with `options`; a file it creates gets mode `0600`, an
/// existing one loses group and world access.
pub fn open(path: &Path, options: &mut OpenOptions) -> io::Result<(File, Option<Tightened>)> {
    let file = options.mode(FILE_MODE).open(path)?;
    let from = file.metadata()?.permissions().mode() & 0o7777;
    // A file created just now is 0600 (a umask only takes bits away): only an older one can be open.
    if from & OTHERS == 0 {
        return Ok((file, None));
    }
    let to = from & !OTHERS;
    let outcome = file
        .set_permissions(Permissions::from_mode(to))
        .map(|()| to)
        .map_err(|e| e.to_string());
    let report = Tightened {
        path: path.to_path_buf(),
        from,
        outcome,
    };
    Ok((file, Some(report)))
}

/// Takes group and world access away from `path` if it exists.
pub fn tighten(path: &Path) -> io::Result<Option<Tightened>> {
    let mode = match std::fs::metadata(path) {
        Ok(m) => m.permissions().mode() & 0o7777,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if mode & OTHERS == 0 {
        return Ok(None);
    }
    let to = mode & !OTHERS;
    let outcome = std::fs::set_permissions(path, Permissions::from_mode(to))
        .map(|()| to)
        .map_err(|e| e.to_string());
    Ok(Some(Tightened {
        path: path.to_path_buf(),
        from: mode,
        outcome,
    }))
}

/// Readies the SQLite database at `path` before SQLite opens it: creates its
/// missing directories (`0700`) and the file itself (`0600`, which SQLite
/// gives its `-wal` and `-shm` files too), and tightens an existing database
/// and its `-wal` and `-shm` files.
pub fn prepare_database(path: &Path) -> io::Result<Vec<Tightened>> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    let (_, main) = open(path, OpenOptions::new().read(true).write(true).create(true))?;
    let mut tightened: Vec<Tightened> = main.into_iter().collect();
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        tightened.extend(tighten(Path::new(&side))?);
    }
    Ok(tightened)
}

/// The permission bits of `path` when its group or other users may access it
/// (how ssh judges a private key), `None` when only its owner may.
pub fn open_to_others(path: &Path) -> io::Result<Option<u32>> {
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    Ok((mode & OTHERS != 0).then_some(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn new_directories_and_files_are_the_owners_alone() {
        let root = tempfile::tempdir().unwrap();
        std::fs::set_permissions(root.path(), Permissions::from_mode(0o755)).unwrap();
        let dir = root.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(
            mode(root.path()),
            0o755,
            "an existing directory is not ours"
        );
        let file = dir.join("f");
        let (_, report) = open(&file, OpenOptions::new().append(true).create(true)).unwrap();
        assert!(report.is_none());
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn existing_files_and_own_directories_lose_other_access() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("d");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        let file = dir.join("f");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, Permissions::from_mode(0o644)).unwrap();

        let report = own_dir(&dir).unwrap().expect("tightened");
        assert_eq!((report.from, report.outcome.clone()), (0o755, Ok(0o700)));
        assert_eq!(mode(&dir), 0o700);
        let (_, report) = open(&file, OpenOptions::new().read(true)).unwrap();
        let report = report.expect("tightened");
        assert!(report.to_string().contains("0644"), "{report}");
        assert_eq!(mode(&file), 0o600);
        assert_eq!(open_to_others(&file).unwrap(), None);
    }
}
