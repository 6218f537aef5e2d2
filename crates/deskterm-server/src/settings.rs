//! The server's configuration file, `deskterm serve --config FILE`: TOML,
//! every section optional, unknown keys refused so a misspelt option is an
//! error at start rather than a setting silently ignored.

use std::path::Path;

use serde::Deserialize;

use crate::automations::Automation;
use crate::mail::MailSettings;
use crate::sla::SlaSettings;

/// Everything the configuration file can set. The default is what a server
/// started without `--config` runs with.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `[[automation]]`: what the helpdesk does by itself, in order.
    #[serde(default, rename = "automation")]
    pub automations: Vec<Automation>,
    /// `[sla]`: response and resolution targets; due times follow rules.
    #[serde(default)]
    pub sla: Option<SlaSettings>,
    /// `[mail]`: where e-mail comes from and how it leaves (SMTP or a maildir).
    #[serde(default)]
    pub mail: MailSettings,
}

impl Settings {
    /// Parses a configuration file's text; the error names the line and key.
    pub fn from_toml(text: &str) -> anyhow::Result<Settings> {
        let settings: Settings = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        settings.check()?;
        Ok(settings)
    }

    /// Reads and parses the configuration file at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Settings> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        Settings::from_toml(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a valid server configuration: {e}",
                path.display()
            )
        })
    }

    /// Checks what the types alone cannot (each section checks its own values).
    fn check(&self) -> anyhow::Result<()> {
        crate::automations::check_all(&self.automations).map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Some(sla) = &self.sla {
            sla.check().map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        self.mail.check().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_default() {
        assert!(Settings::from_toml("").is_ok());
    }

    #[test]
    fn an_unknown_section_is_refused_by_name() {
        let err = Settings::from_toml("[slaa]\nx = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("slaa"), "{err}");
    }
}
