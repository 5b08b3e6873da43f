//! Helpers shared by the integration tests.

pub mod filters;
pub mod need;
pub mod serve;
pub mod shared;
pub mod tmpfs;
pub mod wait;
pub mod webdriver;
