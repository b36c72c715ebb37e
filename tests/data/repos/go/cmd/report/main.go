package main

import (
	"fmt"

	"example.com/shapes/geometry"
)

func report(r geometry.Rect) string {
	legacyHelper(r)
	return fmt.Sprintf("%v %s", geometry.Area(█), geometry.Unit)
}
