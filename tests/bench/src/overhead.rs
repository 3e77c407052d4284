//! Plugin call overhead: the gateway's per-request plugin work (a fresh instance, then
//! verify and normalize inside wasm) against the very same plugin code compiled natively and
//! called directly, in this process, on the same core, one call at a time.

use crate::payload::{Generator, SECRET, Shape};
use hookgate::runtime::{Header, Limits, Outcome, Request, Runtime, SourceContext, load_file};
use hookgate_sdk::Platform;
use std::time::{Duration, Instant};

/// Median per-call times, in microseconds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Overhead {
    /// Payload.
    pub payload: &'static str,
    /// Body bytes.
    pub body_bytes: usize,
    /// Native verify + normalize.
    pub native_us: f64,
    /// Fresh instance + verify + normalize in wasm.
    pub wasm_us: f64,
    /// The same with the plugin built for an earlier interface, from the directory named by
    /// `HOOKGATE_BENCH_BEFORE_PLUGINS` (for example 1.2's two calls against 1.3's one), timed
    /// in the same rounds, alternating.
    pub before_us: Option<f64>,
}

impl Overhead {
    /// wasm / native.
    pub fn ratio(&self) -> f64 {
        self.wasm_us / self.native_us
    }
}

/// Median of `rounds` timings of `iterations` calls each, per call.
fn median_us(mut samples: Vec<Duration>, iterations: u32) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1e6 / f64::from(iterations)
}

/// Measures the Stripe plugin on the 2 KB payload and the GitHub plugin on the 15 KB one.
pub async fn measure(
    plugins_dir: &std::path::Path,
    iterations: u32,
) -> anyhow::Result<Vec<Overhead>> {
    let runtime = Runtime::new(Limits {
        call_timeout: Duration::from_millis(100),
        memory_limit_bytes: 64 << 20,
    })?;
    let mut out = Vec::new();
    for (shape, file) in [
        (Shape::Stripe2k, "stripe.wasm"),
        (Shape::GitHub15k, "github.wasm"),
    ] {
        let generator = Generator::new(shape, "overhead");
        let hook = generator.webhook(1);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs() as i64;
        let sdk_request = hookgate_sdk::Request {
            method: "POST".into(),
            url: format!("http://127.0.0.1{}", hook.path),
            headers: hook
                .headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
                .collect(),
            body: hook.body.to_vec(),
        };
        let sdk_context = hookgate_sdk::VerifyContext::new(SECRET, now);
        let native = |request: &hookgate_sdk::Request| -> bool {
            match shape {
                Shape::GitHub15k => {
                    hookgate_plugin_github::GitHub::verify(request, &sdk_context).is_ok()
                        && hookgate_plugin_github::GitHub::normalize(request, &sdk_context.settings)
                            .is_ok()
                }
                _ => {
                    hookgate_plugin_stripe::Stripe::verify(request, &sdk_context).is_ok()
                        && hookgate_plugin_stripe::Stripe::normalize(request, &sdk_context.settings)
                            .is_ok()
                }
            }
        };
        assert!(
            native(&sdk_request),
            "the native plugin accepts the payload"
        );
        let plugin = load_platform(&runtime, &plugins_dir.join(file)).await?;
        let before = match std::env::var_os("HOOKGATE_BENCH_BEFORE_PLUGINS") {
            Some(dir) => {
                Some(load_platform(&runtime, &std::path::Path::new(&dir).join(file)).await?)
            }
            None => None,
        };
        let request = Request {
            method: "POST".into(),
            url: sdk_request.url.clone(),
            headers: sdk_request
                .headers
                .iter()
                .map(|(name, value)| Header {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            body: sdk_request.body.clone(),
        };
        let context = SourceContext {
            secrets: vec![SECRET.as_bytes().to_vec()],
            tolerance_secs: 300,
            now_unix_secs: now,
            config: "{}".into(),
        };
        for plugin in std::iter::once(&plugin).chain(&before) {
            match plugin.process(&runtime, request.clone(), &context).await? {
                Outcome::Verified(_) => {}
                other => anyhow::bail!("{file} did not verify the payload: {other:?}"),
            }
        }
        // The three are timed in the same rounds, one after the other, so a noisy stretch of
        // the machine falls on all of them.
        let (mut native_samples, mut wasm_samples, mut before_samples) =
            (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..7 {
            let started = Instant::now();
            for _ in 0..iterations {
                // The wasm path receives its request by value each time: so does this one.
                let request = sdk_request.clone();
                std::hint::black_box(native(&request));
            }
            native_samples.push(started.elapsed());
            wasm_samples.push(time_calls(&runtime, &plugin, &request, &context, iterations).await?);
            if let Some(before) = &before {
                before_samples
                    .push(time_calls(&runtime, before, &request, &context, iterations).await?);
            }
        }
        out.push(Overhead {
            payload: shape.label(),
            body_bytes: hook.body.len(),
            native_us: median_us(native_samples, iterations),
            wasm_us: median_us(wasm_samples, iterations),
            before_us: (!before_samples.is_empty()).then(|| median_us(before_samples, iterations)),
        });
    }
    Ok(out)
}

async fn load_platform(
    runtime: &std::sync::Arc<Runtime>,
    file: &std::path::Path,
) -> anyhow::Result<hookgate::runtime::PlatformPlugin> {
    match load_file(runtime, file).await? {
        hookgate::runtime::Loaded::Platform(p) => Ok(p),
        hookgate::runtime::Loaded::Action(_) => {
            anyhow::bail!("{} is not a platform plugin", file.display())
        }
    }
}

/// The time of `iterations` calls of `plugin`, one after the other.
async fn time_calls(
    runtime: &Runtime,
    plugin: &hookgate::runtime::PlatformPlugin,
    request: &Request,
    context: &SourceContext,
    iterations: u32,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for _ in 0..iterations {
        let outcome = plugin.process(runtime, request.clone(), context).await?;
        std::hint::black_box(outcome);
    }
    Ok(started.elapsed())
}
