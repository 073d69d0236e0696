//! Progress bars (indicatif) for interactive runs; silent otherwise.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Bars {
    multi: Option<MultiProgress>,
}

#[derive(Clone)]
pub struct Bar(Option<ProgressBar>);

impl Bars {
    pub fn new(enabled: bool) -> Bars {
        Bars {
            multi: enabled.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }

    pub fn layer(&self, name: &str, len: u64) -> Bar {
        Bar(self.multi.as_ref().map(|m| {
            let b = m.add(ProgressBar::new(len));
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix:>7} [{bar:30}] {pos}/{len} {elapsed:>4} {msg}",
                )
                .expect("template")
                .progress_chars("=> "),
            );
            b.set_prefix(name.to_string());
            b
        }))
    }
}

impl Bar {
    pub fn step(&self, what: &str) {
        if let Some(b) = &self.0 {
            b.set_message(what.to_string());
            b.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_with_message("done");
        }
    }
}
