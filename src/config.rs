//! The configuration file (TOML) and its environment overrides.
//!
//! Without a file deskterm runs on its embedded reference server. Every
//! option is documented in `config.example.toml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::backend::{Kind, PollPolicy};
use crate::tui::keymap::KeymapSource;

mod token_command;

pub use token_command::TOKEN_COMMAND_TIMEOUT;

/// Environment variable naming the config file.
pub const ENV_CONFIG: &str = "DESKTERM_CONFIG";
/// Environment variable overriding the data directory.
pub const ENV_DATA_DIR: &str = "DESKTERM_DATA_DIR";
/// Environment variable overriding the server URL.
pub const ENV_SERVER_URL: &str = "DESKTERM_SERVER_URL";
/// Environment variable overriding the token.
pub const ENV_TOKEN: &str = "DESKTERM_TOKEN";

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The remote server; absent means the embedded one.
    #[serde(default)]
    pub server: Option<ServerConfig>,
    /// Where the local database, logs and demo token live.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Key binding overrides, by context.
    #[serde(default)]
    pub keys: KeymapSource,
    /// Saved views: a named query and sort each; the defaults when empty.
    #[serde(default)]
    pub views: Vec<ViewConfig>,
    /// What is replicated here.
    #[serde(default)]
    pub sync: SyncConfig,
    /// What the operator is told of, and how.
    #[serde(default)]
    pub notify: crate::tui::notify::Notify,
    /// Warnings about the file itself (a token other users may read), for the operator.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// What is replicated here (`[sync]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// Tickets closed more than this many days ago stay on the server: they
    /// are not replicated, and a query that may match them asks the server.
    /// Every ticket is replicated when absent.
    #[serde(default)]
    pub closed_days: Option<u32>,
}

/// A saved view (`[[views]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewConfig {
    /// Name shown in the header and the picker.
    pub name: String,
    /// The query, e.g. `op:me -macro:closed`.
    pub query: String,
    /// The sort, e.g. `-updated` (descending) or `priority`; most recent first by default.
    #[serde(default)]
    pub sort: Option<String>,
}

/// A remote deskterm server.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Which connector speaks to it (`native`, the default: a deskterm server).
    #[serde(default)]
    pub kind: Option<String>,
    /// Poll the change feed even when the server pushes changes.
    #[serde(default)]
    pub poll_only: bool,
    /// Base URL, e.g. `https://helpdesk.example.com`.
    pub url: String,
    /// The operator token, inline.
    #[serde(default)]
    pub token: Option<String>,
    /// A file holding the token (first line).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// A shell command printing the token (first line of its output).
    #[serde(default)]
    pub token_command: Option<String>,
    /// Send the token over plain `http://` to a host other than this one.
    #[serde(default)]
    pub allow_insecure_http: bool,
    /// PEM file of a private certificate authority trusted besides the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("kind", &self.kind)
            .field("poll_only", &self.poll_only)
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("token_file", &self.token_file)
            .field("token_command", &self.token_command)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

/// Logging options.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug` or `trace`, or a tracing filter.
    #[serde(default = "default_level")]
    pub level: String,
    /// Log file; `deskterm.log` in the data directory when absent.
    #[serde(default)]
    pub file: Option<PathBuf>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: default_level(),
            file: None,
        }
    }
}

fn default_level() -> String {
    "info".into()
}

/// Where the server is and how to sign in.
#[derive(Clone, PartialEq, Eq)]
pub struct Remote {
    /// Base URL.
    pub url: String,
    /// Operator token.
    pub token: String,
    /// How the token may travel.
    pub transport: Transport,
}

/// How the token may travel to the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transport {
    /// Plain `http://` to a host other than this one is allowed (the token can be read on the way).
    pub allow_insecure_http: bool,
    /// A private certificate authority (PEM) trusted besides the system's roots.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("url", &self.url)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Loads the config: `explicit` (from `--config`) must exist; otherwise
    /// `$DESKTERM_CONFIG`, otherwise `config.toml` in the platform config
    /// dir if it exists. Environment overrides are applied on top.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let from_env = std::env::var_os(ENV_CONFIG).map(PathBuf::from);
        let path = match explicit.map(Path::to_path_buf).or(from_env) {
            Some(path) => Some(path),
            None => default_path().filter(|p| p.exists()),
        };
        let mut config = match &path {
            Some(path) => {
                let mut config = Config::read(path)?;
                config.warnings = config.exposed_tokens(path);
                config
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok());
        Ok(config)
    }

    /// Reads and parses one file.
    pub fn read(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the config file {}: {e}", path.display()))?;
        Config::parse(&text)
            .map_err(|e| anyhow::anyhow!("the config file {} is not valid: {e}", path.display()))
    }

    /// Parses config text.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(server) = &config.server {
            if server.url.trim().is_empty() {
                return Err("[server] url is empty".into());
            }
            if let Some(kind) = &server.kind {
                Kind::parse(kind)?;
            }
            let sources = [
                server.token.is_some(),
                server.token_file.is_some(),
                server.token_command.is_some(),
            ];
            if sources.into_iter().filter(|&s| s).count() > 1 {
                return Err(
                    "[server] has more than one of token, token_file and token_command; keep one"
                        .into(),
                );
            }
            if server
                .token_command
                .as_deref()
                .is_some_and(|c| c.trim().is_empty())
            {
                return Err("[server] token_command is empty".into());
            }
        }
        Ok(config)
    }

    fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        if let Some(dir) = var(ENV_DATA_DIR).filter(|d| !d.is_empty()) {
            self.data_dir = Some(PathBuf::from(dir));
        }
        if let Some(url) = var(ENV_SERVER_URL).filter(|u| !u.is_empty()) {
            self.server.get_or_insert_with(ServerConfig::default).url = url;
        }
        if let Some(token) = var(ENV_TOKEN).filter(|t| !t.is_empty())
            && let Some(server) = &mut self.server
        {
            server.token = Some(token);
            server.token_file = None;
            server.token_command = None;
        }
    }

    /// Warnings, as ssh gives for a private key, when the config file at
    /// `path` holds a token or names a token file that other users may read.
    fn exposed_tokens(&self, path: &Path) -> Vec<String> {
        let Some(server) = &self.server else {
            return Vec::new();
        };
        let holders = [
            server.token.as_ref().map(|_| ("the config file", path)),
            server.token_file.as_deref().map(|f| ("the token file", f)),
        ];
        holders
            .into_iter()
            .flatten()
            .filter_map(|(what, file)| {
                let mode = deskterm_server::private_files::open_to_others(file).ok()??;
                Some(format!(
                    "{what} {} holds a token other users can access (mode {mode:04o}): run chmod 600 {}",
                    file.display(),
                    file.display()
                ))
            })
            .collect()
    }

    /// The connector `[server] kind` names and how its feed is followed;
    /// the embedded server is a native one, pushing its changes.
    pub fn connector(&self) -> anyhow::Result<(Kind, PollPolicy)> {
        let Some(server) = &self.server else {
            return Ok((Kind::Native, PollPolicy::default()));
        };
        let kind = match &server.kind {
            Some(name) => Kind::parse(name).map_err(anyhow::Error::msg)?,
            None => Kind::default(),
        };
        Ok((
            kind,
            PollPolicy {
                poll_only: server.poll_only,
                ..PollPolicy::default()
            },
        ))
    }

    /// The remote server to use, or `None` for the embedded one.
    pub fn remote(&self) -> anyhow::Result<Option<Remote>> {
        let Some(server) = &self.server else {
            return Ok(None);
        };
        let token = match (&server.token, &server.token_file, &server.token_command) {
            (Some(t), _, _) => t.clone(),
            (None, Some(path), _) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read the token file {}: {e}", path.display())
                })?;
                text.lines().next().unwrap_or("").trim().to_owned()
            }
            (None, None, Some(command)) => token_command::run(command, TOKEN_COMMAND_TIMEOUT)?,
            (None, None, None) => anyhow::bail!(
                "[server] needs a token (token, token_file, token_command, or ${ENV_TOKEN}) to sign in to {}",
                server.url
            ),
        };
        if token.is_empty() {
            anyhow::bail!("the token for {} is empty", server.url);
        }
        Ok(Some(Remote {
            url: server.url.trim().to_owned(),
            token,
            transport: Transport {
                allow_insecure_http: server.allow_insecure_http,
                ca_file: server.ca_file.clone(),
            },
        }))
    }

    /// The data directory (created by whoever writes to it).
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        project_dirs()
            .map(|d| d.data_dir().to_path_buf())
            .ok_or_else(|| anyhow::anyhow!("no home directory: set {ENV_DATA_DIR} or data_dir"))
    }
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "deskterm")
}

/// `config.toml` in the platform config directory.
pub fn default_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_parses() {
        let text = include_str!("../config.example.toml");
        let config = Config::parse(text).unwrap();
        assert!(
            config.server.is_none(),
            "the example must not point at a server by default"
        );
        assert!(crate::tui::keymap::Keymap::with_overrides(&config.keys).is_ok());
    }

    #[test]
    fn a_remote_needs_a_token() {
        let c = Config::parse("[server]\nurl = \"http://h:1\"\n").unwrap();
        let err = c.remote().unwrap_err().to_string();
        assert!(err.contains("token"), "{err}");
        let c = Config::parse("[server]\nurl = \"http://h:1\"\ntoken = \"abc\"\n").unwrap();
        assert_eq!(c.remote().unwrap().unwrap().token, "abc");
    }

    #[test]
    fn unknown_options_are_refused_by_name() {
        let err = Config::parse("colour = \"red\"\n").unwrap_err();
        assert!(err.contains("colour"), "{err}");
        assert!(Config::parse("[server]\nurl = \"\"\ntoken = \"t\"\n").is_err());
    }

    #[test]
    fn the_server_kind_is_native_unless_named_and_an_unknown_one_is_refused() {
        let c = Config::parse("[server]\nurl = \"http://h:1\"\ntoken = \"t\"\n").unwrap();
        assert_eq!(
            c.connector().unwrap(),
            (Kind::Native, PollPolicy::default())
        );
        let c = Config::parse(
            "[server]\nkind = \"native\"\npoll_only = true\nurl = \"http://h:1\"\ntoken = \"t\"\n",
        )
        .unwrap();
        let (kind, poll) = c.connector().unwrap();
        assert_eq!(kind, Kind::Native);
        assert!(poll.poll_only);
        let err = Config::parse("[server]\nkind = \"rt\"\nurl = \"http://h:1\"\ntoken = \"t\"\n")
            .unwrap_err();
        assert!(
            err.contains("\"rt\"") && err.contains("known: native"),
            "{err}"
        );
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut c =
            Config::parse("[server]\nurl = \"http://a:1\"\ntoken_file = \"/nope\"\n").unwrap();
        c.apply_env(|name| match name {
            ENV_SERVER_URL => Some("http://b:2".into()),
            ENV_TOKEN => Some("tok".into()),
            _ => None,
        });
        let remote = c.remote().unwrap().unwrap();
        assert_eq!(remote.url, "http://b:2");
        assert_eq!(remote.token, "tok");
        assert!(!format!("{remote:?}").contains("tok\""));
        let mut c =
            Config::parse("[server]\nurl = \"http://a:1\"\ntoken_command = \"false\"\n").unwrap();
        c.apply_env(|name| (name == ENV_TOKEN).then(|| "tok".into()));
        assert_eq!(c.remote().unwrap().unwrap().token, "tok");
    }

    #[test]
    fn one_token_source_at_most() {
        let sources = [
            "token = \"a\"",
            "token_file = \"/f\"",
            "token_command = \"pass show helpdesk\"",
        ];
        for (i, a) in sources.iter().enumerate() {
            for b in &sources[i + 1..] {
                let text = format!("[server]\nurl = \"https://h\"\n{a}\n{b}\n");
                let err = Config::parse(&text).unwrap_err();
                assert!(err.contains("more than one"), "{a} + {b}: {err}");
            }
        }
        assert!(Config::parse("[server]\nurl = \"https://h\"\ntoken_command = \" \"\n").is_err());
    }

    #[test]
    fn the_token_can_come_from_a_command() {
        let c = Config::parse(
            "[server]\nurl = \"https://h\"\ntoken_command = \"echo dkt_from_pass\"\n",
        )
        .unwrap();
        assert_eq!(c.remote().unwrap().unwrap().token, "dkt_from_pass");
        let c =
            Config::parse("[server]\nurl = \"https://h\"\ntoken_command = \"exit 3\"\n").unwrap();
        let err = c.remote().unwrap_err().to_string();
        assert!(err.contains("token_command `exit 3` failed"), "{err}");
    }

    #[test]
    fn transport_options_reach_the_remote() {
        let c = Config::parse("[server]\nurl = \"http://h\"\ntoken = \"t\"\n").unwrap();
        assert_eq!(c.remote().unwrap().unwrap().transport, Transport::default());
        let c = Config::parse(
            "[server]\nurl = \"http://h\"\ntoken = \"t\"\nallow_insecure_http = true\nca_file = \"/ca.pem\"\n",
        )
        .unwrap();
        let transport = c.remote().unwrap().unwrap().transport;
        assert!(transport.allow_insecure_http);
        assert_eq!(transport.ca_file, Some(PathBuf::from("/ca.pem")));
    }

    #[test]
    fn a_token_other_users_may_read_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        let chmod = |path: &Path, mode: u32| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        std::fs::write(
            &file,
            "[server]\nurl = \"https://h\"\ntoken = \"dkt_inline\"\n",
        )
        .unwrap();
        chmod(&file, 0o644);
        let warnings = Config::load(Some(&file)).unwrap().warnings;
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("mode 0644"), "{warnings:?}");
        assert!(warnings[0].contains("chmod 600"), "{warnings:?}");
        assert!(!warnings[0].contains("dkt_inline"), "{warnings:?}");
        chmod(&file, 0o600);
        assert!(Config::load(Some(&file)).unwrap().warnings.is_empty());

        let token = dir.path().join("token");
        std::fs::write(&token, "dkt_in_file\n").unwrap();
        chmod(&token, 0o640);
        let text = format!("[server]\nurl = \"https://h\"\ntoken_file = {:?}\n", token);
        std::fs::write(&file, text).unwrap();
        chmod(&file, 0o644);
        let warnings = Config::load(Some(&file)).unwrap().warnings;
        assert_eq!(
            warnings.len(),
            1,
            "only the token file holds a token: {warnings:?}"
        );
        assert!(warnings[0].contains("token file"), "{warnings:?}");
        assert!(!warnings[0].contains("dkt_in_file"), "{warnings:?}");
    }

    #[test]
    fn the_sync_scope_is_optional_and_checked() {
        assert_eq!(Config::parse("").unwrap().sync.closed_days, None);
        let c = Config::parse("[sync]\nclosed_days = 90\n").unwrap();
        assert_eq!(c.sync.closed_days, Some(90));
        assert!(Config::parse("[sync]\nclosed_days = -3\n").is_err());
        assert!(Config::parse("[sync]\nclosed = 3\n").is_err());
    }
}
