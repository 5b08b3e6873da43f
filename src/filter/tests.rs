//! Unit tests: evaluation on hand-made frames.
