//! Any bytes as a capture file: the `<recv_ns> <frame>` line parser must return frames or a
//! line error, never panic; and the frames it returns, written back in the same format, must
//! read back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickline_feeds::capture::CaptureReader;

fuzz_target!(|data: &[u8]| {
    let mut r = CaptureReader::from_reader(data, "fuzz");
    let mut frames = Vec::new();
    loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                assert!(!f.frame.is_empty());
                assert!(f.recv_ns.0 >= 0);
                frames.push((f.recv_ns, f.frame.to_vec()));
            }
            Ok(None) | Err(_) => break,
        }
    }
    // Round trip: lines written as `<ns> <frame>` read back unchanged.
    let mut text = Vec::new();
    for (ns, f) in &frames {
        text.extend_from_slice(format!("{} ", ns.0).as_bytes());
        text.extend_from_slice(f);
        text.push(b'\n');
    }
    let mut back = CaptureReader::from_reader(text.as_slice(), "round trip");
    for (ns, f) in &frames {
        let g = back.next_frame().expect("re-read").expect("a frame");
        assert_eq!((g.recv_ns, g.frame), (*ns, f.as_slice()));
    }
});
