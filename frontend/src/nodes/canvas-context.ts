/**
 * What a canvas tells its nodes beyond their data: the designer's error counts and
 * delete action, or the run console's steps (status, branch, progress) and selected step.
 */
import { createContext, useContext } from 'react';
import type { Step, StepStatus } from '../api/types';

export interface CanvasInfo {
  issues?: Record<string, number>;
  statuses?: Record<string, StepStatus>;
  /** The run's steps by id, for what a node shows of its progress. */
  steps?: Record<string, Step>;
  selectedId?: string | null;
  onDelete?: (id: string) => void;
}

export const CanvasContext = createContext<CanvasInfo>({});

export const useCanvasInfo = (): CanvasInfo => useContext(CanvasContext);
