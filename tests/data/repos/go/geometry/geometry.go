package geometry

import "math"

// Unit is the unit of every length.
const Unit = "cm"

// Rect is an axis-aligned rectangle.
type Rect struct {
	Width  float64
	Height float64
}

// Area returns the area of a rectangle, in square units.
func Area(r Rect, rounded bool) float64 {
	value := r.Width * r.Height
	if rounded {
		return math.Round(value)
	}
	return value
}
