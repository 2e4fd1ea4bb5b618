//! yardstick-stats
