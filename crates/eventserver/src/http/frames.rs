//! A request body as it arrives: the frames hyper hands over, kept as they are and
//! joined once when the body is whole (not at all when it came in one frame).
//!
//! Copying each frame into a buffer that grows by doubling copied a 300 KB batch
//! about 1.8 times (about 3 % of the server's CPU per event, docs/benchmarks.md); a
//! buffer sized once from `Content-Length` would let a client that only sends a head
//! make the server hold (and count) what it never sent. Kept frames are exactly the
//! bytes sent, and are counted in the body budget as they arrive.
//!
//! Frames shorter than [`SMALL_FRAME`] (a client trickling a byte per packet) are
//! copied into a buffer that grows by doubling instead: a list entry per byte would
//! cost its 32 bytes of `Bytes`. So what a body holds while it arrives stays at most
//! twice what it sent, as it was with one buffer (the list itself: at most two entries,
//! 128 bytes with its doubling, per kept frame of at least 4 KiB: under 4 %).
//!
//! A kept frame is a slice of hyper's read buffer and keeps that allocation alive
//! after hyper moved on to a new one. Hyper starts a new one only when less than its
//! next read size (8 KiB to ~400 KiB, grown by reads that filled it) is left, so a
//! buffer's unfilled end, less than one read, is held beyond the frames' bytes; it is
//! not counted in the budget, as hyper's own read buffer never was.

use bytes::Bytes;

use super::error::ApiError;
use super::intake::{Charge, MemoryBudget};

/// Frames shorter than this are copied into [`Frames::small`] rather than kept.
const SMALL_FRAME: usize = 4096;

/// The frames of one body received so far.
#[derive(Default)]
pub(crate) struct Frames {
    /// Kept frames and full small buffers, in the order received.
    kept: Vec<Bytes>,
    /// Small frames received since the last kept one, copied together.
    small: Vec<u8>,
    /// Bytes received.
    len: usize,
}

impl Frames {
    /// Bytes received.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Adds `data`, counting in `charge` what it makes the body hold before it does:
    /// a kept frame's bytes, or the growth of the small frames' buffer.
    pub(crate) fn push(
        &mut self,
        data: Bytes,
        budget: &MemoryBudget,
        charge: &mut Charge,
    ) -> Result<(), ApiError> {
        if data.is_empty() {
            return Ok(());
        }
        let n = data.len();
        if n >= SMALL_FRAME {
            budget.charge(charge, data.len())?;
            self.end_small();
            self.kept.push(data);
        } else {
            let needed = self.small.len() + data.len();
            if needed > self.small.capacity() {
                let to = needed.max(self.small.capacity().saturating_mul(2));
                budget.charge(charge, to - self.small.capacity())?;
                self.small.reserve_exact(to - self.small.len());
            }
            self.small.extend_from_slice(&data);
        }
        self.len += n;
        Ok(())
    }

    /// The small frames so far become one kept part, so that the next kept frame
    /// follows them.
    fn end_small(&mut self) {
        if !self.small.is_empty() {
            self.kept.push(std::mem::take(&mut self.small).into());
        }
    }

    /// Whether [`Self::into_body`] copies (the body is in more than one part).
    pub(crate) fn needs_join(&self) -> bool {
        self.kept.len() + usize::from(!self.small.is_empty()) > 1
    }

    /// The whole body: its one part as it is, or its parts copied into one buffer
    /// (`len` more bytes until the parts are dropped, here).
    pub(crate) fn into_body(mut self) -> Bytes {
        self.end_small();
        match self.kept.len() {
            0 => Bytes::new(),
            1 => self.kept.pop().unwrap_or_default(),
            _ => {
                let mut whole = Vec::with_capacity(self.len);
                for part in &self.kept {
                    whole.extend_from_slice(part);
                }
                whole.into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(sizes: &[usize], budget: &MemoryBudget, charge: &mut Charge) -> (Frames, Vec<u8>) {
        let mut f = Frames::default();
        let mut sent = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            let data: Vec<u8> = (0..*size).map(|j| (i * 7 + j) as u8).collect();
            sent.extend_from_slice(&data);
            f.push(data.into(), budget, charge).unwrap();
        }
        (f, sent)
    }

    #[test]
    fn parts_are_joined_in_the_order_received_small_or_kept() {
        let budget = MemoryBudget::new(1 << 30);
        let mut charge = Charge::default();
        let sizes = [10, 5000, 1, 2, 3, 8192, 4095, 4096, 7];
        let (f, sent) = frames(&sizes, &budget, &mut charge);
        assert_eq!(f.len(), sent.len());
        assert!(f.needs_join());
        assert_eq!(&f.into_body()[..], &sent[..]);
    }

    #[test]
    fn one_frame_is_the_body_without_a_copy() {
        let budget = MemoryBudget::new(1 << 30);
        let mut charge = Charge::default();
        let data = Bytes::from(vec![7u8; 300_000]);
        let at = data.as_ptr();
        let mut f = Frames::default();
        f.push(data, &budget, &mut charge).unwrap();
        assert!(!f.needs_join());
        assert_eq!(f.into_body().as_ptr(), at);
    }

    #[test]
    fn a_body_counts_at_most_twice_what_it_sent_and_kept_frames_once() {
        let budget = MemoryBudget::new(1 << 30);
        // A trickle: one byte a frame, copied together.
        let mut charge = Charge::default();
        let (f, _) = frames(&[1; 3000], &budget, &mut charge);
        assert_eq!(f.len(), 3000);
        // One buffer, not 3000 list entries of 32 bytes each (which the budget, counting
        // bytes received, would not see).
        assert!(f.kept.is_empty(), "{} kept", f.kept.len());
        assert!(budget.in_use() <= 2 * 3000, "{}", budget.in_use());
        assert!(budget.in_use() >= 3000);
        drop(charge);
        // Large frames: their bytes, once.
        let mut charge = Charge::default();
        let (f, _) = frames(&[65536, 100_000, 4096], &budget, &mut charge);
        assert_eq!(budget.in_use(), f.len());
        drop(charge);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn a_frame_over_the_budget_is_refused_and_not_kept() {
        let budget = MemoryBudget::new(10_000);
        let mut charge = Charge::default();
        let mut f = Frames::default();
        f.push(vec![1u8; 8000].into(), &budget, &mut charge)
            .unwrap();
        let err = f
            .push(vec![2u8; 8000].into(), &budget, &mut charge)
            .unwrap_err();
        assert_eq!(err.error, "memory_budget");
        assert_eq!(f.len(), 8000);
        assert_eq!(budget.in_use(), 8000);
    }
}
