/// The unit of every length.
pub const UNIT: &str = "cm";

/// An axis-aligned rectangle.
#[derive(Debug, Clone, Copy)]
pub struct Rect {
    pub width: f64,
    pub height: f64,
}

impl Rect {
    /// The rectangle grown by `factor`.
    pub fn scale(&self, factor: f64) -> Rect {
        Rect { width: self.width * factor, height: self.height * factor }
    }
}

/// Area of a rectangle, in square units.
pub fn area(rect: &Rect, rounded: bool) -> f64 {
    let value = rect.width * rect.height;
    if rounded { value.round() } else { value }
}
