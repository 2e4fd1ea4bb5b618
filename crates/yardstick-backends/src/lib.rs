//! yardstick-backends
