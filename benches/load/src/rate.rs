//! Throughput of an operation run in parallel loops for a fixed time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::api::Failure;

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rate {
    pub completed: u64,
    pub errors: u64,
    pub seconds: f64,
    pub per_second: f64,
    /// Completions in each whole second of the run.
    pub each_second: Vec<u64>,
}

/// Runs `op` in `workers` loops for `secs`; counts completions.
pub async fn measure_rate<F, Fut>(workers: usize, secs: u64, op: F) -> Rate
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), Failure>> + Send,
{
    let completed = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let (op, completed, errors, stop) =
            (op.clone(), completed.clone(), errors.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                match op(worker as u64 * 1_000_000 + n).await {
                    Ok(()) => completed.fetch_add(1, Ordering::Relaxed),
                    Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    let mut each_second = Vec::new();
    let mut previous = 0;
    for _ in 0..secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = completed.load(Ordering::Relaxed);
        each_second.push(now - previous);
        previous = now;
    }
    stop.store(true, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    for task in tasks {
        let _ = task.await;
    }
    let completed = completed.load(Ordering::Relaxed);
    Rate {
        completed,
        errors: errors.load(Ordering::Relaxed),
        seconds,
        per_second: completed as f64 / seconds,
        each_second,
    }
}
