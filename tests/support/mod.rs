//! Helpers shared by the integration tests.

pub mod filters;
pub mod serve;
pub mod webdriver;
