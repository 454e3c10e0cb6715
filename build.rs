fn main() {
    // Only the N-API build needs napi's link settings; the pure core builds and tests without them.
    if std::env::var_os("CARGO_FEATURE_NAPI").is_some() {
        napi_build::setup();
    }
}
