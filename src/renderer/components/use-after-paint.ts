import { useEffect, useState } from 'react';

/**
 * `value`, but taken up only after the browser has painted the frame in which it changed: secondary views
 * (the summary) follow a what-if without delaying the repaint of the heatmap and the lines. A requestAnimationFrame
 * callback runs just before the next paint; a timeout set from it runs after that paint.
 */
export function useAfterPaint<T>(value: T): T {
  const [shown, setShown] = useState(value);
  useEffect(() => {
    if (shown === value) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => setShown(() => value), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [value, shown]);
  return shown;
}
