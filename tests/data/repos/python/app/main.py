from shapes import Rect, area
from shapes.geometry import UNIT


def report(rect: Rect) -> str:
    legacy_helper(rect)
    return f"{area(█)} {UNIT}"
