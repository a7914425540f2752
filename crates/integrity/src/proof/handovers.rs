//! The key handover lines a proof bundle carries (bundle format v2), and following them
//! from the key an auditor trusts to the key that signed a bundle's checkpoint line.
//!
//! A handover line is the checkpoint line `auditrail keys rotate` writes: signed by the
//! retiring key, it names the next one (`nextKey`), so the retiring key vouches for its
//! successor, and for the point in the log (its `checkpoint` number) after which only
//! the successor signs. Following them mirrors what store `verify` does with the key
//! chain of a whole log, with the bundle's lines instead of the log.
//!
//! Trust only flows forward: a handover line is signed by the *retiring* key, so a later
//! key vouches for nothing its predecessors signed. A line signed by a key before the
//! trusted one is refused, naming the key to check it with.
//!
//! Why the later key's lines do not vouch for an earlier key's line either, although
//! they come after it in one log: a line signs its store, chain head, tree head, time
//! and `prev`, the hash of the one line before it. So the later key's first line after
//! a handover covers the handover line's bytes, and through the `prev` links of every
//! line in between an earlier line's, but a bundle carries neither that first line nor
//! the lines in between; and no line of the later key names the key it took over from
//! (the handover naming the later key is the earlier key's own signature). Its tree
//! head does cover every record from chainSeq 1, so a consistency path shows that an
//! earlier line's tree head is the head of a prefix of the later key's tree: a fact
//! about the later key's tree, which anyone can state, not about the earlier line.
//! With the later key alone, a genuine bundle and one whose `from` line and handover
//! were signed by a key someone made up (naming the later key as `nextKey`, with a
//! true prefix head) cannot be told apart; accepting one would accept the other, with
//! whatever checkpoint number, time and flags the made-up line claims. What the later
//! key alone does prove: inclusion against one of its lines (any record, from
//! chainSeq 1), and consistency from one of its lines. (A bundle carrying every line
//! from the earlier one to the later key's first line would tie the earlier line's
//! bytes to the later key's signature through `prev`; v2 bundles do not.)

use crate::checkpoint::{Checkpoint, CheckpointLineError};
use crate::keys::PublicKey;

use super::ProofError;

/// One key of a bundle's chain and the checkpoint numbers it signs.
#[derive(Debug, Clone)]
struct Span {
    key: PublicKey,
    /// The handover line that handed signing to this key (`None`: the first key).
    after: Option<u64>,
    /// The handover line this key signed, its last line (`None`: still current).
    until: Option<u64>,
}

/// The keys of a bundle's handover lines, checked against the trusted key.
#[derive(Debug)]
pub(super) struct Keys {
    trusted: PublicKey,
    spans: Vec<Span>,
    /// Where `trusted` is in `spans`, if it is.
    at: Option<usize>,
    /// The furthest span a checked line was signed in (to report the keys followed).
    reached: Option<usize>,
}

impl Keys {
    /// Reads the bundle's handover lines (log order) for the store `store_id`: every
    /// signature must hold, each line must name a next key and be signed by the key the
    /// line before it handed over to.
    pub(super) fn follow(
        store_id: &str,
        trusted: &PublicKey,
        handovers: &[String],
    ) -> Result<Keys, ProofError> {
        let mut spans: Vec<Span> = Vec::new();
        for (i, line) in handovers.iter().enumerate() {
            let position = i + 1;
            let cp = Checkpoint::parse_line(line.as_bytes()).map_err(|e| match e {
                CheckpointLineError::BadSignature => ProofError::BadHandover {
                    position,
                    source: e,
                },
                CheckpointLineError::Malformed(m) => {
                    ProofError::Malformed(format!("handover line {position}: {m}"))
                }
            })?;
            if cp.store_id != store_id {
                return Err(ProofError::OtherStore {
                    claimed: store_id.to_string(),
                    signed: cp.store_id,
                });
            }
            let Some(next) = cp.next_key else {
                return Err(ProofError::Malformed(format!(
                    "handover line {position} (checkpoint #{}) names no nextKey: it hands signing to no key",
                    cp.index
                )));
            };
            match spans.last_mut() {
                None => spans.push(Span {
                    key: cp.key,
                    after: None,
                    until: Some(cp.index),
                }),
                Some(current) => {
                    let after = current.after.unwrap_or(0);
                    if cp.index <= after {
                        return Err(ProofError::Malformed(format!(
                            "handover line {position} (checkpoint #{}) does not follow the handover before it (checkpoint #{after}): the lines are out of log order",
                            cp.index
                        )));
                    }
                    if current.key != cp.key {
                        return Err(ProofError::BrokenHandovers {
                            position,
                            index: cp.index,
                            signer: cp.key.to_string(),
                            expected: current.key.to_string(),
                            previous: after,
                        });
                    }
                    current.until = Some(cp.index);
                }
            }
            if spans.iter().any(|s| s.key == next) {
                return Err(ProofError::Malformed(format!(
                    "handover line {position} (checkpoint #{}) hands signing back to {next}, a key of an earlier handover",
                    cp.index
                )));
            }
            spans.push(Span {
                key: next,
                after: Some(cp.index),
                until: None,
            });
        }
        let at = spans.iter().position(|s| s.key == *trusted);
        Ok(Keys {
            trusted: *trusted,
            spans,
            at,
            reached: None,
        })
    }

    /// Checks that `cp` (the bundle's `which` line) is signed by the trusted key or by a
    /// key the handover lines lead to from it, inside that key's part of the log.
    pub(super) fn check(&mut self, cp: &Checkpoint, which: &'static str) -> Result<(), ProofError> {
        let signer = self.spans.iter().position(|s| s.key == cp.key);
        let (Some(s), Some(at)) = (signer, self.at) else {
            if cp.key == self.trusted {
                return Ok(());
            }
            // A v1 bundle (no handovers): the line must be signed by the trusted key.
            if self.spans.is_empty() {
                return Err(ProofError::WrongKey {
                    which,
                    signer: cp.key.to_string(),
                    trusted: self.trusted.to_string(),
                });
            }
            // Signed by the key the bundle's last handover names, with the trusted
            // key nowhere in them: a later rotation, which the bundle (made from a line
            // before it) cannot carry, is the likely cause.
            let last = self.spans.len() - 1;
            if signer == Some(last) && self.at.is_none() {
                return Err(ProofError::BeforeLaterKey {
                    which,
                    index: cp.index,
                    signer: cp.key.to_string(),
                    since: self.spans[last].after.unwrap_or(0),
                    trusted: self.trusted.to_string(),
                    chain: self.chain(0, last),
                });
            }
            return Err(ProofError::Unreached {
                which,
                index: cp.index,
                signer: cp.key.to_string(),
                trusted: self.trusted.to_string(),
                chain: self.chain(0, self.spans.len() - 1),
            });
        };
        if s < at {
            // Both are set: a span before another ends with a handover, and one after
            // another starts with one.
            return Err(ProofError::EarlierKey {
                which,
                index: cp.index,
                signer: cp.key.to_string(),
                retired: self.spans[s].until.unwrap_or(0),
                trusted: self.trusted.to_string(),
                since: self.spans[at].after.unwrap_or(0),
            });
        }
        let span = &self.spans[s];
        // The trusted key's own start comes from a line its predecessor signed, which
        // the auditor does not trust: only the trusted key's end, and the spans it and
        // its successors handed over, bound where a key may sign.
        let after = if s == at { None } else { span.after };
        if after.is_some_and(|a| cp.index <= a) || span.until.is_some_and(|u| cp.index > u) {
            return Err(ProofError::OutsideSpan {
                which,
                index: cp.index,
                signer: cp.key.to_string(),
                after: span.after,
                until: span.until,
            });
        }
        self.reached = self.reached.max(Some(s));
        Ok(())
    }

    /// The keys followed from the trusted key to the furthest signer checked, in words
    /// (`None`: every line checked was signed by the trusted key).
    pub(super) fn followed(&self) -> Option<String> {
        match (self.at, self.reached) {
            (Some(at), Some(reached)) if reached > at => Some(self.chain(at, reached)),
            _ => None,
        }
    }

    /// `K0 -> K1 (handover at checkpoint #n) -> ...` for spans `from..=to`.
    fn chain(&self, from: usize, to: usize) -> String {
        let mut out = self.spans[from].key.to_string();
        for s in &self.spans[from + 1..=to] {
            out.push_str(&format!(
                " -> {} (handover at checkpoint #{})",
                s.key,
                s.after.unwrap_or(0)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::LineExtras;
    use crate::keys::Signer;
    use auditrail_store::chain::ChainLink;

    /// Checkpoint #`index` of store `s`, signed by `by`, handing over to `next`.
    fn line(by: &Signer, index: u64, next: Option<&Signer>) -> (Checkpoint, String) {
        Checkpoint::sign_with(
            by,
            index,
            "s",
            ChainLink {
                seq: index,
                hash: [index as u8; 32],
            },
            "t".into(),
            [0; 32],
            LineExtras {
                next_key: next.map(|n| *n.public_key()),
                ..LineExtras::default()
            },
        )
    }

    fn signers() -> (Signer, Signer, Signer) {
        (
            Signer::from_seed([1; 32]),
            Signer::from_seed([2; 32]),
            Signer::from_seed([3; 32]),
        )
    }

    #[test]
    fn two_handovers_lead_from_the_first_key_to_the_third() {
        let (a, b, c) = signers();
        let handovers = [line(&a, 3, Some(&b)).1, line(&b, 6, Some(&c)).1];
        let mut keys = Keys::follow("s", a.public_key(), &handovers).unwrap();
        keys.check(&line(&a, 2, None).0, "from").unwrap();
        keys.check(&line(&c, 9, None).0, "to").unwrap();
        let followed = keys.followed().unwrap();
        assert!(
            followed.contains(&format!("#3) -> {}", c.public_key())),
            "{followed}"
        );
    }

    /// A stolen retired key signing a line after its handover does not pass as the
    /// log's: the key signs only up to its handover.
    #[test]
    fn a_retired_key_signing_after_its_handover_is_refused() {
        let (a, b, _) = signers();
        let handovers = [line(&a, 3, Some(&b)).1];
        let mut keys = Keys::follow("s", a.public_key(), &handovers).unwrap();
        let err = keys.check(&line(&a, 7, None).0, "to").unwrap_err();
        assert!(
            matches!(err, ProofError::OutsideSpan { index: 7, .. }),
            "{err}"
        );
        // And the new key signs nothing before its handover.
        let err = keys.check(&line(&b, 2, None).0, "from").unwrap_err();
        assert!(
            matches!(err, ProofError::OutsideSpan { index: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_missing_handover_between_two_is_named() {
        let (a, b, c) = signers();
        let d = Signer::from_seed([4; 32]);
        let handovers = [line(&a, 3, Some(&b)).1, line(&c, 6, Some(&d)).1];
        let err = Keys::follow("s", a.public_key(), &handovers).unwrap_err();
        assert!(
            matches!(
                err,
                ProofError::BrokenHandovers {
                    position: 2,
                    previous: 3,
                    ..
                }
            ),
            "{err}"
        );
    }

    /// Trusting only the new key, a genuine `from` line of the old key and one signed
    /// by a key someone made up (with a handover of its own naming the new key) look
    /// alike: nothing the new key signs names its predecessor. Both are refused, the
    /// same way; accepting the genuine one would accept the made-up one.
    #[test]
    fn trusting_the_new_key_alone_cannot_tell_the_old_key_from_one_made_up() {
        let (old, new, made_up) = signers();
        for earlier in [&old, &made_up] {
            let handovers = [line(earlier, 3, Some(&new)).1];
            let mut keys = Keys::follow("s", new.public_key(), &handovers).unwrap();
            keys.check(&line(&new, 5, None).0, "to").unwrap();
            let err = keys.check(&line(earlier, 2, None).0, "from").unwrap_err();
            assert!(
                matches!(
                    err,
                    ProofError::EarlierKey {
                        index: 2,
                        retired: 3,
                        since: 3,
                        ..
                    }
                ),
                "{err}"
            );
        }
    }

    #[test]
    fn a_key_the_handovers_do_not_reach_is_refused() {
        let (a, b, c) = signers();
        let handovers = [line(&a, 3, Some(&b)).1];
        let mut keys = Keys::follow("s", a.public_key(), &handovers).unwrap();
        let err = keys.check(&line(&c, 5, None).0, "to").unwrap_err();
        assert!(
            matches!(err, ProofError::Unreached { index: 5, .. }),
            "{err}"
        );
    }
}
