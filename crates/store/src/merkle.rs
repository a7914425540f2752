//! The Merkle tree over the store's records (RFC 6962 §2.1), kept incrementally.
//!
//! The tree's leaves are the store's records in chain order: leaf `i` (from 0) is the
//! record with `chainSeq = i + 1`. A leaf's data is the record's chain link:
//!
//! ```text
//! leaf data  = chainSeq as u64 big-endian (8 bytes) || chainHash (32 raw bytes)
//! leaf hash  = SHA-256(0x00 || leaf data)
//! node hash  = SHA-256(0x01 || left || right)
//! tree head  = MTH(leaves 0..treeSize), as RFC 6962 §2.1 defines it
//! ```
//!
//! The chain hash already binds the record's exact bytes (see [`crate::chain`]), so the
//! leaf costs one short hash per record, not a second pass over its bytes, and a tree
//! head can be recomputed from the chain fields alone.
//!
//! Hand-written, by RFC 6962 §2.1 (and checked against its test vectors below): the
//! store's writer needs only the *frontier* (the O(log n) maximal subtrees of the
//! records so far) and subtrees of arbitrary chain ranges (retention), and the Rust
//! crates for RFC 6962 (`ct-merkle`) keep every node in memory. Proof verification, by
//! contrast, uses `ct-merkle` (in the integrity layer).
//!
//! # Compact ranges
//!
//! A [`CompactRange`] stands for the leaves `[begin, end)` by the hashes of its
//! *maximal aligned subtrees* (blocks `[k·2^h, (k+1)·2^h)` inside the range whose
//! parent is not inside it), left to right. Their positions follow from `begin` and
//! `end` alone ([`decompose`]), so a list of hashes with its range is enough to store
//! one. The range `[0, n)` is the tree's frontier: its head is the hashes folded right
//! to left. A deleted chain range keeps its compact range, so that subtrees over it
//! (in proofs, and in the heads of later trees) are still known.

use sha2::{Digest, Sha256};

use crate::chain::ChainLink;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// RFC 6962's prefix of a leaf hash.
const LEAF_PREFIX: u8 = 0x00;
/// RFC 6962's prefix of an interior node hash.
const NODE_PREFIX: u8 = 0x01;

/// The hash of a leaf whose data is `data`: `SHA-256(0x00 || data)`.
pub fn leaf_hash_of(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(data);
    h.finalize().into()
}

/// The leaf data of a record: its `chainSeq` (u64 big-endian) and its chain hash.
pub fn leaf_data(link: &ChainLink) -> [u8; 40] {
    let mut data = [0u8; 40];
    data[..8].copy_from_slice(&link.seq.to_be_bytes());
    data[8..].copy_from_slice(&link.hash);
    data
}

/// The leaf hash of the record with this chain link.
pub fn leaf_hash(link: &ChainLink) -> Hash {
    leaf_hash_of(&leaf_data(link))
}

/// An interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The head of the empty tree: `SHA-256()` (RFC 6962 §2.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The maximal aligned subtrees of the leaves `[begin, end)`, left to right, as (first
/// leaf, height): the blocks a [`CompactRange`] over that range holds.
pub fn decompose(begin: u64, end: u64) -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    let mut at = begin;
    while at < end {
        let mut height = if at == 0 { 63 } else { at.trailing_zeros() };
        while height > 0 && (1u64 << height) > end - at {
            height -= 1;
        }
        out.push((at, height));
        at += 1u64 << height;
    }
    out
}

/// Why a compact range cannot be built or extended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// A list of hashes does not fit the range it claims.
    #[error("{found} subtree hashes for the leaves {begin}..{end}, which take {expected}")]
    WrongCount {
        /// First leaf.
        begin: u64,
        /// One past the last leaf.
        end: u64,
        /// Hashes the range takes.
        expected: usize,
        /// Hashes given.
        found: usize,
    },
    /// A subtree does not start where the range ends, or is not aligned there.
    #[error("a subtree of height {height} cannot follow the leaves up to {end}")]
    Misaligned {
        /// Where the range ends.
        end: u64,
        /// The subtree's height.
        height: u32,
    },
}

/// The leaves `[begin, end)` as their maximal aligned subtrees (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactRange {
    begin: u64,
    end: u64,
    /// (height, hash), left to right.
    nodes: Vec<(u32, Hash)>,
}

impl CompactRange {
    /// The empty range at `begin`.
    pub fn new(begin: u64) -> CompactRange {
        CompactRange {
            begin,
            end: begin,
            nodes: Vec::new(),
        }
    }

    /// The range `[begin, end)` from the hashes of its maximal subtrees, left to right.
    pub fn from_hashes(
        begin: u64,
        end: u64,
        hashes: Vec<Hash>,
    ) -> Result<CompactRange, MerkleError> {
        let blocks = decompose(begin, end.max(begin));
        if blocks.len() != hashes.len() || end < begin {
            return Err(MerkleError::WrongCount {
                begin,
                end,
                expected: blocks.len(),
                found: hashes.len(),
            });
        }
        Ok(CompactRange {
            begin,
            end,
            nodes: blocks.iter().map(|b| b.1).zip(hashes).collect(),
        })
    }

    /// First leaf.
    pub fn begin(&self) -> u64 {
        self.begin
    }

    /// One past the last leaf (for a frontier: the tree size).
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The hashes of its maximal subtrees, left to right.
    pub fn hashes(&self) -> Vec<Hash> {
        self.nodes.iter().map(|n| n.1).collect()
    }

    /// Its maximal subtrees: (first leaf, height, hash), left to right.
    pub fn subtrees(&self) -> Vec<(u64, u32, Hash)> {
        let mut at = self.begin;
        self.nodes
            .iter()
            .map(|&(h, hash)| {
                let s = (at, h, hash);
                at += 1u64 << h;
                s
            })
            .collect()
    }

    /// Appends one leaf.
    pub fn push_leaf(&mut self, hash: Hash) {
        // Height 0 is aligned everywhere.
        let _ = self.push_subtree(0, hash);
    }

    /// Appends a whole subtree of `2^height` leaves starting at [`end`](Self::end),
    /// which must be a multiple of `2^height`.
    pub fn push_subtree(&mut self, height: u32, hash: Hash) -> Result<(), MerkleError> {
        let size = 1u64.checked_shl(height).unwrap_or(0);
        if size == 0 || !self.end.is_multiple_of(size) || self.end.checked_add(size).is_none() {
            return Err(MerkleError::Misaligned {
                end: self.end,
                height,
            });
        }
        self.nodes.push((height, hash));
        self.end += size;
        // Two neighbours of the same height whose left one is aligned to twice that
        // size are siblings: they become their parent.
        while self.nodes.len() >= 2 {
            let (h1, right) = self.nodes[self.nodes.len() - 1];
            let (h0, left) = self.nodes[self.nodes.len() - 2];
            let left_start = self.end - (1u64 << h1) - (1u64 << h0);
            if h0 != h1 || h0 >= 63 || !left_start.is_multiple_of(1u64 << (h0 + 1)) {
                break;
            }
            self.nodes.truncate(self.nodes.len() - 2);
            self.nodes.push((h0 + 1, node_hash(&left, &right)));
        }
        Ok(())
    }

    /// Appends `other`, which must start where this range ends.
    pub fn append(&mut self, other: &CompactRange) -> Result<(), MerkleError> {
        if other.begin != self.end {
            return Err(MerkleError::Misaligned {
                end: self.end,
                height: 0,
            });
        }
        for &(h, hash) in &other.nodes {
            self.push_subtree(h, hash)?;
        }
        Ok(())
    }

    /// The RFC 6962 hash of the range's leaves, `MTH(D[begin:end])`, its subtrees
    /// folded right to left: the tree head for a frontier (`begin = 0`), and the hash
    /// of any node of a tree (a node's first leaf is aligned to its width, so its
    /// maximal subtrees are its RFC 6962 split). `None` for an empty range not at 0.
    pub fn root(&self) -> Option<Hash> {
        let mut nodes = self.nodes.iter().rev();
        let Some(&(_, last)) = nodes.next() else {
            return (self.begin == 0).then(empty_root);
        };
        Some(nodes.fold(last, |acc, (_, left)| node_hash(left, &acc)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leaves of the RFC 6962 test vectors (certificate-transparency's
    /// `merkle_tree_test.cc`, also in transparency-dev/merkle's `testonly`).
    const LEAVES: [&str; 8] = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    /// `MTH` of the first 1..8 leaves.
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    fn leaf(i: usize) -> Hash {
        leaf_hash_of(&hex::decode(LEAVES[i]).unwrap())
    }

    /// RFC 6962's recursive definition, for comparison.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn the_frontier_gives_the_rfc_6962_test_vector_heads() {
        assert_eq!(
            hex::encode(CompactRange::new(0).root().unwrap()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let mut f = CompactRange::new(0);
        for (i, want) in ROOTS.iter().enumerate() {
            f.push_leaf(leaf(i));
            assert_eq!(hex::encode(f.root().unwrap()), *want, "tree size {}", i + 1);
            assert_eq!(f.hashes().len(), (i + 1).count_ones() as usize);
        }
    }

    #[test]
    fn compact_ranges_hold_the_maximal_subtrees_and_merge_into_the_same_head() {
        let leaves: Vec<Hash> = (0..70u64)
            .map(|i| {
                leaf_hash(&ChainLink {
                    seq: i + 1,
                    hash: [i as u8; 32],
                })
            })
            .collect();
        for n in 0..leaves.len() {
            for split in 0..=n {
                // Any split point: [0, split) and [split, n), built leaf by leaf,
                // appended, give the frontier of [0, n).
                let mut left = CompactRange::new(0);
                leaves[..split].iter().for_each(|l| left.push_leaf(*l));
                let mut right = CompactRange::new(split as u64);
                leaves[split..n].iter().for_each(|l| right.push_leaf(*l));
                let blocks = decompose(split as u64, n as u64);
                assert_eq!(right.subtrees().len(), blocks.len());
                for ((s, h, hash), (bs, bh)) in right.subtrees().into_iter().zip(blocks) {
                    assert_eq!((s, h), (bs, bh));
                    let (a, b) = (s as usize, (s + (1 << h)) as usize);
                    assert_eq!(hash, mth(&leaves[a..b]));
                }
                let again =
                    CompactRange::from_hashes(split as u64, n as u64, right.hashes()).unwrap();
                assert_eq!(again, right);
                left.append(&right).unwrap();
                assert_eq!(
                    left.root().unwrap(),
                    mth(&leaves[..n]),
                    "n {n} split {split}"
                );
            }
        }
    }

    #[test]
    fn misaligned_subtrees_and_wrong_counts_are_refused() {
        let mut r = CompactRange::new(3);
        assert!(r.push_subtree(1, [0; 32]).is_err());
        assert!(CompactRange::from_hashes(0, 3, vec![[0; 32]]).is_err());
    }
}
