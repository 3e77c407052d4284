//! How many connections the listener holds: at most `server.max_connections` together (the
//! accept loop waits for a free slot, so further clients queue in the kernel's backlog rather
//! than being refused), and at most a quarter of them from one client address, so one sender
//! holding idle connections cannot take every slot; its connections beyond that are closed
//! as soon as they are accepted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The share of the slots one address may hold.
const PEER_SHARE: u32 = 4;

/// The listener's connection slots.
#[derive(Debug)]
pub struct ConnectionLimits {
    slots: Arc<Semaphore>,
    per_peer: u32,
    peers: Mutex<HashMap<IpAddr, u32>>,
}

/// One accepted connection's slot, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    limits: Arc<ConnectionLimits>,
    peer: IpAddr,
    _permit: OwnedSemaphorePermit,
}

impl ConnectionLimits {
    /// Slots for `max` connections.
    pub fn new(max: u32) -> Arc<ConnectionLimits> {
        Arc::new(ConnectionLimits {
            slots: Arc::new(Semaphore::new(max as usize)),
            per_peer: (max / PEER_SHARE).max(1),
            peers: Mutex::default(),
        })
    }

    /// Waits until a connection may be accepted.
    pub async fn free_slot(&self) -> OwnedSemaphorePermit {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// Takes `permit` for a connection from `peer`, unless the address holds its share.
    pub fn admit(self: &Arc<Self>, peer: IpAddr, permit: OwnedSemaphorePermit) -> Option<Slot> {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        let held = peers.entry(peer).or_insert(0);
        if *held >= self.per_peer {
            return None;
        }
        *held += 1;
        crate::metrics::metrics().http_connections.inc();
        Some(Slot {
            limits: self.clone(),
            peer,
            _permit: permit,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        crate::metrics::metrics().http_connections.dec();
        let mut peers = self.limits.peers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(held) = peers.get_mut(&self.peer) {
            *held -= 1;
            if *held == 0 {
                peers.remove(&self.peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_address_holds_a_quarter_of_the_slots() {
        let limits = ConnectionLimits::new(8);
        let (flood, other): (IpAddr, IpAddr) =
            ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let mut held = Vec::new();
        for _ in 0..2 {
            held.push(limits.admit(flood, limits.free_slot().await).unwrap());
        }
        assert!(limits.admit(flood, limits.free_slot().await).is_none());
        let theirs = limits.admit(other, limits.free_slot().await).unwrap();
        drop(held.pop());
        assert!(limits.admit(flood, limits.free_slot().await).is_some());
        drop(theirs);
        assert!(limits.peers.lock().unwrap().get(&other).is_none());
    }
}
