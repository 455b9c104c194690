//! Identifiers from the operating system's CSPRNG.

/// Fills `N` bytes from the OS CSPRNG.
///
/// A failing OS random source is an environment fault this server cannot work around
/// (and must not paper over with predictable ids), so it stops the process.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if let Err(error) = getrandom::fill(&mut bytes) {
        tracing::error!(%error, "the OS random source failed");
        std::process::abort();
    }
    bytes
}

/// An upper-case, version-4 GUID such as `0F8FAD5B-D9CB-469F-A165-70867728950E`.
pub fn guid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = hex_upper(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A random opaque id of `N` bytes as lower-case hex (session ids, socket.io sids).
pub fn opaque<const N: usize>() -> String {
    hex_upper(&random_bytes::<N>()).to_ascii_lowercase()
}

fn hex_upper(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_shaped_and_distinct() {
        let a = guid();
        let b = guid();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a, a.to_ascii_uppercase());
        let groups: Vec<_> = a.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12]);
        assert_eq!(a.as_bytes()[14], b'4');
        assert_eq!(opaque::<8>().len(), 16);
    }
}
