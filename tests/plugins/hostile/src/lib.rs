//! A platform plugin that misbehaves on purpose, for the sandbox tests. The `x-hostile-mode`
//! header picks the misbehaviour during verification (`x-hostile-normalize` the same, after
//! verification succeeded): `loop` spins forever, `memory` allocates until it is stopped,
//! `trap` panics, `recurse` overflows its stack; anything else verifies and normalizes normally
//! (event id from `x-event-id`).

use hookgate_sdk::prelude::*;

/// The hostile platform.
pub struct Hostile;

fn misbehave(req: &Request, header: &str) {
    match req.header_text(header) {
        Some("loop") => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        Some("memory") => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1u8; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        Some("trap") => panic!("hostile plugin panics on purpose"),
        Some("recurse") => {
            #[allow(unconditional_recursion)]
            fn deep(n: u64) -> u64 {
                std::hint::black_box(deep(std::hint::black_box(n + 1))) + 1
            }
            std::hint::black_box(deep(0));
        }
        _ => {}
    }
}

impl Platform for Hostile {
    fn metadata() -> Metadata {
        Metadata::new(
            "hostile",
            "test plugin that loops, hoards memory or traps on request",
        )
        .secrets(SecretRequirement::None)
    }

    fn verify(request: &Request, _context: &VerifyContext) -> Result<(), VerifyError> {
        misbehave(request, "x-hostile-mode");
        Ok(())
    }

    fn normalize(request: &Request, _settings: &Settings) -> Result<Vec<Event>, NormalizeError> {
        misbehave(request, "x-hostile-normalize");
        let id = request
            .header_text("x-event-id")
            .ok_or(NormalizeError::missing("x-event-id"))?;
        Ok(vec![Event::new(id, "hostile.ok")])
    }
}

hookgate_sdk::export_platform!(Hostile);
