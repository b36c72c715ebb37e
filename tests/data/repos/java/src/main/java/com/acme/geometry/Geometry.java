package com.acme.geometry;

public final class Geometry {
    private Geometry() {}

    /** Area of a rectangle, in square units. */
    public static double area(Rect rect, boolean rounded) {
        double value = rect.width * rect.height;
        return rounded ? Math.round(value) : value;
    }
}
