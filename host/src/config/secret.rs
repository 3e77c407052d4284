//! Secrets from the config: inline, from an environment variable, or from a file. The value is
//! kept as bytes and never printed: `Debug` and `Display` are redacted.

use serde::Deserialize;
use std::path::Path;

/// Where a secret comes from, as written in the config.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSpec {
    /// The secret itself.
    Inline(String),
    /// `{ env = "VAR" }`: read from an environment variable at start.
    Env {
        /// Variable name.
        env: String,
    },
    /// `{ file = "path" }`: read from a file at start (trailing newline trimmed); relative
    /// paths are relative to the config file.
    File {
        /// Path of the file.
        file: String,
    },
}

impl<'de> Deserialize<'de> for SecretSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        const EXPECTED: &str =
            "a secret must be a string, { env = \"VAR\" } or { file = \"path\" }";
        match toml::Value::deserialize(deserializer)? {
            toml::Value::String(s) => Ok(SecretSpec::Inline(s)),
            toml::Value::Table(t) if t.len() == 1 => match t.into_iter().next() {
                Some((k, toml::Value::String(v))) if k == "env" => Ok(SecretSpec::Env { env: v }),
                Some((k, toml::Value::String(v))) if k == "file" => {
                    Ok(SecretSpec::File { file: v })
                }
                _ => Err(serde::de::Error::custom(EXPECTED)),
            },
            _ => Err(serde::de::Error::custom(EXPECTED)),
        }
    }
}

impl std::fmt::Debug for SecretSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSpec::Inline(_) => f.write_str("Inline(<redacted>)"),
            SecretSpec::Env { env } => write!(f, "Env({env})"),
            SecretSpec::File { file } => write!(f, "File({file})"),
        }
    }
}

/// A resolved secret. Its bytes are reachable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps secret bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    /// The secret bytes, for handing to a plugin. Never log the result.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl SecretSpec {
    /// Whether a table of a `config` is a secret reference: exactly one key, `env` or `file`,
    /// holding a string.
    pub fn is_reference(table: &toml::Table) -> bool {
        table.len() == 1
            && table
                .iter()
                .all(|(k, v)| (k == "env" || k == "file") && v.is_str())
    }

    /// Resolves the secret; the error says what is missing without revealing any value.
    pub fn resolve(&self, base_dir: &Path) -> Result<Secret, String> {
        let value = match self {
            SecretSpec::Inline(s) => s.clone(),
            SecretSpec::Env { env } => std::env::var(env)
                .map_err(|_| format!("environment variable {env} is not set (or not UTF-8)"))?,
            SecretSpec::File { file } => {
                let path = base_dir.join(file);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?;
                text.trim_end_matches(['\n', '\r']).to_owned()
            }
        };
        if value.is_empty() {
            return Err("secret is empty".into());
        }
        Ok(Secret::new(value))
    }
}

/// The userinfo of a URL (`user:password` before the host) and where it ends. The userinfo
/// ends at the last `@` of the URL: a password may hold `/`, `?` or `#` (taking the first `/`
/// for the end of the host would leave such a password unredacted), and no Redis URL has an
/// `@` after its host.
fn userinfo(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let at = rest.rfind('@')?;
    Some((scheme, &rest[..at], &rest[at..]))
}

/// `url` with its password (if any) replaced by `***`, for messages, logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, userinfo, host)) = userinfo(url) else {
        return url.to_owned();
    };
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        // `redis://secret@host` passes the password alone.
        None => "***".to_owned(),
    };
    format!("{scheme}://{user}{host}")
}

/// The password of a URL, to scrub it from error texts that quote it.
pub fn url_password(url: &str) -> Option<String> {
    let (_, userinfo, _) = userinfo(url)?;
    Some(match userinfo.split_once(':') {
        Some((_, p)) => p.to_owned(),
        None => userinfo.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("whsec_supersecret");
        assert!(!format!("{s:?}").contains("supersecret"));
        let spec = SecretSpec::Inline("whsec_supersecret".into());
        assert!(!format!("{spec:?}").contains("supersecret"));
    }

    #[test]
    fn resolves_env_and_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.txt"), "from-file\n").unwrap();
        let file = SecretSpec::File {
            file: "s.txt".into(),
        };
        assert_eq!(file.resolve(dir.path()).unwrap().expose(), b"from-file");
        let env = SecretSpec::Env {
            env: "HOOKGATE_TEST_SURELY_UNSET_VAR".into(),
        };
        assert!(
            env.resolve(dir.path())
                .unwrap_err()
                .contains("HOOKGATE_TEST_SURELY_UNSET_VAR")
        );
        assert!(
            SecretSpec::Inline(String::new())
                .resolve(dir.path())
                .is_err()
        );
    }
}
