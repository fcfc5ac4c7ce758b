//! Cooperative time budgets: long loops call [`Deadline::check`] and give up cleanly.

use std::time::{Duration, Instant};

use crate::error::StageError;

/// The instant by which a stage must finish.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    end: Instant,
}

impl Deadline {
    /// A deadline `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Deadline {
            end: Instant::now() + budget,
        }
    }

    /// A deadline that never passes (for tests and tools).
    pub fn none() -> Self {
        Deadline::after(Duration::from_secs(60 * 60 * 24 * 365))
    }

    pub fn expired(&self) -> bool {
        Instant::now() >= self.end
    }

    /// `Err(StageError::Timeout)` once the budget is spent.
    pub fn check(&self) -> Result<(), StageError> {
        if self.expired() {
            Err(StageError::Timeout)
        } else {
            Ok(())
        }
    }
}
