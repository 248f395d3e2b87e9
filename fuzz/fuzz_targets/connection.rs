#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sockio_ws_fuzz::connection(data));
