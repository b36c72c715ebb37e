import { area, Rect, UNIT } from "./geometry";

export function AreaLabel({ rect }: { rect: Rect }) {
  legacyHelper(rect);
  return <span>{area(█)} {UNIT}</span>;
}
