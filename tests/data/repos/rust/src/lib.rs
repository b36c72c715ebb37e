pub mod geometry;
pub mod report;
