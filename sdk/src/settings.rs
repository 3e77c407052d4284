//! A source's per-source settings: its `config` table, as the host hands it to the plugin (a
//! JSON object, secret references already resolved). Checked once by
//! [`Platform::check_config`](crate::Platform::check_config) when the gateway loads its
//! configuration, then read on every request.

use serde_json::{Map, Value};

/// The source's `config` table; empty when it sets none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings(Map<String, Value>);

impl Settings {
    /// No settings.
    pub fn none() -> Settings {
        Settings::default()
    }

    /// Settings from the host's JSON text. Anything but an object is refused with a
    /// [`ConfigError`] for the table as a whole.
    pub fn parse(json: &str) -> Result<Settings, ConfigError> {
        // Most sources set nothing: skip the parser for the host's `{}`.
        if json.trim() == "{}" || json.trim().is_empty() {
            return Ok(Settings::none());
        }
        match serde_json::from_str(json) {
            Ok(Value::Object(map)) => Ok(Settings(map)),
            Ok(_) => Err(ConfigError::table("must be a table")),
            Err(e) => Err(ConfigError::table(format!("is not valid JSON: {e}"))),
        }
    }

    /// Settings from a JSON value (tests).
    pub fn from_json(value: Value) -> Settings {
        match value {
            Value::Object(map) => Settings(map),
            _ => Settings::none(),
        }
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// The keys that are set, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// `key` as a string: `Ok(None)` when unset, an error naming the key when it is set to
    /// anything but a string.
    pub fn str(&self, key: &str) -> Result<Option<&str>, ConfigError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ConfigError::new(key, "must be a string")),
        }
    }

    /// `key` as a string, required.
    pub fn required_str(&self, key: &str) -> Result<&str, ConfigError> {
        self.str(key)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ConfigError::new(key, "is required"))
    }

    /// `key` as a non-negative integer: `Ok(None)` when unset.
    pub fn u64(&self, key: &str) -> Result<Option<u64>, ConfigError> {
        match self.0.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| ConfigError::new(key, "must be a non-negative integer")),
        }
    }

    /// Refuses every key not in `known`, naming the first one (a typo must not be ignored).
    pub fn only(&self, known: &[&str]) -> Result<(), ConfigError> {
        match self.keys().find(|k| !known.contains(k)) {
            None => Ok(()),
            Some(key) if known.is_empty() => Err(ConfigError::new(
                key,
                "is not a setting of this platform (it takes none)",
            )),
            Some(key) => Err(ConfigError::new(
                key,
                format!(
                    "is not a setting of this platform (known: {})",
                    known.join(", ")
                ),
            )),
        }
    }
}

/// Why a source's settings are not usable: a config error naming the source (the host adds
/// it) and the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The key at fault; empty for the table as a whole.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// An error about `key`.
    pub fn new(key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.into(),
            message: message.into(),
        }
    }

    /// An error about the table as a whole.
    pub fn table(message: impl Into<String>) -> ConfigError {
        ConfigError::new("", message)
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            write!(f, "config {}", self.message)
        } else {
            write!(f, "config.{} {}", self.key, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_read_typed() {
        assert!(Settings::parse("{}").unwrap().is_empty());
        let s = Settings::parse(r#"{"header":"X-Sig","tolerance":300,"n":-1}"#).unwrap();
        assert_eq!(s.str("header").unwrap(), Some("X-Sig"));
        assert_eq!(s.str("absent").unwrap(), None);
        assert_eq!(s.u64("tolerance").unwrap(), Some(300));
        assert_eq!(
            s.u64("n").unwrap_err().to_string(),
            "config.n must be a non-negative integer"
        );
        assert_eq!(
            s.str("tolerance").unwrap_err(),
            ConfigError::new("tolerance", "must be a string")
        );
        assert_eq!(
            s.required_str("absent").unwrap_err().to_string(),
            "config.absent is required"
        );
        assert_eq!(
            Settings::parse("[1]").unwrap_err().to_string(),
            "config must be a table"
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let s = Settings::parse(r#"{"verify_token":"t","verfy":"x"}"#).unwrap();
        assert_eq!(
            s.only(&["verify_token"]).unwrap_err().to_string(),
            "config.verfy is not a setting of this platform (known: verify_token)"
        );
        assert!(Settings::none().only(&[]).is_ok());
        assert!(
            s.only(&[])
                .unwrap_err()
                .to_string()
                .ends_with("(it takes none)")
        );
    }
}
