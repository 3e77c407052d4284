//! What a refused config reports: a read or TOML error as the parser words it, or every
//! invalid value at once, each with the dotted path of its field, so an operator fixes them
//! all in one go instead of one per restart.

use std::path::PathBuf;

/// A config that was refused, with every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read config: {reason}")]
    Read {
        /// The config file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid TOML or does not have the expected shape.
    #[error("{file}: {message}")]
    Parse {
        /// The config file.
        file: PathBuf,
        /// The parser's message, which names the line, column and field.
        message: String,
    },
    /// The file parsed but some values are wrong.
    #[error("{file}: invalid config:\n{}", problems.iter().map(|p| format!("  - {}: {}", p.field, p.message)).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// One invalid value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the field, e.g. `sources.stripe.secrets[0]`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}
