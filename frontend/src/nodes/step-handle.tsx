/**
 * A connection handle that subscribes to nothing. React Flow's <Handle> subscribes each
 * handle to its store for the connecting-state classes, so every store update (several
 * per pointer move of a drag) ran ~900 handle selectors on a 300-node canvas. This one
 * reads the store only when pressed or clicked. Of the per-handle connection state, only
 * which handles may end a link being drawn mattered (pointer events); the designer canvas
 * marks that once, with data-connecting-from, for the stylesheet.
 */
import { useNodeId, useStoreApi, type Connection, type HandleType, type Position } from '@xyflow/react';
import { XYHandle, getHostForElement, isMouseEvent } from '@xyflow/system';
import type { CSSProperties, MouseEvent, TouchEvent } from 'react';

interface StepHandleProps {
  /** The handle's id: `agent` or `in` for targets, `out` or a branch for sources. */
  id: string;
  type: HandleType;
  position: Position;
  'aria-label': string;
  style?: CSSProperties;
}

type ReactFlowStore = ReturnType<ReturnType<typeof useStoreApi>['getState']>;

/** Hand a finished connection to <ReactFlow onConnect>, as <Handle> does (neither canvas has default edges). */
function connect(state: ReactFlowStore, connection: Connection): void {
  state.onConnect?.({ ...state.defaultEdgeOptions, ...connection });
}

export function StepHandle({ id, type, position, style, 'aria-label': ariaLabel }: StepHandleProps) {
  const store = useStoreApi();
  const nodeId = useNodeId() ?? '';
  const isTarget = type === 'target';
  // Fixed for a canvas's life, so read once per render rather than subscribed to.
  const { rfId, noPanClassName, connectOnClick } = store.getState();

  // Drag from this handle to another: React Flow's own connection logic, given the store as it is now.
  const onPointerDown = (event: MouseEvent<HTMLDivElement> | TouchEvent<HTMLDivElement>) => {
    const native = event.nativeEvent;
    if (isMouseEvent(native) && native.button !== 0) return;
    const state = store.getState();
    XYHandle.onPointerDown(native, {
      handleDomNode: event.currentTarget,
      autoPanOnConnect: state.autoPanOnConnect,
      connectionMode: state.connectionMode,
      connectionRadius: state.connectionRadius,
      domNode: state.domNode,
      nodeLookup: state.nodeLookup,
      lib: state.lib,
      isTarget,
      handleId: id,
      nodeId,
      flowId: state.rfId,
      panBy: state.panBy,
      cancelConnection: state.cancelConnection,
      onConnectStart: state.onConnectStart,
      onConnectEnd: (...args) => store.getState().onConnectEnd?.(...args),
      updateConnection: state.updateConnection,
      onConnect: (connection) => connect(store.getState(), connection),
      isValidConnection: (connection) => store.getState().isValidConnection?.(connection) ?? true,
      getTransform: () => store.getState().transform,
      getFromHandle: () => store.getState().connection.fromHandle,
      autoPanSpeed: state.autoPanSpeed,
      dragThreshold: state.connectionDragThreshold,
    });
  };

  // Click one handle, then another: the same two-step connection <Handle> offers (less its
  // onClickConnectStart/End callbacks, which neither canvas passes).
  const onClick = (event: MouseEvent<HTMLDivElement>) => {
    const state = store.getState();
    const start = state.connectionClickStartHandle;
    if (!start) {
      store.setState({ connectionClickStartHandle: { nodeId, type, id } });
      return;
    }
    const { connection, isValid } = XYHandle.isValid(event.nativeEvent, {
      handle: { nodeId, id, type },
      connectionMode: state.connectionMode,
      fromNodeId: start.nodeId,
      fromHandleId: start.id ?? null,
      fromType: start.type,
      isValidConnection: state.isValidConnection,
      flowId: state.rfId,
      doc: getHostForElement(event.currentTarget),
      lib: state.lib,
      nodeLookup: state.nodeLookup,
    });
    if (isValid && connection) connect(state, connection);
    store.setState({ connectionClickStartHandle: null });
  };

  return (
    <div
      // The classes and data attributes React Flow finds handles by, measures them with and connects them through.
      className={`react-flow__handle react-flow__handle-${position} nodrag ${noPanClassName} ${type} connectable connectablestart connectableend connectionindicator`}
      data-handleid={id}
      data-nodeid={nodeId}
      data-handlepos={position}
      data-id={`${rfId}-${nodeId}-${id}-${type}`}
      aria-label={ariaLabel}
      style={style}
      onMouseDown={onPointerDown}
      onTouchStart={onPointerDown}
      onClick={connectOnClick ? onClick : undefined}
    />
  );
}
