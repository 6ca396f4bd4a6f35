//! libtest's `--format json`: one object per line, the fields in libtest's order.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::format::{Formatter, Status, Summary, TrialResult};

pub(super) struct Json {
    out: Box<dyn Write>,
    show_output: bool,
}

impl Json {
    pub(super) fn new(out: Box<dyn Write>, show_output: bool) -> Self {
        Json { out, show_output }
    }
}

impl Formatter for Json {
    fn run_start(&mut self, count: usize) -> io::Result<()> {
        writeln!(
            self.out,
            r#"{{ "type": "suite", "event": "started", "test_count": {count} }}"#
        )
    }

    fn started(&mut self, name: &str) -> io::Result<()> {
        writeln!(
            self.out,
            r#"{{ "type": "test", "event": "started", "name": "{}" }}"#,
            escape(name)
        )?;
        self.out.flush()
    }

    fn finished(&mut self, result: &TrialResult) -> io::Result<()> {
        let event = match result.status {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Ignored => "ignored",
        };
        let mut line = format!(
            r#"{{ "type": "test", "name": "{}", "event": "{event}""#,
            escape(result.name)
        );
        if let Some(time) = result.time {
            let _ = write!(line, r#", "exec_time": {}"#, time.as_secs_f64());
        }
        let shows_output = self.show_output || result.status != Status::Ok;
        if shows_output && !result.stdout.is_empty() {
            let _ = write!(line, r#", "stdout": "{}""#, escape(result.stdout));
        }
        if let Some(reason) = result
            .ignore_message
            .filter(|_| result.status == Status::Ignored)
        {
            let _ = write!(line, r#", "message": "{}""#, escape(reason));
        }
        writeln!(self.out, "{line} }}")?;
        self.out.flush()
    }

    fn run_finish(&mut self, summary: &Summary) -> io::Result<()> {
        writeln!(
            self.out,
            r#"{{ "type": "suite", "event": "{}", "passed": {}, "failed": {}, "ignored": {}, "measured": 0, "filtered_out": {}, "exec_time": {} }}"#,
            if summary.failed == 0 { "ok" } else { "failed" },
            summary.passed,
            summary.failed,
            summary.ignored,
            summary.filtered_out,
            summary.elapsed.as_secs_f64()
        )?;
        self.out.flush()
    }
}

/// `text` as the inside of a JSON string, escaped as libtest escapes it.
pub(super) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            '\x08' => escaped.push_str("\\b"),
            '\x0c' => escaped.push_str("\\f"),
            c if c < ' ' || c == '\x7f' => {
                let _ = write!(escaped, "\\u{:04x}", c as u32);
            }
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_libtest() {
        assert_eq!(escape("a\"b\\c\nd\te\x1b"), "a\\\"b\\\\c\\nd\\te\\u001b");
        let parsed: String =
            crate::json::from_slice(format!("\"{}\"", escape("x\u{1}\u{7f}é")).as_bytes()).unwrap();
        assert_eq!(parsed, "x\u{1}\u{7f}é");
    }
}
