//! Where e-mail leaves the server: an SMTP server (lettre; STARTTLS or
//! TLS, with a user name and password when set) or, without one, a maildir
//! that any mail reader opens.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::settings::{MailSettings, Security, SmtpSettings};

/// How an e-mail failed to leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SendError {
    /// What happened, for the log and the queue row (never a password).
    pub(crate) reason: String,
}

/// An SMTP server or a maildir.
#[derive(Clone)]
pub(crate) enum Transport {
    /// Through an SMTP server.
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// `host:port (security)`, for the log.
        name: String,
        timeout: Duration,
    },
    /// Into a maildir.
    Maildir(PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Transport {
    /// The transport `settings` ask for; a maildir at `default_maildir`
    /// when they name neither an SMTP server nor a maildir. Fails on what
    /// can be known before sending: a password that cannot be read, a
    /// certificate file that is not one, a maildir that cannot be made.
    pub(crate) fn prepare(
        settings: &MailSettings,
        default_maildir: Option<&Path>,
    ) -> anyhow::Result<Transport> {
        match &settings.smtp {
            Some(smtp) => smtp_transport(smtp),
            None => {
                let dir = match (&settings.maildir, default_maildir) {
                    (Some(dir), _) => dir.clone(),
                    (None, Some(dir)) => dir.to_path_buf(),
                    (None, None) => anyhow::bail!(
                        "say where the server's e-mail goes: `[mail.smtp]`, or `maildir` under \
                         `[mail]` (a PostgreSQL database has no directory to keep it beside)"
                    ),
                };
                make_maildir(&dir).map_err(|e| {
                    anyhow::anyhow!("cannot make the maildir {}: {e}", dir.display())
                })?;
                Ok(Transport::Maildir(dir))
            }
        }
    }

    /// Where mail goes, for the log.
    pub(crate) fn describe(&self) -> String {
        match self {
            Transport::Smtp { name, .. } => format!("the SMTP server {name}"),
            Transport::Maildir(dir) => format!("the maildir {}", dir.display()),
        }
    }

    /// Sends one e-mail.
    pub(crate) async fn send(&self, message: &Message) -> Result<(), SendError> {
        match self {
            Transport::Smtp {
                transport, timeout, ..
            } => {
                // lettre times each command; this bounds the whole conversation.
                match tokio::time::timeout(*timeout * 2, transport.send(message.clone())).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(SendError {
                        reason: smtp_reason(&e),
                    }),
                    Err(_) => Err(SendError {
                        reason: format!("no answer within {:?}", *timeout * 2),
                    }),
                }
            }
            Transport::Maildir(dir) => {
                let bytes = message.formatted();
                let dir = dir.clone();
                tokio::task::spawn_blocking(move || deliver(&dir, &bytes))
                    .await
                    .map_err(|e| SendError {
                        reason: format!("the maildir writer failed: {e}"),
                    })?
                    .map_err(|e| SendError {
                        reason: format!("cannot write to the maildir: {e}"),
                    })
            }
        }
    }
}

/// What an SMTP error says, without anything secret (lettre's messages
/// carry the server's reply, never the credentials).
fn smtp_reason(e: &lettre::transport::smtp::Error) -> String {
    let kind = if e.is_permanent() {
        "refused"
    } else if e.is_transient() {
        "refused for now"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_tls() {
        "TLS failed"
    } else {
        "failed"
    };
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

fn smtp_transport(smtp: &SmtpSettings) -> anyhow::Result<Transport> {
    let port = smtp.port();
    let timeout = Duration::from_secs(smtp.timeout_seconds);
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
        .port(port)
        .timeout(Some(timeout));
    if smtp.security != Security::None {
        let mut tls = TlsParameters::builder(smtp.host.clone());
        if let Some(file) = &smtp.ca_file {
            let pem = std::fs::read(file).map_err(|e| {
                anyhow::anyhow!("[mail.smtp] ca_file: cannot read {}: {e}", file.display())
            })?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                anyhow::anyhow!(
                    "[mail.smtp] ca_file {} is not a PEM certificate: {e}",
                    file.display()
                )
            })?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls
            .build_rustls()
            .map_err(|e| anyhow::anyhow!("[mail.smtp] TLS cannot be set up: {e}"))?;
        builder = builder.tls(match smtp.security {
            Security::Tls => Tls::Wrapper(tls),
            _ => Tls::Required(tls),
        });
    }
    if let Some(user) = &smtp.username {
        let password = smtp
            .password()
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    let security = match smtp.security {
        Security::Starttls => "STARTTLS",
        Security::Tls => "TLS",
        Security::None => "unencrypted",
    };
    Ok(Transport::Smtp {
        transport: builder.build(),
        name: format!("{}:{port} ({security})", smtp.host),
        timeout,
    })
}

/// Creates `dir` and its `new`, `cur` and `tmp`, readable by their owner alone.
fn make_maildir(dir: &Path) -> std::io::Result<()> {
    for sub in ["tmp", "new", "cur"] {
        crate::private_files::create_dir(&dir.join(sub))?;
    }
    Ok(())
}

/// Distinguishes files written in the same microsecond by this process.
static DELIVERIES: AtomicU64 = AtomicU64::new(0);

/// Writes one message into `dir` as maildir readers expect: whole into
/// `tmp/`, flushed, then renamed into `new/`, so a reader never sees half.
fn deliver(dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    make_maildir(dir)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let name = format!(
        "{}.M{}P{}Q{}.deskterm",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        DELIVERIES.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = dir.join("tmp").join(&name);
    let (mut file, _) = crate::private_files::open(
        &tmp,
        std::fs::OpenOptions::new().write(true).create_new(true),
    )?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, dir.join("new").join(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_maildir_gets_whole_messages_in_new() {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("mail");
        let transport = Transport::prepare(&MailSettings::default(), Some(&maildir)).unwrap();
        let message = Message::builder()
            .from("Desk <desk@example.com>".parse().unwrap())
            .to("ana@example.com".parse().unwrap())
            .subject("Prueba")
            .body("Hola".to_owned())
            .unwrap();
        transport.send(&message).await.unwrap();
        transport.send(&message).await.unwrap();
        let new: Vec<_> = std::fs::read_dir(maildir.join("new"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(new.len(), 2);
        let text = std::fs::read_to_string(&new[0]).unwrap();
        assert!(text.contains("Subject: Prueba"), "{text}");
        assert!(text.ends_with("Hola"), "{text}");
        assert_eq!(std::fs::read_dir(maildir.join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_password_or_certificate_stops_the_start() {
        let settings: MailSettings = toml::from_str(
            "[smtp]\nhost = \"mx\"\nusername = \"u\"\npassword_env = \"DESKTERM_TEST_UNSET_PW\"\n",
        )
        .unwrap();
        let err = Transport::prepare(&settings, Some(Path::new("/nonexistent"))).unwrap_err();
        assert!(err.to_string().contains("DESKTERM_TEST_UNSET_PW"), "{err}");
        let settings: MailSettings =
            toml::from_str("[smtp]\nhost = \"mx\"\nca_file = \"/nonexistent/ca.pem\"\n").unwrap();
        let err = Transport::prepare(&settings, Some(Path::new("/nonexistent"))).unwrap_err();
        assert!(err.to_string().contains("ca_file"), "{err}");
    }

    #[test]
    fn without_a_directory_to_keep_it_beside_mail_must_be_told_where_to_go() {
        let err = Transport::prepare(&MailSettings::default(), None).unwrap_err();
        assert!(err.to_string().contains("maildir"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let settings = MailSettings {
            maildir: Some(dir.path().join("m")),
            ..MailSettings::default()
        };
        assert!(matches!(
            Transport::prepare(&settings, None),
            Ok(Transport::Maildir(_))
        ));
    }
}
