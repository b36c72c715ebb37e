from .geometry import Rect, area

__all__ = ["Rect", "area"]
