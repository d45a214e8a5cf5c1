//! What the benchmark binaries (`tests/benches/`, `service/benches/`) share: their numeric
//! command-line options and the median of their rounds.

/// The whole number after `name` on the command line (`--rows 300`), or `default` without one;
/// anything else after it ends the run with a message saying what is wanted.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    let Some(value) = args
        .iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
    else {
        return default;
    };
    value.parse().unwrap_or_else(|_| {
        eprintln!("{name} needs a whole number, not {value}");
        std::process::exit(2)
    })
}

/// The middle value of `xs` (not empty), the upper one of the two middle values of an even count.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
