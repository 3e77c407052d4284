//! The fixed sets of states a delivery job and an attempt can be in. Stored as text (the
//! words below are the database values, the metric label values and the admin API's), parsed
//! back on every read, so a word the code does not know is a corrupt row, not a new state.

use serde::{Deserialize, Serialize};

/// Declares a unit enum stored as a fixed word per variant.
macro_rules! stored_words {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $word:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &[$name] = &[$($name::$variant,)+];

            /// The stored word.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }

            /// Parses a stored word.
            pub fn parse(word: &str) -> Option<$name> {
                match word {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_words! {
    /// Where a delivery job stands.
    JobStatus {
        /// Waiting to be delivered (possibly leased by a worker right now).
        Pending = "pending",
        /// Delivered: the action reported success.
        Delivered = "delivered",
        /// Gave up: permanent error, attempts exhausted, or the route is gone.
        DeadLettered = "dead_lettered",
    }
}

stored_words! {
    /// What one delivery attempt came to.
    AttemptOutcome {
        /// The destination took it.
        Delivered = "delivered",
        /// A failure worth retrying (5xx, timeout, connection refused).
        Retryable = "retryable",
        /// The destination asked to slow down (429).
        RateLimited = "rate_limited",
        /// A failure no retry mends (4xx, a refused config).
        Permanent = "permanent",
        /// The destination is gone for good (410): the route is disabled.
        Gone = "gone",
        /// The action plugin failed (trap, deadline, memory).
        Fault = "fault",
        /// The host refused the attempt before the plugin ran (no such route any more).
        Refused = "refused",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_parses_back_and_serializes_as_itself() {
        for status in JobStatus::ALL {
            assert_eq!(JobStatus::parse(status.as_str()), Some(*status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
            assert_eq!(
                serde_json::from_value::<JobStatus>(serde_json::json!(status.as_str())).unwrap(),
                *status
            );
        }
        for outcome in AttemptOutcome::ALL {
            assert_eq!(AttemptOutcome::parse(outcome.as_str()), Some(*outcome));
            assert_eq!(
                serde_json::to_value(outcome).unwrap(),
                serde_json::json!(outcome.as_str())
            );
            assert_eq!(
                serde_json::from_value::<AttemptOutcome>(serde_json::json!(outcome.as_str()))
                    .unwrap(),
                *outcome
            );
        }
        assert_eq!(JobStatus::parse("Pending"), None);
        assert_eq!(AttemptOutcome::parse("timeout"), None);
    }
}
