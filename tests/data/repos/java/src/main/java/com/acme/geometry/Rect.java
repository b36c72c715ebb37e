package com.acme.geometry;

/** An axis-aligned rectangle. */
public class Rect {
    public static final String UNIT = "cm";

    public final double width;
    public final double height;

    public Rect(double width, double height) {
        this.width = width;
        this.height = height;
    }

    public Rect scale(double factor) {
        return new Rect(width * factor, height * factor);
    }
}
