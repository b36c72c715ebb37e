export const UNIT = "cm";

/** An axis-aligned rectangle. */
export class Rect {
  width = 0;
  height = 0;

  scale(factor) {
    return new Rect(this.width * factor, this.height * factor);
  }
}

/** Area of a rectangle, in square units. */
export function area(rect, { rounded = false } = {}) {
  const value = rect.width * rect.height;
  return rounded ? Math.round(value) : value;
}
