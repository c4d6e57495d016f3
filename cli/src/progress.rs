//! The engine's progress port on a terminal: which stage is running and the
//! time left. On a terminal a spinner (indicatif) says it on one line that
//! is cleared before the verdict prints; elsewhere (CI logs, a pipe) each
//! stage is one plain line on standard error.

use std::io::IsTerminal;
use std::time::Duration;

use greenlight::{Progress, Stage};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the spinner turns.
const TICK: Duration = Duration::from_millis(120);

/// Shows a judgement's stages on standard error.
#[derive(Debug)]
pub struct Terminal {
    /// The spinner, when standard error is a terminal.
    spinner: Option<ProgressBar>,
}

impl Terminal {
    /// A spinner when standard error is a terminal, plain lines otherwise.
    pub fn on_stderr() -> Terminal {
        let spinner = std::io::stderr().is_terminal().then(|| {
            let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                spinner.set_style(style);
            }
            spinner.enable_steady_tick(TICK);
            spinner
        });
        Terminal { spinner }
    }

    /// Clears the spinner, before the verdict is printed.
    pub fn finish(&self) {
        if let Some(spinner) = &self.spinner {
            spinner.finish_and_clear();
        }
    }

    fn say(&self, line: String) {
        match &self.spinner {
            Some(spinner) => spinner.set_message(line),
            None => eprintln!("greenlight: {line}"),
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Progress for Terminal {
    fn started(&self, stage: Stage, time_left: Duration) {
        self.say(line(stage, "running", time_left));
    }

    fn waiting(&self, stage: Stage, for_at_most: Duration) {
        self.say(line(stage, "waiting", for_at_most));
    }
}

/// `readiness: running, 297 s left`.
fn line(stage: Stage, doing: &str, left: Duration) -> String {
    format!("{}: {doing}, {} s left", stage.name(), left.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_the_stage_and_the_time_left() {
        assert_eq!(
            line(Stage::Readiness, "running", Duration::from_millis(297_400)),
            "readiness: running, 297 s left"
        );
    }
}
