//! Parsing of signature headers: `key=value` pairs such as Stripe's `t=…,v1=…,v1=…` (several
//! values per key during secret rotation), and whitespace-separated lists such as Standard
//! Webhooks' `v1,sig1 v1,sig2`.

use crate::request::VerifyError;

/// The most entries a signature header may hold. Platforms send one signature per active
/// secret (two or three while rotating) beside a timestamp; each entry costs a comparison and,
/// for public-key schemes, a verification. A header with thousands of entries is an attack on
/// the verifier's CPU before any secret is known (measured: 5,000 `v1=` entries cost 11–13 ms
/// per request against 0.6–0.9 ms for an ordinary forgery), so it is malformed.
pub const MAX_SIGNATURE_ENTRIES: usize = 16;

/// A parsed `key=value` signature header. Pairs may be separated by commas, whitespace or both;
/// a key may repeat. Values keep any `=` after the first (base64 padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> SignatureHeader<'a> {
    /// Parses `text`. An empty header or an item without `=` is malformed.
    pub fn parse(text: &'a str) -> Result<Self, VerifyError> {
        let mut pairs = Vec::new();
        for item in text.split(|c: char| c == ',' || c.is_ascii_whitespace()) {
            if item.is_empty() {
                continue;
            }
            let (k, v) = item
                .split_once('=')
                // The item itself is not quoted: it may be a signature, and errors get logged.
                .ok_or_else(|| VerifyError::malformed("item without '='"))?;
            pairs.push((k, v));
            if pairs.len() > MAX_SIGNATURE_ENTRIES {
                return Err(VerifyError::malformed(format!(
                    "more than {MAX_SIGNATURE_ENTRIES} entries"
                )));
            }
        }
        if pairs.is_empty() {
            return Err(VerifyError::malformed("empty signature header"));
        }
        Ok(SignatureHeader { pairs })
    }

    /// The first value for `key`.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.all(key).next()
    }

    /// Every value for `key`, in order. Empty values are skipped: an empty signature never
    /// counts as a signature.
    pub fn all<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.pairs
            .iter()
            .filter(move |(k, v)| *k == key && !v.is_empty())
            .map(|(_, v)| *v)
    }
}

/// Splits a whitespace-separated list of signatures (`v1,abc v1,def`), skipping empty entries;
/// more than [`MAX_SIGNATURE_ENTRIES`] is malformed.
pub fn split_signature_list(text: &str) -> Result<Vec<&str>, VerifyError> {
    let entries: Vec<&str> = text
        .split_ascii_whitespace()
        .take(MAX_SIGNATURE_ENTRIES + 1)
        .collect();
    if entries.len() > MAX_SIGNATURE_ENTRIES {
        return Err(VerifyError::malformed(format!(
            "more than {MAX_SIGNATURE_ENTRIES} entries"
        )));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_with_too_many_entries_are_malformed() {
        let flood = format!("t=1,{}", vec!["v1=00"; MAX_SIGNATURE_ENTRIES].join(","));
        assert!(matches!(
            SignatureHeader::parse(&flood),
            Err(VerifyError::MalformedSignature(_))
        ));
        let rotating = format!("t=1,{}", vec!["v1=00"; MAX_SIGNATURE_ENTRIES - 1].join(","));
        assert_eq!(
            SignatureHeader::parse(&rotating).unwrap().all("v1").count(),
            15
        );
        let list = vec!["v1,AA=="; MAX_SIGNATURE_ENTRIES + 1].join(" ");
        assert!(split_signature_list(&list).is_err());
        assert_eq!(
            split_signature_list("v1,a  v1,b").unwrap(),
            ["v1,a", "v1,b"]
        );
    }

    #[test]
    fn stripe_style_header_with_rotation() {
        let h = SignatureHeader::parse("t=1492774577,v1=abc,v1=def,v0=zzz").unwrap();
        assert_eq!(h.get("t"), Some("1492774577"));
        assert_eq!(h.all("v1").collect::<Vec<_>>(), vec!["abc", "def"]);
        assert_eq!(h.get("v2"), None);
    }

    #[test]
    fn spaces_and_padding() {
        let h = SignatureHeader::parse("t=1, v1=YWJj=  v1=x==").unwrap();
        assert_eq!(h.all("v1").collect::<Vec<_>>(), vec!["YWJj=", "x=="]);
    }

    #[test]
    fn empty_values_are_not_signatures() {
        let h = SignatureHeader::parse("t=1,v1=").unwrap();
        assert_eq!(h.get("v1"), None);
    }

    #[test]
    fn malformed_headers() {
        assert!(SignatureHeader::parse("").is_err());
        assert!(SignatureHeader::parse(" , ").is_err());
        assert!(SignatureHeader::parse("t=1,garbage").is_err());
    }

    #[test]
    fn list_split() {
        assert_eq!(
            split_signature_list(" v1,a  v1,b ").unwrap(),
            vec!["v1,a", "v1,b"]
        );
    }
}
