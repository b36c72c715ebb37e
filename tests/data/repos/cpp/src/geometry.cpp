#include "shapes/geometry.hpp"

namespace shapes {

Rect::Rect(double width, double height) : width(width), height(height) {}

double area(const Rect& rect, bool rounded) { return rect.width * rect.height; }

}  // namespace shapes
