//! The configuration file (TOML) and its environment overrides.
//!
//! Without a file deskterm runs on its embedded reference server. Every
//! option is documented in `config.example.toml`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::tui::keymap::KeymapSource;

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
}

/// A remote deskterm server.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Base URL, e.g. `https://helpdesk.example.com`.
    pub url: String,
    /// The operator token, inline.
    #[serde(default)]
    pub token: Option<String>,
    /// A file holding the token (first line).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("token_file", &self.token_file)
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
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Loads the config: `explicit` (from `--config`) must exist; otherwise
    /// `$DESKTERM_CONFIG`, otherwise `config.toml` in the platform config
    /// dir if it exists. Environment overrides are applied on top.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let from_env = std::env::var_os(ENV_CONFIG).map(PathBuf::from);
        let mut config = match explicit.map(Path::to_path_buf).or(from_env) {
            Some(path) => Config::read(&path)?,
            None => match default_path() {
                Some(path) if path.exists() => Config::read(&path)?,
                _ => Config::default(),
            },
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
            if server.token.is_some() && server.token_file.is_some() {
                return Err("[server] has both token and token_file; keep one".into());
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
        }
    }

    /// The remote server to use, or `None` for the embedded one.
    pub fn remote(&self) -> anyhow::Result<Option<Remote>> {
        let Some(server) = &self.server else {
            return Ok(None);
        };
        let token = match (&server.token, &server.token_file) {
            (Some(t), _) => t.clone(),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("cannot read the token file {}: {e}", path.display())
                })?;
                text.lines().next().unwrap_or("").trim().to_owned()
            }
            (None, None) => anyhow::bail!(
                "[server] needs a token (token, token_file, or ${ENV_TOKEN}) to sign in to {}",
                server.url
            ),
        };
        if token.is_empty() {
            anyhow::bail!("the token for {} is empty", server.url);
        }
        Ok(Some(Remote {
            url: server.url.trim().to_owned(),
            token,
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
    }
}
