package com.acme.report;

import com.acme.geometry.Geometry;
import com.acme.geometry.Rect;
import static com.acme.geometry.Rect.UNIT;

public class Report {
    public String describe(Rect rect) {
        legacyHelper(rect);
        return Geometry.area(█) + " " + UNIT;
    }
}
