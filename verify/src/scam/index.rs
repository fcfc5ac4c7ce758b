//! A near-duplicate index of 64-bit perceptual hashes: known scam images (reference data) and
//! images this kiosk has checked. Multi-index hashing (Norouzi et al., 2012): each hash is cut
//! into four 16-bit chunks, each chunk indexes a table; two hashes within Hamming distance `r`
//! agree to within `r / 4` bits on at least one chunk (pigeonhole), so a query probes only the
//! buckets within that small distance of its own chunks and checks the few hashes found there.
//!
//! The hash itself is a gradient hash (dHash) of 8 × 8 bits from the `image_hasher` crate: the DCT
//! mean hash was tried first and put two unrelated smooth pictures only 12 bits apart.

use image::DynamicImage;
use image_hasher::{HashAlg, HasherConfig};

const CHUNKS: usize = 4;
const BUCKETS: usize = 1 << 16;

/// The 64-bit perceptual hash (gradient hash, 8 × 8) of an image.
pub fn phash(img: &DynamicImage) -> u64 {
    let hasher = HasherConfig::new()
        .hash_size(8, 8)
        .hash_alg(HashAlg::Gradient)
        .to_hasher();
    let hash = hasher.hash_image(img);
    hash.as_bytes()
        .iter()
        .take(8)
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// A hash found near the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbour {
    /// Position of the hash in insertion order (what [`HashIndex::insert`] returned).
    pub id: u32,
    /// Hamming distance to the query, 0 to 64.
    pub distance: u32,
}

/// The index. Memory: the hashes (8 bytes each), four ids per hash, and four tables of 65 536
/// bucket headers (about 6 MB in all for 100 000 hashes).
#[derive(Debug, Clone)]
pub struct HashIndex {
    hashes: Vec<u64>,
    tables: Vec<Vec<Vec<u32>>>,
}

impl Default for HashIndex {
    fn default() -> Self {
        HashIndex::new()
    }
}

fn chunk(hash: u64, i: usize) -> u16 {
    // Truncation is the point: the i-th 16-bit slice.
    (hash >> (16 * i)) as u16
}

impl HashIndex {
    /// An empty index.
    pub fn new() -> HashIndex {
        HashIndex {
            hashes: Vec::new(),
            tables: (0..CHUNKS).map(|_| vec![Vec::new(); BUCKETS]).collect(),
        }
    }

    /// Builds an index of `hashes`; ids are their positions.
    pub fn from_hashes(hashes: impl IntoIterator<Item = u64>) -> HashIndex {
        let mut index = HashIndex::new();
        for h in hashes {
            index.insert(h);
        }
        index
    }

    /// How many hashes the index holds.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The hash with this id.
    pub fn get(&self, id: u32) -> Option<u64> {
        self.hashes.get(id as usize).copied()
    }

    /// Adds a hash and returns its id. The same hash may be added again (each sighting counts).
    pub fn insert(&mut self, hash: u64) -> u32 {
        let id = u32::try_from(self.hashes.len()).unwrap_or(u32::MAX);
        self.hashes.push(hash);
        for (i, table) in self.tables.iter_mut().enumerate() {
            if let Some(bucket) = table.get_mut(usize::from(chunk(hash, i))) {
                bucket.push(id);
            }
        }
        id
    }

    /// Every hash within Hamming distance `radius` of `query`, nearest first (ties by id).
    pub fn within(&self, query: u64, radius: u32) -> Vec<Neighbour> {
        let radius = radius.min(64);
        let per_chunk = radius / CHUNKS as u32;
        let mut out = Vec::new();
        for (i, table) in self.tables.iter().enumerate() {
            let key = chunk(query, i);
            for_each_within(key, per_chunk, &mut |probe| {
                let Some(bucket) = table.get(usize::from(probe)) else {
                    return;
                };
                for &id in bucket {
                    let Some(&h) = self.hashes.get(id as usize) else {
                        continue;
                    };
                    // Reported by an earlier chunk already?
                    let earlier =
                        (0..i).any(|j| (chunk(h, j) ^ chunk(query, j)).count_ones() <= per_chunk);
                    if earlier {
                        continue;
                    }
                    let distance = (h ^ query).count_ones();
                    if distance <= radius {
                        out.push(Neighbour { id, distance });
                    }
                }
            });
        }
        out.sort_by_key(|n| (n.distance, n.id));
        out
    }

    /// The same answer as [`HashIndex::within`] by comparing with every hash: the baseline the
    /// benchmark measures against, and the oracle the tests check against.
    pub fn within_linear(&self, query: u64, radius: u32) -> Vec<Neighbour> {
        let mut out: Vec<Neighbour> = self
            .hashes
            .iter()
            .enumerate()
            .filter_map(|(id, &h)| {
                let distance = (h ^ query).count_ones();
                (distance <= radius).then(|| Neighbour {
                    id: u32::try_from(id).unwrap_or(u32::MAX),
                    distance,
                })
            })
            .collect();
        out.sort_by_key(|n| (n.distance, n.id));
        out
    }
}

/// Calls `f` with every 16-bit value within Hamming distance `d` of `key` (each once).
fn for_each_within(key: u16, d: u32, f: &mut impl FnMut(u16)) {
    fn flip(value: u16, from_bit: u32, left: u32, f: &mut impl FnMut(u16)) {
        f(value);
        if left == 0 {
            return;
        }
        for bit in from_bit..16 {
            flip(value ^ (1 << bit), bit + 1, left - 1, f);
        }
    }
    flip(key, 0, d.min(16), f);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn probes_every_value_within_the_distance_once() {
        for d in 0..=3u32 {
            let mut seen = Vec::new();
            for_each_within(0xBEEF, d, &mut |v| seen.push(v));
            let n = seen.len();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), n, "duplicates at d={d}");
            let want: usize = (0..=d as usize).map(|k| binomial(16, k)).sum();
            assert_eq!(n, want, "d={d}");
            assert!(seen.iter().all(|v| (v ^ 0xBEEF).count_ones() <= d));
        }
    }

    fn binomial(n: usize, k: usize) -> usize {
        (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
    }

    proptest! {
        #[test]
        fn agrees_with_a_linear_scan(
            base in proptest::collection::vec(any::<u64>(), 1..200),
            flips in proptest::collection::vec((0usize..200, any::<u64>(), 0u32..12), 0..200),
            query_from in 0usize..200,
            query_flip in any::<u64>(),
            radius in 0u32..20,
        ) {
            // Near copies of the base hashes, so that small radii find something.
            let mut hashes = base.clone();
            for (i, mask, bits) in flips {
                let h = base[i % base.len()];
                hashes.push(h ^ keep_bits(mask, bits));
            }
            let index = HashIndex::from_hashes(hashes.iter().copied());
            let query = base[query_from % base.len()] ^ keep_bits(query_flip, radius / 2 + 1);
            prop_assert_eq!(index.within(query, radius), index.within_linear(query, radius));
        }
    }

    /// `mask` with all but its lowest `bits` set bits cleared.
    fn keep_bits(mut mask: u64, bits: u32) -> u64 {
        let mut out = 0;
        for _ in 0..bits {
            if mask == 0 {
                break;
            }
            let low = mask & mask.wrapping_neg();
            out |= low;
            mask ^= low;
        }
        out
    }

    fn picture() -> image::RgbImage {
        image::RgbImage::from_fn(320, 240, |x, y| {
            let band = ((x / 40 + y / 30) % 3) as u8;
            let v = (x * 255 / 320) as u8 / 2 + band * 40;
            image::Rgb([v, v.wrapping_add((y % 50) as u8), 255 - v])
        })
    }

    #[test]
    fn a_resized_recompressed_copy_hashes_near_and_another_picture_far() {
        let original = DynamicImage::ImageRgb8(picture());
        let resized = original.resize_exact(240, 180, image::imageops::FilterType::Triangle);
        let mut jpeg = Vec::new();
        resized
            .write_to(
                &mut std::io::Cursor::new(&mut jpeg),
                image::ImageFormat::Jpeg,
            )
            .expect("jpeg encodes");
        let copy = image::load_from_memory(&jpeg).expect("jpeg decodes");
        let other = DynamicImage::ImageRgb8(image::RgbImage::from_fn(320, 240, |x, y| {
            let (dx, dy) = (x.abs_diff(100), y.abs_diff(150));
            let v = ((dx * dx + dy * dy) / 90 % 256) as u8;
            image::Rgb([v, v / 2, 200])
        }));
        let (h, c, o) = (phash(&original), phash(&copy), phash(&other));
        assert!(
            (h ^ c).count_ones() <= 6,
            "copy at {}",
            (h ^ c).count_ones()
        );
        assert!(
            (h ^ o).count_ones() >= 16,
            "other at {}",
            (h ^ o).count_ones()
        );
        let index = HashIndex::from_hashes([o, h]);
        assert_eq!(index.within(c, 10).first().map(|n| n.id), Some(1));
    }

    #[test]
    fn duplicates_are_each_a_sighting() {
        let mut index = HashIndex::new();
        let a = index.insert(0x0123_4567_89AB_CDEF);
        let b = index.insert(0x0123_4567_89AB_CDEF);
        index.insert(!0x0123_4567_89AB_CDEF);
        let hits = index.within(0x0123_4567_89AB_CDEE, 3);
        assert_eq!(
            hits,
            vec![
                Neighbour { id: a, distance: 1 },
                Neighbour { id: b, distance: 1 }
            ]
        );
        assert_eq!(index.len(), 3);
        assert!(index.within(0, 64).len() == 3);
    }
}
