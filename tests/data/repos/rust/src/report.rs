use crate::geometry::{area, Rect, UNIT};

pub fn report(rect: &Rect) -> String {
    legacy_helper(rect);
    format!("{} {}", area(█), UNIT)
}
