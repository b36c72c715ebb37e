// Rust with planted secrets
const OPENAI_KEY: &str = "sk-svcacct-Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk";
fn main() {
    let api_key = "7d2f9a4c1e8b3d6f0a5c9e2b7d1f4a8c";
}
