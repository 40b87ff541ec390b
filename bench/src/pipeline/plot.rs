//! A latency-percentile plot as a self-contained SVG: one curve per series, latency on a log
//! axis against the percentile on the usual "nines" axis (50, 90, 99, 99.9, ...), the way
//! HdrHistogram's plotter draws it. No dependencies: it is a few hundred bytes of text per
//! curve.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

/// One curve.
#[derive(Debug)]
pub struct Series<'a> {
    /// Legend label.
    pub label: String,
    /// Latencies, nanoseconds.
    pub hist: &'a Histogram<u64>,
}

const W: f64 = 1000.0;
const H: f64 = 520.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 330.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;
const COLORS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
/// Nines on the x axis: 0 = p0, 1 = p90, 2 = p99, ... up to p99.999.
const MAX_NINES: f64 = 5.0;

/// Quantile at `nines` on the x axis (`1 - 10^-nines`).
fn quantile(nines: f64) -> f64 {
    1.0 - 10f64.powf(-nines)
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.0} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.0} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.0} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The SVG text. Empty series are listed in the legend as "no samples" and not drawn.
pub fn svg(title: &str, series: &[Series<'_>]) -> String {
    let drawn: Vec<&Series<'_>> = series.iter().filter(|s| !s.hist.is_empty()).collect();
    let lo = drawn.iter().map(|s| s.hist.min().max(1)).min().unwrap_or(1) as f64;
    let hi = drawn.iter().map(|s| s.hist.max().max(2)).max().unwrap_or(1000) as f64;
    let (y0, y1) = (lo.log10().floor(), hi.log10().ceil().max(lo.log10().floor() + 1.0));
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x = |nines: f64| LEFT + pw * nines / MAX_NINES;
    let y = |ns: f64| TOP + ph * (1.0 - (ns.max(1.0).log10() - y0) / (y1 - y0));

    let mut o = String::new();
    let _ = writeln!(
        o,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"##
    );
    let _ = writeln!(o, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = writeln!(
        o,
        r##"<text x="{}" y="24" font-size="15" font-weight="bold">{}</text>"##,
        LEFT,
        escape(title)
    );
    // Horizontal grid: one line per decade.
    let mut d = y0;
    while d <= y1 + 1e-9 {
        let v = 10f64.powf(d);
        let yy = y(v);
        let _ = writeln!(
            o,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}" stroke="#dddddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + pw,
            LEFT - 6.0,
            yy + 4.0,
            fmt_ns(v)
        );
        d += 1.0;
    }
    // Vertical grid: the nines.
    for (n, label) in
        [(0.0, "0"), (1.0, "90"), (2.0, "99"), (3.0, "99.9"), (4.0, "99.99"), (5.0, "99.999")]
    {
        let xx = x(n);
        let _ = writeln!(
            o,
            r##"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{:.1}" stroke="#dddddd"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            TOP + ph,
            TOP + ph + 18.0
        );
    }
    let xm = x(std::f64::consts::LOG10_2); // p50: 1 - 10^-log10(2) = 0.5
    let _ = writeln!(
        o,
        r##"<line x1="{xm:.1}" y1="{TOP}" x2="{xm:.1}" y2="{:.1}" stroke="#eeeeee" stroke-dasharray="4 3"/><text x="{xm:.1}" y="{:.1}" text-anchor="middle" fill="#888888">50</text>"##,
        TOP + ph,
        TOP + ph + 18.0
    );
    let _ = writeln!(
        o,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile</text>"##,
        LEFT + pw / 2.0,
        H - 16.0
    );
    let _ = writeln!(
        o,
        r##"<text transform="translate(18 {:.1}) rotate(-90)" text-anchor="middle">tick-to-order latency</text>"##,
        TOP + ph / 2.0
    );
    let _ = writeln!(
        o,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#444444"/>"##
    );
    for (i, s) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let ly = TOP + 10.0 + 22.0 * i as f64;
        let lx = LEFT + pw + 16.0;
        let label = if !s.hist.is_empty() {
            format!("{} (p50 {})", s.label, fmt_ns(s.hist.value_at_quantile(0.5) as f64))
        } else {
            format!("{} (no samples)", s.label)
        };
        let _ = writeln!(
            o,
            r##"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            lx + 22.0,
            lx + 28.0,
            ly + 4.0,
            escape(&label)
        );
        if s.hist.is_empty() {
            continue;
        }
        // Past the largest quantile the samples resolve, the curve would be flat at max.
        let resolvable = (s.hist.len() as f64).log10().min(MAX_NINES);
        let mut points = String::new();
        let steps = 200;
        for k in 0..=steps {
            let nines = resolvable * f64::from(k) / f64::from(steps);
            let v = s.hist.value_at_quantile(quantile(nines)) as f64;
            let _ = write!(points, "{:.1},{:.1} ", x(nines), y(v));
        }
        let _ = writeln!(
            o,
            r##"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"##,
            points.trim_end()
        );
    }
    o.push_str("</svg>\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_curve_per_non_empty_series() {
        let mut a = Histogram::<u64>::new(3).unwrap();
        for v in 1..=10_000u64 {
            a.record(100 + v % 900).unwrap();
        }
        let empty = Histogram::<u64>::new(3).unwrap();
        let s = svg(
            "t <&>",
            &[Series { label: "a".into(), hist: &a }, Series { label: "b".into(), hist: &empty }],
        );
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"));
        assert_eq!(s.matches("<polyline").count(), 1);
        assert!(s.contains("b (no samples)"));
        assert!(s.contains("t &lt;&amp;&gt;"));
        assert!(!s.contains("NaN") && !s.contains("inf"));
    }
}
