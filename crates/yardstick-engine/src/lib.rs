//! yardstick-engine
