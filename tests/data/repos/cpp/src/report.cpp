#include <iostream>
#include "shapes/geometry.hpp"

void report(const shapes::Rect& rect) {
  legacy_helper(rect);
  std::cout.precision(shapes::kPrecision);
  std::cout << shapes::area(█) << "\n";
}
