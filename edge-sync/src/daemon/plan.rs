//! Reconnect backoff: exponential with full jitter between half and all of the current step.

use std::time::Duration;

/// Exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    step: Duration,
}

impl Backoff {
    /// From `min`, doubling up to `max`.
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            step: min,
        }
    }

    /// Back to the shortest delay (after a successful connect).
    pub fn reset(&mut self) {
        self.step = self.min;
    }

    /// The next delay: uniform in [step/2, step], then the step doubles (capped).
    pub fn next_delay(&mut self) -> Duration {
        use rand::Rng as _;
        let step = self.step;
        self.step = (self.step * 2).min(self.max);
        let half = step / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::thread_rng().gen_range(0..=jitter_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_with_jitter_and_caps() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let steps = [100u64, 200, 400, 800, 1000, 1000];
        for want in steps {
            let d = b.next_delay().as_millis() as u64;
            assert!(
                d >= want / 2 && d <= want,
                "{d} outside [{}, {want}]",
                want / 2
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
