#pragma once

namespace shapes {

constexpr int kPrecision = 2;

/// An axis-aligned rectangle.
class Rect {
 public:
  Rect(double width, double height);
  Rect scale(double factor) const;

  double width;
  double height;
};

/// Area of a rectangle, in square units.
double area(const Rect& rect, bool rounded = false);

}  // namespace shapes
