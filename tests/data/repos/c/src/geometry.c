#include <math.h>
#include "geometry.h"

double area(const Rect *rect, int rounded) {
    double value = rect->width * rect->height;
    return rounded ? round(value) : value;
}
