//! yardstick-analysis
