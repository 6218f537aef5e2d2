//! `[mail]` and `[mail.smtp]` of the server's configuration file.

use std::fmt;
use std::path::PathBuf;

use lettre::message::Mailbox;
use serde::Deserialize;

/// Notifications of one ticket are gathered this long by default.
pub const DEFAULT_BATCH_SECONDS: u64 = 60;
/// How long one SMTP conversation may take by default.
const DEFAULT_TIMEOUT_SECONDS: u64 = 30;

/// `[mail]`: who the server's e-mail comes from and how it leaves.
/// Without `[mail.smtp]` every e-mail is written to a maildir.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The `From:` of every e-mail, e.g. `Helpdesk <helpdesk@example.com>`.
    #[serde(default = "default_from")]
    pub from: String,
    /// Whether operators with "receive ticket e-mails" on are told of
    /// changes to tickets.
    #[serde(default = "yes")]
    pub notify_operators: bool,
    /// Changes to one ticket within this many seconds make one e-mail.
    #[serde(default = "default_batch")]
    pub batch_seconds: u64,
    /// Where e-mail goes without SMTP: a maildir (`new/`, `cur/`, `tmp/`).
    /// By default `<database name>-mail` beside the database.
    #[serde(default)]
    pub maildir: Option<PathBuf>,
    /// An SMTP server to send through.
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
}

fn default_from() -> String {
    "deskterm <deskterm@localhost>".to_owned()
}

fn yes() -> bool {
    true
}

fn default_batch() -> u64 {
    DEFAULT_BATCH_SECONDS
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_SECONDS
}

impl Default for MailSettings {
    fn default() -> MailSettings {
        MailSettings {
            from: default_from(),
            notify_operators: true,
            batch_seconds: DEFAULT_BATCH_SECONDS,
            maildir: None,
            smtp: None,
        }
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for an SMTP server on this machine or network.
    None,
}

impl Security {
    /// The usual port.
    pub fn default_port(self) -> u16 {
        match self {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        }
    }
}

/// `[mail.smtp]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// Host name (also the name its certificate must carry).
    pub host: String,
    /// Port; by default 587, 465 or 25 as `security` says.
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` or `none`.
    #[serde(default)]
    pub security: Security,
    /// User name to sign in with, if the server asks for one.
    #[serde(default)]
    pub username: Option<String>,
    /// The environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// A file holding the password (its first line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// A PEM file of certificate authorities to trust besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// How long one SMTP conversation may take, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

// The password is never in the settings themselves, but where it is read
// from is no one's business in a log either way; the rest is shown.
impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("ca_file", &self.ca_file)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish_non_exhaustive()
    }
}

impl SmtpSettings {
    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.security.default_port())
    }
}

impl MailSettings {
    /// Checks what the types alone cannot.
    pub fn check(&self) -> Result<(), String> {
        self.from.parse::<Mailbox>().map_err(|e| {
            format!(
                "[mail] from = {:?} is not an e-mail address ({e}); write e.g. \
                 \"Helpdesk <helpdesk@example.com>\"",
                self.from
            )
        })?;
        if !(1..=3600).contains(&self.batch_seconds) {
            return Err(format!(
                "[mail] batch_seconds = {} is out of range: 1 to 3600",
                self.batch_seconds
            ));
        }
        if let Some(smtp) = &self.smtp {
            smtp.check()?;
        }
        Ok(())
    }
}

impl SmtpSettings {
    fn check(&self) -> Result<(), String> {
        if self.host.trim().is_empty() {
            return Err("[mail.smtp] host is empty".to_owned());
        }
        if self.port == Some(0) {
            return Err("[mail.smtp] port 0 is not a port".to_owned());
        }
        if !(1..=300).contains(&self.timeout_seconds) {
            return Err(format!(
                "[mail.smtp] timeout_seconds = {} is out of range: 1 to 300",
                self.timeout_seconds
            ));
        }
        match (&self.username, &self.password_env, &self.password_file) {
            (Some(_), Some(_), Some(_)) => {
                Err("[mail.smtp] has both password_env and password_file: keep one".to_owned())
            }
            (Some(_), None, None) => Err(
                "[mail.smtp] has a username but no password: set password_env (the variable \
                 holding it) or password_file"
                    .to_owned(),
            ),
            (None, Some(_), _) | (None, _, Some(_)) => {
                Err("[mail.smtp] has a password but no username".to_owned())
            }
            _ => Ok(()),
        }
    }

    /// The password, read from where the settings say; `None` without a username.
    pub fn password(&self) -> Result<Option<String>, String> {
        if let Some(var) = &self.password_env {
            return std::env::var(var).map(Some).map_err(|_| {
                format!("[mail.smtp] password_env = {var:?}: that variable is not set")
            });
        }
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "[mail.smtp] password_file: cannot read {}: {e}",
                    path.display()
                )
            })?;
            let line = text.lines().next().unwrap_or_default().to_owned();
            if line.is_empty() {
                return Err(format!(
                    "[mail.smtp] password_file {} is empty",
                    path.display()
                ));
            }
            return Ok(Some(line));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<MailSettings, String> {
        let settings: MailSettings = toml::from_str(text).map_err(|e| e.to_string())?;
        settings.check()?;
        Ok(settings)
    }

    #[test]
    fn nothing_set_writes_to_a_maildir_every_minute() {
        let s = parse("").unwrap();
        assert!(s.smtp.is_none());
        assert_eq!(s.batch_seconds, 60);
        assert!(s.notify_operators);
    }

    #[test]
    fn the_port_follows_the_security() {
        let s = parse("[smtp]\nhost = \"mx\"\nsecurity = \"tls\"\n").unwrap();
        assert_eq!(s.smtp.unwrap().port(), 465);
        let s = parse("[smtp]\nhost = \"mx\"\n").unwrap();
        assert_eq!(s.smtp.unwrap().port(), 587);
        let s = parse("[smtp]\nhost = \"mx\"\nport = 2525\nsecurity = \"none\"\n").unwrap();
        assert_eq!(s.smtp.unwrap().port(), 2525);
    }

    #[test]
    fn bad_values_are_refused_with_the_key() {
        for (text, key) in [
            ("from = \"not an address\"", "from"),
            ("batch_seconds = 0", "batch_seconds"),
            ("[smtp]\nhost = \" \"", "host"),
            ("[smtp]\nhost = \"mx\"\nsecurity = \"ssl\"", "security"),
            ("[smtp]\nhost = \"mx\"\nusername = \"u\"", "password"),
            ("[smtp]\nhost = \"mx\"\npassword_env = \"P\"", "username"),
            (
                "[smtp]\nhost = \"mx\"\ntimeout_seconds = 0",
                "timeout_seconds",
            ),
            ("[smtp]\nhost = \"mx\"\npasword_env = \"P\"", "pasword_env"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(key), "{text:?}: {err}");
        }
    }

    #[test]
    fn the_password_comes_from_a_file_or_the_environment_and_is_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\n").unwrap();
        let text = format!(
            "[smtp]\nhost = \"mx\"\nusername = \"u\"\npassword_file = {:?}\n",
            file.display().to_string()
        );
        let smtp = parse(&text).unwrap().smtp.unwrap();
        assert_eq!(smtp.password().unwrap().as_deref(), Some("s3cret"));
        assert!(!format!("{smtp:?}").contains("s3cret"));
        let missing = "[smtp]\nhost = \"mx\"\nusername = \"u\"\n\
                       password_env = \"DESKTERM_TEST_NO_SUCH_VARIABLE\"\n";
        let err = parse(missing)
            .unwrap()
            .smtp
            .unwrap()
            .password()
            .unwrap_err();
        assert!(err.contains("DESKTERM_TEST_NO_SUCH_VARIABLE"), "{err}");
    }
}
