/**
 * What a canvas tells its nodes beyond their data: the designer's error counts and
 * delete action, or the run console's step statuses and selected step.
 */
import { createContext, useContext } from 'react';
import type { StepStatus } from '../api/types';

export interface CanvasInfo {
  issues?: Record<string, number>;
  statuses?: Record<string, StepStatus>;
  selectedId?: string | null;
  onDelete?: (id: string) => void;
}

export const CanvasContext = createContext<CanvasInfo>({});

export const useCanvasInfo = (): CanvasInfo => useContext(CanvasContext);
