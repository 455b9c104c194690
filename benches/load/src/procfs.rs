//! What /proc says about a process: resident memory and the open-files limit.

/// Resident memory of a process (kB), from /proc.
pub fn rss_kb(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// This process's open-files limit.
pub fn nofile_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|soft| soft.parse().ok())
}

/// Growth of a process's RSS per item held: `(held - idle) / count`, in bytes; `None` without
/// both readings or items.
pub fn rss_bytes_per(idle_kb: Option<u64>, held_kb: Option<u64>, count: u64) -> Option<f64> {
    match (idle_kb, held_kb) {
        (Some(idle), Some(held)) if count > 0 => {
            Some(held.saturating_sub(idle) as f64 * 1024.0 / count as f64)
        }
        _ => None,
    }
}
