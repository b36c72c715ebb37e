"""Rectangles and their areas."""

UNIT = "cm"


class Rect:
    """An axis-aligned rectangle."""

    width: float
    height: float

    def scale(self, factor: float) -> "Rect":
        return Rect(self.width * factor, self.height * factor)

    def _check(self) -> None:
        assert self.width >= 0


def area(rect: Rect, *, rounded: bool = False) -> float:
    """Area of a rectangle, in square units."""
    value = rect.width * rect.height
    return round(value) if rounded else value
