#ifndef GEOMETRY_H
#define GEOMETRY_H

#define UNIT "cm"

/* An axis-aligned rectangle. */
typedef struct {
    double width;
    double height;
} Rect;

/* Area of a rectangle, in square units. */
double area(const Rect *rect, int rounded);

#endif
