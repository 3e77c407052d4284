//! Request-body memory, charged as bytes arrive. A request that has only announced a large
//! body (`Content-Length: 26214400`, then nothing) holds nothing; bytes that did arrive are
//! charged to three ledgers at once, each with a cap: everything in flight, the source's share
//! and the sending address's share. One sender, or one busy source, can therefore fill only
//! its share, and what is left keeps serving the others; a request over a cap is answered 503
//! (shed, the sender retries) rather than letting memory run out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Request-body memory all in-flight requests may hold together, unless one source's body
/// limit is larger (then that limit).
pub const BODY_BUDGET_BYTES: u64 = 512 << 20;
/// The share of the budget one source's requests may hold together (or its own body limit,
/// when larger): a flood towards one source leaves half for the others.
const SOURCE_SHARE: u64 = 2;
/// The share one client address may hold (or the largest body limit, when larger).
const PEER_SHARE: u64 = 8;
/// Addresses holding memory are few at any time; the table never outgrows this many, as an
/// address that would add to a full table is refused (503) like one over its share.
const MAX_PEERS: usize = 65_536;

/// The three ledgers and their caps.
#[derive(Debug)]
pub struct BodyMemory {
    total_cap: u64,
    source_caps: Vec<u64>,
    peer_cap: u64,
    ledger: Mutex<Ledger>,
}

#[derive(Debug, Default)]
struct Ledger {
    total: u64,
    sources: Vec<u64>,
    peers: HashMap<IpAddr, u64>,
}

/// Why a charge was refused: which cap it would have crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverBudget {
    /// All in-flight bodies together.
    Total,
    /// The source's share.
    Source,
    /// The client address's share.
    Peer,
}

impl BodyMemory {
    /// Ledgers for sources whose body limits are `limits` (a source's index in it is its slot),
    /// with the budget and shares raised to twice the largest limit, so every source can take
    /// one whole body (a body read in several chunks is charged twice while they are joined).
    pub fn new(limits: &[u64]) -> BodyMemory {
        let largest = limits.iter().copied().max().unwrap_or(0).saturating_mul(2);
        let total_cap = BODY_BUDGET_BYTES.max(largest);
        BodyMemory {
            total_cap,
            source_caps: limits
                .iter()
                .map(|&limit| limit.saturating_mul(2).max(total_cap / SOURCE_SHARE))
                .collect(),
            peer_cap: largest.max(total_cap / PEER_SHARE),
            ledger: Mutex::new(Ledger {
                sources: vec![0; limits.len()],
                ..Ledger::default()
            }),
        }
    }

    /// An empty charge for one request to the source in `slot`, from `peer` (when known).
    pub fn charge(&self, slot: usize, peer: Option<IpAddr>) -> Charge<'_> {
        Charge {
            memory: self,
            slot,
            peer,
            bytes: 0,
        }
    }

    /// Bytes held by all requests now.
    pub fn in_use(&self) -> u64 {
        self.lock().total
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        // The ledger's sums stay consistent under a panic elsewhere: every update is whole.
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, slot: usize, peer: Option<IpAddr>, n: u64) -> Result<(), OverBudget> {
        let mut ledger = self.lock();
        if ledger.total + n > self.total_cap {
            return Err(OverBudget::Total);
        }
        if ledger.sources[slot] + n > self.source_caps[slot] {
            return Err(OverBudget::Source);
        }
        if let Some(peer) = peer {
            let full = ledger.peers.len() >= MAX_PEERS;
            let held = ledger.peers.get(&peer).copied();
            if held.unwrap_or(0) + n > self.peer_cap || (held.is_none() && full) {
                return Err(OverBudget::Peer);
            }
            *ledger.peers.entry(peer).or_insert(0) += n;
        }
        ledger.total += n;
        ledger.sources[slot] += n;
        Ok(())
    }

    fn release(&self, slot: usize, peer: Option<IpAddr>, n: u64) {
        if n == 0 {
            return;
        }
        let mut ledger = self.lock();
        ledger.total -= n;
        ledger.sources[slot] -= n;
        if let Some(peer) = peer
            && let Some(held) = ledger.peers.get_mut(&peer)
        {
            *held -= n;
            if *held == 0 {
                ledger.peers.remove(&peer);
            }
        }
    }
}

/// The memory one request holds; given back when dropped.
#[derive(Debug)]
pub struct Charge<'a> {
    memory: &'a BodyMemory,
    slot: usize,
    peer: Option<IpAddr>,
    bytes: u64,
}

impl Charge<'_> {
    /// Charges `n` more bytes, unless that crosses a cap.
    pub fn grow(&mut self, n: u64) -> Result<(), OverBudget> {
        self.memory.add(self.slot, self.peer, n)?;
        self.bytes += n;
        Ok(())
    }

    /// Gives `n` bytes back (no more than are held).
    pub fn shrink(&mut self, n: u64) {
        let n = n.min(self.bytes);
        self.memory.release(self.slot, self.peer, n);
        self.bytes -= n;
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        self.memory.release(self.slot, self.peer, self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn addr(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn announced_bodies_hold_nothing_until_bytes_arrive() {
        let memory = BodyMemory::new(&[25 * MIB, MIB]);
        let idle: Vec<_> = (0..1000).map(|i| memory.charge(0, addr(i as u8))).collect();
        assert_eq!(memory.in_use(), 0);
        let mut genuine = memory.charge(1, addr(200));
        genuine.grow(2048).unwrap();
        assert_eq!(memory.in_use(), 2048);
        drop((idle, genuine));
        assert_eq!(memory.in_use(), 0);
    }

    #[test]
    fn one_address_fills_only_its_share_and_one_source_half() {
        let memory = BodyMemory::new(&[25 * MIB, MIB]);
        // An eighth of 512 MiB per address.
        let mut flood = memory.charge(0, addr(1));
        flood.grow(64 * MIB).unwrap();
        assert_eq!(flood.grow(1), Err(OverBudget::Peer));
        // Many addresses towards one source: half the budget.
        let mut others: Vec<_> = (2..6).map(|i| memory.charge(0, addr(i))).collect();
        for charge in &mut others[..3] {
            charge.grow(64 * MIB).unwrap();
        }
        assert_eq!(others[3].grow(1), Err(OverBudget::Source));
        // The other source still has the rest.
        let mut stripe = memory.charge(1, addr(9));
        stripe.grow(MIB).unwrap();
        drop(flood);
        others[3].grow(MIB).unwrap();
        assert_eq!(memory.in_use(), 3 * 64 * MIB + 2 * MIB);
    }

    #[test]
    fn a_large_limit_raises_the_budget_and_shares() {
        // A 600 MiB body, joined from its chunks, is charged twice for a moment: it fits.
        let memory = BodyMemory::new(&[600 * MIB]);
        let mut one = memory.charge(0, addr(1));
        one.grow(1200 * MIB).unwrap();
        assert_eq!(one.grow(1), Err(OverBudget::Total));
        one.shrink(700 * MIB);
        assert_eq!(one.bytes(), 500 * MIB);
        assert_eq!(memory.in_use(), 500 * MIB);
    }
}
