//! Criterion benchmarks of the NFuse (legacy XML service) messages: filled in with the protocol.
fn main() {}
