import { useCallback, useEffect, useState } from 'react';

/**
 * The CSS width of an element, kept current with a ResizeObserver. Returns a callback ref, so it works for
 * elements that appear after the first render.
 */
export function useWidth<T extends HTMLElement>(fallback = 800): [(el: T | null) => void, number] {
  const [el, setEl] = useState<T | null>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    if (!el) return;
    const measure = () => {
      const w = Math.floor(el.clientWidth);
      if (w > 0) setWidth(w);
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, [el]);
  return [useCallback((node: T | null) => setEl(node), []), width];
}
