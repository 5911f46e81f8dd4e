//! CRC-32C (Castagnoli), the frame and header checksum.
//!
//! Uses the CPU's CRC32 instruction when present (x86_64 SSE4.2, detected at run time), and a portable
//! slicing-by-8 table otherwise. Both produce identical results (tested against each other and against
//! the standard check value).

/// CRC-32C of `data` (initial value and final xor `0xFFFF_FFFF`, reflected, as in iSCSI / ext4).
pub fn crc32c(data: &[u8]) -> u32 {
    !update(!0, data)
}

/// CRC-32C of `a ++ b`, given `crc = crc32c(a)`.
pub fn extend(crc: u32, b: &[u8]) -> u32 {
    !update(!crc, b)
}

/// Continues a raw (non-inverted) CRC state over more bytes.
fn update(state: u32, data: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if has_sse42() {
            // SAFETY: the CPU supports SSE4.2, checked just above.
            return unsafe { update_sse42(state, data) };
        }
    }
    update_soft(state, data)
}

/// Whether the CPU has SSE4.2 (the CRC32 instruction), asked once with a single CPUID. Cheaper than
/// `is_x86_feature_detected!`, which asks for every feature at once: under a hypervisor each CPUID
/// traps, and that first detection was about 2% of a one-message `poke` process.
#[cfg(target_arch = "x86_64")]
fn has_sse42() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    static KNOWN: AtomicU8 = AtomicU8::new(0);
    match KNOWN.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            // CPUID leaf 1, ECX bit 20: SSE4.2. Leaf 1 exists on every x86_64 CPU.
            // SAFETY: CPUID has no preconditions on x86_64 (the intrinsic is a safe fn in newer
            // Rust, hence the allow; our rust-version may still call it unsafe).
            #[allow(unused_unsafe)]
            let leaf1 = unsafe { std::arch::x86_64::__cpuid(1) };
            let yes = leaf1.ecx & (1 << 20) != 0;
            KNOWN.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
unsafe fn update_sse42(mut state: u32, data: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};
    let mut chunks = data.chunks_exact(8);
    let mut s = state as u64;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        s = _mm_crc32_u64(s, u64::from_le_bytes(w));
    }
    state = s as u32;
    for &b in chunks.remainder() {
        state = _mm_crc32_u8(state, b);
    }
    state
}

const POLY: u32 = 0x82F6_3B78;

const fn make_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut i = 0;
    while i < 256 {
        let mut j = 1;
        while j < 8 {
            let prev = t[j - 1][i];
            t[j][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            j += 1;
        }
        i += 1;
    }
    t
}

static TABLES: [[u32; 256]; 8] = make_tables();

fn update_soft(mut state: u32, data: &[u8]) -> u32 {
    let t = &TABLES;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let lo = state ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        state = t[7][(lo & 0xFF) as usize]
            ^ t[6][((lo >> 8) & 0xFF) as usize]
            ^ t[5][((lo >> 16) & 0xFF) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][c[4] as usize]
            ^ t[2][c[5] as usize]
            ^ t[1][c[6] as usize]
            ^ t[0][c[7] as usize];
    }
    for &b in chunks.remainder() {
        state = (state >> 8) ^ t[0][((state ^ b as u32) & 0xFF) as usize];
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_one_cpuid_check_agrees_with_std_detection() {
        for _ in 0..2 {
            assert_eq!(has_sse42(), std::arch::is_x86_feature_detected!("sse4.2"));
        }
    }

    #[test]
    fn hardware_and_software_paths_agree_on_every_length() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 + 7) as u8).collect();
        for n in 0..data.len() {
            assert_eq!(
                update(!0, &data[..n]),
                update_soft(!0, &data[..n]),
                "len {n}"
            );
        }
    }
}
