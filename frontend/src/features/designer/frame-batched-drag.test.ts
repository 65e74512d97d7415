// @vitest-environment jsdom
import { cleanup, renderHook } from '@testing-library/react';
import type { Node, NodeChange } from '@xyflow/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useFrameBatchedDrag } from './frame-batched-drag';

const move = (id: string, x: number): NodeChange<Node> => ({ type: 'position', id, position: { x, y: 0 }, dragging: true });
const drop = (id: string, x: number): NodeChange<Node> => ({ type: 'position', id, position: { x, y: 0 }, dragging: false });

/** The callbacks the next animation frame runs, in the order they were requested. */
let frames: { handle: number; callback: FrameRequestCallback }[] = [];
let handles = 0;
const runFrame = () => {
  const due = frames;
  frames = [];
  for (const { callback } of due) callback(0);
};

beforeEach(() => {
  frames = [];
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => {
    handles += 1;
    frames.push({ handle: handles, callback });
    return handles;
  });
  vi.stubGlobal('cancelAnimationFrame', (handle: number) => {
    frames = frames.filter((frame) => frame.handle !== handle);
  });
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('useFrameBatchedDrag', () => {
  it('applies the moves of a frame once, the latest per node, in its animation frame', () => {
    const apply = vi.fn();
    const { result } = renderHook(() => useFrameBatchedDrag(apply));
    result.current([move('a', 1)]);
    result.current([move('a', 2), move('b', 5)]);
    expect(apply).not.toHaveBeenCalled();
    runFrame();
    expect(apply).toHaveBeenCalledExactlyOnceWith([move('a', 2), move('b', 5)]);
  });

  it('keeps its frame callback going while moves come, so a move from another frame callback waits for no later frame', () => {
    const apply = vi.fn();
    const { result } = renderHook(() => useFrameBatchedDrag(apply));
    result.current([move('a', 1)]);
    runFrame();
    // As auto-pan does: a move from a frame callback requested before this hook's.
    frames.unshift({ handle: 0, callback: () => result.current([move('a', 2)]) });
    runFrame();
    expect(apply).toHaveBeenLastCalledWith([move('a', 2)]);
    runFrame();
    expect(apply).toHaveBeenCalledTimes(2);
    expect(frames).toHaveLength(0);
  });

  it('applies held moves before any other change, and that change at once', () => {
    const apply = vi.fn();
    const { result } = renderHook(() => useFrameBatchedDrag(apply));
    result.current([move('a', 1)]);
    result.current([drop('a', 3)]);
    expect(apply.mock.calls).toEqual([[[move('a', 1)]], [[drop('a', 3)]]]);
    runFrame();
    expect(apply).toHaveBeenCalledTimes(2);
  });

  it('applies held moves when the canvas goes', () => {
    const apply = vi.fn();
    const { result, unmount } = renderHook(() => useFrameBatchedDrag(apply));
    result.current([move('a', 1)]);
    unmount();
    expect(apply).toHaveBeenCalledExactlyOnceWith([move('a', 1)]);
  });
});
