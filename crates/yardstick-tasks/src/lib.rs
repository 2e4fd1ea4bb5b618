//! yardstick-tasks
