//! The Prometheus text exposition format, version 0.0.4 (what Prometheus scrapes and
//! `promtool check metrics` reads): per metric a `# HELP` and a `# TYPE` line, then one line
//! per sample, `name{label="value",...} number`. Label values and help texts are escaped here,
//! once, so that a neighbor description or a helper name holding a quote, a backslash or a
//! newline cannot end a line or a value early.

use std::fmt::Write;

/// The `Content-Type` of [`Exposition::finish`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

/// A text being written, one metric family after the other.
#[derive(Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// Starts the metric `name` (its samples follow, through the returned writer). Each name
    /// is started once: the format allows one `# TYPE` line per metric.
    pub fn metric(&mut self, name: &'static str, kind: Kind, help: &str) -> Metric<'_> {
        let kind_word = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind_word}");
        Metric {
            out: &mut self.out,
            name,
        }
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Writes the samples of one metric.
pub struct Metric<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl Metric<'_> {
    /// One sample with `labels` (name, value); label names are fixed words of this program,
    /// values are escaped.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> &mut Self {
        self.out.push_str(self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (name, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{name}=\"{}\"", escape_label(value));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", number(value));
        self
    }
}

/// A sample value: integers without a fraction, as Prometheus prints them.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// A label value: backslash, double quote and line feed escaped (the format's three).
pub fn escape_label(value: &str) -> String {
    let mut s = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// A help text: backslash and line feed escaped (quotes are literal there).
fn escape_help(help: &str) -> String {
    let mut s = String::with_capacity(help.len());
    for c in help.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_with_quotes_backslashes_and_newlines_stay_on_one_line() {
        let mut e = Exposition::default();
        e.metric("bgpinject_test", Kind::Gauge, "a \"help\"\nwith \\")
            .sample(&[("name", "a\"b\\c\nd"), ("x", "")], 3.0)
            .sample(&[], 0.5);
        let text = e.finish();
        assert_eq!(
            text,
            "# HELP bgpinject_test a \"help\"\\nwith \\\\\n\
             # TYPE bgpinject_test gauge\n\
             bgpinject_test{name=\"a\\\"b\\\\c\\nd\",x=\"\"} 3\n\
             bgpinject_test 0.5\n"
        );
    }

    #[test]
    fn numbers_are_printed_as_prometheus_reads_them() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(12345678901.0), "12345678901");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
    }
}
