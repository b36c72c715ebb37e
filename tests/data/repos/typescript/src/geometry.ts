export const UNIT = "cm";

/** An axis-aligned rectangle. */
export interface Rect {
  width: number;
  height: number;
}

/** Area of a rectangle, in square units. */
export function area(rect: Rect, rounded: boolean = false): number {
  const value = rect.width * rect.height;
  return rounded ? Math.round(value) : value;
}
