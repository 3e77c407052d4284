//! What the load generator sends: correctly signed webhooks shaped like the platforms' own,
//! each with a unique platform event id (a benchmark of duplicates would measure nothing but
//! the dedupe path). Signing is native HMAC here, independent of the plugins' code.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret every benchmark source is configured with.
pub const SECRET: &str = "whsec_bench_secret";

/// A payload shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A Stripe `payment_intent.succeeded` event padded to about 2 KB.
    Stripe2k,
    /// A GitHub `push` delivery with commits, about 15 KB.
    GitHub15k,
    /// Stripe 2 KB, GitHub 15 KB and Shopify 1 KB requests in turn.
    Mix,
}

impl Shape {
    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Shape::Stripe2k => "stripe 2 KB",
            Shape::GitHub15k => "github 15 KB",
            Shape::Mix => "mix",
        }
    }
}

/// One request: the path it goes to, its headers and its body.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// `/webhooks/<source>`.
    pub path: &'static str,
    /// Headers, signature included.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: bytes::Bytes,
}

fn hmac_sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// Builds webhooks of one shape; `n` makes each one unique.
#[derive(Debug, Clone)]
pub struct Generator {
    shape: Shape,
    run: String,
    stripe_padding: String,
    github_commits: String,
}

impl Generator {
    /// A generator whose event ids carry `run`, so separate runs never collide.
    pub fn new(shape: Shape, run: &str) -> Generator {
        let commit = |i: usize| {
            format!(
                r#"{{"id":"{i:040x}","tree_id":"{i:040x}","distinct":true,"message":"Refactor module {i}: split the parser, keep the public API, add tests for the edge cases found in review","timestamp":"2026-11-30T12:00:00Z","url":"https://github.com/acme/widgets/commit/{i:040x}","author":{{"name":"Ada Lovelace","email":"ada@example.com","username":"ada"}},"committer":{{"name":"GitHub","email":"noreply@github.com","username":"web-flow"}},"added":["src/parser/mod{i}.rs"],"removed":[],"modified":["src/lib.rs","README.md","Cargo.toml"]}}"#
            )
        };
        let github_commits = (0..23).map(commit).collect::<Vec<_>>().join(",");
        Generator {
            shape,
            run: run.to_owned(),
            stripe_padding: "x".repeat(1650),
            github_commits,
        }
    }

    /// The `n`-th webhook.
    pub fn webhook(&self, n: u64) -> Webhook {
        match self.shape {
            Shape::Stripe2k => self.stripe(n),
            Shape::GitHub15k => self.github(n),
            Shape::Mix => match n % 3 {
                0 => self.stripe(n),
                1 => self.github(n),
                _ => self.shopify(n),
            },
        }
    }

    fn stripe(&self, n: u64) -> Webhook {
        let body = format!(
            r#"{{"id":"evt_{run}_{n}","object":"event","api_version":"2024-06-20","type":"payment_intent.succeeded","created":1719847200,"livemode":false,"data":{{"object":{{"id":"pi_{run}_{n}","object":"payment_intent","amount":2000,"currency":"usd","customer":"cus_123","description":"{pad}"}}}}}}"#,
            run = self.run,
            pad = self.stripe_padding
        );
        let t = now();
        let sig = hmac_sha256(&[t.to_string().as_bytes(), b".", body.as_bytes()]);
        Webhook {
            path: "/webhooks/stripe",
            headers: vec![
                ("content-type", "application/json".into()),
                ("stripe-signature", format!("t={t},v1={}", hex::encode(sig))),
            ],
            body: body.into(),
        }
    }

    fn github(&self, n: u64) -> Webhook {
        let body = format!(
            r#"{{"ref":"refs/heads/main","before":"{n:040x}","after":"{n:040x}","created":false,"deleted":false,"forced":false,"compare":"https://github.com/acme/widgets/compare/a...b","commits":[{commits}],"head_commit":null,"repository":{{"id":186853002,"node_id":"R_kgDOAAAAAA","name":"widgets","full_name":"acme/widgets","private":false,"owner":{{"login":"acme","id":21031067}},"default_branch":"main"}},"pusher":{{"name":"ada","email":"ada@example.com"}},"sender":{{"login":"ada","id":21031067}}}}"#,
            commits = self.github_commits
        );
        let sig = hmac_sha256(&[body.as_bytes()]);
        Webhook {
            path: "/webhooks/github",
            headers: vec![
                ("content-type", "application/json".into()),
                ("x-github-event", "push".into()),
                ("x-github-delivery", format!("{}-{n}", self.run)),
                (
                    "x-hub-signature-256",
                    format!("sha256={}", hex::encode(sig)),
                ),
            ],
            body: body.into(),
        }
    }

    fn shopify(&self, n: u64) -> Webhook {
        let body = format!(
            r#"{{"id":{n},"admin_graphql_api_id":"gid://shopify/Order/{n}","email":"jon@example.com","created_at":"2026-11-30T12:00:00-05:00","currency":"USD","total_price":"199.00","customer":{{"id":115310627314723954}},"line_items":[{{"id":866550311766439020,"title":"IPod Nano - 8GB","quantity":1,"price":"199.00"}}]}}"#
        );
        let sig = hmac_sha256(&[body.as_bytes()]);
        Webhook {
            path: "/webhooks/shopify",
            headers: vec![
                ("content-type", "application/json".into()),
                ("x-shopify-topic", "orders/create".into()),
                ("x-shopify-webhook-id", format!("{}-{n}", self.run)),
                (
                    "x-shopify-hmac-sha256",
                    hookgate_sdk::encoding::base64_encode(&sig),
                ),
            ],
            body: body.into(),
        }
    }
}

/// The gateway config lines for the benchmark sources (every shape's platform).
pub fn sources_toml() -> String {
    ["stripe", "github", "shopify"]
        .iter()
        .map(|p| format!("[sources.{p}]\nplugin = \"{p}\"\nsecrets = [\"{SECRET}\"]\n"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_have_their_sizes_and_unique_ids() {
        let g = Generator::new(Shape::Stripe2k, "t");
        let (a, b) = (g.webhook(1), g.webhook(2));
        assert!((1900..2300).contains(&a.body.len()), "{}", a.body.len());
        assert_ne!(a.body, b.body);
        let gh = Generator::new(Shape::GitHub15k, "t").webhook(1);
        assert!(
            (14_000..17_000).contains(&gh.body.len()),
            "{}",
            gh.body.len()
        );
        serde_json::from_slice::<serde_json::Value>(&gh.body).expect("valid JSON");
        let mix = Generator::new(Shape::Mix, "t");
        let paths: Vec<_> = (0..3).map(|n| mix.webhook(n).path).collect();
        assert_eq!(
            paths,
            ["/webhooks/stripe", "/webhooks/github", "/webhooks/shopify"]
        );
    }
}
