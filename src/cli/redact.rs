//! `tracedeck redact IN OUT --profile strict|headers|addresses`: a
//! sanitized copy of a capture to hand over (README, "Redacted sharing").

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use clap::Args;

use tracedeck::redact::cryptopan::KEY_LEN;
use tracedeck::redact::rewrite::redact_capture;
use tracedeck::redact::{Profile, ProfileName, Redactor};

const EXAMPLES: &str = "\
Examples:
  tracedeck redact out.pcap shared.pcap                       everything: headers, bodies, addresses
  tracedeck redact out.pcapng shared.pcapng --profile headers --mask-header X-Session";

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct RedactArgs {
    /// The capture to redact (pcap or pcapng, optionally gzip-compressed).
    input: PathBuf,
    /// Where to write the redacted capture (pcap in, pcap out; pcapng in, pcapng out).
    output: PathBuf,
    /// strict: header values, query values, bodies, non-HTTP payload and
    /// addresses; headers: header and query values, bodies but static
    /// assets; addresses: IP addresses only.
    #[arg(long, default_value = "strict", value_parser = parse_profile)]
    profile: ProfileName,
    /// Also mask the values of this header (repeatable).
    #[arg(long = "mask-header", value_name = "NAME")]
    mask_headers: Vec<String>,
    /// Pseudonymise addresses with this key (64 hex digits), so that two
    /// redactions map addresses alike; by default a random key, thrown away.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
}

fn parse_profile(s: &str) -> Result<ProfileName, String> {
    s.parse()
}

fn read_key(path: &Path) -> anyhow::Result<[u8; KEY_LEN]> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    let hex = text.trim();
    let mut key = [0u8; KEY_LEN];
    if hex.len() != KEY_LEN * 2 || !hex.is_ascii() {
        bail!("{}: a key is {} hex digits", path.display(), KEY_LEN * 2);
    }
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).with_context(|| {
            format!("{}: column {}: not a hex digit", path.display(), 2 * i + 1)
        })?;
    }
    Ok(key)
}

pub fn run(args: RedactArgs) -> anyhow::Result<()> {
    let key = match &args.key_file {
        Some(path) => read_key(path)?,
        None => Redactor::random_key().map_err(|e| anyhow!("getting a random key: {e}"))?,
    };
    let input = args
        .input
        .canonicalize()
        .with_context(|| format!("{}", args.input.display()))?;
    if args.output.canonicalize().ok() == Some(input) {
        bail!(
            "{}: the output would overwrite the input",
            args.output.display()
        );
    }
    let profile = Profile::named(args.profile).with_extra_headers(&args.mask_headers);
    let redactor = Redactor::new(profile, &key);
    let file = File::create(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let mut out = BufWriter::new(file);
    let result = redact_capture(&redactor, &args.input, &mut out);
    drop(out);
    match result {
        Ok(done) => {
            eprintln!(
                "tracedeck: {} frames redacted into {}",
                done.frames,
                args.output.display()
            );
            Ok(())
        }
        Err(e) => {
            // A half-written file must not pass for a redacted capture.
            let _ = std::fs::remove_file(&args.output);
            Err(e.into())
        }
    }
}
