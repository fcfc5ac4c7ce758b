//! Progress events to a caller-owned sink: the kiosk draws a bar, the cloud streams SSE.

use crate::report::{Stage, StageStatus};

/// One step of progress. `progress` is 0–100 over the whole pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent {
    StageStarted {
        stage: Stage,
        progress: u8,
    },
    StageFinished {
        stage: Stage,
        status: StageStatus,
        ms: u64,
        progress: u8,
    },
}

impl ProgressEvent {
    pub fn progress(&self) -> u8 {
        match self {
            ProgressEvent::StageStarted { progress, .. }
            | ProgressEvent::StageFinished { progress, .. } => *progress,
        }
    }
}

/// Receives progress events. Implemented for `()` (ignore) and for any `FnMut(&ProgressEvent)`.
pub trait ProgressSink {
    fn event(&mut self, event: &ProgressEvent);
}

impl ProgressSink for () {
    fn event(&mut self, _event: &ProgressEvent) {}
}

impl<F: FnMut(&ProgressEvent)> ProgressSink for F {
    fn event(&mut self, event: &ProgressEvent) {
        self(event)
    }
}
