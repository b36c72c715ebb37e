#include <stdio.h>
#include "geometry.h"

void report(const Rect *rect) {
    legacy_helper(rect);
    printf("%f %s\n", area(█), UNIT);
}
