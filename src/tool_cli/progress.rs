//! Progress of a tool run from the command line, drawn from the
//! `notifications/progress` the tool sends: a bar redrawn in place when
//! stderr is a terminal, one plain line per notification otherwise (logs,
//! CI). Hand-rolled: a dozen lines cost less than a dependency.

use std::{
    io::{IsTerminal, Write},
    sync::Mutex,
};

/// Where progress goes; one per call.
#[derive(Debug)]
pub struct ProgressView {
    terminal: bool,
    /// A bar is on screen (to be cleared before other output).
    drawn: Mutex<bool>,
}

const BAR_WIDTH: usize = 24;
const MESSAGE_WIDTH: usize = 60;

impl ProgressView {
    /// A bar when stderr is a terminal, lines otherwise.
    pub fn for_stderr() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            drawn: Mutex::new(false),
        }
    }

    /// One notification: `done` of `total` (when known), with a message.
    pub fn update(&self, done: f64, total: Option<f64>, message: Option<&str>) {
        let count = match total {
            Some(total) => format!("{}/{}", whole(done), whole(total)),
            None => whole(done),
        };
        let message = message.unwrap_or("").trim();
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let filled = match total {
                Some(total) if total > 0.0 => {
                    ((done / total).clamp(0.0, 1.0) * BAR_WIDTH as f64) as usize
                }
                _ => 0,
            };
            let bar = format!("{}{}", "#".repeat(filled), "-".repeat(BAR_WIDTH - filled));
            let short: String = message.chars().take(MESSAGE_WIDTH).collect();
            let _ = write!(err, "\r\x1b[2K[{bar}] {count} {short}");
            *self.drawn.lock().unwrap_or_else(|p| p.into_inner()) = true;
        } else if message.is_empty() {
            let _ = writeln!(err, "progress {count}");
        } else {
            let _ = writeln!(err, "progress {count}: {message}");
        }
        let _ = err.flush();
    }

    /// Clears the bar (before the result or an error is printed).
    pub fn clear(&self) {
        let mut drawn = self.drawn.lock().unwrap_or_else(|p| p.into_inner());
        if *drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            *drawn = false;
        }
    }
}

fn whole(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.1}")
    }
}
